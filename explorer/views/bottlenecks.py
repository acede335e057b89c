"""Bottlenecks and delays: how full each scheme and home has been, delays leaving hospital, and waits."""

import pandas as pd
import streamlit as st

from explorer import charts, ui, words

ui.page("Bottlenecks and delays",
        "Where places are full, how long people wait in hospital to move on, and how long the waiting lists are.")

c1, c2 = st.columns([1, 2])
span = c1.radio("Show the last", [12, 24, 36], index=2, format_func=lambda m: f"{m} months", horizontal=True,
                key="bottlenecks_span")
b = ui.load("bottlenecks", months=36)
heat = b["heat"][pd.to_datetime(b["heat"]["month"]) > pd.to_datetime(b["heat"]["month"]).max() - pd.DateOffset(months=span)]
types = [t for t in words.SCHEME_TYPE_LABELS if t in set(heat["scheme_type"])]
chosen = c2.multiselect("Kinds of place", types, default=[t for t in types if t != "general_needs"] or types,
                        format_func=words.scheme_type, key="bottlenecks_types")
heat = heat[heat["scheme_type"].isin(chosen)]

fc = b.get("forecast")
if fc is not None and len(fc):
    st.subheader("Where the forecast expects places to run out")
    from explorer import data as _data

    fc = fc.copy()
    pcol = next((c for c in ("probability", "chance", "share_of_runs") if c in fc.columns), None)
    mcol = next((c for c in ("first_month", "month", "from_month") if c in fc.columns), None)
    if "description" in fc.columns:
        where = fc["description"].map(lambda t: _data.plain(t))
    else:
        kcol = next((c for c in ("resource", "kpi", "unit") if c in fc.columns), None)
        where = fc[kcol].map(lambda k: words.measure(*_data.split_kpi(k)[:2])[0]) if kcol else ""
    shown = pd.DataFrame({
        "Scenario": fc["scenario"].map(words.scenario) if "scenario" in fc.columns else "As things are",
        "What": where,
        "From": pd.to_datetime(fc[mcol]).dt.strftime("%B %Y") if mcol else "",
        "Chance": fc[pcol].map(words.chance) if pcol else "",
    })
    ui.plain_table(shown, "bottlenecks_forecast")
else:
    ui.missing(*ui.NO_FORECAST)

QUEUES = ("waiting_extra_care", "waiting_sheltered", "waiting_residential_care", "waiting_nursing_care",
          "waiting_temporary", "waiting_general_needs", "delayed_discharges", "home_care_waiting")
groups_of = ui.load("forecast_group_options")
if groups_of["areas"]:
    st.subheader("Where the queues are forecast to be, area by area")
    queue = st.selectbox("Queue", QUEUES, format_func=lambda k: words.kpi(k)[0], key="bottlenecks_queue")
    by_area = ui.load("forecast_by_area", kpi=queue)
    if len(by_area):
        by_area = by_area.assign(area_name=by_area["area"].map(groups_of["areas"]))
        fig = charts.lines_by(by_area, "month", "median", "area_name", lambda a: a,
                              f"{words.kpi(queue)[0]}: each area's middle estimate", "people")
        ui.chart(fig, "each line is one area's forecast, counted person by person in every run (never a share of "
                 "the total); the areas add up to the provider's.",
                 by_area[["area_name", "month", "median", "lo80", "hi80"]], f"bottlenecks_area_{queue}",
                 unit="people at the month's end")
    else:
        ui.missing("This queue is not forecast by area.", "Choose another queue above.")

st.subheader("How full each scheme and home has been")
if not len(heat):
    ui.missing("No schemes match these choices.", "Choose at least one kind of place above.")
else:
    fig = charts.heatmap(heat, "Share of places in use at each month's end")
    ui.chart(fig, "each row is a scheme or care home, each column a month; the brighter the square, the fuller the "
             "place. Yellow (100%) means no place was free; places at 95% or more are bottlenecks.",
             heat[["month", "scheme_name", "scheme_type", "area_name", "capacity", "occupied", "occupancy_rate"]],
             f"bottlenecks_heat_{span}", unit="% of places in use")

st.subheader("Delays leaving hospital")
d = b["delays"]
d = d[pd.to_datetime(d["month"]) > pd.to_datetime(d["month"]).max() - pd.DateOffset(months=span)]
fig = charts.lines(d, "month", {"Known hospital stays over three weeks, ending in the month": "n_long_stays",
                                "People we know of in hospital at the month's end": "n_in_hospital_end",
                                "Care-home admissions straight from hospital": "n_care_home_admissions_from_hospital"},
                   "Hospital stays and delays", "people")
ui.chart(fig, "no system records the day a patient was fit to leave, so stays over three weeks are the closest "
         "measure of delayed discharge we have; only stays of people with home care or in our care homes are known.",
         d, f"bottlenecks_delays_{span}", unit="people a month")

st.subheader("Waiting lists")
w = b["waiting"]
w = w[pd.to_datetime(w["month"]) > pd.to_datetime(w["month"]).max() - pd.DateOffset(months=span)]
fig = charts.lines_by(w, "month", "n_waiting_end", "need_type", lambda k: words.NEED_TYPE_LABELS.get(k, k),
                      "Applications waiting on the housing register", "applications waiting")
ui.chart(fig, "applications on the register at each month's end, by what the household needs; extra-care and "
         "sheltered are the waiting lists for those schemes.", w, f"bottlenecks_waiting_{span}",
         unit="applications waiting at month end")

t = b["times"]
t = t[pd.to_datetime(t["month"]) > pd.to_datetime(t["month"]).max() - pd.DateOffset(months=span)]
labels = {"register_to_let_days": "From applying to moving in", "void_turnaround_days": "Empty home re-let",
          "referral_to_care_start_days": "From referral to home care starting",
          "care_home_length_of_stay_days": "Care-home stay", "hospital_length_of_stay_days": "Hospital stay"}
pick = st.selectbox("How long it takes", list(labels), format_func=labels.get, index=2, key="bottlenecks_time")
tt = t[t["measure"] == pick]
fig = charts.lines(tt, "month", {labels[pick]: "mean_days"}, f"{labels[pick]}: average days", "days")
ui.chart(fig, "the average number of days, for the cases completed in each month.", tt,
         f"bottlenecks_time_{pick}_{span}", unit="days")
