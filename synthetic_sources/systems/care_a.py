"""Care vendor A: a desktop package with one local SQLite database per care home (since 2009).

Each home's database knows only its own residents, numbered by the home in order of first
admission, so the same person in two homes is two unrelated residents. Dates are text in the
British ``dd/mm/yyyy`` style; every table carries ``LastModified``, the day a row last changed.

Tables (one set per home database ``care_a_<home code>``):

- ``Home``: HomeCode, HomeName, Postcode, RegisteredBeds.
- ``Resident``: ResidentNo, Forename, Surname, DateOfBirth, Gender (``Male``/``Female``),
  NINumber (missing for a quarter), DateCreated.
- ``Stay``: StayId, ResidentNo, CareType (``RES``/``NUR``), StayType (``PERM``/``RESP``/``REAB``),
  AdmissionDate, AdmittedFrom (``HOSP``/``HOME``), DischargeDate, DischargeReason (``DIED`` in
  the home, ``DIEDHOSP``, ``DIEDHOSPICE``, ``HOME``); NULL discharge while open.
- ``Assessment``: AssessmentId, StayId, ResidentNo, AssessmentDate, AssessmentType
  (``ADMISSION``/``REVIEW``, every 13 weeks), DependencyScore (0-100, from the true need level).
- ``Transfer``: TransferId, StayId, ResidentNo, TransferTo (``HOSP``/``HOSPICE``), DateOut,
  DateEnded, Outcome (``RETURNED``/``DIED``/``NOT RETURNED``; NULL while away).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from synthetic_sources import keyed_random as kr
from synthetic_sources.defects import compound_key, format_date
from synthetic_sources.systems import _care_common as cc
from synthetic_sources.systems.base import CONTRACTS, GO_LIVE, DefectRates, SystemExtract, TableSpec

SYSTEM = "care_a"
GO = GO_LIVE[SYSTEM]
DATE_FORMAT = CONTRACTS[SYSTEM].person_table().person.dob_format
MARKER = CONTRACTS[SYSTEM].tables["Stay"].marker

CARE_TYPE = {"residential": "RES", "nursing": "NUR"}
STAY_TYPE = {"permanent": "PERM", "respite": "RESP", "reablement": "REAB"}
ADMITTED_FROM = {"hospital": "HOSP", "home": "HOME"}
DISCHARGE_REASON = {"died": "DIED", "died_in_hospital": "DIEDHOSP", "died_in_hospice": "DIEDHOSPICE", "home": "HOME"}
REVIEW_EVERY_DAYS = 91
# Dependency score (0-100, higher needs more help) by true need level: overlapping bands, as a
# score and a level never map one to one in life.
SCORE_MEAN = np.array([15.0, 32.0, 55.0, 80.0])
SCORE_SD = 8.0
TEST_RESIDENT_NO = 900001

TABLE_KEYS = {name: list(t.primary_key) for name, t in CONTRACTS[SYSTEM].tables.items()}


def home_databases(schemes: pd.DataFrame) -> pd.DataFrame:
    """Vendor A's homes and their database names, ``care_a_<initials of the home's name>``.

    The initials leave out "Care Home"; two homes with the same initials get their scheme id
    appended, so a name is unique and never depends on the as-of date.
    """
    homes = schemes.loc[(schemes["scheme_type"] == "care_home") & (schemes["vendor"] == "A")]
    homes = homes.sort_values("scheme_id").reset_index(drop=True)
    codes = [_initials(n) for n in homes["name"].astype(str)]
    dup = pd.Series(codes).duplicated(keep=False).to_numpy()
    codes = [f"{c}{sid}" if d else c for c, d, sid in zip(codes, dup, homes["scheme_id"])]
    out = homes[["scheme_id", "name", "postcode", "capacity"]].copy()
    out["code"] = np.asarray(codes, dtype=object)
    out["database"] = np.asarray([f"care_a_{c}" for c in codes], dtype=object)
    return out


def _initials(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name.replace("Care Home", " "))
    return "".join(w[0] for w in words).lower() or "home"


# ---------------------------------------------------------------------------------------------
# histories: everything vendor A will ever have keyed, with the days it was keyed. Independent of
# the as-of date, so each as-of view below is a pure function of (history, as_of).


def _stay_history(truth: dict, homes: pd.DataFrame, seed: int, rates: DefectRates) -> pd.DataFrame:
    all_a = truth["care_stays"].merge(homes[["scheme_id", "database"]], on="scheme_id")
    stays = all_a.loc[all_a["discharge_date"].isna() | (all_a["discharge_date"] >= GO)]
    stays = stays.merge(_home_numbers(all_a), on=["scheme_id", "person_id", "stay_id"])
    stays = stays.sort_values("stay_id").reset_index(drop=True)
    keys = stays["stay_id"].to_numpy()
    adm = cc.dt64(stays["admission_date"])
    dis = cc.dt64(stays["discharge_date"])
    created, corrected = cc.keyed_entry(adm, keys, seed, f"{SYSTEM}:stay", rates, GO)
    dis_visible, _ = cc.keyed_entry(dis, keys, seed, f"{SYSTEM}:discharge", rates, GO)
    nxt = cc.next_start_same_group(compound_key(stays["scheme_id"], stays["person_id"]), adm)
    return pd.DataFrame({
        "stay_id": keys,
        "scheme_id": stays["scheme_id"].to_numpy(),
        "database": stays["database"].to_numpy(),
        "person_id": stays["person_id"].to_numpy(),
        "resident_no": stays["resident_no"].to_numpy(),
        "stay_no": stays["stay_no"].to_numpy(),
        "created": created,
        "corrected": corrected,
        "admission": adm,
        # a wrongly keyed admission is a date from the referral paperwork, days too early
        "admission_wrong": adm - cc.days(kr.integers(seed, f"{SYSTEM}:stay:wrong_admission", keys, 1, 15)),
        "discharge": cc.contradictory_end(adm, dis, nxt, keys, seed, f"{SYSTEM}:stay", rates.contradictory),
        "discharge_visible": np.where(np.isnat(dis), cc.NAT, dis_visible),
        "true_discharge": dis,
        "CareType": stays["care_type"].map(CARE_TYPE).to_numpy(),
        "StayType": stays["stay_kind"].map(STAY_TYPE).to_numpy(),
        "AdmittedFrom": stays["admission_source"].map(ADMITTED_FROM).to_numpy(),
        "DischargeReason": stays["discharge_destination"].map(DISCHARGE_REASON).to_numpy(),
    })


def _home_numbers(all_a: pd.DataFrame) -> pd.DataFrame:
    """Each home's own numbers: residents from 1001 by first admission, stays from 1.

    Numbered over the home's whole truth, pre-go-live included, so a number never depends on
    the as-of date (the gaps are numbers the paper records before 2009 used).
    """
    first = all_a.groupby(["scheme_id", "person_id"], as_index=False)["admission_date"].min()
    first = first.sort_values(["scheme_id", "admission_date", "person_id"])
    first["resident_no"] = first.groupby("scheme_id").cumcount().to_numpy(np.int64) + 1001
    stays = all_a.sort_values(["scheme_id", "admission_date", "stay_id"])[["scheme_id", "person_id", "stay_id"]]
    stays["stay_no"] = stays.groupby("scheme_id").cumcount().to_numpy(np.int64) + 1
    return stays.merge(first[["scheme_id", "person_id", "resident_no"]], on=["scheme_id", "person_id"])


def _resident_history(stays: pd.DataFrame, people: pd.DataFrame, seed: int, rates: DefectRates) -> pd.DataFrame:
    res = (
        stays.groupby(["scheme_id", "person_id"], as_index=False)
        .agg(database=("database", "first"), resident_no=("resident_no", "first"), created=("created", "min"))
    )
    truth = people.set_index("person_id").loc[res["person_id"].to_numpy()].reset_index()
    keys = compound_key(res["scheme_id"], res["person_id"])
    fields = cc.person_fields(truth, keys, res["created"], SYSTEM, seed, rates, DATE_FORMAT)
    return res.assign(
        Forename=fields["first_name"].to_numpy(),
        Surname=fields["surname"].to_numpy(),
        DateOfBirth=fields["dob"].to_numpy(),
        Gender=fields["sex"].map({"M": "Male", "F": "Female"}).astype(object).to_numpy(),
        NINumber=fields["ni_number"].to_numpy(),
    )


def _test_residents(homes: pd.DataFrame, seed: int, rates: DefectRates) -> pd.DataFrame:
    t = cc.dummies(SYSTEM, rates, seed, GO, DATE_FORMAT)
    home = homes.iloc[t["test_index"].to_numpy() % len(homes)]
    return cc.table({
        "scheme_id": home["scheme_id"].to_numpy(),
        "person_id": t["person_id"].to_numpy(),
        "database": home["database"].to_numpy(),
        "resident_no": TEST_RESIDENT_NO + t["test_index"].to_numpy(),
        "created": cc.dt64(t["created"]),
        "Forename": t["first_name"].to_numpy(),
        "Surname": t["surname"].to_numpy(),
        "DateOfBirth": t["dob"].to_numpy(),
        "Gender": t["sex"].map({"M": "Male", "F": "Female"}).astype(object).to_numpy(),
        "NINumber": t["ni_number"].to_numpy(),
    })


def _assessment_history(
    stays: pd.DataFrame, person_months: pd.DataFrame | None, as_of, seed: int, rates: DefectRates
) -> pd.DataFrame:
    """An admission assessment and a review every 13 weeks until discharge (or ``as_of``).

    Generated only up to ``as_of``: ids are (stay, k), so a later as-of date only adds rows.
    """
    adm = stays["admission"].to_numpy()
    end = stays["true_discharge"].to_numpy()
    last = np.where(np.isnat(end), cc.ts64(as_of), np.minimum(end - cc.days(1), cc.ts64(as_of)))
    n = np.maximum(0, (last - adm).astype("timedelta64[D]").astype(np.int64) // REVIEW_EVERY_DAYS + 1)
    n = np.where(last < adm, 0, n)
    row = np.repeat(np.arange(len(stays)), n)
    k = np.arange(len(row)) - np.repeat(np.cumsum(n) - n, n)
    stay_ids = stays["stay_id"].to_numpy()[row]
    keys = compound_key(stay_ids, k)
    jitter = np.where(k > 0, kr.integers(seed, f"{SYSTEM}:assessment:jitter", keys, 0, 7), 0)
    date = adm[row] + cc.days(k * REVIEW_EVERY_DAYS + jitter)
    keep = (date >= cc.ts64(GO)) & (date <= last[row])
    row, k, keys, date = row[keep], k[keep], keys[keep], date[keep]
    pid = stays["person_id"].to_numpy()[row]
    level = (cc.need_levels(person_months, pid, date) if person_months is not None
             else np.full(len(row), 2, dtype=np.int64))
    score = SCORE_MEAN[np.clip(level, 0, 3)] + SCORE_SD * kr.normal(seed, f"{SYSTEM}:assessment:score", keys)
    visible, _ = cc.keyed_entry(date, keys, seed, f"{SYSTEM}:assessment", rates, GO)
    st = stays.iloc[row]
    return cc.table({
        "database": st["database"].to_numpy(),
        "AssessmentId": st["stay_no"].to_numpy() * 1000 + k,
        "StayId": st["stay_no"].to_numpy(),
        "ResidentNo": st["resident_no"].to_numpy(),
        "date": date,
        "AssessmentType": np.where(k == 0, "ADMISSION", "REVIEW").astype(object),
        "DependencyScore": np.clip(np.round(score), 0, 100).astype(np.int64),
        "visible": np.maximum(visible, st["created"].to_numpy()),
    })


def _transfer_history(truth: dict, stays: pd.DataFrame, seed: int, rates: DefectRates) -> pd.DataFrame:
    """Hospital and hospice stays that began while the person was one of the home's residents."""
    hs = truth["hospital_spells"]
    hp = truth["hospice_stays"]
    t = pd.concat([
        pd.DataFrame({"kind": 1, "source_id": hs["spell_id"].to_numpy(), "care_stay_id": hs["care_stay_id"].to_numpy(),
                      "out": cc.dt64(hs["admission_date"]), "end": cc.dt64(hs["discharge_date"]),
                      "died": (hs["destination"] == "died").to_numpy()}),
        pd.DataFrame({"kind": 2, "source_id": hp["stay_id"].to_numpy(), "care_stay_id": hp["care_stay_id"].to_numpy(),
                      "out": cc.dt64(hp["admission_date"]), "end": cc.dt64(hp["discharge_date"]),
                      "died": (hp["outcome"] == "died").to_numpy()}),
    ], ignore_index=True)
    st = stays.set_index("stay_id")
    t = t.loc[t["care_stay_id"].isin(st.index) & (t["out"] >= cc.ts64(GO))].reset_index(drop=True)
    s = st.loc[t["care_stay_id"].to_numpy()]
    stay_end = s["true_discharge"].to_numpy()
    returned = ~t["died"].to_numpy() & (np.isnat(stay_end) | (stay_end > t["end"].to_numpy()))
    outcome = np.where(t["died"], "DIED", np.where(returned, "RETURNED", "NOT RETURNED")).astype(object)
    keys = compound_key(t["kind"], t["source_id"])
    out_vis, _ = cc.keyed_entry(t["out"], keys, seed, f"{SYSTEM}:transfer", rates, GO)
    end_vis, _ = cc.keyed_entry(t["end"], keys, seed, f"{SYSTEM}:transfer_end", rates, GO)
    # each home numbers its transfers in time order, over all it will ever record: stable
    order = t.assign(database=s["database"].to_numpy()).sort_values(["database", "out", "kind", "source_id"])
    tid = (order.groupby("database").cumcount() + 1).reindex(t.index).to_numpy(np.int64)
    return cc.table({
        "database": s["database"].to_numpy(),
        "TransferId": tid,
        "StayId": s["stay_no"].to_numpy(),
        "ResidentNo": s["resident_no"].to_numpy(),
        "TransferTo": np.where(t["kind"] == 1, "HOSP", "HOSPICE").astype(object),
        "out": t["out"].to_numpy(),
        "end": t["end"].to_numpy(),
        "Outcome": outcome,
        "visible": np.maximum(out_vis, s["created"].to_numpy()),
        "end_visible": np.where(np.isnat(t["end"].to_numpy()), cc.NAT, end_vis),
    })


