"""Case mix: who we support now (by place, age, care need) and the groups of similar people."""

import pandas as pd
import streamlit as st

from explorer import charts, ui, words

ui.page("Case mix",
        "Who we support at the end of the latest complete month: where they live, their ages and care needs, "
        "and the groups of people with similar pathways.")

cm = ui.load("case_mix")
latest = cm["latest"]
latest = latest[~latest["state"].isin(["moved_out", "died"])]
if not len(latest):
    ui.missing("The case mix is empty.", "Run the nightly refresh (`make ui`, job *nightly_refresh*), then reload.")
    st.stop()
month = latest["month_start"].iloc[0]
st.caption(f"People at the end of {words.month(month)}.")

ages = ["0-17", "18-39", "40-64", "65-74", "75-84", "85+", "unknown"]
by_age = latest.groupby(["state", "age_band"], as_index=False)["n_people"].sum()
by_age["order"] = by_age["age_band"].map({a: i for i, a in enumerate(ages)})
by_age = by_age.sort_values(["order", "state"])
age_colours = dict(zip(ages, words.SEQUENCE))
fig = charts.stacked_bars(by_age, "state", "n_people", "age_band", lambda a: "age unknown" if a == "unknown" else f"aged {a}",
                          age_colours, "People by where they are and their age", "people", x_labels=words.state, horizontal=True)
ui.chart(fig, "how many people are in each place, split by age band.", by_age.drop(columns="order"), "case_mix_age",
         unit="people")

need_cols = {"n_need_none": 0, "n_need_low": 1, "n_need_medium": 2, "n_need_high": 3}
need = latest.groupby("state", as_index=False)[list(need_cols)].sum().melt("state", var_name="need", value_name="people")
need["level"] = need["need"].map(need_cols)
need_colours = {0: words.OKABE_ITO["grey"], 1: words.OKABE_ITO["sky_blue"], 2: words.OKABE_ITO["orange"], 3: words.OKABE_ITO["vermillion"]}
fig = charts.stacked_bars(need, "state", "people", "level", words.NEED_LEVEL_LABELS.get, need_colours,
                          "Care needs by place", "people", x_labels=words.state, horizontal=True)
ui.chart(fig, "how many people in each place have no known, low, medium or high care need (by the home-care hours "
         "they receive, or the kind of care home). Tenants without home care have no need on record.",
         need[["state", "level", "people"]], "case_mix_need", unit="people")

trend = cm["trend"]
fig = charts.lines_by(trend, "month", "people", "state", words.state, "People in each place over ten years", "people",
                      colours=words.STATE_COLOURS)
ui.chart(fig, "the number of people in each place at each month's end.", trend, "case_mix_trend", unit="people")

st.subheader("Groups of similar people")
seg = cm.get("segments")
if seg is None or not len(seg):
    ui.missing(*ui.NO_SEGMENTS)
else:
    prof = seg.groupby("segment_name").apply(lambda g: pd.Series({
        "People": int(g["people"].sum()),
        "Average age": round((g["mean_age"] * g["people"]).sum() / g["people"].sum(), 1),
        "Women": round(g["women"].sum() / g["people"].sum(), 3),
        "With a care need": round(g.loc[g["need_level"] > 0, "people"].sum() / g["people"].sum(), 3),
        "Home-care hours a week": round(g["weekly_care_hours"].sum(), 0),
        "Most often in": words.state(g.groupby("state")["people"].sum().idxmax()),
    }), include_groups=False).reset_index().rename(columns={"segment_name": "Group"})
    ui.plain_table(prof, "case_mix_segments", {"Women": st.column_config.NumberColumn(format="percent"),
                                               "With a care need": st.column_config.NumberColumn(format="percent")})
    mix = seg.groupby(["segment_name", "state"], as_index=False)["people"].sum()
    fig = charts.stacked_bars(mix, "segment_name", "people", "state", words.state, words.STATE_COLOURS,
                              "Where each group is now", "people", horizontal=True)
    ui.chart(fig, "for each group of similar people (found from their histories), where they are now.", mix,
             "case_mix_segment_places", unit="people")
    out = cm.get("outlooks")
    if out is not None and len(out) and "segment_name" in out.columns:
        pcols = [c for c in out.columns if c.startswith("p_") and pd.api.types.is_numeric_dtype(out[c])]
        if pcols:
            o = out.groupby("segment_name", as_index=False)[pcols].mean()
            nice = {c: c[2:].replace("_12m", " within a year").replace("_", " ").capitalize() for c in pcols}
            ui.plain_table(o.rename(columns={"segment_name": "Group", **nice}), "case_mix_outlooks",
                           {v: st.column_config.NumberColumn(format="percent") for v in nice.values()})
            st.caption("**What this shows:** the average chance, for the people in each group, of each event "
                       "within the next year, as the models estimate it.")
