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


AREA_TABLE: tuple[Area, ...] = (
    Area("CDF", "Cardiff", "east"),
    Area("VOG", "Vale of Glamorgan", "east"),
    Area("RCT", "Rhondda Cynon Taf", "central"),
    Area("BGD", "Bridgend", "central"),
    Area("NWP", "Newport", "east"),
    Area("CPH", "Caerphilly", "east"),
    Area("MTD", "Merthyr Tydfil", "central"),
    Area("NPT", "Neath Port Talbot", "west"),
)

AREA_CODES: tuple[str, ...] = tuple(a.code for a in AREA_TABLE)
AREA_NAMES: tuple[str, ...] = tuple(a.name for a in AREA_TABLE)
AREA_NAME: dict[str, str] = {a.code: a.name for a in AREA_TABLE}
AREA_CODE: dict[str, str] = {a.name: a.code for a in AREA_TABLE}
AREA_TEAM: dict[str, str] = {a.code: a.team for a in AREA_TABLE}
