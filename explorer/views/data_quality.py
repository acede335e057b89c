"""Data quality: how fresh each source is, what was set aside and why, and how well records link up."""

import pandas as pd
import streamlit as st

from explorer import charts, ui, words
from explorer.data import source_status

ui.page("Data quality",
        "Can tonight's figures be trusted? When each source system was last read, which records were set aside "
        "(and why), and how well people's records link up across systems.")

dq = ui.load("data_quality")
now = pd.Timestamp(dq["now"]["now"].iloc[0])

st.subheader("How fresh each source is")
fr = dq.get("freshness")
if fr is None or not len(fr):
    ui.missing("No loads have been recorded yet.", "Run the nightly refresh (`make ui`, job *nightly_refresh*).")
else:
    sysf = fr.groupby("system", as_index=False).agg(last_loaded=("last_loaded", "max"), newest_change=("newest_change", "max"),
                                                    last_new_rows=("last_new_rows", "max"), first_load=("first_load", "min"),
                                                    rows_loaded=("rows_loaded", "sum"), rows_rejected=("rows_rejected", "sum"))
    refusals = dq.get("refusals")
    refused = set(refusals["system"]) if refusals is not None else set()
    sysf["Status"] = [source_status(r, now, r.system in refused) for r in sysf.itertuples(index=False)]
    shown = pd.DataFrame({"Source": sysf["system"].map(lambda s: words.SYSTEM_LABELS.get(s, s)),
                          "Last read": pd.to_datetime(sysf["last_loaded"]).dt.strftime("%d %b %Y %H:%M"),
                          "Newest change seen": pd.to_datetime(sysf["newest_change"], errors="coerce").dt.strftime("%d %b %Y"),
                          "Records loaded (all nights)": sysf["rows_loaded"].astype("int64"),
                          "Records set aside (all nights)": sysf["rows_rejected"].astype("int64"),
                          "Status": sysf["Status"]})
    ui.plain_table(shown, "dq_freshness")
    for r in (refusals.itertuples(index=False) if refusals is not None else []):
        st.error(f"**{words.SYSTEM_LABELS.get(r.system, r.system)}** was not loaded at "
                 f"{pd.Timestamp(r.refused_at):%d %b %Y %H:%M} UTC: {r.message}", icon=":material/error:")
    st.caption("**What this shows:** when each source system was last read and the newest change found in it. "
               "A source not read for more than a day, or read but with nothing new for longer than expected "
               "(an empty or unchanged extract), needs looking at.")

st.subheader("Records set aside, and why")
q = dq.get("quarantine")
if q is None or not len(q):
    st.success("No records have been set aside: every record read could be loaded.", icon=":material/check_circle:")
else:
    q = q.assign(Source=q["system"].map(lambda s: words.SYSTEM_LABELS.get(s, s)))
    by = q.groupby(["Source", "reason"], as_index=False)["rows"].sum().sort_values("rows", ascending=True)
    fig = charts.stacked_bars(by, "Source", "rows", "reason", str, dict(zip(by["reason"].unique(), words.SEQUENCE)),
                              "Records set aside by source and reason", "records", horizontal=True)
    ui.chart(fig, "records a source sent that could not be loaded safely, by reason; they are kept aside with the "
             "reason, not lost, and can be fixed at the source.", q, "dq_quarantine", unit="records")

st.subheader("How well records link up")
p = dq["people"].iloc[0]
c1, c2, c3, c4 = st.columns(4)
c1.metric("People", f"{int(p['people']):,}")
c2.metric("With a National Insurance number", f"{p['share_with_ni']:.0%}")
c3.metric("Known to more than one system", f"{p['share_in_several']:.0%}")
c4.metric("With a duplicate housing record", f"{p['share_duplicate_crm']:.1%}")
bs = dq["by_system"].assign(system=lambda d: d["system"].map(lambda s: words.SYSTEM_LABELS.get(s, s)))
long = bs.melt(id_vars=["system", "people"], value_vars=["share_with_ni", "share_linked_elsewhere"], var_name="measure",
               value_name="share")
