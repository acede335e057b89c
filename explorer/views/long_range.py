"""Long range: demand up to twenty years ahead for capital planning, and where its change comes
from - today's rates and trends, the growing and ageing population, and the scenario."""

import pandas as pd
import streamlit as st

from explorer import charts, data, ui, words

ui.page("Long range",
        "Places and care people will need up to twenty years ahead, for decisions that take years to build "
        "(a new extra-care scheme takes three to five). Each year's figure comes with the range it is likely to "
        "fall in, which widens the further ahead it looks; the chart below splits the change into what today's "
        "rates and trends bring, what the growing and ageing population adds, and what a scenario changes.")

COMPONENTS = {"rates": "Today's rates and trends", "demography": "The growing and ageing population",
              "scenario": "The scenario", "total": "All together (80 in 100 runs between the whiskers)"}

lr = data.long_range(ui.warehouse_path())
if lr is None:
    ui.missing("No long-range outlook has been made yet.",
               "It is not part of the nightly refresh (twenty years take minutes): an analyst makes one with "
               "`llif forecast long-range --years 20` (add `--population FILE` for the Welsh Government's "
               "projections), then reload this page.")
    st.stop()

meta, dec, yearly = lr["metadata"], lr["decomposition"], lr["yearly"]
scenario = str(dec["scenario"].iloc[0])
demography = float(meta.get("demography", 1.0))
st.caption(f"Made on {meta.get('run_date', 'an earlier night')} from that night's census, "
           f"{int(meta.get('replications', dec['n_replications'].iloc[0])):,} runs; population change at "
           f"{demography:.0%} of the projection"
           f"{'' if scenario == 'baseline' else '; scenario: ' + words.scenario(scenario)}.")

kpis = list(dict.fromkeys(dec["kpi"]))
kpi = st.selectbox("Measure", kpis, format_func=lambda k: words.kpi(k)[0], key="long_range_kpi")
title, unit = words.kpi(kpi)
rows = dec[dec["kpi"] == kpi]
last = int(rows["year"].max())
at = rows[rows["year"] == last].set_index("component")["mean"]
parts = [f"{COMPONENTS[c].lower()} {'add' if at[c] >= 0 else 'take away'} {abs(at[c]):,.0f}"
         for c in ("rates", "demography", "scenario") if c in at and abs(at[c]) >= 0.5]
st.markdown(f"**{title}** in year {last}: about **{at['end']:,.0f}** ({unit}), against {at['start']:,.0f} in the "
            f"first year. Of the change, " + ("; ".join(parts) if parts else "no part is as large as one") + ".")
fig = charts.decomposition(rows, f"{title}: where the change from the first year comes from", unit, COMPONENTS)
ui.chart(fig, "each bar is the part of the change from the first forecast year that one cause brings: today's "
         "rates and trends carried forward, the projected growth and ageing of the population, and the scenario; "
         "the diamond is the change from all of them together. Each part is measured on the same simulated "
         "futures, so the parts add up to the total.",
         rows[["year", "component", "mean", "p10", "p90"]], f"long_range_decomposition_{kpi}", unit=unit)

base = yearly[(yearly["scenario"] == "baseline") & (yearly["kpi"] == kpi)].sort_values("year")
if len(base):
    fan = base.assign(month=base["year"])
    fig = charts.fan_chart(fan, f"{title}: each year ahead", unit)
    fig.update_xaxes(title_text="years ahead")
    ui.chart(fig, "the middle estimate of each year with the range it is likely to fall in (darker: half the runs; "
             "paler: 80 and 95 in 100 runs). The range widens with the years because how fast things change can "
             "itself drift from year to year.",
             pd.DataFrame({"year": base["year"], "median": base["median"], "lo80": base["lo80"],
                           "hi80": base["hi80"]}), f"long_range_fan_{kpi}", unit=unit)
