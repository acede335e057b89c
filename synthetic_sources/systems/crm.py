"""The housing management CRM (live since 1998), as its database stands on an as-of date.

An old housing system's style: lower-case snake tables and columns, short upper-case codes,
ISO dates, and a ``last_updated`` timestamp on every table that the nightly ingest reads as its
change marker. On go-live the tenancies, households and open applications of the old paper and
spreadsheet files were migrated in one batch (true dates, stamped with the go-live day).

Tables (database ``crm``):

- ``contact``: contact_ref, title, first_name, surname, sex (M/F), date_of_birth, ni_no,
  date_created, last_updated. Tenancy holders and household members, plus duplicates and
  test records.
- ``household``: household_ref, lead_contact_ref, local_authority, household_size,
  date_created, last_updated.
- ``household_member``: household_ref, contact_ref, relationship (LEAD, PTNR partner, CHLD
  child, PRNT parent, OTHR), date_joined, date_left, last_updated.
- ``application``: application_ref, household_ref, contact_ref, date_applied, band (A-D),
  need_type (GEN, HML homeless, TRF transfer, SHL sheltered, EXC extra care), offers_made,
  status (OPEN, LET, WDN withdrawn), status_date, tenancy_ref, last_updated.
- ``tenancy``: tenancy_ref, household_ref, contact_ref, prop_ref (the asset system's
  PROP_REF), tenancy_type (GEN, SHL, EXC, TMP), let_type (MIG migrated, REG register, HML
  homeless, TRF transfer), application_ref, tenancy_start, tenancy_end, end_reason_code (VOL
  voluntary, TRF transfer, DEC deceased, EVI eviction, CHM to care home, MOV moved on),
  last_updated.
- ``circumstance``: circ_ref, tenancy_ref, contact_ref, review_date, review_type (NEW at
  sign-up, REV six-monthly review, MIG migrated), employment_status (EMP, UNE, RET, LTS long-term
  sick, STU), benefit_type (UC, HB, PC, NON), income_band (L, M, H), arrears_band (NIL, LT13,
  GE13), support_flag (0/1), wellbeing_score (1-10, only from 2016), last_updated.

Defects at ``DefectRates``: NI missing (more often before 2005) or malformed, swapped dates of
birth, name typos and nicknames, surnames not updated after marriage, duplicate contacts (later
applications and tenancies point at the duplicate), late records, corrected records (a wrong
start or end date, band, date of birth or income band until fixed), contradictory tenancies
(end before start, or overlapping the household's previous tenancy), and test contacts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_sources import defects
from synthetic_sources import keyed_random as kr
from synthetic_sources.systems.assets import prop_refs
from synthetic_sources.systems.base import CONTRACTS, GO_LIVE, DefectRates, SystemExtract, TableSpec

SYSTEM = "crm"
GO = GO_LIVE[SYSTEM]
MARKER = CONTRACTS[SYSTEM].tables["contact"].marker
REVIEW_MONTHS = 6
WELLBEING_FROM = pd.Timestamp("2016-01-01")
NI_BETTER_FROM = pd.Timestamp("2005-01-01")

TENANCY_TYPE = {"general_needs": "GEN", "sheltered": "SHL", "extra_care": "EXC", "temporary": "TMP"}
LET_TYPE = {"initial": "MIG", "register": "REG", "homeless": "HML", "transfer": "TRF"}
END_REASON = {"moved_out": "VOL", "transfer": "TRF", "died": "DEC", "evicted": "EVI",
              "care_home": "CHM", "moved_on": "MOV"}
NEED_TYPE = {"general": "GEN", "homeless": "HML", "transfer": "TRF", "sheltered": "SHL",
             "extra_care": "EXC"}
APP_STATUS = {"let": "LET", "withdrawn": "WDN", "open": "OPEN"}
EMPLOYMENT = {"employed": "EMP", "unemployed": "UNE", "retired": "RET", "unable_to_work": "LTS",
              "student": "STU"}
BENEFIT = {"universal_credit": "UC", "housing_benefit": "HB", "pension_credit": "PC", "none": "NON"}
INCOME = {"low": "L", "middle": "M", "high": "H"}
ARREARS = {0: "NIL", 1: "LT13", 2: "GE13"}
TERMINAL_END = ("moved_out", "died", "evicted", "care_home")

# Record ids: contact refs are a keyed bijection of (person id, copy) so they leak neither the
# true id nor creation order; other refs are the truth id plus a table offset.
_CONTACT_MOD = 99_999_989  # prime: multiplication by any non-zero residue is a bijection
_CONTACT_BASE = 10_000_000
HOUSEHOLD_OFFSET = 500_000
APPLICATION_OFFSET = 900_000
TENANCY_OFFSET = 700_000

_NAT = np.datetime64("NaT", "ns")
_GO64 = np.datetime64(GO, "ns")

# A duplicate contact is keyed in a hurry by someone who did not find the first one.
_DUP_RATES = {"typo": 0.25, "nickname": 0.40, "surname_typo": 0.10, "ni_missing": 0.35,
              "dob_swapped": 0.10}
_SURNAME_UPDATED = 0.6  # share of pre-marriage contacts whose surname is later updated


def _dt(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(np.asarray(values))).to_numpy().astype("datetime64[ns]")


def _codes(values, mapping: dict) -> np.ndarray:
    """Truth values to the system's codes, mapping each distinct value once (None if unknown)."""
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        cats = values.cat.categories
        table = np.array([mapping.get(u) for u in cats] + [None], dtype=object)
        return table[values.cat.codes.to_numpy()]
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    table = np.array([mapping.get(u) for u in uniques] + [None], dtype=object)
    return table[codes]


