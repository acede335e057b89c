"""The asset-management database (live since 2003): schemes, properties and void periods.

A different vendor from the CRM, so a different style: upper-case tables and columns, short
upper-case codes, and a ``MODIFIED_DATE`` change marker. It was loaded on go-live with the stock
as it then stood (true data, stamped with the go-live date); voids that had already ended were
never keyed, and nothing happened in it before 2003. Property references are shared with the
CRM's ``tenancy.prop_ref``, as a housing association's two central systems share a property code.

Tables (database ``assets``):

- ``SCHEME``: SCHEME_ID, SCHEME_NAME, SCHEME_TYPE (GN general needs estate, SH sheltered,
  XC extra care, TA temporary accommodation, CH care home), AREA_CODE (CDF, VOG, RCT, BGD,
  NWP, CPH, MTD, NPT), POSTCODE, CAPACITY, RES_BEDS, NURS_BEDS, OPENED_DATE, CLOSED_DATE,
  MODIFIED_DATE.
- ``PROPERTY``: PROP_REF, SCHEME_ID, PROP_TYPE (GN, SH, XC, TA, RES care-home bed, NUR nursing
  bed), BEDROOMS, ACCESSIBLE (Y/N), POSTCODE, AVAILABLE_FROM, MODIFIED_DATE.
- ``VOID_PERIOD``: VOID_ID, PROP_REF, VOID_START, VOID_END, VOID_REASON (TEN end of tenancy,
  NEW new build, REP repairs), MODIFIED_DATE.

Defects: 1% of schemes, properties and voids keyed late (up to 60 days); 0.5% of void ends
first keyed a few days early and corrected later; a training scheme ``S9999`` with a handful of
``TEST...`` properties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_sources import defects
from synthetic_sources import keyed_random as kr
from synthetic_sources.systems.base import GO_LIVE, DefectRates, SystemExtract, TableSpec

SYSTEM = "assets"
GO = GO_LIVE[SYSTEM]
_GO64 = np.datetime64(GO, "ns")
_NAT = np.datetime64("NaT", "ns")

SCHEME_TYPE = {"general_needs": "GN", "sheltered": "SH", "extra_care": "XC", "temporary": "TA",
               "care_home": "CH"}
PROP_TYPE = {"general_needs": "GN", "sheltered": "SH", "extra_care": "XC", "temporary": "TA",
             "residential": "RES", "nursing": "NUR"}
VOID_REASON = {"tenancy_end": "TEN", "new_build": "NEW", "repairs": "REP"}
AREA_CODE = {"cardiff": "CDF", "vale of glamorgan": "VOG", "rhondda cynon taf": "RCT",
             "bridgend": "BGD", "newport": "NWP", "caerphilly": "CPH", "merthyr tydfil": "MTD",
             "neath port talbot": "NPT"}


# ---------------------------------------------------------------------------------------------
# identifiers shared with the CRM


def prop_refs(unit_ids) -> np.ndarray:
    """The property reference both central systems use for a unit ('P' and seven digits)."""
    ids = pd.Series(np.asarray(unit_ids, dtype=np.int64))
    return ("P" + ids.astype(str).str.zfill(7)).to_numpy(dtype=object)


def scheme_refs(scheme_ids) -> np.ndarray:
    ids = pd.Series(np.asarray(scheme_ids, dtype=np.int64))
    return ("S" + ids.astype(str).str.zfill(4)).to_numpy(dtype=object)


def area_codes(areas) -> np.ndarray:
    """Area names to the vendor's three-letter codes; an unknown name keeps its first letters."""
    s = pd.Series(np.asarray(areas, dtype=object)).astype(object).fillna("")
    norm = s.str.lower().str.replace("_", " ", regex=False).str.strip()
    fallback = norm.str.replace(" ", "", regex=False).str[:3].str.upper()
    return norm.map(AREA_CODE).fillna(fallback).to_numpy(dtype=object)


# ---------------------------------------------------------------------------------------------
# tables


def _dt(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(np.asarray(values))).to_numpy().astype("datetime64[ns]")


def _scheme_visibility(truth, seed, rates) -> pd.DataFrame:
    """When each scheme entered the system, and whether it ever did (not if closed pre-2003)."""
    s = truth["schemes"]
    sid = s["scheme_id"].to_numpy(dtype=np.int64)
    opened = _dt(s["opened"])
    closed = _dt(s["closed"])
    visible, _ = defects.arrival(opened, sid, seed, "assets:scheme", rates, GO)
    closed_vis, _ = defects.arrival(closed, sid, seed, "assets:scheme_closed", rates, GO)
    closed_vis = np.maximum(closed_vis, visible)
    ever = ~(~np.isnat(closed) & (closed < _GO64))
    return pd.DataFrame({"visible": visible, "closed_vis": closed_vis, "ever": ever}, index=sid)