# ---------------------------------------------------------------------------------------------
# as-of views


def _residents_as_of(res: pd.DataFrame, as_of) -> pd.DataFrame:
    r = res.loc[res["created"].to_numpy() <= cc.ts64(as_of)]
    return cc.table({
        "database": r["database"].to_numpy(),
        "ResidentNo": r["resident_no"].to_numpy(np.int64),
        "Forename": r["Forename"].to_numpy(),
        "Surname": r["Surname"].to_numpy(),
        "DateOfBirth": r["DateOfBirth"].to_numpy(),
        "Gender": r["Gender"].to_numpy(),
        "NINumber": r["NINumber"].to_numpy(),
        "DateCreated": format_date(pd.Series(r["created"].to_numpy()), DATE_FORMAT).to_numpy(),
        MARKER: cc.dt64(r["created"]),
    })


def _stays_as_of(stays: pd.DataFrame, as_of) -> pd.DataFrame:
    s = stays.loc[stays["created"].to_numpy() <= cc.ts64(as_of)]
    corrected = s["corrected"].to_numpy()
    still_wrong = ~np.isnat(corrected) & (corrected > cc.ts64(as_of))
    admission = np.where(still_wrong, s["admission_wrong"].to_numpy(), s["admission"].to_numpy())
    discharge = cc.known(s["discharge"].to_numpy(), s["discharge_visible"].to_numpy(), as_of)
    return cc.table({
        "database": s["database"].to_numpy(),
        "StayId": s["stay_no"].to_numpy(np.int64),
        "ResidentNo": s["resident_no"].to_numpy(np.int64),
        "CareType": s["CareType"].to_numpy(),
        "StayType": s["StayType"].to_numpy(),
        "AdmissionDate": format_date(pd.Series(admission), DATE_FORMAT).to_numpy(),
        "AdmittedFrom": s["AdmittedFrom"].to_numpy(),
        "DischargeDate": format_date(pd.Series(discharge), DATE_FORMAT).to_numpy(),
        "DischargeReason": cc.known(s["DischargeReason"].to_numpy(), s["discharge_visible"].to_numpy(), as_of),
        MARKER: cc.change_marker(as_of, s["created"], s["corrected"], s["discharge_visible"]),
    })


