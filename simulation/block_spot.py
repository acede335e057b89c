"""Block or spot: what buying the forecast's care-home places each way would cost, per area.

The commissioner's question (issue 12): how many care-home beds to buy as a **block** contract
(paid every week whether used), and what the rest costs bought **spot** (a higher price, only
while used, only if the area's market has a free bed) or **out of area** (when it has none:
nearest area first, dearer again, and further from family). The assumptions and prices are in
``contracts/vocabulary/commissioning.py`` and ``contracts/vocabulary/costs.py``.

Why from the replications and not by running the forecast again: how a place is paid for does
not change who needs one, so each replication's places needed per area and month (people in
residential or nursing care there plus those waiting for such a bed: the breakdown,
``simulation/breakdowns.py``, counted person by person) are bought under every block size in
turn. Bands of a year and of the provider's total come from each replication's own figures.

Per area and month, with ``B`` block beds and ``K`` spare beds in the area's market:
block beds used ``min(D, B)``; spot needed ``S = max(D - B, 0)``, of which ``min(S, K)`` are
bought in the area; the rest take other areas' spare beds left after their own spot needs,
nearest first (areas in the vocabulary's order take their turn); any still unplaced go beyond
the eight areas, counted at the farthest of the distances (a lower bound). People whose area
the records do not give have no block and no market of their own: they are a line of their
own ("area not recorded"), bought spot. ``K`` and the block sizes are shares of the places each
area needs in the forecast's first month (the mean over replications).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.vocabulary.areas import AREA_CODES, km_between
from contracts.vocabulary.commissioning import BLOCK_SHARES, CARE_TYPES, OUT_OF_AREA_UPLIFT
from contracts.vocabulary.costs import default_costs
from simulation.inputs import days_in_months
from simulation.replications import ForecastResults

NOT_RECORDED = "area not recorded"
ALL_AREAS = "all"
# per (replication, year): places are the year's average number at a time, costs its total in £,
# km the average distance of an out-of-area placement (NaN in a year without one)
MEASURES: tuple[str, ...] = ("places_needed", "block_beds_used", "block_beds_unused",
                             "spot_placements", "out_of_area_placements", "out_of_area_km",
                             "cost_block", "cost_spot", "cost_out_of_area", "cost_total")


@dataclass(frozen=True)
class BlockSpotYears:
    """One scenario's figures: ``values[care_type][share]`` is (replications, areas, measures,
    years) and ``block_beds[care_type][share]`` (areas,) the beds bought, for ``areas[care_type]``
    (each area, "area not recorded" if anyone of that care type is, then "all")."""

    areas: dict[str, tuple[str, ...]]
    block_beds: dict[str, dict[float, np.ndarray]]
    values: dict[str, dict[float, np.ndarray]]


def places_needed(results: ForecastResults, scenario: str, care_type: str) -> tuple[list[str], np.ndarray]:
    """(area labels, (replications, areas, months)): people in ``care_type`` plus people waiting
    for it, per area of the run (unknown last, as the breakdown keeps it)."""
    lay = results.breakdown_layout
    if lay is None or scenario not in results.breakdown:
        raise ValueError("llif: block or spot needs the forecast's breakdown by area (run_forecast(breakdowns=True))")
    rows = {(s[0], s[3]): i for i, s in enumerate(lay.series) if s[1] is None and s[2] is None and s[0] is not None}
    arr = results.breakdown[scenario]
    labels = list(lay.area_labels)
    need = np.stack([arr[:, rows[(a, f"people_{care_type}")]].astype(float)
                     + arr[:, rows[(a, f"waiting_{care_type}")]].astype(float) for a in labels], axis=1)
    return labels, need


def _distances(areas: list[str]) -> np.ndarray:
    return np.array([[km_between(a, b) for b in areas] for a in areas])


def buy(need: np.ndarray, block: np.ndarray, spare: np.ndarray, km: np.ndarray) -> dict[str, np.ndarray]:
    """Per (replication, area, month): block beds used and unused, spot bought in the area, out
    of area, and the km of the out-of-area placements. ``need`` (R, A, M) for the areas with a
    market; ``block`` and ``spare`` (A,) beds; ``km`` (A, A) between the areas' centres."""
    used = np.minimum(need, block[None, :, None])
    spot_needed = need - used
    own = np.minimum(spot_needed, spare[None, :, None])
    left = spare[None, :, None] - own                      # each market's beds after its own spot
    unplaced = spot_needed - own
    out = np.zeros_like(need)
    out_km = np.zeros_like(need)
    farthest = km.max() if km.size else 0.0
    for a in range(need.shape[1]):
        for b in np.argsort(km[a], kind="stable"):
            if b == a:
                continue
            take = np.minimum(unplaced[:, a], left[:, b])
            left[:, b] -= take
            unplaced[:, a] -= take
            out[:, a] += take
            out_km[:, a] += take * km[a, b]
        out[:, a] += unplaced[:, a]                         # beyond the eight areas
        out_km[:, a] += unplaced[:, a] * farthest
    return {"used": used, "unused": block[None, :, None] - used, "spot": own, "out": out, "out_km": out_km}