def _property_visibility(truth, schemes_vis, seed, rates) -> pd.DataFrame:
    """A property is keyed when available (late for some), never before its scheme."""
    u = truth["units"]
    uid = u["unit_id"].to_numpy(dtype=np.int64)
    visible, _ = defects.arrival(_dt(u["available_from"]), uid, seed, "assets:property", rates, GO)
    sv = schemes_vis.reindex(u["scheme_id"].to_numpy())
    visible = np.maximum(visible, sv["visible"].to_numpy().astype("datetime64[ns]"))
    ever = sv["ever"].fillna(True).to_numpy(dtype=bool)
    return pd.DataFrame({"visible": visible, "ever": ever}, index=uid)


def _schemes(truth, vis, as_of, since, seed) -> pd.DataFrame:
    s = truth["schemes"]
    sid = s["scheme_id"].to_numpy(dtype=np.int64)
    visible = vis["visible"].to_numpy()
    closed_vis = vis["closed_vis"].to_numpy()
    frame = defects.frame_of({
        "SCHEME_ID": scheme_refs(sid),
        "SCHEME_NAME": s["name"].astype(object).str.upper().to_numpy(dtype=object),
        "SCHEME_TYPE": s["scheme_type"].map(SCHEME_TYPE).to_numpy(dtype=object),
        "AREA_CODE": area_codes(s["area"]),
        "POSTCODE": s["postcode"].to_numpy(dtype=object),
        "CAPACITY": s["capacity"].to_numpy(dtype=np.int64),
        "RES_BEDS": s["residential_beds"].to_numpy(dtype=np.int64),
        "NURS_BEDS": s["nursing_beds"].to_numpy(dtype=np.int64),
        "OPENED_DATE": _dt(s["opened"]),
        "CLOSED_DATE": defects.shown_once_visible(_dt(s["closed"]), closed_vis, as_of),
    })
    frame = pd.concat([frame, _test_scheme(seed)], ignore_index=True)
    visible = np.concatenate([visible, [_test_created(seed)]])
    closed_vis = np.concatenate([closed_vis, [_NAT]])
    keys = np.concatenate([sid, [_TEST_ID]])
    present = np.concatenate([vis["ever"].to_numpy(dtype=bool), [True]]) & (visible <= _ns(as_of))
    marker = defects.latest_on_or_before(as_of, visible, closed_vis)
    return defects.as_of_rows(frame, keys, marker, present, since, seed, "assets:scheme", "MODIFIED_DATE")


def _properties(truth, vis, as_of, since, seed, n_test) -> pd.DataFrame:
    u = truth["units"]
    uid = u["unit_id"].to_numpy(dtype=np.int64)
    frame = defects.frame_of({
        "PROP_REF": prop_refs(uid),
        "SCHEME_ID": scheme_refs(u["scheme_id"]),
        "PROP_TYPE": u["unit_type"].map(PROP_TYPE).to_numpy(dtype=object),
        "BEDROOMS": u["bedrooms"].to_numpy(dtype=np.int64),
        "ACCESSIBLE": np.where(u["is_accessible"].to_numpy() == 1, "Y", "N").astype(object),
        "POSTCODE": u["postcode"].to_numpy(dtype=object),
        "AVAILABLE_FROM": _dt(u["available_from"]),
    })
    test = _test_properties(seed, n_test)
    frame = pd.concat([frame, test.drop(columns=["_visible"])], ignore_index=True)
    visible = np.concatenate([vis["visible"].to_numpy(), test["_visible"].to_numpy()])
    keys = np.concatenate([uid, _TEST_ID - np.arange(len(test), dtype=np.int64)])
    ever = np.concatenate([vis["ever"].to_numpy(dtype=bool), np.ones(len(test), dtype=bool)])
    present = ever & (visible <= _ns(as_of))
    marker = defects.latest_on_or_before(as_of, visible)
    return defects.as_of_rows(frame, keys, marker, present, since, seed, "assets:property",
                              "MODIFIED_DATE")