long["share"] = (long["share"] * 100).round(1)
names = {"share_with_ni": "Have a usable National Insurance number",
         "share_linked_elsewhere": "Linked to another system (care: to the housing system)"}
import plotly.graph_objects as go  # noqa: E402

fig = go.Figure([go.Bar(name=names[m], x=part["system"], y=part["share"], marker_color=c)
                 for (m, part), c in zip(long.groupby("measure"), (words.OKABE_ITO["blue"], words.OKABE_ITO["orange"]))])
fig.update_layout(barmode="group")
fig = charts.style(fig, "Linkage by source system", "% of the system's people")
fig.update_layout(hovermode="closest")
ui.chart(fig, "for the people each system knows, how many have a usable National Insurance number (the main key for "
         "linking) and how many were linked to a record in another system.", long, "dq_linkage", unit="% of people")
obs = dq["observed"]
if len(obs):
    st.caption("In the latest month, " + ", ".join(
        f"{int(r.person_months):,} people's places came from {words.SYSTEM_LABELS.get(r.state_source_system, 'inference') if r.state_source_system != 'inferred' else 'inference (no system holds them)'}"
        for r in obs.itertuples()) + ".")

st.subheader("How well the forecast did")
bt = dq.get("backtest")
if bt is None or not len(bt):
    ui.missing("No backtest has been run yet.", "The nightly refresh runs it after the forecast.")
else:
    from explorer.data import split_kpi

    def _label(series: str) -> str:
        m, svc, _ = split_kpi(series)
        return words.measure(m, svc)[0]

    for cutoff, part in bt.groupby("cutoff_months"):
        census = pd.Timestamp(part["census_month"].iloc[0])
        shown = pd.DataFrame({
            "What": part["series"].map(_label),
            "Forecast": part["forecast"].round(0).astype("int64"),
            "What happened": part["actual"].round(0).astype("int64"),
            "Off by": part["pct_error"].map(lambda v: f"{v:+.1f}%" if pd.notna(v) else "-"),
            "Months inside the likely range (80%)": part["coverage80"].map(lambda v: f"{v:.0%}"),
            "Months inside the wide range (95%)": part["coverage95"].map(lambda v: f"{v:.0%}"),
            "Width of the wide range": part["width95_pct"].map(lambda v: f"{v:.0f}% of the forecast"),
        })
        st.markdown(f"**Forecast from {words.month(census)}, {int(cutoff)} months ahead**, run exactly as tonight's "
                    "forecast is (the same models, trained only on what was known then), against what happened.")
        ui.plain_table(shown, f"dq_backtest_{int(cutoff)}")
    st.caption("**What this shows:** a forecast is only worth reading if its ranges hold what happens about as often as "
               "they claim: the likely range should hold the actual in about 8 months of 10, the wide range in 19 of 20. "
               "Stocks (people in a place, people waiting) are compared at the last month, flows (admissions, hours, "
               "cost) over the whole period.")
    areas = dq.get("backtest_areas")
    if areas is not None and len(areas):
        st.markdown("**The same, area by area**: each area's own forecast (counted for its people in every run) "
                    "against what happened there.")
        for cutoff, part in areas.groupby("cutoff_months"):
            rows = []
            for area, a in part.groupby("area", sort=True):
                total = a[a["series"] == "people_total"]
                rows.append({"Area": words.area(area) if area != "unknown" else "Area not recorded",
                             "People: off by": f"{total['pct_error'].iloc[0]:+.1f}%" if len(total) else "-",
                             "Months inside the likely range (80%), on average": f"{a['coverage80'].mean():.0%}",
                             "Months inside the wide range (95%), the worst measure": f"{a['coverage95'].min():.0%}"})
            st.markdown(f"*{int(cutoff)} months ahead*")
            ui.plain_table(pd.DataFrame(rows), f"dq_backtest_areas_{int(cutoff)}")
