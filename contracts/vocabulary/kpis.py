"""The forecast's KPI catalogue: every figure the engine writes, with its label, unit and aggregation.

Why one catalogue: the engine's KPI list (``simulation/forecast_model.py``), the flows its yearly totals
sum (``simulation/outputs.py``), the planning marts' labels (``dbt_project/macros/planning.sql``)
and the explorer's titles (``explorer/words.py``) were four lists that had begun to disagree
(the explorer called ``people_total`` "People in"; the marts and the explorer named the same KPI
differently). Each KPI is one row here. ``simulation.forecast_model.KPIS`` is the catalogue's engine
rows in order (the order indexes the engine's arrays: appending is safe, reordering changes no
figure but every array's layout), and the dbt macros are generated from it
(``contracts.vocabulary.dbt``).

Aggregation says how a KPI's months make a longer period:

* ``sum``: a flow, counted over the month (admissions, bed days, hours, lets, cost); a year is
  the sum of its months (``forecast.kpi_annual``);
* ``end_of_period``: a stock at the month's end (people, places, waiting lists); a period's
  value is its last month's;
* ``mean``: an average or a share (mean wait, churn); a period's value is the mean of its months.

Labels are plain words starting in lower case ("cost to the NHS"), as they read inside a
sentence or a table; a title capitalises the first letter.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.vocabulary.states import LIVE_STATES, NEED_LEVELS, PLACE_STATES, PLACES

SUM, END_OF_PERIOD, MEAN = "sum", "end_of_period", "mean"
AGGREGATIONS = (SUM, END_OF_PERIOD, MEAN)
ENGINE, NEEDED = "engine", "needed"


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    unit: str            # what one of it is: people, admissions, bed days, hours, GBP, months, ...
    aggregation: str     # sum, end_of_period or mean (see the module docstring)
    description: str
    source: str = ENGINE    # engine: written by every replication; needed: the unconstrained run's
    key: bool = False       # one of the planning marts' key KPIs (compared between scenarios)


# where the people of each live state are, as "people in ..." reads
_IN = {
    "general_needs": "general-needs homes", "sheltered": "sheltered housing", "extra_care": "extra care",
    "temporary": "temporary accommodation", "community": "their own homes with home care",
    "residential_care": "residential care homes", "nursing_care": "nursing care homes",
    "hospital": "hospital", "hospice": "a hospice",
}
# each pool's waiting list, as "... waiting list" reads
_LIST = {
    "general_needs": "general-needs", "sheltered": "sheltered", "extra_care": "extra-care",
    "temporary": "temporary accommodation", "residential_care": "residential care-home",
    "nursing_care": "nursing care-home",
}
# the pools whose people wait, and whose key KPIs the planning marts compare
_KEY_PEOPLE = ("extra_care", "residential_care", "nursing_care")


def _catalogue() -> tuple[Kpi, ...]:
    k: list[Kpi] = []
    add = k.append
    for s in LIVE_STATES:
        add(Kpi(f"people_{s}", f"people in {_IN[s]}", "people", END_OF_PERIOD,
                f"People whose state at the month's end is {s}.", key=s in _KEY_PEOPLE))
    add(Kpi("people_total", "people known to us", "people", END_OF_PERIOD,
            "Everyone alive and known to the provider at the month's end, in any live state."))
    for n in NEED_LEVELS:
        add(Kpi(f"people_need_{n}", f"people with care need level {n}", "people", END_OF_PERIOD,
                f"People alive and known at the month's end whose care need level is {n}."))
    add(Kpi("arrivals", "new people arriving", "people", SUM,
            "People who become known in the month: new tenants, referrals, care-home admissions from outside."))
    add(Kpi("deaths", "deaths", "deaths", SUM, "People who die in the month, wherever they are."))
    add(Kpi("moved_out", "people moving away", "people", SUM,
            "People who leave the provider's view in the month, alive."))
    for s in PLACE_STATES:
        add(Kpi(f"admissions_{s}", f"admissions to {_IN[s]}", "admissions", SUM,
                f"People who move into a place in {s} in the month."))
    add(Kpi("care_home_admissions", "care-home admissions", "admissions", SUM,
            "Moves into a residential or nursing care home in the month.", key=True))
    add(Kpi("care_home_admissions_from_hospital", "care-home admissions straight from hospital", "admissions", SUM,
            "Care-home admissions in the month of people who were in hospital the month before."))
    add(Kpi("hospital_admissions", "emergency hospital admissions", "admissions", SUM,
            "Emergency admissions in the month, including stays that begin and end inside it.", key=True))
    add(Kpi("hospice_admissions", "hospice admissions", "admissions", SUM,
            "Admissions to a hospice in the month, including stays that begin and end inside it."))
    add(Kpi("hospital_bed_days", "hospital bed days", "bed days", SUM,
            "Days spent in hospital in the month.", key=True))
    add(Kpi("delayed_discharges", "people delayed in hospital", "people", END_OF_PERIOD,
            "People in hospital at the month's end who are waiting for a place to leave to.", key=True))
    add(Kpi("delayed_bed_days", "delayed-discharge bed days", "bed days", SUM,
            "Hospital days in the month beyond the 21st of a stay (docs/decisions.md 27).", key=True))
    add(Kpi("hospice_bed_days", "hospice bed days", "bed days", SUM, "Days spent in a hospice in the month."))
    for p in PLACES:
        add(Kpi(f"occupied_{p.resource}", f"{p.name} in use", p.unit, END_OF_PERIOD,
                f"Places of the {p.resource} pool occupied at the month's end."))
    for p in PLACES:
        add(Kpi(f"capacity_{p.resource}", f"{p.name} available", p.unit, END_OF_PERIOD,
                f"Places of the {p.resource} pool in service at the month's end."))
    for s in PLACE_STATES:
        add(Kpi(f"waiting_{s}", f"{_LIST[s]} waiting list", "people", END_OF_PERIOD,
                f"People waiting at the month's end for a place in {s}.", key=True))
    for s in PLACE_STATES:
        add(Kpi(f"mean_wait_months_{s}", f"average wait for {_IN[s]}", "months", MEAN,
                f"The mean time, in months, that the people waiting for {s} at the month's end have waited."))
    add(Kpi("home_care_people", "people receiving home care", "people", END_OF_PERIOD,
            "People with a home-care package at the month's end."))
    add(Kpi("home_care_hours", "home-care hours delivered", "hours", SUM,
            "Hours of home care delivered in the month.", key=True))
    add(Kpi("home_care_hours_unmet", "home-care hours needed but not delivered", "hours", SUM,
            "Hours of home care needed in the month beyond what the teams could deliver."))
    add(Kpi("home_care_waiting", "people waiting for home care", "people", END_OF_PERIOD,
            "People needing home care at the month's end whom no team has capacity to take.", key=True))
    add(Kpi("lets", "homes let", "lets", SUM, "New tenancies of the provider's homes in the month.", key=True))
    add(Kpi("voids", "empty homes", "homes", END_OF_PERIOD, "The provider's homes standing empty at the month's end."))
    add(Kpi("tenancy_ends", "tenancies ending", "tenancies", SUM, "Tenancies that end in the month."))
    add(Kpi("churn_rate", "share of homes changing hands", "share of homes", MEAN,
            "Tenancies ending in the month as a share of the homes occupied."))
    for name, label, payer in (("cost_nhs", "cost to the NHS", "the NHS"),
                               ("cost_local_authority", "cost to the local authority", "the local authority"),
                               ("cost_provider", "cost to the provider (empty homes)", "the provider (lost rent on empty homes)"),
                               ("cost_charity", "cost to hospice charities", "charities (their share of hospice days)")):
        add(Kpi(name, label, "GBP", SUM, f"What the month's activity costs {payer}, at the unit costs.", key=True))
    add(Kpi("cost_total", "total cost", "GBP", SUM, "What the month's activity costs all payers, at the unit costs.",
            key=True))
    for p in PLACES:
        add(Kpi(f"needed_{p.resource}", f"{p.name} people would need", p.unit, END_OF_PERIOD,
                f"Places of the {p.resource} pool in use at the month's end when no pool is full "
                "(the unconstrained run): the need, not the supply.", source=NEEDED))
    add(Kpi("needed_home_care_hours", "home-care hours people would need", "hours", SUM,
            "Home-care hours delivered in the month when no team is full (the unconstrained run).", source=NEEDED))
    return tuple(k)


KPI_CATALOGUE: tuple[Kpi, ...] = _catalogue()
KPI: dict[str, Kpi] = {k.name: k for k in KPI_CATALOGUE}
ENGINE_KPIS: tuple[str, ...] = tuple(k.name for k in KPI_CATALOGUE if k.source == ENGINE)
NEEDED_KPIS: tuple[str, ...] = tuple(k.name for k in KPI_CATALOGUE if k.source == NEEDED)
FLOW_KPIS: tuple[str, ...] = tuple(k.name for k in KPI_CATALOGUE if k.aggregation == SUM)
# the planning marts' key KPIs: flows first (their yearly totals are the annual outlook), then stocks
KEY_KPIS: tuple[Kpi, ...] = (tuple(k for k in KPI_CATALOGUE if k.key and k.aggregation == SUM)
                             + tuple(k for k in KPI_CATALOGUE if k.key and k.aggregation != SUM))


@dataclass(frozen=True)
class Resource:
    """A line of the capacity outlook: the KPIs that hold its occupancy, capacity, need and queue."""

    resource: str
    name: str
    unit: str
    occupied_kpi: str
    capacity_kpi: str | None
    needed_kpi: str
    waiting_kpi: str


# Home care has hours, not places: delivered hours stand for occupancy and there is no capacity.
PLANNING_RESOURCES: tuple[Resource, ...] = (
    *(Resource(p.resource, p.name, p.unit, f"occupied_{p.resource}", f"capacity_{p.resource}",
               f"needed_{p.resource}", f"waiting_{p.state}") for p in PLACES),
    Resource("home_care_hours", "home-care hours", "hours a month", "home_care_hours", None,
             "needed_home_care_hours", "home_care_waiting"),
)
