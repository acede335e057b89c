"""Plain-language summaries computed from loaded frames, shared by the Overview page and the report.

Why separate from the pages: the nightly report prints the same sentences without Streamlit,
and these are the parts worth unit-testing (a wrong sentence is worse than a wrong chart).
"""

from __future__ import annotations

import math

import pandas as pd

from explorer import words

TOPIC_TITLES = {
    "bottleneck": "Where places are likely to run out",
    "waiting": "Waiting lists",
    "delay": "Delays leaving hospital",
    "cost": "Cost",
    "difference": "Scenarios against things as they are",
}
TOPIC_ORDER = ("bottleneck", "waiting", "delay", "cost", "difference")


def topic_of(topic: str) -> str:
    t = str(topic).lower()
    for key, aliases in (("bottleneck", ("bottleneck", "capacity", "full", "utilisation")),
                         ("waiting", ("wait", "queue", "register")),
                         ("delay", ("delay", "discharge", "hospital")),
                         ("cost", ("cost", "money", "spend")),
                         ("difference", ("difference", "scenario"))):
        if any(a in t for a in aliases):
            return key
    return "other"


def headline_groups(statements: pd.DataFrame, scenario: str = "baseline") -> list[tuple[str, list[tuple[str | None, str]]]]:
    """[(group title, [(chance words or None, statement)])], most likely first within each group.

    The chance is given in words only when the sentence does not already carry it (the
    engine's sentences say "likely (80%)"). Other scenarios' sentences are kept only where
    they compare the scenario with the baseline.
    """
    if statements is None or not len(statements):
        return []
    df = statements.copy()
    if "scenario" in df.columns:
        df = df[(df["scenario"] == scenario) | (df["topic"] == "difference")]
    df["group"] = df["topic"].map(topic_of)
    df = df.sort_values("probability", ascending=False, na_position="last")
    out = []
    for key in (*TOPIC_ORDER, "other"):
        part = df[df["group"] == key]
        if len(part):
            out.append((TOPIC_TITLES.get(key, "Other findings"),
                        [(None if "%" in str(s) else words.chance(p), str(s))
                         for p, s in zip(part["probability"], part["statement"])]))
    return out


def cost_by_financial_year(cost: pd.DataFrame) -> pd.DataFrame:
    """Forecast cost per financial year (April to March), whole years only, from monthly figures."""
    if cost is None or not len(cost):
        return pd.DataFrame(columns=["financial_year", "middle_estimate", "months"])
    df = cost.copy()
    df["month"] = pd.to_datetime(df["month"])
    start = df["month"].dt.year - (df["month"].dt.month < 4)
    df["financial_year"] = start.astype(str) + "-" + ((start + 1) % 100).astype(str).str.zfill(2)
    # the average of a year's total is the sum of the monthly averages; its likely range is not the
    # sum of the monthly ranges (that needs each run's total), so none is given here
    return df.groupby("financial_year").agg(middle_estimate=("mean", "sum"), months=("month", "nunique")).reset_index()


def cost_sentence(cost: pd.DataFrame) -> str | None:
    """This financial year against next, in words, from the forecast's monthly means.

    The summaries hold no per-run totals, so the chance that next year costs more cannot be
    computed here; the engine's own statement (topic cost) carries it when present.
    """
    fy = cost_by_financial_year(cost)
    if len(fy) < 2:
        return None
    this, nxt = fy.iloc[0], fy.iloc[1]
    if nxt["months"] < 12:
        return None
    part = "" if this["months"] >= 12 else f" (the {int(this['months'])} months of {this['financial_year']} still to come)"
    diff = nxt["middle_estimate"] - (this["middle_estimate"] * 12 / this["months"])
    direction = "more" if diff > 0 else "less"
    return (f"Care and support in {nxt['financial_year']} is forecast to cost about {words.money(nxt['middle_estimate'])}, "
            f"{words.money(abs(diff))} {direction} than {this['financial_year']} at the same monthly rate{part}.")


def facts(ov: dict) -> list[str]:
    """Where things stand, from the marts (true whether or not a forecast exists)."""
    out = []
    occ = ov.get("occupancy")
    if occ is not None and len(occ):
        for _, r in occ.iterrows():
            if r["capacity"]:
                plural = {"general_needs": "General-needs estates", "sheltered": "Sheltered schemes",
                          "extra_care": "Extra-care schemes", "temporary": "Temporary accommodation",
                          "care_home": "Care homes"}.get(r["scheme_type"], words.scheme_type(r["scheme_type"]))
                out.append(f"{plural}: {r['occupancy_rate']:.0%} of "
                           f"{int(r['capacity']):,} places in use.")
    d = ov.get("delays")
    if d is not None and len(d):
        last = d.iloc[0]
        out.append(f"Known hospital stays ending in {words.month(last['month_start'])} that lasted over three weeks "
                   f"(the closest measure we have of delayed discharges): {int(last['n_long_stays'] or 0)}. "
                   f"People we know of in hospital at the month's end: {int(last['n_in_hospital_end'] or 0)}.")
        out.append(f"Applications waiting for extra-care housing: {int(last['n_extra_care_waiting_end'] or 0)}.")
    return out