def _yearly(month_values: dict[str, np.ndarray], years, weeks: np.ndarray, prices: tuple[float, float, float],
            block_beds: np.ndarray) -> np.ndarray:
    """(R, areas, measures, years) from a month's figures (R, areas, M)."""
    block_price, spot_price, out_price = prices
    cost_block = block_beds[None, :, None] * block_price * weeks
    cost_spot = month_values["spot"] * spot_price * weeks
    cost_out = month_values["out"] * out_price * weeks
    monthly = {"places_needed": month_values["need"],
               "block_beds_used": month_values["used"], "block_beds_unused": month_values["unused"],
               "spot_placements": month_values["spot"], "out_of_area_placements": month_values["out"],
               "cost_block": np.broadcast_to(cost_block, month_values["need"].shape),
               "cost_spot": cost_spot, "cost_out_of_area": cost_out}
    monthly["cost_total"] = monthly["cost_block"] + cost_spot + cost_out
    r, a = month_values["need"].shape[:2]
    out = np.empty((r, a, len(MEASURES), len(years)))
    for y, (_, lo, hi) in enumerate(years):
        for i, m in enumerate(MEASURES):
            if m == "out_of_area_km":
                placed = month_values["out"][:, :, lo:hi].sum(axis=2)
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[:, :, i, y] = np.where(placed > 0, month_values["out_km"][:, :, lo:hi].sum(axis=2) / placed,
                                               np.nan)
            elif m.startswith("cost_"):
                out[:, :, i, y] = monthly[m][:, :, lo:hi].sum(axis=2)
            else:
                out[:, :, i, y] = monthly[m][:, :, lo:hi].mean(axis=2)
    return out


def block_spot_years(results: ForecastResults, scenario: str, spare_share: float,
                     shares: tuple[float, ...] = BLOCK_SHARES) -> BlockSpotYears:
    """Every block size of ``shares`` for each care type, per area and for the provider (see the
    module's docstring); prices are the scenario's own (``results.costs``)."""
    costs = {**default_costs(), **results.costs[scenario]}   # inputs kept from before these prices existed
    weeks = days_in_months(results.month_dates) / 7.0
    years = results.years()
    values: dict[str, dict[float, np.ndarray]] = {}
    beds: dict[str, dict[float, np.ndarray]] = {}
    labels: dict[str, tuple[str, ...]] = {}
    for care_type, (block_key, spot_key) in CARE_TYPES.items():
        all_labels, need = places_needed(results, scenario, care_type)
        known = [i for i, a in enumerate(all_labels) if a in AREA_CODES]
        unknown = [i for i, a in enumerate(all_labels) if a not in AREA_CODES]
        areas = [all_labels[i] for i in known]
        start = need[:, known, 0].mean(axis=0)
        spare = np.round(spare_share * start)
        km = _distances(areas)
        spot_price = costs[spot_key]
        prices = (costs[block_key], spot_price, spot_price * (1 + costs[OUT_OF_AREA_UPLIFT]))
        not_recorded = need[:, unknown].sum(axis=1, keepdims=True)
        with_unknown = bool(unknown) and bool(np.any(not_recorded))
        labels[care_type] = (*areas, *([NOT_RECORDED] if with_unknown else []), ALL_AREAS)
        values[care_type], beds[care_type] = {}, {}
        for share in shares:
            block = np.round(share * start)
            bought = buy(need[:, known], block, spare, km)
            bought["need"] = need[:, known]
            parts = [_yearly(bought, years, weeks, prices, block)]
            if with_unknown:
                zero = np.zeros_like(not_recorded)
                spot_only = {"need": not_recorded, "used": zero, "unused": zero, "spot": not_recorded,
                             "out": zero, "out_km": zero}
                parts.append(_yearly(spot_only, years, weeks, prices, np.zeros(1)))
            per_area = np.concatenate(parts, axis=1)
            values[care_type][share] = np.concatenate([per_area, _provider(per_area)], axis=1)
            beds[care_type][share] = np.concatenate([block, [0.0] * with_unknown, [block.sum()]])
    return BlockSpotYears(labels, beds, values)


def _provider(per_area: np.ndarray) -> np.ndarray:
    """The provider's line: every measure summed over the areas within each replication, the
    distance the placements' average (weighted by how many were out of area)."""
    total = per_area.sum(axis=1, keepdims=True)
    i_out, i_km = MEASURES.index("out_of_area_placements"), MEASURES.index("out_of_area_km")
    n = per_area[:, :, i_out]
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = np.nansum(np.nan_to_num(per_area[:, :, i_km]) * n, axis=1) / n.sum(axis=1)
    total[:, 0, i_km] = np.where(n.sum(axis=1) > 0, weighted, np.nan)
    return total
