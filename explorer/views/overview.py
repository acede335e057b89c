"""Overview: tonight's headline findings in plain words, each with its chance."""

import streamlit as st

from explorer import charts, insights, ui, words

ui.page("Tonight's overview",
        "The main findings of last night's forecast: where places are likely to run out, waiting lists, "
        "delays leaving hospital and cost. Each finding says how likely it is, out of all the runs of the forecast.")

ov = ui.load("overview")
month = ov["month"]["month_start"].iloc[0]
if "runs" in ov and len(ov["runs"]):
    runs = ov["runs"]
    when = next((runs[c].max() for c in ("run_date", "created_at", "finished_at") if c in runs.columns), None)
    st.caption(f"Figures to the end of {words.month(month)}." + (f" Forecast made {words.month(when)}." if when is not None else ""))
else:
    st.caption(f"Figures to the end of {words.month(month)}.")

groups = insights.headline_groups(ov.get("statements"))
if not groups:
    ui.missing(*ui.NO_FORECAST)
else:
    cols = st.columns(2)
    for i, (title, items) in enumerate(groups):
        with cols[i % 2].container(border=True):
            st.subheader(title)
            for chance, text in items:
                st.markdown(f"- **{chance[0].upper() + chance[1:]}:** {text}" if chance else f"- {text}")

groups_of = ui.load("forecast_group_options")
if groups_of["areas"]:
    st.subheader("In one area")
    area = st.selectbox("Area", list(groups_of["areas"]), format_func=groups_of["areas"].get, key="overview_area")
    lines = insights.group_sentences(ui.load("forecast_groups", area=area), groups_of["areas"][area])
    for line in lines:
        st.markdown(f"- {line}")
    if not lines:
        st.markdown(f"- No waiting list in {groups_of['areas'][area]} is forecast to pass a round number in 90 of 100 runs.")

cost = ov.get("cost")
if cost is not None and len(cost):
    st.subheader("Cost, month by month")
    sentence = insights.cost_sentence(cost)
    if sentence:
        st.markdown(sentence)
    fig = charts.fan_chart(cost, "Forecast monthly cost of care and support (as things are)", "£ a month")
    ui.chart(fig, "the middle estimate of each month's cost with the range it is likely to fall in "
             "(darker: half the runs; paler: 80 and 95 in 100 runs).", cost[["month", "mean", "median", "lo50", "hi50", "lo80", "hi80", "lo95", "hi95"]],
             "overview_cost", unit="pounds a month, 2024-25 prices")
    fy = insights.cost_by_financial_year(cost)
    ui.plain_table(fy.rename(columns={"financial_year": "Financial year", "middle_estimate": "Average of the runs (£)",
                                      "months": "Months forecast"}),
                   "overview_cost_by_year", {"Average of the runs (£)": st.column_config.NumberColumn(format="£%d")})

st.subheader("Where things stand now")
for line in insights.facts(ov):
    st.markdown(f"- {line}")
