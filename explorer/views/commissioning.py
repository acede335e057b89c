"""Commissioning: the questions commissioners ask of the forecast - which prices the budget is
most exposed to, how many carers home care needs, how many care-home beds to buy as a block,
and how many more places keep a waiting list down."""

import pandas as pd
import streamlit as st

from contracts.vocabulary.costs import UNIT_COST
from contracts.vocabulary.kpis import KPI
from explorer import charts, forecasting, insights, ui, whatif, words

ui.page("Commissioning",
        "Answers for commissioners: how much each price of care moves the cost of the forecast, for each payer "
        "and year ahead; how many carers home care will need; how many care-home beds to buy as a block contract "
        "and what the rest costs bought spot or out of the area; and how many more places of a kind keep a waiting "
        "list or delays below a level.")

PAYERS = ("cost_total", "cost_local_authority", "cost_nhs", "cost_provider", "cost_charity")
GOAL_KPIS = ("delayed_discharges", "waiting_extra_care", "waiting_residential_care", "waiting_nursing_care",
             "waiting_sheltered", "waiting_temporary", "home_care_waiting", "delayed_bed_days")


def price_label(key: str, low: float, high: float) -> str:
    c = UNIT_COST[key]
    return c.label if c.unit == "share" else f"{c.label} (£{low:,.2f} to £{high:,.2f})"


def prices_that_matter(sens: pd.DataFrame) -> None:
    c1, c2, c3 = st.columns(3)
    scenarios = sorted(set(sens["scenario"]), key=lambda s: (s != "baseline", s))
    scenario = c1.selectbox("Scenario", scenarios, format_func=words.scenario, key="commission_scenario")
    payer = c2.selectbox("Who pays", [p for p in PAYERS if p in set(sens["payer"])],
                         format_func=lambda p: KPI[p].label.capitalize(), key="commission_payer")
    year = c3.selectbox("Year ahead", sorted(set(sens["year"])), format_func=lambda y: f"Year {y}", key="commission_year")
    rows = sens[(sens["scenario"] == scenario) & (sens["payer"] == payer) & (sens["year"] == year)].copy()
    if not len(rows):
        ui.missing("No price reaches this payer in this scenario.", "Choose another payer above.")
        return
    rows["label"] = [price_label(k, lo, hi) for k, lo, hi in zip(rows["unit_cost"], rows["value_low"], rows["value_high"])]
    first = rows.iloc[0]
    top = rows.sort_values("swing", ascending=False).iloc[0]
    st.markdown(f"In year {year} ({words.month(first['year_start'])} to {words.month(first['year_end'])}) the forecast's "
                f"{KPI[payer].label} is about **{words.money(first['cost_forecast'])}**. The price it depends on most is "
                f"*{UNIT_COST[top['unit_cost']].label.lower()}*: across its range the year's cost runs from "
                f"{words.money(top['cost_low'])} to {words.money(top['cost_high'])}.")
    fig = charts.tornado(rows, f"{KPI[payer].label.capitalize()} in year {year}: each price from low to high")
    ui.chart(fig, "each bar is one price moved from the low to the high end of its range with every other price as "
             "forecast; the black line is the forecast's own cost. The widest bars are the prices the budget is most "
             "exposed to. The figures are the average of the runs.",
             rows[["unit_cost", "value_low", "value_forecast", "value_high", "cost_low", "cost_forecast", "cost_high"]],
             f"commission_tornado_{scenario}_{payer}_{year}", unit="pounds in the year, 2024-25 prices")


