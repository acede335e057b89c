"""The eight South Wales areas the provider works in, their weights and postcode districts."""

from __future__ import annotations

import numpy as np

from contracts.vocabulary.areas import AREA_NAMES, AREA_TABLE, TEAMS

# The areas and their home-care teams are the vocabulary's (contracts/vocabulary/areas.py); the
# world indexes areas in that order.
AREAS = AREA_NAMES
# Share of the provider's homes in each area (Cardiff largest).
AREA_WEIGHTS = np.array([0.30, 0.08, 0.14, 0.10, 0.14, 0.10, 0.06, 0.08])

POSTCODE_DISTRICTS = (
    ("CF3", "CF5", "CF11", "CF14", "CF23", "CF24"),
    ("CF62", "CF63", "CF64", "CF71"),
    ("CF37", "CF38", "CF39", "CF40", "CF44", "CF45"),
    ("CF31", "CF32", "CF33", "CF35"),
    ("NP10", "NP18", "NP19", "NP20"),
    ("CF81", "CF82", "CF83", "NP12"),
    ("CF47", "CF48"),
    ("SA10", "SA11", "SA12", "SA13"),
)

# each area's home-care team, as an index into TEAMS
AREA_TEAM = np.array([TEAMS.index(a.team) for a in AREA_TABLE])

_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXY"))


def postcodes(rng: np.random.Generator, areas: np.ndarray) -> np.ndarray:
    """A plausible postcode for each area code (district of the area, random sector and unit)."""
    areas = np.asarray(areas)
    out = np.empty(len(areas), dtype=object)
    sector = rng.integers(1, 10, len(areas))
    u1 = _LETTERS[rng.integers(0, len(_LETTERS), len(areas))]
    u2 = _LETTERS[rng.integers(0, len(_LETTERS), len(areas))]
    pick = rng.random(len(areas))
    for a, districts in enumerate(POSTCODE_DISTRICTS):
        idx = np.flatnonzero(areas == a)
        if len(idx) == 0:
            continue
        d = np.asarray(districts, dtype=object)[(pick[idx] * len(districts)).astype(int)]
        out[idx] = d + " " + sector[idx].astype(str) + u1[idx] + u2[idx]
    return out