def _ns(ts) -> np.datetime64:
    return np.datetime64(pd.Timestamp(ts), "ns")


def _days(n) -> np.ndarray:
    return np.asarray(n, dtype=np.int64).astype("timedelta64[D]")


def _lookup(index_values, table: pd.Series, default=None) -> np.ndarray:
    """``table[index_values]`` as an array, ``default`` where missing (vectorised map)."""
    out = table.reindex(np.asarray(index_values))
    if default is not None:
        out = out.fillna(default)
    return out.to_numpy()


def contact_refs(person_ids, copy: int, seed: int) -> np.ndarray:
    """The contact ref of a person's ``copy``-th contact record (0 primary, 1 duplicate)."""
    pid = np.asarray(person_ids, dtype=np.int64)
    if pid.size and (pid.max() * 2 + 1 >= _CONTACT_MOD or pid.min() < 0):
        raise ValueError("person ids out of the CRM contact-ref range")
    mult = int(kr.integers(seed, "crm:contact_ref_mult", [0], 1, _CONTACT_MOD)[0])
    return _CONTACT_BASE + (pid * 2 + copy) * mult % _CONTACT_MOD


# ---------------------------------------------------------------------------------------------
# histories: every record with the dates its as-of content changes, independent of as_of


def _application_history(truth, seed, rates) -> pd.DataFrame:
    a = truth["applications"]
    aid = a["application_id"].to_numpy(dtype=np.int64)
    applied = _dt(a["applied_date"])
    outcome_date = _dt(a["outcome_date"])
    outcome = a["outcome"].to_numpy(dtype=object)
    visible, corrected = defects.arrival(applied, aid, seed, "crm:application", rates, GO)
    out_vis, _ = defects.arrival(outcome_date, aid, seed, "crm:application_outcome", rates, GO)
    ever = ~(~np.isnat(outcome_date) & (outcome_date < _GO64) & (outcome != "open"))
    return pd.DataFrame({
        "application_id": aid, "household_id": a["household_id"].to_numpy(dtype=np.int64),
        "person_id": a["person_id"].to_numpy(dtype=np.int64), "applied": applied,
        "band": a["band"].to_numpy(dtype=object), "need_type": a["need_type"].to_numpy(dtype=object),
        "offers": a["offers"].to_numpy(dtype=np.int64), "outcome": outcome,
        "outcome_date": outcome_date, "tenancy_id": a["tenancy_id"].to_numpy(dtype=np.int64),
        "visible": visible, "corrected": corrected,
        "outcome_vis": np.where(outcome == "open", _NAT, np.maximum(out_vis, visible)),
        "ever": ever,
    })


def _tenancy_history(truth, seed, rates) -> pd.DataFrame:
    t = truth["tenancies"]
    tid = t["tenancy_id"].to_numpy(dtype=np.int64)
    start = _dt(t["start_date"])
    end = _dt(t["end_date"])
    visible, corrected = defects.arrival(start, tid, seed, "crm:tenancy", rates, GO)
    end_vis, end_corr = defects.arrival(end, tid, seed, "crm:tenancy_end", rates, GO)
    end_vis = np.where(np.isnat(end), _NAT, np.maximum(end_vis, visible))
    # a wrong end is fixed after it was first shown, never before
    end_corr = np.where(np.isnat(end) | np.isnat(end_corr), _NAT,
                        np.maximum(end_corr, end_vis + _days(1)))
    ever = ~(~np.isnat(end) & (end < _GO64))
    h = pd.DataFrame({
        "tenancy_id": tid, "household_id": t["household_id"].to_numpy(dtype=np.int64),
        "person_id": t["person_id"].to_numpy(dtype=np.int64),
        "unit_id": t["unit_id"].to_numpy(dtype=np.int64),
        "tenancy_type": t["tenancy_type"].to_numpy(dtype=object),
        "route": t["route"].to_numpy(dtype=object),
        "application_id": t["application_id"].to_numpy(dtype=np.int64),
        "start": start, "end": end, "end_reason": t["end_reason"].to_numpy(dtype=object),
        "visible": visible, "corrected": corrected, "end_vis": end_vis, "end_corr": end_corr,
        "ever": ever,
    })
    return h