def demand_series(history: pd.DataFrame, stock: pd.DataFrame, summary: pd.DataFrame, service: str,
                  area: str | None = None, groups: pd.DataFrame | None = None,
                  people: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The pieces of a demand chart for one service (and area): what happened, the forecast,
    what would be needed with unlimited places, and the places available.

    ``groups`` (``data.forecast_groups``: one area's or segment's forecast, counted person by
    person) replaces the provider's forecast when a planner chooses an area or a segment; it
    counts people, so the history is then people (``people``: by state and month in the area).

    Services with places (flats, beds) are forecast as places in use; services without
    (home care, hospital) as people. ``summary`` holds the baseline and, when the engine ran
    it, the unconstrained scenario.
    """
    place_services = set(history["service"])
    measure = "occupied" if service in place_services or summary.loc[summary["measure"] == "occupied", "service"].eq(service).any() else "people"
    by_group = groups is not None and len(groups) > 0
    if by_group:
        # an area's or a segment's forecast counts people (kpi_breakdown), so its history does too
        measure, summary = "people", groups
        h = people[people["state"] == service].rename(columns={"people": "value"}) if people is not None \
            else pd.DataFrame(columns=["month", "value"])
        h = h.groupby("month", as_index=False)["value"].sum()
        cap_hist = pd.DataFrame(columns=["month", "value"])
    elif measure == "people":
        h = stock[stock["state"] == service].rename(columns={"people": "value"})
        h = h.groupby("month", as_index=False)["value"].sum()
        cap_hist = pd.DataFrame(columns=["month", "value"])
    else:
        h = history[history["service"] == service]
        if area:
            h = h[h["area_code"] == area]
        g = h.groupby("month", as_index=False)[["occupied", "capacity"]].sum(min_count=1)
        h = g.rename(columns={"occupied": "value"})[["month", "value"]]
        cap_hist = g.rename(columns={"capacity": "value"})[["month", "value"]]

    def pick(m: str, scenario: str) -> pd.DataFrame:
        s = summary[(summary["scenario"] == scenario) & (summary["measure"] == m) & (summary["service"] == service)]
        if by_group:
            return s
        return s[s["area"] == area] if area else s[s["area"].isna()]

    forecast = pick(measure, "baseline")
    needed = pick("needed", "baseline")
    if not len(needed):
        needed = pick(measure, "unconstrained")
    cap = pick("capacity", "baseline")
    available = pd.concat([cap_hist, cap[["month", "median"]].rename(columns={"median": "value"})], ignore_index=True)
    return {"history": h, "forecast": forecast, "needed": needed,
            "available": available[available["value"].notna()], "waiting": pick("waiting", "baseline")}


def _round_down(x: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above x (a number people say)."""
    if x <= 0:
        return 0.0
    p = 10 ** math.floor(math.log10(x))
    return float(next(m * p for m in (5, 2, 1, 0.5) if m * p <= x))


def group_sentences(groups: pd.DataFrame, where: str) -> list[str]:
    """Sentences for one area's or group's queues from its own forecast (``data.forecast_groups``):
    "Cardiff's extra-care waiting list is very likely (90%) to exceed 20 by March 2028".

    Why 90%: the breakdown keeps each month's 10th percentile (``lo80``), so "above T in at least
    90 of 100 runs" is what it can say; the threshold is a round number at most the 10th
    percentile at the horizon, the month the first in which the 10th percentile is above it."""
    out = []
    base = groups[groups["scenario"] == "baseline"] if "scenario" in groups.columns else groups
    for kpi in ("waiting_extra_care", "waiting_sheltered", "waiting_general_needs", "waiting_temporary",
                "waiting_residential_care", "waiting_nursing_care", "delayed_discharges", "home_care_waiting"):
        s = base[base["kpi"] == kpi].sort_values("month")
        if not len(s) or s["lo80"].isna().all():
            continue
        threshold = _round_down(float(s["lo80"].iloc[-1]))
        if threshold < 1:
            continue
        first = s[s["lo80"] > threshold]
        if not len(first):
            continue
        title = words.kpi(kpi)[0].lower() if words.kpi(kpi) else kpi.replace("_", " ")
        title = title if title.endswith("list") else f"number of {title}"
        out.append(f"{where}'s {title} is very likely (90%) to exceed {threshold:g} by "
                   f"{words.month(first['month'].iloc[0])}.")
    return out


BLOCK_CARE_TYPES = {"residential_care": "residential care-home beds", "nursing_care": "nursing care-home beds"}


def block_spot_sentences(rows: pd.DataFrame, care_type: str, where: str) -> list[str]:
    """What the block sizes compared come to, for one scenario, care type, area and year of
    ``forecast.block_spot`` (bands renamed as the explorer reads them): the places needed,
    which size costs least on average, and how many people buying everything spot would place
    outside their own area, and how far. Empty without rows."""
    total = rows[rows["measure"] == "cost_total"].sort_values("block_beds")
    if not len(total):
        return []
    m = rows.pivot_table(index="block_beds", columns="measure", values="mean", aggfunc="first")
    best, none = total.loc[total["mean"].idxmin()], total.iloc[0]
    year = int(total["year"].iloc[0])
    kind = BLOCK_CARE_TYPES.get(care_type, care_type)
    out = [f"In year {year} about {m['places_needed'].iloc[0]:,.0f} {kind} are needed at a time {where}. Of the block "
           f"sizes compared, {best['block_beds']:,.0f} beds costs least on average: {words.money(best['mean'])} in the "
           f"year (80 in 100 runs between {words.money(best['lo80'])} and {words.money(best['hi80'])})."]
    away = float(m.loc[none["block_beds"], "out_of_area_placements"])
    if none["block_beds"] == 0 and away >= 0.5:
        km = m.loc[none["block_beds"], "out_of_area_km"]
        far = f", on average {km:,.0f} km away" if pd.notna(km) else ""
        out.append(f"Buying everything spot, about {away:,.0f} people at a time would be placed outside their own "
                   f"area{far}, for {words.money(none['mean'])} in the year.")
    return out
