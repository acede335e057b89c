"""Commissioning: the questions commissioners ask of the forecast - which prices the budget is
most exposed to."""

import streamlit as st

from contracts.vocabulary.costs import UNIT_COST
from contracts.vocabulary.kpis import KPI
from explorer import charts, ui, words

ui.page("Commissioning",
        "Answers for commissioners: how much each price of care moves the cost of the forecast, for each payer "
        "and each year ahead.")

st.subheader("Which prices matter most")
sens = ui.load("cost_sensitivity")
if sens is None or not len(sens):
    ui.missing(*ui.NO_FORECAST)
    st.stop()
c1, c2, c3 = st.columns(3)
scenarios = sorted(set(sens["scenario"]), key=lambda s: (s != "baseline", s))
scenario = c1.selectbox("Scenario", scenarios, format_func=words.scenario, key="commission_scenario")
payers = [p for p in ("cost_total", "cost_local_authority", "cost_nhs", "cost_provider", "cost_charity")
          if p in set(sens["payer"])]
payer = c2.selectbox("Who pays", payers, format_func=lambda p: KPI[p].label.capitalize(), key="commission_payer")
years = sorted(set(sens["year"]))
year = c3.selectbox("Year ahead", years, format_func=lambda y: f"Year {y}", key="commission_year")
rows = sens[(sens["scenario"] == scenario) & (sens["payer"] == payer) & (sens["year"] == year)].copy()
if not len(rows):
    ui.missing("No price reaches this payer in this scenario.", "Choose another payer above.")
    st.stop()
rows["label"] = [f"{UNIT_COST[k].label} (£{lo:,.2f} to £{hi:,.2f})" if UNIT_COST[k].unit != "share"
                 else UNIT_COST[k].label for k, lo, hi in zip(rows["unit_cost"], rows["value_low"], rows["value_high"])]
first = rows.iloc[0]
span = f"{words.month(first['year_start'])} to {words.month(first['year_end'])}"
top = rows.sort_values("swing", ascending=False).iloc[0]
st.markdown(f"In year {year} ({span}) the forecast's {KPI[payer].label} is about **{words.money(first['cost_forecast'])}**. "
            f"The price it depends on most is *{UNIT_COST[top['unit_cost']].label.lower()}*: across its range the year's "
            f"cost runs from {words.money(top['cost_low'])} to {words.money(top['cost_high'])}.")
fig = charts.tornado(rows, f"{KPI[payer].label.capitalize()} in year {year}: each price from low to high")
ui.chart(fig, "each bar is one price moved from the low to the high end of its range with every other price as "
         "forecast; the black line is the forecast's own cost. The widest bars are the prices the budget is most "
         "exposed to. The figures are the average of the runs.",
         rows[["unit_cost", "value_low", "value_forecast", "value_high", "cost_low", "cost_forecast", "cost_high"]],
         f"commission_tornado_{scenario}_{payer}_{year}", unit="pounds in the year, 2024-25 prices")