def _household_history(truth, apps, tens) -> pd.DataFrame:
    """A household is keyed with its first application or tenancy, whichever is keyed first."""
    h = truth["households"]
    hid = h["household_id"].to_numpy(dtype=np.int64)
    formed = _dt(h["formed"])
    first_app = apps[apps["ever"]].groupby("household_id")["visible"].min()
    first_ten = tens[tens["ever"]].groupby("household_id")["visible"].min()
    a = _lookup(hid, first_app).astype("datetime64[ns]")
    t = _lookup(hid, first_ten).astype("datetime64[ns]")
    visible = np.fmin(a, t)
    # the date the household's CRM history starts: its first application or tenancy in the CRM
    first_true = np.fmin(
        _dt(_lookup(hid, apps[apps["ever"]].groupby("household_id")["applied"].min())),
        _dt(_lookup(hid, tens[tens["ever"]].groupby("household_id")["start"].min())))
    first_true = np.where(np.isnat(first_true), formed, first_true).astype("datetime64[ns]")
    # the household ends with a tenancy that ends for good (moving on counts only if last)
    tv = tens[tens["ever"]].sort_values(["household_id", "start", "tenancy_id"])
    is_last = ~tv["household_id"].duplicated(keep="last")
    reason = tv["end_reason"]
    terminal = tv[~tv["end"].isna() & (reason.isin(TERMINAL_END) | ((reason == "moved_on") & is_last))]
    terminal = terminal.sort_values(["household_id", "end"]).drop_duplicates("household_id", keep="last")
    end = _dt(_lookup(hid, terminal.set_index("household_id")["end"]))
    end_vis = _dt(_lookup(hid, terminal.set_index("household_id")["end_vis"]))
    return pd.DataFrame({
        "household_id": hid, "lead_person_id": h["lead_person_id"].to_numpy(dtype=np.int64),
        "area": h["area"].to_numpy(dtype=object), "size": h["n_members"].to_numpy(dtype=np.int64),
        "joined": first_true, "visible": visible, "end": end, "end_vis": end_vis,
    })


def _contact_history(truth, households, apps, tens, seed, rates) -> pd.DataFrame:
    """Primary contacts (leads and members of households in the CRM) and their duplicates."""
    people = truth["people"].set_index("person_id")
    hh = households[~np.isnat(households["visible"].to_numpy())].set_index("household_id")
    p = truth["people"]
    in_hh = p["household_id"].isin(hh.index) & p["role"].isin(["lead", "member"])
    lead_ids = set(hh["lead_person_id"])
    q = p[in_hh | p["person_id"].isin(lead_ids)]
    pid = q["person_id"].to_numpy(dtype=np.int64)
    is_lead = q["person_id"].isin(lead_ids).to_numpy()
    hh_of = np.where(is_lead, -1, q["household_id"].to_numpy(dtype=np.int64))
    lead_hh = pd.Series(hh.index.to_numpy(), index=hh["lead_person_id"].to_numpy())
    lead_hh = lead_hh[~lead_hh.index.duplicated()]
    hh_of = np.where(is_lead, _lookup(pid, lead_hh, -1), hh_of).astype(np.int64)
    hh_vis = _dt(_lookup(hh_of, hh["visible"]))
    hh_joined = _dt(_lookup(hh_of, hh["joined"]))

    # a lead is keyed with the household's first record; a member with the household, or
    # later if they joined later
    own_true = np.where(is_lead, hh_joined, np.fmax(_dt(q["entered"]), hh_joined))
    own_vis, corrected = defects.arrival(own_true, pid, seed, "crm:contact", rates, GO)
    visible = np.where(is_lead, hh_vis, np.fmax(own_vis, hh_vis))
    corrected = visible + (corrected - own_vis)  # fixed as long after keying as drawn
    death = _dt(q["death_date"])
    ever = ~np.isnat(visible) & (np.isnat(death) | (death >= visible) | is_lead)
    primary = pd.DataFrame({
        "person_id": pid, "copy": 0, "household_id": hh_of, "is_lead": is_lead,
        "joined": np.where(is_lead, hh_joined, own_true).astype("datetime64[ns]"),
        "visible": visible.astype("datetime64[ns]"), "corrected": corrected,
    })[ever]

    # applicants and tenants who belong to no household in the CRM still need a contact
    refs = pd.concat([apps.loc[apps["ever"], ["person_id", "visible"]],
                      tens.loc[tens["ever"], ["person_id", "visible"]]])
    refs = refs[~refs["person_id"].isin(primary["person_id"])].groupby("person_id")["visible"].min()
    if len(refs):
        primary = pd.concat([primary, pd.DataFrame({
            "person_id": refs.index.to_numpy(dtype=np.int64), "copy": 0, "household_id": -1,
            "is_lead": False, "joined": _NAT, "visible": refs.to_numpy().astype("datetime64[ns]"),
            "corrected": defects.arrival(refs.to_numpy(), refs.index.to_numpy(), seed, "crm:contact",
                                         rates, GO)[1]})], ignore_index=True)

    # duplicates: a second record keyed 1 month to 2 years later, never after death
    dup = kr.bernoulli(seed, "crm:duplicate", primary["person_id"], rates.crm_duplicate_person)
    d = primary[dup].copy()
    lag = kr.integers(seed, "crm:duplicate_lag", d["person_id"], 30, 731)
    d["visible"] = (d["visible"].to_numpy() + _days(lag)).astype("datetime64[ns]")
    d_death = _dt(_lookup(d["person_id"], people["death_date"]))
    d = d[np.isnat(d_death) | (d["visible"].to_numpy() <= d_death)]
    d["copy"] = 1
    d["corrected"] = _NAT
    d["household_id"] = -1
    d["is_lead"] = False
    c = pd.concat([primary, d], ignore_index=True)
    c["contact_ref"] = contact_refs(c["person_id"], 0, seed)
    c.loc[c["copy"] == 1, "contact_ref"] = contact_refs(c.loc[c["copy"] == 1, "person_id"], 1, seed)
    return c


