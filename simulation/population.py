"""Population projections: how many people of each area and age band there will be, by year.

Why: over 20 years the biggest change in demand is who there is, not how they behave (Wales's
85+ population is projected to grow far faster than any other band), and the people who come
to the provider from outside - care-home admissions of non-tenants, home-care referrals,
applicants for sheltered and extra care - are drawn from that population. The long-range
forecast therefore scales each arrival with the projected population of its own area and age
band relative to the census (``PopulationProjection.factors``; ``simulation.forecast_model``
applies them per arrival template), so a growing 85+ band in one area grows that area's
arrivals of that age only, never the provider's as a whole.

The file (format in ``contracts/reference/population/README.md``): one row per area code x
age band x year, ``area_code,age_band,year,population``, the population a number of people or
an index (only ratios to the census year are used). A provider points
``LLIF_POPULATION_PROJECTION`` at its own (the Welsh Government's local-authority
projections, summed to these bands). Errors name the file, the line and the field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contracts.vocabulary.areas import AREA_CODES
from simulation.lattice import AGE_BANDS, AGE_EDGES

# The projection's bands: the lattice's edges, with its two top bands as one (85+), because
# published projections stop at 90+ and the brief's growth is stated for 85+. One place for the
# edges: the lattice's.
PROJECTION_EDGES: tuple[int, ...] = tuple(e for e in AGE_EDGES if e <= 85)
PROJECTION_BANDS: tuple[str, ...] = tuple(
    f"{lo}-{hi - 1}" for lo, hi in zip(PROJECTION_EDGES[:-1], PROJECTION_EDGES[1:])) + (f"{PROJECTION_EDGES[-1]}+",)
assert PROJECTION_BANDS[:6] == AGE_BANDS[:6]   # noqa: S101 - the bands below 85 are the lattice's own
COLUMNS = ("area_code", "age_band", "year", "population")


class ProjectionError(ValueError):
    """A population projection file is invalid; the message names the file, line and field."""


@dataclass(frozen=True)
class PopulationProjection:
    """``values[a, b, y]``: the population of ``areas[a]``, band ``PROJECTION_BANDS[b]`` in
    ``years[y]`` (mid-year). ``source`` is the file it came from (for errors and provenance)."""

    areas: tuple[str, ...]
    years: np.ndarray
    values: np.ndarray
    source: str = "<inline>"

    def level(self, when: np.ndarray) -> np.ndarray:
        """Population (areas, bands, len(when)) at fractional years ``when``, linear between the
        mid-year points and flat beyond the first and last (at most half a year: ``check_covers``)."""
        pts = self.years.astype(float) + 0.5
        flat = self.values.reshape(-1, len(pts))
        out = np.stack([np.interp(when, pts, row) for row in flat])
        return out.reshape(self.values.shape[0], self.values.shape[1], len(when))

    def check_covers(self, first_year: int, last_year: int) -> None:
        missing = [y for y in (first_year, last_year) if y < self.years[0] or y > self.years[-1]]
        if missing:
            raise ProjectionError(f"{self.source}: year: the forecast needs {first_year}..{last_year}, "
                                  f"the file covers {int(self.years[0])}..{int(self.years[-1])}")

    def factors(self, areas: tuple[str, ...], reference_month, month_dates, strength: float = 1.0) -> np.ndarray:
        """(months, len(areas) + 1, bands + 1): each month's population of an area and band over
        the census month's, as ``1 + strength * (ratio - 1)`` (strength 0: no demographic change,
        1: the projection's). The extra area is "area unknown" (the provider's areas together),
        the extra band "age unknown" (all bands of the area together)."""
        missing = [a for a in areas if a not in self.areas]
        if missing:
            raise ProjectionError(f"{self.source}: area_code: no rows for {', '.join(missing)} "
                                  f"(the forecast's areas are {', '.join(areas)})")
        dates = np.asarray(month_dates).astype("datetime64[M]")
        ref = np.datetime64(reference_month, "M")
        when = np.r_[_fractional_year(np.array([ref])), _fractional_year(dates)]
        self.check_covers(int(np.floor(when.min())), int(np.floor(when.max())))
        lev = self.level(when)[[self.areas.index(a) for a in areas]]        # (areas, bands, 1 + months)
        lev = np.concatenate([lev, lev.sum(axis=0, keepdims=True)], axis=0)  # + area unknown
        lev = np.concatenate([lev, lev.sum(axis=1, keepdims=True)], axis=1)  # + age unknown
        ratio = lev[:, :, 1:] / lev[:, :, :1]
        # a strong knob on a shrinking band must not make a population negative
        return np.moveaxis(np.maximum(1.0 + float(strength) * (ratio - 1.0), 1e-6), 2, 0)


def _fractional_year(months: np.ndarray) -> np.ndarray:
    """The middle of each month as a fractional year (mid-June's end is x.5, the mid-year)."""
    m = months.astype("datetime64[M]").astype(np.int64)
    return 1970 + (m + 0.5) / 12.0


def band_of_age(age: np.ndarray) -> np.ndarray:
    """Projection band index of ages in years; NaN gives the "age unknown" index."""
    age = np.asarray(age, dtype=float)
    idx = np.searchsorted(np.asarray(PROJECTION_EDGES, dtype=float), np.nan_to_num(age, nan=0.0), side="right") - 1
    return np.where(np.isfinite(age), np.clip(idx, 0, len(PROJECTION_BANDS) - 1), len(PROJECTION_BANDS))


def load_projection(path, areas: tuple[str, ...] = AREA_CODES) -> PopulationProjection:
    """Read and validate a projection file; every problem raises ``ProjectionError`` naming the
    file, the line (the header is line 1) and the field."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ProjectionError(f"{where}: no such file") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise ProjectionError(f"{where}: empty (expected a header {','.join(COLUMNS)})")
    header = [h.strip() for h in rows[0]]
    absent = [c for c in COLUMNS if c not in header]
    if absent:
        raise ProjectionError(f"{where}: line 1: missing column(s) {', '.join(absent)} (expected {','.join(COLUMNS)})")
    col = {c: header.index(c) for c in COLUMNS}
    seen: dict[tuple[str, str, int], float] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise ProjectionError(f"{where}: line {line}: {len(row)} fields, the header has {len(header)}")
        area, band = row[col["area_code"]].strip(), row[col["age_band"]].strip()
        if area not in areas:
            raise ProjectionError(f"{where}: line {line}: area_code: unknown area {area!r} (one of {', '.join(areas)})")
        if band not in PROJECTION_BANDS:
            raise ProjectionError(f"{where}: line {line}: age_band: unknown age band {band!r} "
                                  f"(one of {', '.join(PROJECTION_BANDS)})")
        try:
            year = int(row[col["year"]].strip())
        except ValueError:
            raise ProjectionError(f"{where}: line {line}: year: {row[col['year']]!r} is not a whole year") from None
        try:
            value = float(row[col["population"]].strip())
        except ValueError:
            raise ProjectionError(f"{where}: line {line}: population: {row[col['population']]!r} is not a number") from None
        if not np.isfinite(value) or value <= 0:
            raise ProjectionError(f"{where}: line {line}: population: must be a positive number, got {value:g}")
        if (area, band, year) in seen:
            raise ProjectionError(f"{where}: line {line}: {area} {band} {year} appears twice")
        seen[(area, band, year)] = value
    if not seen:
        raise ProjectionError(f"{where}: no rows")
    years = np.arange(min(k[2] for k in seen), max(k[2] for k in seen) + 1)
    present = tuple(a for a in areas if any(k[0] == a for k in seen))
    values = np.zeros((len(present), len(PROJECTION_BANDS), len(years)))
    for ai, a in enumerate(present):
        for bi, b in enumerate(PROJECTION_BANDS):
            gaps = [int(y) for y in years if (a, b, int(y)) not in seen]
            if gaps:
                shown = ", ".join(map(str, gaps[:5])) + (" ..." if len(gaps) > 5 else "")
                raise ProjectionError(f"{where}: year: {a} {b} has no row for {shown} "
                                      f"(every area and band needs every year {years[0]}..{years[-1]})")
            values[ai, bi] = [seen[(a, b, int(y))] for y in years]
    return PopulationProjection(areas=present, years=years, values=values, source=where)


def default_projection() -> PopulationProjection:
    """The projection the setting names (``contracts.settings.population_projection_file``)."""
    from contracts.settings import population_projection_file

    return load_projection(population_projection_file())
