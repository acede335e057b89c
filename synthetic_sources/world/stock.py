"""The provider's stock: estates, sheltered and extra-care schemes, temporary projects, care homes.

Sizes follow docs/domain.md at scale 1.0; some schemes open during the history (extra care and
temporary accommodation grew), so capacity is a timeline, not a constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .geography import AREA_WEIGHTS, AREAS, postcodes

_NAMES = (
    "Heol y Nant", "Bryn Celyn", "Maes y Coed", "Cwrt Newydd", "Pen y Bryn", "Glan yr Afon",
    "Ty Gwyn", "Parc Derwen", "Llys Faen", "Cae Mawr", "Nant Gwyn", "Tir Celyn", "Bro Dawel",
    "Gerddi Hafod", "Clos yr Ysgol", "Ffordd Elli", "Llwyn Onn", "Dol Werdd", "Ael y Bryn",
    "Coed Glas", "Plas Newydd", "Tan y Graig", "Heol Fach", "Bryn Hyfryd", "Cwm Nedd",
)
_SUFFIX = {
    "general_needs": "Estate",
    "sheltered": "Court",
    "extra_care": "House",
    "temporary": "Project",
    "care_home": "Care Home",
}



@dataclass
class Stock:
    schemes: pd.DataFrame
    units: pd.DataFrame


def _counts(scale: float) -> dict:
    def n(x, minimum=1):
        return max(minimum, int(round(x * scale)))

    return {
        "gn_units": n(13500, 20),
        "gn_estates": n(90, 2),
        "sheltered_schemes": n(30),
        "sheltered_units": n(1500, 10),
        "extra_care_schemes": n(6),
        "extra_care_units": n(450, 6),
        "temporary_projects": n(20),
        "temporary_units": n(550, 6),
        "care_homes": max(2, int(round(8 * min(1.0, scale ** 0.5)))),
        "residential_beds": n(250, 4),
        "nursing_beds": n(150, 3),
    }


def _split(total: int, parts: int, rng) -> np.ndarray:
    """Split a total into parts of unequal, positive sizes."""
    w = rng.gamma(4.0, 1.0, parts)
    sizes = np.maximum(1, np.floor(total * w / w.sum()).astype(int))
    sizes[np.argmax(sizes)] += total - sizes.sum()
    return sizes


def build_stock(scale: float, rng: np.random.Generator) -> Stock:
    c = _counts(scale)
    rows = []

    def add(scheme_type, n_schemes, total_units, opened, res=None, nur=None):
        sizes = _split(total_units, n_schemes, rng)
        areas = rng.choice(len(AREAS), n_schemes, p=AREA_WEIGHTS)
        areas[: min(n_schemes, len(AREAS))] = rng.permutation(len(AREAS))[: min(n_schemes, len(AREAS))]
        for i in range(n_schemes):
            rows.append(
                {
                    "scheme_type": scheme_type,
                    "area_code": int(areas[i]),
                    "capacity": int(sizes[i]),
                    "opened": opened[i],
                    "residential_beds": int(res[i]) if res is not None else 0,
                    "nursing_beds": int(nur[i]) if nur is not None else 0,
                }
            )

    old = [pd.Timestamp("1970-01-01") + pd.Timedelta(days=int(d)) for d in rng.integers(0, 9000, 400)]
    add("general_needs", c["gn_estates"], c["gn_units"], old)
    add("sheltered", c["sheltered_schemes"], c["sheltered_units"], old)
    # Extra care grew: one scheme before 1998, the rest opened since.
    xc_open = [pd.Timestamp("1996-04-01")] + [
        pd.Timestamp(f"{y}-04-01") for y in np.linspace(2005, 2022, max(1, c["extra_care_schemes"] - 1)).astype(int)
    ]
    add("extra_care", c["extra_care_schemes"], c["extra_care_units"], xc_open[: c["extra_care_schemes"]])
    # Temporary accommodation grew with homelessness: about 60% of projects before 2010.
    n_tmp = c["temporary_projects"]
    n_early = max(1, int(round(0.6 * n_tmp)))
    tmp_open = [pd.Timestamp("1995-01-01")] * n_early + [
        pd.Timestamp(f"{y}-10-01") for y in np.linspace(2010, 2023, max(1, n_tmp - n_early)).astype(int)
    ]
    add("temporary", n_tmp, c["temporary_units"], tmp_open[:n_tmp])
    homes = c["care_homes"]
    res = _split(c["residential_beds"], homes, rng)
    nur = _split(c["nursing_beds"], homes, rng)
    add("care_home", homes, int(res.sum() + nur.sum()), old, res=res, nur=nur)

    schemes = pd.DataFrame(rows)
    schemes.insert(0, "scheme_id", np.arange(1, len(schemes) + 1, dtype=np.int64))
    schemes.loc[schemes.scheme_type == "care_home", "capacity"] = (
        schemes.residential_beds + schemes.nursing_beds
    )
    schemes["area"] = np.asarray(AREAS, dtype=object)[schemes.area_code]
    schemes["postcode"] = postcodes(rng, schemes.area_code.to_numpy())
    name_idx = rng.permutation(len(schemes)) % len(_NAMES)
    names = pd.Series([f"{_NAMES[i]} {_SUFFIX[t]}" for i, t in zip(name_idx, schemes.scheme_type)])
    # Repeated names get their area, then a number, as real landlords disambiguate them.
    dup = names.duplicated(keep=False)
    names[dup] = names[dup] + ", " + schemes.loc[dup, "area"]
    dup = names.duplicated(keep=False)
    names[dup] = names[dup] + " " + (names[dup].groupby(names[dup]).cumcount() + 1).astype(str)
    schemes["name"] = names.to_numpy()
    schemes["closed"] = pd.NaT
    is_home = schemes.scheme_type == "care_home"
    # Vendor A runs five of eight homes, vendor B the rest.
    n_a = max(1, int(round(is_home.sum() * 5 / 8)))
    vendor = np.where(np.arange(is_home.sum()) < n_a, "A", "B")
    schemes["vendor"] = ""
    schemes.loc[is_home, "vendor"] = vendor
    schemes["opened"] = pd.to_datetime(schemes["opened"])

    units = _units(schemes, rng)
    cols = ["scheme_id", "scheme_type", "name", "area", "area_code", "postcode", "opened", "closed",
            "vendor", "capacity", "residential_beds", "nursing_beds"]
    return Stock(schemes=schemes[cols], units=units)


def _units(schemes: pd.DataFrame, rng) -> pd.DataFrame:
    parts = []
    for s in schemes.itertuples():
        if s.scheme_type == "care_home":
            types = ["residential"] * s.residential_beds + ["nursing"] * s.nursing_beds
        else:
            types = [s.scheme_type] * s.capacity
        n = len(types)
        if s.scheme_type == "general_needs":
            bedrooms = rng.choice([1, 2, 3, 4], n, p=[0.28, 0.38, 0.30, 0.04])
            accessible = rng.random(n) < 0.08
        elif s.scheme_type in ("sheltered", "extra_care"):
            bedrooms = rng.choice([1, 2], n, p=[0.8, 0.2])
            accessible = rng.random(n) < 0.85
        elif s.scheme_type == "temporary":
            bedrooms = rng.choice([0, 1, 2], n, p=[0.4, 0.45, 0.15])
            accessible = rng.random(n) < 0.1
        else:
            bedrooms = np.zeros(n, dtype=int)
            accessible = np.ones(n, dtype=bool)
        parts.append(
            pd.DataFrame(
                {
                    "scheme_id": s.scheme_id,
                    "unit_type": types,
                    "bedrooms": bedrooms.astype(np.int64),
                    "is_accessible": accessible.astype(np.int64),
                    "postcode": s.postcode if s.scheme_type != "general_needs" else None,
                    "available_from": s.opened,
                    "area_code": s.area_code,
                }
            )
        )
    units = pd.concat(parts, ignore_index=True)
    gn = units.postcode.isna()
    units.loc[gn, "postcode"] = postcodes(rng, units.loc[gn, "area_code"].to_numpy())
    units.insert(0, "unit_id", np.arange(1, len(units) + 1, dtype=np.int64))
    return units