def _pointing_contact(person_ids, record_visible, contacts: pd.DataFrame, seed) -> np.ndarray:
    """The contact a record was keyed against: the duplicate if it already existed, else primary."""
    dups = contacts[contacts["copy"] == 1].set_index("person_id")["visible"]
    dup_vis = _dt(_lookup(person_ids, dups))
    use_dup = ~np.isnat(dup_vis) & (np.asarray(record_visible) >= dup_vis)
    return np.where(use_dup, contact_refs(person_ids, 1, seed), contact_refs(person_ids, 0, seed))


# ---------------------------------------------------------------------------------------------
# as-of tables


def _contact_table(truth, contacts, as_of, since, seed, rates) -> tuple[pd.DataFrame, pd.DataFrame]:
    people = truth["people"].set_index("person_id")
    pid = contacts["person_id"].to_numpy()
    ref = contacts["contact_ref"].to_numpy(dtype=np.int64)
    is_dup = contacts["copy"].to_numpy() == 1
    visible = contacts["visible"].to_numpy()
    idx = pd.RangeIndex(len(contacts))

    def field(col):
        return people[col].reindex(pid).to_numpy()

    first = defects.name_as_recorded(
        pd.Series(field("first_name"), index=idx, dtype=object), ref, seed, "crm:first_name",
        np.where(is_dup, _DUP_RATES["typo"], rates.name_typo),
        np.where(is_dup, _DUP_RATES["nickname"], rates.nickname))

    # the surname a record was keyed with: before a marriage the old one, kept unless updated
    changed = _dt(field("surname_changed"))
    prev = pd.Series(field("previous_surname"), dtype=object).fillna("").to_numpy()
    has_change = ~np.isnat(changed) & (prev != "")
    old_at_keying = has_change & (visible < changed)
    surname_then = np.where(old_at_keying, prev, field("surname"))
    s_rate = np.where(is_dup, _DUP_RATES["surname_typo"], rates.name_typo)
    sur_then = defects.name_as_recorded(pd.Series(surname_then, index=idx, dtype=object), ref, seed,
                                        "crm:surname", s_rate)
    sur_new = defects.name_as_recorded(pd.Series(field("surname"), index=idx, dtype=object), ref,
                                       seed, "crm:surname_new", s_rate)
    updated = old_at_keying & kr.bernoulli(seed, "crm:surname_updated", ref, _SURNAME_UPDATED)
    upd_lag = kr.integers(seed, "crm:surname_update_lag", ref, 7, 366)
    surname_upd = np.where(updated, changed + _days(upd_lag), _NAT).astype("datetime64[ns]")
    as_of64 = _ns(as_of)
    surname = np.where(~np.isnat(surname_upd) & (surname_upd <= as_of64), sur_new, sur_then)

    dob = defects.dob_swapped(pd.Series(_dt(field("dob")), index=idx), ref, seed, "crm:dob",
                              np.where(is_dup, _DUP_RATES["dob_swapped"], rates.dob_swapped)).to_numpy()
    # a corrected contact was first keyed with the wrong year of birth
    wrong_dob = dob + _days(np.where(kr.bernoulli(seed, "crm:wrong_dob", ref, 0.5), 365, -365))
    corrected = contacts["corrected"].to_numpy()
    dob = np.where(~np.isnat(corrected) & (corrected > as_of64), wrong_dob, dob)

    missing = np.where(is_dup, _DUP_RATES["ni_missing"],
                       np.where(visible < _ns(NI_BETTER_FROM), rates.ni_missing_crm_before_2005,
                                rates.ni_missing["crm"]))
    ni = defects.ni_as_recorded(pd.Series(field("ni_number"), index=idx, dtype=object), ref, seed,
                                "crm:ni", missing, rates.ni_malformed)
    sex = field("sex").astype(object)
    frame = defects.frame_of({
        "contact_ref": ref,
        "title": _titles(sex, _dt(field("dob")), visible, ref, seed),
        "first_name": first.to_numpy(),
        "surname": surname, "sex": sex, "date_of_birth": dob.astype("datetime64[ns]"),
        "ni_no": ni.to_numpy(), "date_created": visible.astype("datetime64[ns]"),
    })
    marker = defects.latest_on_or_before(as_of, visible, surname_upd, corrected)
    present = visible <= as_of64
    test = _test_contacts(seed, rates)
    frame = pd.concat([frame, test.drop(columns=["person_id"])], ignore_index=True)
    tvis = test["date_created"].to_numpy()
    keys = np.concatenate([ref, test["contact_ref"].to_numpy()])
    marker = np.concatenate([marker, np.where(tvis <= as_of64, tvis, _NAT)])
    present = np.concatenate([present, tvis <= as_of64])
    out = defects.as_of_rows(frame, keys, marker, present, since, seed, "crm:contact", MARKER)
    persons = pd.Series(np.concatenate([pid, test["person_id"].to_numpy()]), index=keys)
    records = _records("contact", out["contact_ref"].astype(str), persons.reindex(out["contact_ref"]))
    return out, records


