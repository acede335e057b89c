"""Demand: what the forecast expects people to need, per service and area, against places available."""

import pandas as pd
import streamlit as st

from explorer import charts, insights, ui, words
from explorer.data import SUMMARY_COLUMNS

ui.page("Demand",
        "How many people are likely to need each service over the coming months, with the range the "
        "numbers are likely to fall in, beside what happened before and the places we have.")

history = ui.load("demand_history")
cat = ui.load("forecast_catalogue")
area_names = dict(zip(history["area_code"], history["area"]))

base = cat[cat["scenario"] == "baseline"]
place_services = set(base.loc[base["measure"] == "occupied", "service"].dropna()) | set(history["service"]) - {"care_home"}
people_only = {s for s in ("community", "hospital") if s in set(base.loc[base["measure"] == "people", "service"].dropna())}
services = sorted(place_services | people_only,
                  key=lambda s: list(words.SERVICE_LABELS).index(s) if s in words.SERVICE_LABELS else 99)
c1, c2 = st.columns(2)
service = c1.selectbox("Service", services, format_func=words.service,
                       index=services.index("extra_care") if "extra_care" in services else 0, key="demand_service")
areas_f = sorted(set(base.loc[(base["measure"] == "occupied") & (base["service"] == service), "area"].dropna()))
areas_h = sorted(set(history.loc[history["service"] == service, "area_code"].dropna()))
area_opts = [None] + sorted(set(areas_f) | set(areas_h), key=lambda a: area_names.get(a, a))
groups_of = ui.load("forecast_group_options")
area_names.update(groups_of["areas"])
area_opts = [None] + sorted(set(area_opts[1:]) | set(groups_of["areas"]), key=lambda a: area_names.get(a, a))
area = c2.selectbox("Area", area_opts, format_func=lambda a: "All areas" if a is None else area_names.get(a, a), key="demand_area")
segments = groups_of["segments"]
segment = st.selectbox("Group of people", [None, *segments], format_func=lambda s: "Everyone" if s is None else segments[s],
                       key="demand_segment") if segments else None


summary = ui.load("forecast_summary", scenarios=("baseline", "unconstrained")) if len(cat) else \
    pd.DataFrame(columns=list(SUMMARY_COLUMNS))
grouped = len(cat) and (segment is not None or (area is not None and area in groups_of["areas"]))
groups = ui.load("forecast_groups", area=area if area in groups_of["areas"] else None, segment=segment) if grouped else None
people = ui.load("people_history", area=area, segment=segment) if grouped else None
parts = insights.demand_series(history, ui.load("state_stock_history"), summary, service, area, groups=groups, people=people)
h, forecast, needed, available = parts["history"], parts["forecast"], parts["needed"], parts["available"]
where = "all areas" if area is None else area_names.get(area, area)
who = "" if segment is None else f", {segments[segment].lower()}"
title = f"{words.service(service)}, {where}{who}: " + ("people" if grouped else "people in places")
if grouped:
    st.caption("This forecast is counted person by person for the people you chose, in every run "
               "(never a share of the total), so it counts people rather than places.")

if not len(cat):
    ui.missing(*ui.NO_FORECAST)
elif not len(forecast):
    ui.missing(f"The forecast has no figures for {words.service(service).lower()} in {where}.",
               "This forecast holds no figures by area for this service: choose 'All areas' to see the provider's. "
               "The black line still shows what happened in this area.")

fig = charts.fan_chart(forecast, title, "people", history=h, available=available if len(available) else None,
                       needed=needed if len(needed) else None)
frame = pd.concat([h.assign(series="what happened"), available.assign(series="places available"),
                   forecast.assign(series="forecast")[["month", "series", "median", "lo50", "hi50", "lo80", "hi80", "lo95", "hi95"]],
                   needed.assign(series="needed with unlimited places")[["month", "series", "median", "lo80", "hi80"]] if len(needed) else None],
                  ignore_index=True)
ui.chart(fig, "black is what happened; blue is the forecast's middle estimate with its likely range "
         "(darker: half the runs; paler: 80 and 95 in 100 runs); orange is what people would need if places were "
         "unlimited; the dashed line is the places we have. Where orange rises above the dashed line, people wait.",
         frame, f"demand_{service}_{area or 'all'}", unit="people (one person per place)")

waiting = parts["waiting"]
if len(waiting):
    fig = charts.fan_chart(waiting, f"{words.service(service)}, {where}: people waiting", "people waiting")
    ui.chart(fig, "how many people are likely to be waiting for a place each month, with the likely range.",
             waiting[["month", "median", "lo50", "hi50", "lo80", "hi80", "lo95", "hi95"]],
             f"demand_waiting_{service}_{area or 'all'}", unit="people waiting at the end of each month")
