"""The eight local authorities the provider works in, their codes, and the home-care teams.

Why here: the asset system's three-letter codes, the CRM's upper-case names, the planners' own
spelling and the team that covers each area were written in five modules and a dbt macro.
One row per area holds all of them; ``contracts.vocabulary.dbt`` generates the dbt macro's list.
The order is the world's (``synthetic_sources/world/geography.py`` indexes areas by it).
"""

from __future__ import annotations

from dataclasses import dataclass

# The provider's three home-care teams (domain: "3 area teams"), east to west.
TEAMS: tuple[str, ...] = ("east", "central", "west")


@dataclass(frozen=True)
class Area:
    code: str      # the asset system's code, and the warehouse's
    name: str      # as planners write it; the CRM holds it in upper case
    team: str      # the home-care team that covers it
    lat: float     # the authority's rough centre (to about 5 km): how far an out-of-area
    lon: float     # placement takes someone is measured centre to centre


AREA_TABLE: tuple[Area, ...] = (
    Area("CDF", "Cardiff", "east", 51.50, -3.20),
    Area("VOG", "Vale of Glamorgan", "east", 51.43, -3.40),
    Area("RCT", "Rhondda Cynon Taf", "central", 51.62, -3.40),
    Area("BGD", "Bridgend", "central", 51.55, -3.60),
    Area("NWP", "Newport", "east", 51.58, -2.98),
    Area("CPH", "Caerphilly", "east", 51.63, -3.20),
    Area("MTD", "Merthyr Tydfil", "central", 51.75, -3.37),
    Area("NPT", "Neath Port Talbot", "west", 51.66, -3.75),
)

AREA_CODES: tuple[str, ...] = tuple(a.code for a in AREA_TABLE)
AREA_NAMES: tuple[str, ...] = tuple(a.name for a in AREA_TABLE)
AREA_NAME: dict[str, str] = {a.code: a.name for a in AREA_TABLE}
AREA_CODE: dict[str, str] = {a.name: a.code for a in AREA_TABLE}
AREA_TEAM: dict[str, str] = {a.code: a.team for a in AREA_TABLE}


def km_between(a: str, b: str) -> float:
    """Great-circle km between two areas' centres (0 for the same area)."""
    import math

    p, q = next(x for x in AREA_TABLE if x.code == a), next(x for x in AREA_TABLE if x.code == b)
    la1, la2, dlon = math.radians(p.lat), math.radians(q.lat), math.radians(q.lon - p.lon)
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))
