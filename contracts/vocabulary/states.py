"""Where a person is at a month's end, how much care they need, and the places that hold them.

Why here: the timeline (dbt marts), the lattice the models fill and the engine reads, the
explorer's words and the synthetic world all speak of the same eleven states; spelt out in nine
files they had begun to differ in which groups they meant (issue 13). The definitions are the
domain's (``docs/domain.md``, "States, needs and segments").

Order matters: ``STATES`` gives the states their integer codes (the lattice, the engine's
arrays and the world's columns use ``STATES.index``), live states first, the two absorbing
ones last. Changing the order changes every table over the lattice.
"""

from __future__ import annotations

from dataclasses import dataclass

# What kind of place a state is: a home the provider lets, the person's own home with care,
# a care home, a health setting (hospital, hospice), or gone from view.
HOUSING, COMMUNITY, CARE_HOME, HEALTH, EXIT = "housing", "community", "care_home", "health", "exit"


@dataclass(frozen=True)
class State:
    code: str
    kind: str
    label: str        # plain words for planners (the explorer and the report)


STATE_TABLE: tuple[State, ...] = (
    State("general_needs", HOUSING, "General-needs home"),
    State("sheltered", HOUSING, "Sheltered housing"),
    State("extra_care", HOUSING, "Extra-care housing"),
    State("temporary", HOUSING, "Temporary accommodation"),   # supported or emergency short-term
    State("community", COMMUNITY, "Own home, with home care"),  # known to care, in their own home
    State("residential_care", CARE_HOME, "Residential care home"),
    State("nursing_care", CARE_HOME, "Nursing care home"),
    State("hospital", HEALTH, "Hospital"),
    State("hospice", HEALTH, "Hospice"),
    State("moved_out", EXIT, "Moved away"),
    State("died", EXIT, "Died"),
)

STATES: tuple[str, ...] = tuple(s.code for s in STATE_TABLE)
STATE_KIND: dict[str, str] = {s.code: s.kind for s in STATE_TABLE}
STATE_LABELS: dict[str, str] = {s.code: s.label for s in STATE_TABLE}


def of_kind(*kinds: str) -> tuple[str, ...]:
    """The states of the given kinds, in ``STATES`` order."""
    return tuple(s.code for s in STATE_TABLE if s.kind in kinds)


ABSORBING: tuple[str, ...] = of_kind(EXIT)
LIVE_STATES: tuple[str, ...] = tuple(s for s in STATES if s not in ABSORBING)
HOUSING_STATES: tuple[str, ...] = of_kind(HOUSING)
CARE_HOME_STATES: tuple[str, ...] = of_kind(CARE_HOME)
HEALTH_STATES: tuple[str, ...] = of_kind(HEALTH)
# where home care is delivered (in hospital or a hospice a package is suspended)
HOME_STATES: tuple[str, ...] = of_kind(HOUSING, COMMUNITY)
# whose people hold a place (a home, a flat, a bed) in one of the provider's pools
PLACE_STATES: tuple[str, ...] = of_kind(HOUSING, CARE_HOME)

# The month-end state when a person's spells overlap in a month: a lower rank wins (a death
# outranks everything, a hospital stay outranks the home it interrupts, a care home outranks
# the tenancy it is ending, own home with care outranks only having moved away).
STATE_PRECEDENCE: tuple[str, ...] = (
    "died", "hospice", "hospital", "nursing_care", "residential_care", "extra_care",
    "sheltered", "temporary", "general_needs", "community", "moved_out",
)

# Care need level: hours of home care a week that the need calls for.
NEED_LEVELS: tuple[int, ...] = (0, 1, 2, 3)
NEED_LEVEL_LABELS: dict[int, str] = {
    0: "No known care need", 1: "Low (under 5 hours a week)", 2: "Medium (5-15 hours)", 3: "High (over 15 hours)",
}

# The asset system's unit types, and the state of the people living in each.
UNIT_TYPE_STATE: dict[str, str] = {
    "general_needs": "general_needs", "sheltered": "sheltered", "extra_care": "extra_care",
    "temporary": "temporary", "residential": "residential_care", "nursing": "nursing_care",
}
UNIT_TYPES: tuple[str, ...] = tuple(UNIT_TYPE_STATE)

SCHEME_TYPE_LABELS: dict[str, str] = {
    "general_needs": "General-needs estate",
    "sheltered": "Sheltered scheme",
    "extra_care": "Extra-care scheme",
    "temporary": "Temporary accommodation",
    "care_home": "Care home",
}
SCHEME_TYPES: tuple[str, ...] = tuple(SCHEME_TYPE_LABELS)


@dataclass(frozen=True)
class Place:
    """A capacity pool the forecast counts: its KPI name stem, its occupants' state, its words."""

    resource: str     # the stem of its KPIs: occupied_<resource>, capacity_<resource>, needed_<resource>
    state: str
    name: str         # plural, lower case: "extra-care flats"
    unit: str         # what one place is: "flats"


PLACES: tuple[Place, ...] = (
    Place("general_needs_units", "general_needs", "general-needs homes", "homes"),
    Place("sheltered_units", "sheltered", "sheltered flats", "flats"),
    Place("extra_care_flats", "extra_care", "extra-care flats", "flats"),
    Place("temporary_units", "temporary", "temporary accommodation", "units"),
    Place("residential_beds", "residential_care", "residential care-home beds", "beds"),
    Place("nursing_beds", "nursing_care", "nursing care-home beds", "beds"),
)
PLACE_OF_STATE: dict[str, Place] = {p.state: p for p in PLACES}