def _assessments_as_of(a: pd.DataFrame, as_of) -> pd.DataFrame:
    a = a.loc[a["visible"].to_numpy() <= cc.ts64(as_of)]
    return cc.table({
        "database": a["database"].to_numpy(),
        "AssessmentId": a["AssessmentId"].to_numpy(np.int64),
        "StayId": a["StayId"].to_numpy(np.int64),
        "ResidentNo": a["ResidentNo"].to_numpy(np.int64),
        "AssessmentDate": format_date(pd.Series(a["date"].to_numpy()), DATE_FORMAT).to_numpy(),
        "AssessmentType": a["AssessmentType"].to_numpy(),
        "DependencyScore": a["DependencyScore"].to_numpy(np.int64),
        MARKER: cc.dt64(a["visible"]),
    })


def _transfers_as_of(t: pd.DataFrame, as_of) -> pd.DataFrame:
    t = t.loc[t["visible"].to_numpy() <= cc.ts64(as_of)]
    ended = cc.known(t["end"].to_numpy(), t["end_visible"].to_numpy(), as_of)
    return cc.table({
        "database": t["database"].to_numpy(),
        "TransferId": t["TransferId"].to_numpy(np.int64),
        "StayId": t["StayId"].to_numpy(np.int64),
        "ResidentNo": t["ResidentNo"].to_numpy(np.int64),
        "TransferTo": t["TransferTo"].to_numpy(),
        "DateOut": format_date(pd.Series(t["out"].to_numpy()), DATE_FORMAT).to_numpy(),
        "DateEnded": format_date(pd.Series(ended), DATE_FORMAT).to_numpy(),
        "Outcome": cc.known(t["Outcome"].to_numpy(), t["end_visible"].to_numpy(), as_of),
        MARKER: cc.change_marker(as_of, t["visible"], t["end_visible"]),
    })