def places_to_add() -> None:
    with st.form("goal_seek"):
        g1, g2, g3 = st.columns(3)
        service = g1.selectbox("Places to add", [s for s in whatif.CAPACITY_SERVICES if s],
                               format_func=whatif.CAPACITY_SERVICES.get, key="goal_service")
        area = g2.selectbox("Where", list(whatif.AREAS), format_func=whatif.AREAS.get, key="goal_area")
        kpi = g3.selectbox("Measure to keep down", GOAL_KPIS, format_func=lambda k: words.kpi(k)[0], key="goal_kpi")
        h1, h2, h3 = st.columns(3)
        below = h1.number_input("Below (every month)", min_value=0.0, value=10.0, step=1.0, key="goal_below")
        level = h2.select_slider("In this share of runs", [0.5, 0.6, 0.7, 0.8, 0.9, 0.95], value=0.8,
                                 format_func=lambda p: f"{p:.0%}", key="goal_level")
        months = h3.select_slider("Months ahead", [12, 24, 36], value=24, key="goal_months")
        asked = st.form_submit_button("Find the smallest number of places")
    if not asked:
        return
    why = forecasting.engine_status()
    if why:
        ui.missing("The forecast cannot be run here.", why)
        return
    with st.spinner("Running the forecast with more and more places..."):
        try:
            found = forecasting.run_goal_seek(ui.warehouse_path(), whatif.capacity_lever(service, area), kpi,
                                              below=below, level=level, runs=20, months=months)
        except ValueError as exc:
            st.warning(str(exc))
            return
    label = f"{whatif.CAPACITY_SERVICES[service].lower()}{' in ' + whatif.AREAS[area] if area else ''}"
    title = words.kpi(kpi)[0].lower()
    if found.change is None:
        st.warning(f"Even {max(found.tried)} more {label} do not keep {title} below {below:g} in {level:.0%} of runs "
                   f"(the most tried managed {max(found.tried.values()):.0%}).")
    elif found.change == 0:
        st.success(f"As things are, {title} already stays below {below:g} in {found.share:.0%} of runs.")
    else:
        st.success(f"**{found.change} more {label}** keep {title} below {below:g} every month for {months} months "
                   f"in {found.share:.0%} of runs.")
    if not found.monotone:
        st.caption("More places did not always help in these runs: chance plays a part at this size, so read the "
                   "answer as approximate.")
    ui.plain_table(pd.DataFrame({"Places added": list(found.tried),
                                 "Share of runs meeting the goal": [f"{v:.0%}" for v in found.tried.values()]}),
                   "goal_seek_tried")


st.subheader("Which prices matter most")
sens = ui.load("cost_sensitivity")
if sens is None or not len(sens):
    ui.missing(*ui.NO_FORECAST)
else:
    prices_that_matter(sens)

def carers_needed(staffing: dict) -> None:
    fc = staffing["forecast"]
    carers = fc[(fc["measure"] == "carers_needed") & (fc["scenario"] == "baseline")].copy()
    teams = [t for t in ("all", "east", "central", "west", "area not recorded") if t in set(carers["team"])]
    team = st.selectbox("Team", teams, format_func=lambda t: "All teams" if t == "all" else t.capitalize(),
                        key="commission_team")
    mine = carers[carers["team"] == team].sort_values("month")
    contact = float(mine["contact_hours_per_carer_week"].iloc[0])
    winter = mine[pd.to_datetime(mine["month"]).dt.month.isin([12, 1, 2])].head(3)
    if len(winter):
        peak = winter.loc[winter["hi80"].idxmax()]
        st.markdown(f"This winter the {'teams' if team == 'all' else team + ' team'} are likely to need between "
                    f"**{peak['lo80']:,.0f} and {peak['hi80']:,.0f} full-time carers** in "
                    f"{words.month(peak['month'])} (80 in 100 runs), at {contact:g} hours with people a week each.")
    fig = charts.fan_chart(mine, f"Full-time carers needed: {'all teams' if team == 'all' else team + ' team'}",
                           "full-time carers")
    ui.chart(fig, f"the home-care hours the forecast delivers each month over the {contact:g} hours a full-time carer "
             "spends with people in a week (an assumption a provider sets to its own rota figure). Darker: half the "
             "runs; paler: 80 and 95 in 100 runs.",
             mine[["month", "team", "median", "lo80", "hi80", "lo95", "hi95"]], f"commission_carers_{team}",
             unit="full-time-equivalent carers")
    seen = staffing["observed"]
    if seen is not None and len(seen):
        now = seen if team == "all" else seen[seen["team"] == team]
        by_month = now.groupby("month", as_index=False).agg(carers=("n_carers_active", "sum"),
                                                             hours=("contact_hours", "sum"))
        last = by_month.iloc[-1]
        fte = last["hours"] / (contact * pd.Timestamp(last["month"]).days_in_month / 7.0)
        st.markdown(f"In {words.month(last['month'])} {int(last['carers']):,} carers delivered care, "
                    f"{last['hours']:,.0f} hours: about **{fte:,.0f} full-time carers' worth** at the same "
                    f"{contact:g} hours a week.")