def _titles(sex, dob, keyed_on, keys, seed) -> np.ndarray:
    """Titles as a clerk picked them: children are Master or Miss, adults mostly Mr/Mrs/Ms."""
    male = kr.choice(seed, "crm:title_m", keys, ["Mr", "Dr", None], [0.98, 0.01, 0.01])
    female = kr.choice(seed, "crm:title_f", keys, ["Mrs", "Miss", "Ms", "Dr", None],
                       [0.45, 0.25, 0.28, 0.01, 0.01])
    child = (keyed_on - dob) < np.timedelta64(16 * 365, "D")
    male = np.where(child, "Master", male)
    female = np.where(child, "Miss", female)
    return np.where(np.asarray(sex) == "M", male, female).astype(object)


def _test_contacts(seed, rates) -> pd.DataFrame:
    t = defects.test_records(SYSTEM, rates.test_records, seed, GO)
    return pd.DataFrame({
        "contact_ref": (t["test_index"] + 1).to_numpy(dtype=np.int64),
        "title": None, "first_name": t["first_name"].to_numpy(dtype=object),
        "surname": t["surname"].to_numpy(dtype=object), "sex": t["sex"].to_numpy(dtype=object),
        "date_of_birth": t["dob"].to_numpy(), "ni_no": t["ni_number"].to_numpy(dtype=object),
        "date_created": t["created"].to_numpy(), "person_id": t["person_id"].to_numpy(),
    })


def _household_tables(people, households, contacts, as_of, since, seed, rates):
    hh = households[~np.isnat(households["visible"].to_numpy())]
    hid = hh["household_id"].to_numpy(dtype=np.int64)
    visible = hh["visible"].to_numpy()
    frame = defects.frame_of({
        "household_ref": hid + HOUSEHOLD_OFFSET,
        "lead_contact_ref": contact_refs(hh["lead_person_id"], 0, seed),
        "local_authority": hh["area"].astype(object).str.upper().to_numpy(dtype=object),
        "household_size": hh["size"].to_numpy(dtype=np.int64),
        "date_created": visible,
    })
    marker = defects.latest_on_or_before(as_of, visible)
    household = defects.as_of_rows(frame, hid, marker, visible <= _ns(as_of), since, seed,
                                   "crm:household", MARKER)

    # members: every primary contact of a household, lead included
    m = contacts[(contacts["copy"] == 0) & (contacts["household_id"] >= 0)]
    mh = hh.set_index("household_id").reindex(m["household_id"].to_numpy())
    pid = m["person_id"].to_numpy()
    person = people.reindex(pid)
    death = _dt(person["death_date"])
    hh_end = mh["end"].to_numpy().astype("datetime64[ns]")
    hh_end_vis = mh["end_vis"].to_numpy().astype("datetime64[ns]")
    is_lead = m["is_lead"].to_numpy()
    died_first = ~is_lead & ~np.isnat(death) & (np.isnat(hh_end) | (death < hh_end))
    d_vis, _ = defects.arrival(death, pid, seed, "crm:member_death", rates, GO)
    left = np.where(died_first, death, hh_end).astype("datetime64[ns]")
    left_vis = np.where(died_first, d_vis, hh_end_vis).astype("datetime64[ns]")
    m_vis = m["visible"].to_numpy()
    left_vis = np.where(np.isnat(left_vis), _NAT, np.fmax(left_vis, m_vis))
    lead_dob = _dt(people["dob"].reindex(mh["lead_person_id"].to_numpy()))
    frame = defects.frame_of({
        "household_ref": m["household_id"].to_numpy(dtype=np.int64) + HOUSEHOLD_OFFSET,
        "contact_ref": m["contact_ref"].to_numpy(dtype=np.int64),
        "relationship": _relationships(is_lead, _dt(person["dob"]), lead_dob, pid, seed),
        "date_joined": m["joined"].to_numpy(),
        "date_left": defects.shown_once_visible(left, left_vis, as_of),
    })
    key = defects.compound_key(m["household_id"], pid)
    marker = defects.latest_on_or_before(as_of, m_vis, left_vis)
    member = defects.as_of_rows(frame, key, marker, m_vis <= _ns(as_of), since, seed,
                                "crm:household_member", MARKER)
    by_ref = pd.Series(pid, index=m["contact_ref"].to_numpy())
    records = _records("household_member",
                       member["household_ref"].astype(str) + "|" + member["contact_ref"].astype(str),
                       by_ref.reindex(member["contact_ref"]))
    return household, member, records


def _relationships(is_lead, dob, lead_dob, keys, seed) -> np.ndarray:
    gap = (dob - lead_dob).astype("timedelta64[D]").astype(np.float64) / 365.25
    rel = np.where(gap >= 15, "CHLD", np.where(gap <= -15, "PRNT", "PTNR")).astype(object)
    other = kr.bernoulli(seed, "crm:relationship_other", keys, 0.05)
    rel = np.where(other, "OTHR", rel)
    return np.where(is_lead, "LEAD", rel).astype(object)