def _home_rows(homes: pd.DataFrame) -> pd.DataFrame:
    return cc.table({
        "database": homes["database"].to_numpy(),
        "HomeCode": homes["code"].str.upper().astype(object).to_numpy(),
        "HomeName": homes["name"].astype(object).to_numpy(),
        "Postcode": homes["postcode"].astype(object).to_numpy(),
        "RegisteredBeds": homes["capacity"].to_numpy(np.int64),
        MARKER: np.full(len(homes), cc.ts64(GO)),
    })


def build(
    truth: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    seed: int,
    rates: DefectRates = DefectRates(),
    since: pd.Timestamp | None = None,
) -> SystemExtract:
    """Every home's database as it stood on ``as_of`` (only rows changed after ``since`` if given)."""
    as_of = pd.Timestamp(as_of).normalize()
    since = None if since is None else pd.Timestamp(since).normalize()
    homes = home_databases(truth["schemes"])
    if as_of < GO or homes.empty:
        return SystemExtract(SYSTEM, {}, cc.empty_source_records())
    stays = _stay_history(truth, homes, seed, rates)
    residents = pd.concat(
        [_resident_history(stays, truth["people"], seed, rates), _test_residents(homes, seed, rates)],
        ignore_index=True,
    )
    tables = {
        "Home": _home_rows(homes),
        "Resident": _residents_as_of(residents, as_of),
        "Stay": _stays_as_of(stays, as_of),
        "Assessment": _assessments_as_of(
            _assessment_history(stays, truth.get("person_months"), as_of, seed, rates), as_of
        ),
        "Transfer": _transfers_as_of(_transfer_history(truth, stays, seed, rates), as_of),
    }
    databases = {}
    for db in homes["database"]:
        databases[db] = {}
        for name, frame in tables.items():
            rows = frame.loc[frame["database"].to_numpy() == db].drop(columns="database")
            rows = cc.since_filter(rows.sort_values(TABLE_KEYS[name]), MARKER, since)
            databases[db][name] = TableSpec(rows, TABLE_KEYS[name], MARKER)
    records = cc.source_records(
        SYSTEM, "Resident",
        residents["database"].astype(str) + ":" + residents["resident_no"].astype(str),
        residents["person_id"], residents["created"], as_of, since,
    )
    return SystemExtract(SYSTEM, databases, records)
