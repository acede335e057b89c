"""A small made-up warehouse with every table the explorer reads, for tests, screenshots and demos.

Why made up rather than copied: CI has no built warehouse, and building a real one (world,
sources, ingest, identity, dbt, forecast) takes minutes. Copying a few mart tables from a real
warehouse would tie the tests to one build's data. Instead this writes the tables the pages
read, with the column names of the marts (``tests/integration/test_explorer_data.py`` checks them against
the columns the dbt models declare) and of the forecast and ML schemas (checked there against
what the engine writes), filled from a tiny generated timeline: a few hundred people moving
month by month between the states with fixed monthly chances. Marts derived from the timeline
(the case mix) are computed from it in SQL so they agree with it; the others (occupancy,
delays, waiting lists, processing times, the load audit and quarantine, the forecasts, the
backtest, segments and outlooks) are plausible random series. None of the numbers mean anything.

``build_sample_warehouse`` writes the warehouse file; ``build_sample_home`` makes a whole
LLIF_HOME around it and publishes it (``warehouse.published``), since the explorer reads the
published copy - what the browser tests and ``explorer/screenshots.py`` use.

    .venv/bin/python -m explorer.sample /tmp/sample/warehouse.duckdb
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from contracts.vocabulary.areas import AREA_CODE

AREAS = ("Cardiff", "Newport", "Bridgend", "Caerphilly")   # the sample's four areas, of the eight

# Monthly chances of moving, by state (the rest stay). Rough, only to give the Sankey some shape.
MOVES = {
    "general_needs": {"moved_out": 0.006, "died": 0.001, "sheltered": 0.001, "hospital": 0.002, "community": 0.001},
    "sheltered": {"died": 0.004, "extra_care": 0.003, "hospital": 0.006, "moved_out": 0.002},
    "extra_care": {"died": 0.005, "hospital": 0.01, "residential_care": 0.003},
    "temporary": {"general_needs": 0.08, "moved_out": 0.04},
    "community": {"hospital": 0.03, "residential_care": 0.006, "died": 0.005, "extra_care": 0.003},
    "residential_care": {"died": 0.03, "hospital": 0.02, "nursing_care": 0.01},
    "nursing_care": {"died": 0.045, "hospital": 0.02, "hospice": 0.005},
    "hospital": {"community": 0.35, "residential_care": 0.1, "nursing_care": 0.08, "died": 0.08, "general_needs": 0.15,
                 "sheltered": 0.05, "hospice": 0.02},
    "hospice": {"died": 0.6, "community": 0.2},
}
START_MIX = {"general_needs": 0.55, "sheltered": 0.1, "extra_care": 0.05, "temporary": 0.06, "community": 0.12,
             "residential_care": 0.06, "nursing_care": 0.04, "hospital": 0.02}
SEGMENTS = ("Working-age long-term tenants", "Older tenants ageing in place", "Short-term and homeless households",
            "Frail, hospital to care home")

AREA_CODES = {name: AREA_CODE[name] for name in AREAS}
SCHEMES = [  # id, name, type, area, capacity, residential, nursing
    ("S0001", "MAES Y COED ESTATE", "general_needs", "Cardiff", 140, 0, 0),
    ("S0002", "TIR CELYN ESTATE", "general_needs", "Newport", 120, 0, 0),
    ("S0003", "GLAN YR AFON ESTATE", "general_needs", "Bridgend", 90, 0, 0),
    ("S0004", "DOL WERDD COURT", "sheltered", "Cardiff", 40, 0, 0),
    ("S0005", "HEOL FACH COURT", "sheltered", "Newport", 35, 0, 0),
    ("S0006", "CLOS YR YSGOL HOUSE", "extra_care", "Caerphilly", 45, 0, 0),
    ("S0007", "AEL Y BRYN PROJECT", "temporary", "Cardiff", 30, 0, 0),
    ("S0008", "FFORDD ELLI CARE HOME", "care_home", "Newport", 24, 16, 8),
    ("S0009", "PEN Y BRYN CARE HOME", "care_home", "Cardiff", 30, 18, 12),
]

FORECAST_SERVICES = ("extra_care", "residential_care", "nursing_care", "temporary", "sheltered", "community")


def _months(end: dt.date, n: int) -> list[dt.date]:
    out, y, m = [], end.year, end.month
    for _ in range(n):
        out.append(dt.date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _timeline(rng: np.random.Generator, n_people: int, months: list[dt.date]) -> pd.DataFrame:
    rows = []
    states = rng.choice(list(START_MIX), size=n_people, p=np.array(list(START_MIX.values())) / sum(START_MIX.values()))
    birth_year = rng.integers(1925, 2000, size=n_people)
    sex = rng.choice(["F", "M"], size=n_people)
    area = rng.choice(AREAS, size=n_people)
    for i in range(n_people):
        key = f"P{i:016x}"
        prev, state = None, states[i]
        for m in months:
            if prev is not None and prev not in ("moved_out", "died"):
                moves = MOVES[prev]
                u = rng.random()
                acc = 0.0
                state = prev
                for target, p in moves.items():
                    acc += p
                    if u < acc:
                        state = target
                        break
            elif prev in ("moved_out", "died"):
                break
            age = m.year - int(birth_year[i])
            if state in ("residential_care", "nursing_care") and age < 65:
                age += 20
            need = {"residential_care": 2, "nursing_care": 3, "community": int(rng.integers(1, 4))}.get(state, 0)
            hours = {1: 3.0, 2: 9.0, 3: 20.0}.get(need, 0.0) if state == "community" else 0.0
            rows.append((f"{key}:{m}", key, m, state, prev, need, hours, age, area[i], sex[i]))
            prev = state
    return pd.DataFrame(rows, columns=["person_month_id", "person_key", "month_start", "state", "previous_state",
                                       "need_level", "weekly_care_hours", "age", "area_name", "sex"])


STATS = ("mean", "median", "p2_5", "p10", "p25", "p75", "p90", "p97_5", "mean_ci_low", "mean_ci_high")


def _band_rows(centre: float, spread: float, noise: float) -> dict:
    mean = centre + noise
    return dict(mean=mean, median=centre, p2_5=centre - 1.96 * spread, p10=centre - 1.28 * spread,
                p25=centre - 0.67 * spread, p75=centre + 0.67 * spread, p90=centre + 1.28 * spread,
                p97_5=centre + 1.96 * spread, mean_ci_low=mean - spread / 10, mean_ci_high=mean + spread / 10)


def _band_table(rng, months, scenarios, kpis) -> pd.DataFrame:
    rows = []
    for kpi, base, unit_growth in kpis:
        for s in scenarios:
            shift = {"baseline": 0.0, "new_extra_care_cardiff": -0.04, "care_home_closes": 0.06}[s]
            if kpi.startswith("needed"):
                shift += 0.12
            if kpi.startswith("capacity"):
                shift = {"new_extra_care_cardiff": 0.3 if "extra_care" in kpi else 0.0,
                         "care_home_closes": -0.25 if "residential" in kpi or "nursing" in kpi else 0.0}.get(s, 0.0)
            for h, m in enumerate(months):
                centre = base * (1 + shift * min(1.0, h / 6)) * (1 + unit_growth * h / 12) * (1 + 0.03 * np.sin(h / 2))
                spread = 0.0 if kpi.startswith("capacity") else base * (0.02 + 0.012 * h ** 0.8)
                rows.append(dict(scenario=s, month=pd.Timestamp(m), month_index=h + 1, kpi=kpi,
                                 **_band_rows(centre, spread, rng.normal(0, base * 0.002))))
    df = pd.DataFrame(rows)
    df[list(STATS)] = df[list(STATS)].clip(lower=0)
    df["n_replications"] = 200
    return df


# the sample's flow measures (simulation/outputs.py FLOW_KPIS): a year's value is their sum
_FLOWS = ("delayed_bed_days", "hospital_admissions", "care_home_admissions", "home_care_hours", "cost_total",
          "cost_local_authority", "cost_nhs", "cost_provider", "cost_charity")


def _annual_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Yearly totals in the shape of forecast.kpi_annual: the means add up; the made-up bands
    widen with the square root of the months (the engine's come from the replications)."""
    flows = summary[summary["kpi"].isin(_FLOWS)].assign(year=lambda d: (d["month_index"] - 1) // 12 + 1)
    rows = []
    for (scenario, year, kpi), g in flows.groupby(["scenario", "year", "kpi"], sort=True):
        total = g["mean"].sum()
        row = {"scenario": scenario, "year": int(year), "year_start": g["month"].min(), "year_end": g["month"].max(),
               "months_in_year": len(g), "kpi": kpi}
        row.update({s: total + (g[s].sum() - total) / np.sqrt(len(g)) for s in STATS})
        row["n_replications"] = 200
        rows.append(row)
    return pd.DataFrame(rows)


# made-up shares of each payer's cost that each price carries (the engine's come from its activity)
_PRICE_SHARES = {"cost_local_authority": {"residential_week": 0.35, "nursing_week": 0.25, "home_care_hour": 0.3,
                                          "extra_care_week": 0.1},
                 "cost_nhs": {"hospital_admission": 0.6, "delayed_bed_day": 0.3, "hospice_day": 0.1},
                 "cost_provider": {"void_week": 1.0}, "cost_charity": {"hospice_day": 1.0}}


# made-up shares of each area in the sample's people and waiting lists (the engine counts them person by person)
_AREA_SHARES = {"CDF": 0.4, "NWP": 0.25, "BGD": 0.2, "CPH": 0.15}


def _breakdown_table(summary: pd.DataFrame) -> pd.DataFrame:
    """forecast.kpi_breakdown's shape: the provider's rows (every dimension NULL), then each
    area's and each segment's share of the people and waiting-list measures, with made-up bands
    a little wider than a share of the total's (a group's bands are its own)."""
    people = summary[summary["kpi"].str.startswith(("people_", "waiting_")) | summary["kpi"].eq("delayed_discharges")]
    parts = [people.assign(area=None, segment=None, age_band=None)]
    for area, share in _AREA_SHARES.items():
        part = people.copy()
        for c in STATS:
            part[c] = part[c] * share
        part["p2_5"], part["p97_5"] = part["p2_5"] * 0.9, part["p97_5"] * 1.1
        parts.append(part.assign(area=area, segment=None, age_band=None))
    for seg in range(len(SEGMENTS)):
        part = people.copy()
        for c in STATS:
            part[c] = part[c] / len(SEGMENTS)
        parts.append(part.assign(area=None, segment=str(seg), age_band=None))
    out = pd.concat(parts, ignore_index=True)
    return out[["scenario", "month", "month_index", "kpi", "area", "segment", "age_band", *STATS, "n_replications"]]


# made-up shares of the sample's home-care hours by team (the engine adds up each team's areas per run)
_TEAM_SHARES = {"east": 0.55, "central": 0.3, "west": 0.15}


def _staffing_table(summary: pd.DataFrame, contact_hours: float = 25.0) -> pd.DataFrame:
    """forecast.home_care_staffing's shape: hours and carers needed per team and for all teams."""
    hours = summary[(summary["kpi"] == "home_care_hours") & (summary["scenario"] == "baseline")]
    parts = []
    for team, share in [*_TEAM_SHARES.items(), ("all", 1.0)]:
        h = hours.copy()
        for c in STATS:
            h[c] = h[c] * share
        weeks = pd.to_datetime(h["month"]).dt.days_in_month / 7.0
        carers = h.copy()
        for c in STATS:
            carers[c] = h[c] / (contact_hours * weeks)
        parts += [h.assign(measure="home_care_hours", team=team), carers.assign(measure="carers_needed", team=team)]
    out = pd.concat(parts, ignore_index=True).assign(contact_hours_per_carer_week=contact_hours)
    return out[["scenario", "month", "month_index", "measure", "team", *STATS, "contact_hours_per_carer_week",
                "n_replications"]]


def _block_spot_table(annual: pd.DataFrame) -> pd.DataFrame:
    """forecast.block_spot's shape: per scenario, year, care type, area and block size, places
    needed (made up, growing a little each year), bought block first, then spot up to a tenth of
    the first year's need, the rest out of area 20 km away; 80% ranges +-10%."""
    from contracts.vocabulary.commissioning import BLOCK_SHARES, CARE_TYPES
    from contracts.vocabulary.costs import UNIT_COST

    years = annual[["scenario", "year", "year_start", "year_end", "months_in_year"]].drop_duplicates()
    areas = {"CDF": 60.0, "VOG": 25.0, "RCT": 40.0, "NPT": 30.0}
    rows = []
    for y in years.itertuples():
        weeks = y.months_in_year * 52 / 12
        for care, (block_key, spot_key) in CARE_TYPES.items():
            block_p, spot_p = UNIT_COST[block_key].default, UNIT_COST[spot_key].default
            out_p = spot_p * (1 + UNIT_COST["out_of_area_uplift"].default)
            for share in BLOCK_SHARES:
                total: dict[str, float] = {}
                for area, first in [*areas.items(), ("all", 0.0)]:
                    if area == "all":
                        m, beds = total, sum(round(share * a * (0.6 if care == "nursing_care" else 1.0))
                                             for a in areas.values())
                    else:
                        start = first * (0.6 if care == "nursing_care" else 1.0)
                        need, beds = start * (1 + 0.03 * y.year), round(share * start)
                        used = min(need, beds)
                        spot = min(need - used, round(0.1 * start))
                        out = need - used - spot
                        m = {"places_needed": need, "block_beds_used": used, "block_beds_unused": beds - used,
                             "spot_placements": spot, "out_of_area_placements": out, "out_of_area_km": 20.0,
                             "cost_block": beds * block_p * weeks, "cost_spot": spot * spot_p * weeks,
                             "cost_out_of_area": out * out_p * weeks}
                        m["cost_total"] = m["cost_block"] + m["cost_spot"] + m["cost_out_of_area"]
                        for k, v in m.items():
                            total[k] = 20.0 if k == "out_of_area_km" else total.get(k, 0.0) + v
                    for measure, v in m.items():
                        band = {"mean": v, "median": v, "p2_5": 0.85 * v, "p10": 0.9 * v, "p25": 0.95 * v,
                                "p75": 1.05 * v, "p90": 1.1 * v, "p97_5": 1.15 * v, "mean_ci_low": 0.98 * v,
                                "mean_ci_high": 1.02 * v}
                        rows.append({"scenario": y.scenario, "year": y.year, "year_start": y.year_start,
                                     "year_end": y.year_end, "months_in_year": y.months_in_year, "care_type": care,
                                     "area": area, "block_share": share, "block_beds": float(beds), "measure": measure,
                                     **band, "n_replications": 200})
    return pd.DataFrame(rows)


def _cost_sensitivity_table(annual: pd.DataFrame) -> pd.DataFrame:
    """The tornado's rows in the shape of forecast.cost_sensitivity: each price's share of a
    payer's yearly cost scaled to the low and high end of its range (a total's rows add the
    payers')."""
    from contracts.vocabulary.costs import UNIT_COST

    rows = []
    costs = annual[annual["kpi"].isin(list(_PRICE_SHARES))]
    for (scenario, year), g in costs.groupby(["scenario", "year"], sort=True):
        first = g.iloc[0]
        by_payer = dict(zip(g["kpi"], g["mean"]))
        total = sum(by_payer.values())
        swing_total: dict[str, tuple[float, float]] = {}
        for payer, shares in _PRICE_SHARES.items():
            for key, share in shares.items():
                c = UNIT_COST[key]
                part = by_payer.get(payer, 0.0) * share
                lo, hi = part * (c.low / c.default - 1), part * (c.high / c.default - 1)
                a, b = swing_total.get(key, (0.0, 0.0))
                swing_total[key] = (a + lo, b + hi)
                rows.append((scenario, year, first["year_start"], first["year_end"], first["months_in_year"], payer,
                             key, c.low, c.default, c.high, by_payer[payer] + lo, by_payer[payer], by_payer[payer] + hi,
                             hi - lo, 200))
        for key, (lo, hi) in swing_total.items():
            c = UNIT_COST[key]
            rows.append((scenario, year, first["year_start"], first["year_end"], first["months_in_year"], "cost_total",
                         key, c.low, c.default, c.high, total + lo, total, total + hi, hi - lo, 200))
    return pd.DataFrame(rows, columns=["scenario", "year", "year_start", "year_end", "months_in_year", "payer",
                                       "unit_cost", "value_low", "value_forecast", "value_high", "cost_low",
                                       "cost_forecast", "cost_high", "swing", "n_replications"])


def build_sample_warehouse(path: Path | str, seed: int = 7, n_people: int = 500, n_months: int = 60,
                           with_forecast: bool = True, with_ml: bool = True, end: dt.date = dt.date(2026, 10, 1)) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    rng = np.random.default_rng(seed)
    months = _months(end, n_months)
    tl = _timeline(rng, n_people, months)
    con = duckdb.connect(str(path))
    try:
        for schema in ("marts", "raw", "identity"):
            con.execute(f"create schema {schema}")
        # identity exists so a test can prove the explorer never touches it
        con.execute("create table identity.person_xref as select 'P0' as person_key, 'AB123456C' as ni_number")

        dm = pd.DataFrame({"month_start": months})
        dm["month_start"] = pd.to_datetime(dm["month_start"])
        dm["month_end"] = dm["month_start"] + pd.offsets.MonthEnd(0)
        dm["calendar_year"] = dm["month_start"].dt.year
        dm["month_of_year"] = dm["month_start"].dt.month
        dm["financial_year_start"] = dm["calendar_year"] - (dm["month_of_year"] < 4)
        dm["financial_year"] = dm["financial_year_start"].astype(str) + "-" + ((dm["financial_year_start"] + 1) % 100).astype(str).str.zfill(2)
        dm["is_winter"] = dm["month_of_year"].isin([12, 1, 2]).astype(int)
        dm["is_complete"] = 1
        con.register("dm", dm)
        con.execute("create table marts.dim_month as select * from dm")
        # home-care staffing by team: made-up carers and contact hours of the last two years
        staff = pd.DataFrame([(m, team, n, n * 19.0 * m.days_in_month / 7.0)
                              for m in dm["month_start"].iloc[-24:] for team, n in (("east", 30), ("central", 17),
                                                                                   ("west", 8))],
                             columns=["month_start", "team", "n_carers_active", "contact_hours"])
        staff["contact_hours_per_carer_week"] = 19.0
        staff["is_complete"] = 1
        con.register("staff_seen", staff)
        con.execute("create table marts.fct_home_care_staffing_monthly as select * from staff_seen")

        con.register("tl", tl.assign(area_code=tl["area_name"].map(AREA_CODES)))
        con.execute("""create table marts.fct_person_month as
            select person_month_id, person_key, cast(month_start as date) as month_start, state, previous_state,
                   need_level, weekly_care_hours, age, case when state in ('moved_out', 'died') then null else area_name end as area_name,
                   case when state in ('moved_out', 'died') then null else area_code end as area_code,
                   case when state = 'died' then 1 else 0 end as is_died, 1 as is_observed,
                   case when state in ('residential_care', 'nursing_care') then 'care_a'
                        when state = 'community' then 'domcare' else 'crm' end as state_source_system
            from tl""")
        people = tl.groupby("person_key").agg(sex=("sex", "first"), first_month=("month_start", "min"),
                                              last_month=("month_start", "max")).reset_index()
        k = len(people)
        people["has_crm_record"] = (rng.random(k) < 0.85).astype(int)
        people["has_care_a_record"] = (rng.random(k) < 0.1).astype(int)
        people["has_care_b_record"] = (rng.random(k) < 0.05).astype(int)
        people["has_domcare_record"] = (rng.random(k) < 0.15).astype(int)
        people["has_ni_token"] = (rng.random(k) < 0.93).astype(int)
        people["n_crm_records"] = people["has_crm_record"] + (rng.random(k) < 0.02)
        people["n_source_records"] = people[["has_crm_record", "has_care_a_record", "has_care_b_record", "has_domcare_record"]].sum(axis=1).clip(lower=1)
        people["is_in_timeline"] = 1
        con.register("people", people)
        con.execute("create table marts.dim_person as select * from people")

        con.execute("""create table marts.fct_case_mix_monthly as
            select month_start || ':' || state || ':' || age_band || ':' || sex as case_mix_id, *
            from (select p.month_start, p.state,
                    case when p.age is null then 'unknown' when p.age < 18 then '0-17' when p.age < 40 then '18-39'
                         when p.age < 65 then '40-64' when p.age < 75 then '65-74' when p.age < 85 then '75-84' else '85+' end as age_band,
                    d.sex, count(*) as n_people, sum(p.is_observed) as n_observed,
                    sum(case when need_level = 0 then 1 else 0 end) as n_need_none,
                    sum(case when need_level = 1 then 1 else 0 end) as n_need_low,
                    sum(case when need_level = 2 then 1 else 0 end) as n_need_medium,
                    sum(case when need_level = 3 then 1 else 0 end) as n_need_high,
                    sum(case when weekly_care_hours > 0 then 1 else 0 end) as n_with_home_care,
                    avg(weekly_care_hours) as mean_weekly_care_hours, sum(weekly_care_hours) as total_weekly_care_hours,
                    avg(p.age) as mean_age
                  from marts.fct_person_month p join marts.dim_person d using (person_key) group by all)""")

        sch = pd.DataFrame(SCHEMES, columns=["scheme_id", "scheme_name", "scheme_type", "area_name", "capacity",
                                             "residential_beds", "nursing_beds"])
        sch["area_code"] = sch["area_name"].map(AREA_CODES)
        sch["is_open"] = 1
        sch["is_care_home"] = (sch["scheme_type"] == "care_home").astype(int)
        con.register("sch", sch)
        con.execute("create table marts.dim_scheme as select * from sch")
        occ = []
        for s in SCHEMES:
            rate = 0.95
            for m in months:
                rate = float(np.clip(rate + rng.normal(0, 0.012), 0.8, 1.0))
                occupied = int(round(s[4] * rate))
                res = int(round(s[5] * rate)) if s[2] == "care_home" else None
                nur = occupied - res if s[2] == "care_home" else None
                occ.append((f"{s[0]}:{m}", s[0], s[2], m, s[4], s[5], s[6], occupied, res, nur, s[4] - occupied,
                            occupied / s[4], 1))
        con.register("occ", pd.DataFrame(occ, columns=["occupancy_id", "scheme_id", "scheme_type", "month_start", "capacity",
                                                       "residential_beds", "nursing_beds", "occupied_end", "residential_occupied_end",
                                                       "nursing_occupied_end", "spare_capacity_end",
                                                       "occupancy_rate", "is_observed"]))
        con.execute("create table marts.fct_occupancy_monthly as select * from occ")

        n = len(months)
        disch = rng.poisson(12, n)
        long = rng.binomial(disch, 0.15)
        delays = pd.DataFrame({
            "month_start": months, "n_hospital_discharges_known": disch, "n_long_stays": long,
            "long_stay_excess_days": long * rng.integers(3, 20, n), "n_discharged_to_care_home": rng.binomial(disch, 0.1),
            "mean_length_of_stay_days": rng.normal(9, 1.5, n).round(1), "n_in_hospital_end": rng.poisson(8, n),
            "n_care_home_admissions_from_hospital": rng.poisson(3, n), "n_with_known_hospital_stay": rng.poisson(1, n),
            "mean_hospital_days_before_care_home": rng.normal(25, 6, n).round(1), "n_packages_from_hospital": rng.poisson(2, n),
            "mean_days_hospital_referral_to_package": rng.normal(6, 2, n).round(1),
            "n_extra_care_waiting_end": (20 + np.cumsum(rng.integers(-2, 3, n))).clip(0),
            "mean_days_extra_care_waiting_end": rng.normal(480, 30, n).round(0), "is_observed": 1})
        con.register("delays", delays)
        con.execute("create table marts.fct_delays_monthly as select * from delays")

        reg = []
        for need, base in (("general", 300), ("homeless", 80), ("transfer", 120), ("sheltered", 40), ("extra_care", 20)):
            waiting = base
            for m in months:
                waiting = max(0, waiting + int(rng.integers(-6, 7)))
                reg.append((f"{m}:{need}", m, need, int(rng.poisson(base / 10)), int(rng.poisson(base / 12)), int(rng.poisson(2)),
                            waiting, float(rng.normal(400, 40)), int(waiting * 0.3)))
        con.register("reg", pd.DataFrame(reg, columns=["register_month_id", "month_start", "need_type", "n_applied", "n_let",
                                                       "n_withdrawn", "n_waiting_end", "mean_days_waiting_end",
                                                       "n_waiting_over_a_year_end"]))
        con.execute("create table marts.fct_register_waiting_monthly as select * from reg")

        pt = []
        for measure, seg, days in (("register_to_let_days", "general", 300), ("void_turnaround_days", "general_needs", 25),
                                   ("referral_to_care_start_days", "east", 9), ("care_home_length_of_stay_days", "permanent", 500),
                                   ("hospital_length_of_stay_days", "home_care", 9)):
            for m in months:
                mean = float(max(1, rng.normal(days, days * 0.1)))
                pt.append((f"{m}:{measure}:{seg}", m, measure, seg, int(rng.integers(1, 20)), mean, mean * 0.9, mean * 1.8, 0.0, mean * 3))
        con.register("pt", pd.DataFrame(pt, columns=["processing_time_id", "month_start", "measure", "segment", "n_cases",
                                                     "mean_days", "median_days", "p90_days", "min_days", "max_days"]))
        con.execute("create table marts.fct_processing_times_monthly as select * from pt")

        now = dt.datetime(2026, 11, 1, 2, 30)
        audit = []
        for system, tables in (("crm", ("contact", "tenancy", "application")), ("assets", ("SCHEME", "PROPERTY")),
                               ("care_a", ("Stay",)), ("care_b", ("placement",)), ("domcare", ("package", "visit"))):
            for t in tables:
                for night in range(3):
                    finished = now - dt.timedelta(days=night, minutes=int(rng.integers(0, 30)))
                    audit.append((f"{system}-{night}", system, t, f"{system}.sqlite", finished - dt.timedelta(seconds=5),
                                  finished, 100, 100 - night, night, (finished - dt.timedelta(hours=6)).isoformat()))
        con.register("audit", pd.DataFrame(audit, columns=["load_id", "system", "source_table", "source", "started_at",
                                                           "finished_at", "rows_read", "rows_loaded", "rows_rejected",
                                                           "high_water_mark"]))
        con.execute("create table raw._load_audit as select * from audit")
        quarantine = [("crm-0", "crm", "contact", "crm.sqlite", 17, "C000017", "date_of_birth", "date of birth after the contact was created", "{}"),
                      ("crm-1", "crm", "tenancy", "crm.sqlite", 4, "T000004", "end_date", "tenancy ends before it starts", "{}"),
                      ("crm-1", "crm", "tenancy", "crm.sqlite", 9, "T000009", "end_date", "tenancy ends before it starts", "{}"),
                      ("domcare-2", "domcare", "visit", "domcare.sqlite", 33, "V33", "actual_end", "visit ends before it starts", "{}")]
        con.register("q", pd.DataFrame(quarantine, columns=["load_id", "system", "source_table", "source", "row_number",
                                                            "record_key", "field", "reason", "row_values"]))
        con.execute("create table raw._quarantine as select * from q")

        if with_ml:
            con.execute("create schema ml")
            keys = people["person_key"]
            seg = rng.integers(0, len(SEGMENTS), size=len(keys))
            con.register("seg", pd.DataFrame({"person_key": keys, "segment": seg, "segment_name": [SEGMENTS[s] for s in seg]}))
            con.execute("create table ml.segments as select * from seg")
            con.register("out", pd.DataFrame({"person_key": keys, "segment_name": [SEGMENTS[s] for s in seg],
                                              "p_care_home_12m": rng.beta(1, 20, len(keys)),
                                              "p_hospital_12m": rng.beta(2, 10, len(keys)),
                                              "p_died_12m": rng.beta(1, 30, len(keys))}))
            con.execute("create table ml.person_outlooks as select * from out")

        if with_forecast:
            _write_forecast(con, rng, end)
    finally:
        con.close()
    return path


def _two_nights(con, table: str, last_night: pd.DataFrame, tonight: pd.DataFrame, old: str, new: str) -> None:
    """``forecast.<table>`` holding two nights' runs (``run_id`` first), so pages must pick the newest."""
    both = pd.concat([last_night.assign(run_id=old), tonight.assign(run_id=new)], ignore_index=True)
    con.register("_two_nights", both)
    try:
        con.execute(f"create table forecast.{table} as select run_id, * exclude (run_id) from _two_nights")
    finally:
        con.unregister("_two_nights")


def _write_forecast(con, rng, end: dt.date, horizon: int = 36) -> None:
    """Forecast tables in the shape ``simulation/outputs.py`` writes (``write_forecast``):
    two nights' runs, so the pages must pick the newest."""
    con.execute("create schema forecast")
    first = (pd.Timestamp(end) + pd.offsets.MonthBegin(1)).date()
    months = [(pd.Timestamp(first) + pd.DateOffset(months=h)).date() for h in range(horizon)]
    # the engine's measure names (simulation/forecast_model.py KPIS, simulation/outputs.py NEEDED_KPIS)
    places = {"extra_care_flats": (44, 45), "residential_beds": (34, 34), "nursing_beds": (20, 20),
              "temporary_units": (28, 30), "sheltered_units": (70, 75), "general_needs_units": (380, 390)}
    kpis = []
    for label, (occupied, capacity) in places.items():
        kpis += [(f"occupied_{label}", occupied, 0.02), (f"capacity_{label}", capacity, 0.0),
                 (f"needed_{label}", occupied, 0.03)]
    for state, n in (("general_needs", 420), ("sheltered", 72), ("extra_care", 46), ("temporary", 29), ("community", 60),
                     ("residential_care", 34), ("nursing_care", 20), ("hospital", 9), ("hospice", 1)):
        kpis.append((f"people_{state}", n, 0.02))
    for s in ("extra_care", "temporary", "residential_care", "nursing_care"):
        kpis += [(f"waiting_{s}", {"extra_care": 22, "temporary": 12}.get(s, 4), 0.15), (f"mean_wait_months_{s}", 5, 0.05)]
    kpis += [("delayed_discharges", 6, 0.08), ("delayed_bed_days", 90, 0.08), ("hospital_admissions", 20, 0.03),
             ("care_home_admissions", 5, 0.03), ("home_care_hours", 700, 0.04), ("home_care_people", 60, 0.03),
             ("cost_total", 410_000, 0.04), ("cost_local_authority", 250_000, 0.04), ("cost_nhs", 120_000, 0.04),
             ("cost_provider", 30_000, 0.02), ("cost_charity", 10_000, 0.02)]
    scenarios = ("baseline", "new_extra_care_cardiff", "care_home_closes")
    old, new = "2026-10-31:sample", "2026-11-01:sample"

    summary = _band_table(rng, months, scenarios, kpis)
    older = summary.assign(**{c: summary[c] * 0.5 for c in STATS})  # last night's run: must not be shown
    _two_nights(con, "kpi_summary", older, summary, old, new)

    annual = _annual_table(summary)
    _two_nights(con, "kpi_annual", annual, annual, old, new)
    groups = _breakdown_table(summary)
    _two_nights(con, "kpi_breakdown", groups, groups, old, new)
    staff = _staffing_table(summary)
    _two_nights(con, "home_care_staffing", staff, staff, old, new)
    sens = _cost_sensitivity_table(annual)
    _two_nights(con, "cost_sensitivity", sens, sens, old, new)
    block = _block_spot_table(annual)
    _two_nights(con, "block_spot", block, block, old, new)

    base = summary[summary["scenario"] == "baseline"].set_index(["month", "kpi"])
    diffs = []
    for s in scenarios[1:]:
        part = summary[summary["scenario"] == s].set_index(["month", "kpi"])
        d = part[list(STATS)] - base[list(STATS)]
        spread = (part["p97_5"] - part["p2_5"]) / 8
        d["mean_ci_low"], d["mean_ci_high"] = d["mean"] - spread, d["mean"] + spread
        d = d.reset_index()
        d.insert(0, "scenario", s)
        d.insert(1, "baseline", "baseline")
        d["month_index"] = d.groupby("kpi").cumcount() + 1
        d["p_higher"] = (d["mean"] > 0).astype(float) * 0.9
        d["p_lower"] = (d["mean"] < 0).astype(float) * 0.9
        diffs.append(d)
    diff = pd.concat(diffs, ignore_index=True)
    _two_nights(con, "scenario_differences", diff, diff, old, new)

    m = [pd.Timestamp(x) for x in months]
    statements = pd.DataFrame([
        ("baseline", "waiting_extra_care", m[4], 0.8, 30.0, "the extra-care waiting list is likely (80%) to exceed 30 by March 2027"),
        ("baseline", "delayed_discharges", m[12], 0.81, 5.0, "delayed discharges from hospital is likely (81%) to exceed 5 by November 2027"),
        ("baseline", "cost_total", m[11], 0.8, 5.2e6, "the cost of the next 12 months is likely (80%) to be between £4.8m and £5.2m"),
        ("baseline", "bottleneck_extra_care_flats", m[4], 0.81, 0.97, "extra-care flats at least 95% full from March 2027 (likely, 81%)"),
        ("baseline", "bottleneck_nursing_beds", m[0], 0.62, 3.0, "the waiting list for nursing care-home beds grows in 62% of replications"),
        ("new_extra_care_cardiff", "difference_waiting_extra_care", m[-1], 0.9, -1.2,
         "compared with the baseline, new_extra_care_cardiff lowers the extra-care waiting list at the end by 1 (95% CI -4 to 1)"),
    ], columns=["scenario", "kpi", "month", "probability", "threshold", "statement"])
    _two_nights(con, "statements", statements.assign(statement="last night's sentence"), statements, old, new)
    bott = pd.DataFrame([("baseline", "extra_care_flats", "utilisation", m[4], 0.8, 0.81, 0.97, "extra-care flats at least 95% full"),
                         ("baseline", "nursing_beds", "queue_growing", m[0], 1.0, 0.62, 3.0, "the waiting list for nursing care-home beds grows"),
                         ("care_home_closes", "residential_beds", "utilisation", m[1], 0.9, 0.93, 0.99, "residential care-home beds at least 95% full")],
                        columns=["scenario", "resource", "kind", "first_month", "share_of_months", "probability", "value", "description"])
    _two_nights(con, "bottlenecks", bott, bott, old, new)
    runs = pd.DataFrame([{"run_id": rid, "run_date": d, "reference_month": str(end)[:7], "config_hash": "sample",
                          "replications": 200, "months": horizon, "seeds": "{}", "package_versions": "{}",
                          "model_versions": "{}", "scenario_hashes": "{}", "metadata": "{}",
                          "created_at": pd.Timestamp(d)}
                         for rid, d in ((old, "2026-10-31"), (new, "2026-11-01"))])
    con.register("runs", runs)
    con.execute("create table forecast.runs as select * from runs")
    _write_backtest(con, rng, end)


def _write_backtest(con, rng, end: dt.date) -> None:
    """A made-up backtest in forecast.backtest_series's shape (simulation.backtest.backtest_frame)."""
    from simulation.backtest import AREA_SERIES, KEY_SERIES, backtest_frame

    results = {}
    for cutoff in (12, 24):
        n = len(AREA_SERIES)
        areas = pd.concat([pd.DataFrame({"area": area, "series": list(AREA_SERIES), "kind": "total over horizon",
                                         "forecast": rng.uniform(20, 900, n), "actual": rng.uniform(20, 900, n),
                                         "pct_error": rng.normal(0, 4, n), "mape_monthly": rng.uniform(2, 9, n),
                                         "coverage80": rng.uniform(0.6, 0.95, n), "coverage95": rng.uniform(0.8, 1.0, n),
                                         "width80_pct": rng.uniform(5, 20, n), "width95_pct": rng.uniform(8, 30, n)})
                           for area in ("CDF", "VOG", "RCT", "NPT")], ignore_index=True)
        actual = rng.uniform(50, 5000, len(KEY_SERIES))
        forecast = actual * (1 + rng.normal(0, 0.02, len(KEY_SERIES)))
        results[cutoff] = {
            "cutoff": str(pd.Timestamp(end) - pd.DateOffset(months=cutoff))[:7] + "-01",
            "series": pd.DataFrame({"series": list(KEY_SERIES), "kind": "total over horizon", "forecast": forecast,
                                    "actual": actual, "pct_error": (forecast - actual) / actual * 100,
                                    "mape_monthly": rng.uniform(1, 5, len(KEY_SERIES)),
                                    "coverage80": rng.uniform(0.7, 0.9, len(KEY_SERIES)),
                                    "coverage95": rng.uniform(0.88, 1.0, len(KEY_SERIES)),
                                    "width80_pct": rng.uniform(2, 10, len(KEY_SERIES)),
                                    "width95_pct": rng.uniform(4, 16, len(KEY_SERIES))}),
            "areas": areas}
    frame = backtest_frame(results, "sample-backtest", "2026-11-01")
    con.register("bt", frame)
    con.execute("create table forecast.backtest_series as select * from bt")
    con.register("bt_areas", backtest_frame(results, "sample-backtest", "2026-11-01", part="areas"))
    con.execute("create table forecast.backtest_areas as select * from bt_areas")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="write a small made-up warehouse for trying the explorer")
    parser.add_argument("path")
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--no-forecast", action="store_true")
    parser.add_argument("--no-ml", action="store_true")
    args = parser.parse_args(argv)
    print(build_sample_warehouse(args.path, n_people=args.people, with_forecast=not args.no_forecast, with_ml=not args.no_ml))


if __name__ == "__main__":
    main()


def build_sample_home(home: Path | str, **kwargs) -> Path:
    """A made-up LLIF_HOME as the explorer meets one in production: the sample warehouse built
    and published (``warehouse.published``), which is the copy the explorer reads."""
    from contracts.settings import paths
    from warehouse.published import publish

    p = paths(Path(home))
    build_sample_warehouse(p.warehouse, **kwargs)
    if kwargs.get("with_forecast", True):
        _write_long_range(p.forecasts / "long_range" / "2026-11-01_10y")
    return publish(p.warehouse, p.published, forecasts=p.forecasts).path


def _write_long_range(out: Path) -> None:
    """A long-range outlook as `llif forecast long-range` writes one: the engine itself on a
    small made-up population (ten years, a few runs; seconds), by the command's own writer."""
    from simulation.long_range import run_long_range, write_long_range
    from simulation.testing import toy_inputs

    lr = run_long_range(toy_inputs(600, seed=4), years=10, replications=4, run_date="2026-11-01", processes=1)
    write_long_range(lr, out, 1.0)