def _application_table(apps, tens, contacts, as_of, since, seed, rates):
    a = apps[apps["ever"]]
    aid = a["application_id"].to_numpy(dtype=np.int64)
    as_of64 = _ns(as_of)
    visible = a["visible"].to_numpy()
    applied = a["applied"].to_numpy()
    outcome = a["outcome"].to_numpy()
    # a let is shown once its tenancy is keyed; a withdrawal once it is recorded
    ten_vis = _dt(_lookup(a["tenancy_id"], tens.set_index("tenancy_id")["visible"]))
    known = np.where(outcome == "let", np.fmax(ten_vis, visible), a["outcome_vis"].to_numpy())
    known = np.where(outcome == "open", _NAT, known).astype("datetime64[ns]")
    is_known = ~np.isnat(known) & (known <= as_of64)

    offers, last_offer = _offers_as_of(a, as_of64)
    corrected = a["corrected"].to_numpy()
    band = a["band"].to_numpy(dtype=object)
    wrong_band = _codes(band, {"A": "B", "B": "C", "C": "D", "D": "C"})
    band = np.where(~np.isnat(corrected) & (corrected > as_of64), wrong_band, band)
    ten_ref = np.where(is_known & (a["tenancy_id"].to_numpy() >= 0),
                       a["tenancy_id"].to_numpy() + TENANCY_OFFSET, -1)
    # people known only to care services apply for extra care without a household record
    hh_id = a["household_id"].to_numpy(dtype=np.int64)
    frame = defects.frame_of({
        "application_ref": aid + APPLICATION_OFFSET,
        "household_ref": pd.array(np.where(hh_id >= 0, hh_id + HOUSEHOLD_OFFSET, 0), dtype="Int64"),
        "contact_ref": _pointing_contact(a["person_id"].to_numpy(), visible, contacts, seed),
        "date_applied": applied,
        "band": band,
        "need_type": _codes(a["need_type"].to_numpy(), NEED_TYPE),
        "offers_made": offers,
        "status": np.where(is_known, _codes(outcome, APP_STATUS), "OPEN"),
        "status_date": np.where(is_known, a["outcome_date"].to_numpy(), _NAT).astype("datetime64[ns]"),
        "tenancy_ref": pd.array(np.where(ten_ref >= 0, ten_ref, 0), dtype="Int64"),
    })
    frame.loc[ten_ref < 0, "tenancy_ref"] = pd.NA
    frame.loc[hh_id < 0, "household_ref"] = pd.NA
    marker = defects.latest_on_or_before(as_of, visible, known, last_offer, corrected)
    out = defects.as_of_rows(frame, aid, marker, visible <= as_of64, since, seed, "crm:application",
                             MARKER)
    person = pd.Series(a["person_id"].to_numpy(), index=aid + APPLICATION_OFFSET)
    records = _records("application", out["application_ref"].astype(str),
                       person.reindex(out["application_ref"]))
    return out, records


OFFER_INTERVAL_DAYS = 42