def _voids(truth, prop_vis, as_of, since, seed, rates) -> pd.DataFrame:
    """Void periods: keyed when they start (late for some), closed when the end is keyed.

    A corrected void first shows a wrong end date (a few days early: the unit was signed off
    as ready before the works were finished) until its correction.
    """
    v = truth["voids"]
    vid = v["void_id"].to_numpy(dtype=np.int64)
    start = _dt(v["start_date"])
    end = _dt(v["end_date"])
    visible, _ = defects.arrival(start, vid, seed, "assets:void", rates, GO)
    pv = prop_vis.reindex(v["unit_id"].to_numpy())
    visible = np.maximum(visible, pv["visible"].to_numpy().astype("datetime64[ns]"))
    end_vis, end_corr = defects.arrival(end, vid, seed, "assets:void_end", rates, GO)
    end_vis = np.where(np.isnat(end), _NAT, np.maximum(end_vis, visible)).astype("datetime64[ns]")
    end_corr = np.where(np.isnat(end) | np.isnat(end_corr), _NAT,
                        np.maximum(end_corr, end_vis + np.timedelta64(1, "D"))).astype("datetime64[ns]")
    early = kr.integers(seed, "assets:void_wrong_end", vid, 1, 15).astype("timedelta64[D]")
    wrong_end = np.maximum(end - early, start)
    shown_end = np.where(~np.isnat(end_corr) & (end_corr > _ns(as_of)), wrong_end, end)
    ever = ~(~np.isnat(end) & (end < _GO64)) & pv["ever"].fillna(True).to_numpy(dtype=bool)
    present = ever & (visible <= _ns(as_of))
    frame = defects.frame_of({
        "VOID_ID": (vid + 100_000).astype(np.int64),
        "PROP_REF": prop_refs(v["unit_id"]),
        "VOID_START": start,
        "VOID_END": defects.shown_once_visible(shown_end, end_vis, as_of),
        "VOID_REASON": v["reason"].map(VOID_REASON).to_numpy(dtype=object),
    })
    marker = defects.latest_on_or_before(as_of, visible, end_vis, end_corr)
    return defects.as_of_rows(frame, vid, marker, present, since, seed, "assets:void", "MODIFIED_DATE")


# ---------------------------------------------------------------------------------------------
# test records: a training scheme with a few dummy properties, never removed

_TEST_ID = 9_999


def _ns(ts) -> np.datetime64:
    return np.datetime64(pd.Timestamp(ts), "ns")


def _test_created(seed: int) -> np.datetime64:
    days = kr.integers(seed, "assets:test_created", [0], 0, 60)[0]
    return _ns(GO + pd.Timedelta(days=int(days)))


def _test_scheme(seed: int) -> pd.DataFrame:
    return pd.DataFrame({
        "SCHEME_ID": ["S9999"], "SCHEME_NAME": ["TEST SCHEME - DO NOT USE"], "SCHEME_TYPE": ["GN"],
        "AREA_CODE": ["CDF"], "POSTCODE": ["CF10 1AA"], "CAPACITY": [0], "RES_BEDS": [0],
        "NURS_BEDS": [0], "OPENED_DATE": [pd.Timestamp(_test_created(seed))],
        "CLOSED_DATE": [pd.NaT],
    }).astype({"SCHEME_ID": object, "SCHEME_NAME": object, "SCHEME_TYPE": object,
               "AREA_CODE": object, "POSTCODE": object, "OPENED_DATE": "datetime64[ns]",
               "CLOSED_DATE": "datetime64[ns]"})


def _test_properties(seed: int, n: int) -> pd.DataFrame:
    i = np.arange(n, dtype=np.int64)
    created = _test_created(seed) + kr.integers(seed, "assets:test_property", i, 0, 3650).astype(
        "timedelta64[D]")
    return pd.DataFrame({
        "PROP_REF": np.array([f"TEST{k + 1:03d}" for k in i], dtype=object),
        "SCHEME_ID": np.full(n, "S9999", dtype=object),
        "PROP_TYPE": np.full(n, "GN", dtype=object),
        "BEDROOMS": np.zeros(n, dtype=np.int64),
        "ACCESSIBLE": np.full(n, "N", dtype=object),
        "POSTCODE": np.full(n, "CF10 1AA", dtype=object),
        "AVAILABLE_FROM": created.astype("datetime64[ns]"),
        "_visible": created.astype("datetime64[ns]"),
    })


def build(truth: dict[str, pd.DataFrame], as_of: pd.Timestamp, seed: int,
          rates: DefectRates = DefectRates(), since: pd.Timestamp | None = None) -> SystemExtract:
    """The asset database as it stood at the end of ``as_of`` (only rows changed after ``since``).

    Reads the truth tables ``schemes``, ``units`` and ``voids``. Holds no person-level records,
    so ``source_records`` is empty.
    """
    as_of = pd.Timestamp(as_of).normalize()
    svis = _scheme_visibility(truth, seed, rates)
    pvis = _property_visibility(truth, svis, seed, rates)
    tables = {
        "SCHEME": TableSpec(_schemes(truth, svis, as_of, since, seed), ["SCHEME_ID"], "MODIFIED_DATE"),
        "PROPERTY": TableSpec(_properties(truth, pvis, as_of, since, seed, rates.test_records),
                              ["PROP_REF"], "MODIFIED_DATE"),
        "VOID_PERIOD": TableSpec(_voids(truth, pvis, as_of, since, seed, rates), ["VOID_ID"],
                                 "MODIFIED_DATE"),
    }
    source_records = pd.DataFrame({
        "system": pd.Series([], dtype=object), "table": pd.Series([], dtype=object),
        "record_key": pd.Series([], dtype=object), "person_id": pd.Series([], dtype=np.int64),
    })
    return SystemExtract(system=SYSTEM, databases={"assets": tables}, source_records=source_records)