st.subheader("How many carers home care will need")
staffing = ui.load("home_care_staffing")
if staffing["forecast"] is None or not len(staffing["forecast"]):
    ui.missing(*ui.NO_FORECAST)
else:
    carers_needed(staffing)

CARE_TYPES = {k: v.capitalize() for k, v in insights.BLOCK_CARE_TYPES.items()}


def block_or_spot(bs: pd.DataFrame) -> None:
    c1, c2, c3, c4 = st.columns(4)
    scenarios = sorted(set(bs["scenario"]), key=lambda s: (s != "baseline", s))
    scenario = c1.selectbox("Scenario", scenarios, format_func=words.scenario, key="block_scenario")
    care = c2.selectbox("Beds", [c for c in CARE_TYPES if c in set(bs["care_type"])], format_func=CARE_TYPES.get,
                        key="block_care")
    areas = sorted(set(bs["area"]), key=lambda a: (a != "all", a == "area not recorded", words.area(a)))
    area = c3.selectbox("Where", areas, format_func=lambda a: "All areas" if a == "all" else words.area(a),
                        key="block_area")
    year = c4.selectbox("Year ahead", sorted(set(bs["year"])), format_func=lambda y: f"Year {y}", key="block_year")
    rows = bs[(bs["scenario"] == scenario) & (bs["care_type"] == care) & (bs["area"] == area) & (bs["year"] == year)]
    if not len(rows):
        ui.missing("No care-home places of this kind here in this scenario.", "Choose another area above.")
        return
    where = "across all areas" if area == "all" else f"in {words.area(area)}"
    st.markdown(" ".join(insights.block_spot_sentences(rows, care, where)))
    m = rows.pivot_table(index="block_beds", columns="measure", values="mean", aggfunc="first")
    label = "All areas" if area == "all" else words.area(area)
    fig = charts.block_spot_costs(rows, f"{CARE_TYPES[care]}, {label}, year {year}: the cost of each block size")
    table = m.reset_index()[["block_beds", "places_needed", "block_beds_used", "block_beds_unused", "spot_placements",
                             "out_of_area_placements", "out_of_area_km", "cost_total"]]
    ui.chart(fig, "each bar is one size of block contract: the beds it pays for every week, the spot placements bought "
             "in the area when the block is full, and the placements made in other areas (nearest first) when the "
             "area's market has no free bed. Prices and the market's free beds are assumptions a provider replaces "
             "with its own (docs/forecast_engine.md, Block or spot).",
             table, f"commission_block_{scenario}_{care}_{area}_{year}", unit="pounds in the year, 2024-25 prices")


st.subheader("Block or spot: how many care-home beds to buy ahead")
block = ui.load("block_spot")
if block is None or not len(block):
    ui.missing(*ui.NO_FORECAST)
else:
    block_or_spot(block)

st.subheader("How many more places keep a waiting list down")
st.markdown("Choose a kind of place and a measure that must stay below a level. The forecast is run with more and "
            "more places until the measure stays below it in the share of runs you ask for, then narrowed down to the "
            "smallest number that does. Every try uses the same simulated futures as things are.")
places_to_add()