def _offers_as_of(a: pd.DataFrame, as_of64) -> tuple[np.ndarray, np.ndarray]:
    """Offers made by ``as_of`` and the date of the last one.

    The truth holds how many offers an applicant refuses at most (decided when they apply);
    refused offer k is made ``k * OFFER_INTERVAL_DAYS`` after applying, while the application
    is still open, and a let adds the accepted offer on the let date. Every offer's date is
    known from the application alone, so tonight's count is the same whatever the horizon.
    """
    applied = a["applied"].to_numpy()
    outcome_date = a["outcome_date"].to_numpy()
    n = a["offers"].to_numpy(dtype=np.int64)
    decided = ~np.isnat(outcome_date)
    d = (as_of64 - applied).astype("timedelta64[D]").astype(np.int64)
    until_outcome = np.where(decided, (outcome_date - applied).astype("timedelta64[D]").astype(np.int64) - 1, d)
    horizon = np.minimum(d, until_outcome)
    refused = np.clip(np.where(horizon >= 0, horizon // OFFER_INTERVAL_DAYS, 0), 0, n)
    accepted = (a["outcome"].to_numpy(dtype=object) == "let") & decided & (outcome_date <= as_of64)
    made = np.where(d < 0, 0, refused + accepted)
    last_refused = applied + _days(refused * OFFER_INTERVAL_DAYS)
    last = np.where(accepted, outcome_date, np.where(refused > 0, last_refused, _NAT)).astype("datetime64[ns]")
    return made.astype(np.int64), last


def _tenancy_table(tens, contacts, as_of, since, seed, rates):
    t = tens[tens["ever"]].sort_values(["household_id", "start", "tenancy_id"])
    tid = t["tenancy_id"].to_numpy(dtype=np.int64)
    as_of64 = _ns(as_of)
    start = t["start"].to_numpy()
    end = t["end"].to_numpy()
    visible = t["visible"].to_numpy()
    end_vis = t["end_vis"].to_numpy()
    end_corr = t["end_corr"].to_numpy()
    corrected = t["corrected"].to_numpy()

    # contradictions, kept for ever: an overlap with the previous tenancy, or an end before start
    contra = kr.bernoulli(seed, "crm:tenancy_contradictory", tid, rates.contradictory)
    same_hh = np.r_[False, t["household_id"].to_numpy()[1:] == t["household_id"].to_numpy()[:-1]]
    prev_start = np.r_[_NAT, start[:-1]].astype("datetime64[ns]")
    prev_end = np.r_[_NAT, end[:-1]].astype("datetime64[ns]")
    overlap = contra & same_hh & ~np.isnat(prev_end)
    back = _days(kr.integers(seed, "crm:tenancy_overlap_days", tid, 1, 91))
    rec_start = np.where(overlap, np.maximum(prev_end - back, prev_start + _days(1)), start)
    before = contra & ~overlap
    early = _days(kr.integers(seed, "crm:tenancy_end_before_start", tid, 1, 366))
    rec_end = np.where(before, start - early, end).astype("datetime64[ns]")

    # corrections: a wrong start (too early) or a wrong end (too early) until fixed
    wrong_start = rec_start - _days(kr.integers(seed, "crm:tenancy_wrong_start", tid, 1, 31))
    rec_start = np.where(~np.isnat(corrected) & (corrected > as_of64), wrong_start, rec_start)
    wrong_end = rec_end - _days(kr.integers(seed, "crm:tenancy_wrong_end", tid, 1, 46))
    rec_end = np.where(~np.isnat(end_corr) & (end_corr > as_of64), wrong_end, rec_end)
    end_known = ~np.isnat(end_vis) & (end_vis <= as_of64)

    app_ref = t["application_id"].to_numpy(dtype=np.int64)
    frame = defects.frame_of({
        "tenancy_ref": tid + TENANCY_OFFSET,
        "household_ref": t["household_id"].to_numpy(dtype=np.int64) + HOUSEHOLD_OFFSET,
        "contact_ref": _pointing_contact(t["person_id"].to_numpy(), visible, contacts, seed),
        "prop_ref": prop_refs(t["unit_id"]),
        "tenancy_type": _codes(t["tenancy_type"].to_numpy(), TENANCY_TYPE),
        "let_type": _codes(t["route"].to_numpy(), LET_TYPE),
        "application_ref": pd.array(np.where(app_ref >= 0, app_ref + APPLICATION_OFFSET, 0), dtype="Int64"),
        "tenancy_start": rec_start.astype("datetime64[ns]"),
        "tenancy_end": np.where(end_known, rec_end, _NAT).astype("datetime64[ns]"),
        "end_reason_code": np.where(end_known, _codes(t["end_reason"].to_numpy(), END_REASON), None),
    })
    frame.loc[app_ref < 0, "application_ref"] = pd.NA
    marker = defects.latest_on_or_before(as_of, visible, end_vis, end_corr, corrected)
    out = defects.as_of_rows(frame, tid, marker, visible <= as_of64, since, seed, "crm:tenancy", MARKER)
    person = pd.Series(t["person_id"].to_numpy(), index=tid + TENANCY_OFFSET)
    records = _records("tenancy", out["tenancy_ref"].astype(str), person.reindex(out["tenancy_ref"]))
    return out, records


def _circumstance_history(truth, tens, seed, rates) -> pd.DataFrame:
    """The lead's circumstances at sign-up (or migration) and every six months after.

    Read from the true monthly timeline: a review in month m records the lead's state that
    month. Keyed ``tenancy_id * 10000 + months since the tenancy's start month``: stable.
    """
    pm = truth["person_months"]
    tv = tens[tens["ever"]]
    ids = tv["tenancy_id"].to_numpy(dtype=np.int64)
    size = int(max(ids.max(initial=0), pm["tenancy_id"].max() if len(pm) else 0)) + 1

    def by_tenancy(values, fill):
        dense = np.full(size, fill, dtype=np.asarray(values).dtype)
        dense[ids] = values
        return dense

    lead_of = by_tenancy(tv["person_id"].to_numpy(dtype=np.int64), np.int64(-1))
    start_of = by_tenancy(tv["start"].to_numpy().astype("datetime64[M]").astype(np.int64), np.int64(0))
    tid_all = pm["tenancy_id"].to_numpy(dtype=np.int64)
    is_lead_row = lead_of[np.maximum(tid_all, 0)] == pm["person_id"].to_numpy(dtype=np.int64)
    rows = np.flatnonzero((tid_all >= 0) & is_lead_row)
    tid = tid_all[rows]
    m_ord = pm["month"].to_numpy()[rows].astype("datetime64[M]").astype(np.int64)
    since_start = m_ord - start_of[tid]
    first_of = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    firsts = pd.Series(m_ord).groupby(tid).min()
    first_of[firsts.index.to_numpy()] = firsts.to_numpy()
    is_first = m_ord == first_of[tid]
    pick = (since_start % REVIEW_MONTHS == 0) | is_first
    rows, tid, m_ord, since_start, is_first = (
        rows[pick], tid[pick], m_ord[pick], since_start[pick], is_first[pick])
    month = m_ord.astype("datetime64[M]").astype("datetime64[ns]")
    start = by_tenancy(tv["start"].to_numpy().astype("datetime64[ns]"), _NAT)[tid]
    circ_id = tid * 10_000 + since_start
    day = kr.integers(seed, "crm:review_day", circ_id, 0, 28)
    review = np.where(since_start == 0, start,
                      np.where(is_first, month, month + _days(day))).astype("datetime64[ns]")
    kind = np.where(since_start == 0, "NEW", np.where(is_first & (review <= _GO64), "MIG", "REV"))
    end = by_tenancy(tv["end"].to_numpy().astype("datetime64[ns]"), _NAT)[tid]
    ok = np.isnat(end) | (review < end)
    sel = rows[ok]
    visible, corrected = defects.arrival(review[ok], circ_id[ok], seed, "crm:circumstance", rates, GO)
    ten_vis = by_tenancy(tv["visible"].to_numpy().astype("datetime64[ns]"), _NAT)[tid[ok]]
    cols = ["arrears_band", "wellbeing", "employment", "benefits", "income_band", "has_support_need"]
    h = pm.iloc[sel][cols].reset_index(drop=True)
    h["circ_id"] = circ_id[ok]
    h["tenancy_id"] = tid[ok]
    h["person_id"] = pm["person_id"].to_numpy(dtype=np.int64)[sel]
    h["review"] = review[ok]
    h["kind"] = kind[ok]
    h["visible"] = np.fmax(visible, ten_vis)
    h["corrected"] = corrected
    return h


def _circumstance_table(hist, contacts, as_of, since, seed):
    as_of64 = _ns(as_of)
    cid = hist["circ_id"].to_numpy(dtype=np.int64)
    visible = hist["visible"].to_numpy()
    corrected = hist["corrected"].to_numpy()
    income = _codes(hist["income_band"], INCOME)
    wrong = _codes(income, {"L": "M", "M": "L", "H": "M"})
    income = np.where(~np.isnat(corrected) & (corrected > as_of64), wrong, income)
    review = hist["review"].to_numpy()
    wb = hist["wellbeing"].to_numpy(dtype=np.int64)
    wb_ok = (review >= _ns(WELLBEING_FROM)) & (wb >= 1)
    arrears = hist["arrears_band"].to_numpy(dtype=np.int64)
    frame = defects.frame_of({
        "circ_ref": cid,
        "tenancy_ref": hist["tenancy_id"].to_numpy(dtype=np.int64) + TENANCY_OFFSET,
        "contact_ref": _pointing_contact(hist["person_id"].to_numpy(), visible, contacts, seed),
        "review_date": review,
        "review_type": hist["kind"].to_numpy(dtype=object),
        "employment_status": _codes(hist["employment"], EMPLOYMENT),
        "benefit_type": _codes(hist["benefits"], BENEFIT),
        "income_band": income,
        "arrears_band": _codes(arrears, ARREARS),
        "support_flag": hist["has_support_need"].to_numpy(dtype=np.int64),
        "wellbeing_score": pd.array(np.where(wb_ok, wb, 0), dtype="Int64"),
    })
    frame.loc[~wb_ok, "wellbeing_score"] = pd.NA
    marker = defects.latest_on_or_before(as_of, visible, corrected)
    return defects.as_of_rows(frame, cid, marker, visible <= as_of64, since, seed,
                              "crm:circumstance", MARKER)


def _records(table: str, keys: pd.Series, person_ids: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({
        "system": pd.Series([SYSTEM] * len(keys), dtype=object),
        "table": pd.Series([table] * len(keys), dtype=object),
        "record_key": pd.Series(np.asarray(keys, dtype=object), dtype=object),
        "person_id": np.asarray(person_ids, dtype=np.int64),
    })


# ---------------------------------------------------------------------------------------------


def build(truth: dict[str, pd.DataFrame], as_of: pd.Timestamp, seed: int,
          rates: DefectRates = DefectRates(), since: pd.Timestamp | None = None) -> SystemExtract:
    """The CRM as it stood at the end of ``as_of`` (only rows changed after ``since``).

    Reads the truth tables ``people``, ``households``, ``tenancies``, ``applications`` and
    ``person_months``. ``source_records`` maps contacts (duplicates and test contacts
    included; test contacts to -1), household members, applications and tenancies to people.
    """
    as_of = pd.Timestamp(as_of).normalize()
    apps = _application_history(truth, seed, rates)
    tens = _tenancy_history(truth, seed, rates)
    households = _household_history(truth, apps, tens)
    contacts = _contact_history(truth, households, apps, tens, seed, rates)
    people = truth["people"].set_index("person_id")

    contact, r_contact = _contact_table(truth, contacts, as_of, since, seed, rates)
    household, member, r_member = _household_tables(people, households, contacts, as_of, since, seed, rates)
    application, r_app = _application_table(apps, tens, contacts, as_of, since, seed, rates)
    tenancy, r_ten = _tenancy_table(tens, contacts, as_of, since, seed, rates)
    circumstance = _circumstance_table(_circumstance_history(truth, tens, seed, rates), contacts,
                                       as_of, since, seed)
    tables = {
        "contact": TableSpec(contact, ["contact_ref"], MARKER),
        "household": TableSpec(household, ["household_ref"], MARKER),
        "household_member": TableSpec(member, ["household_ref", "contact_ref"], MARKER),
        "application": TableSpec(application, ["application_ref"], MARKER),
        "tenancy": TableSpec(tenancy, ["tenancy_ref"], MARKER),
        "circumstance": TableSpec(circumstance, ["circ_ref"], MARKER),
    }
    records = pd.concat([r_contact, r_member, r_app, r_ten], ignore_index=True)
    return SystemExtract(system=SYSTEM, databases={"crm": tables}, source_records=records)
