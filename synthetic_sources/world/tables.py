"""Reading the world out as the truth tables of docs/truth_store.md.

Ids in the tables are the array index plus one. Days are integers since 1970 inside the engine
and dates here; ``NEVER`` (an event that has not happened by the horizon) becomes NaT.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import codes as C
from . import history as E
from .geography import AREAS, TEAMS
from .params import SEGMENT_NAMES

_AREAS = np.asarray(AREAS, dtype=object)


def dates(days) -> np.ndarray:
    days = np.asarray(days, dtype=np.int64)
    out = (C.EPOCH + np.where(days >= C.NEVER, 0, days)).astype("datetime64[ns]")
    out[days >= C.NEVER] = np.datetime64("NaT")
    return out


def _names(codes, names) -> np.ndarray:
    return np.asarray(names, dtype=object)[np.asarray(codes, dtype=np.int64)]


def _ids(idx) -> np.ndarray:
    idx = np.asarray(idx, dtype=np.int64)
    return np.where(idx >= 0, idx + 1, -1)


def static_tables(w: E.World) -> dict[str, pd.DataFrame]:
    """Every truth table but the monthly timeline."""
    p = w.people
    n = p.n
    people = pd.DataFrame(
        {
            "person_id": _ids(np.arange(n)),
            "role": _names(p.role[:n], ("lead", "member", "outside")),
            "household_id": _ids(p.household[:n]),
            "sex": _names(p.sex[:n], ("M", "F")),
            "dob": dates(p.dob[:n]),
            "first_name": p.first_name[:n],
            "surname": p.surname[:n],
            "previous_surname": p.previous_surname[:n],
            "surname_changed": dates(p.surname_changed[:n]),
            "ni_number": _ni(w, n),
            "segment": p.segment[:n].astype(np.int8),
            "segment_name": [SEGMENT_NAMES[int(s)] for s in p.segment[:n]],
            "area": _AREAS[p.area[:n]],
            "postcode": p.postcode[:n],
            "entered": dates(p.entered[:n]),
            "origin": _names(p.origin[:n], C.ORIGINS),
            "death_date": dates(p.death_day[:n]),
            "death_place": _names(p.death_place[:n], C.DEATH_PLACES),
        }
    )
    h = w.households
    households = pd.DataFrame(
        {
            "household_id": _ids(np.arange(h.n)),
            "lead_person_id": _ids(h.lead[: h.n]),
            "area": _AREAS[h.area[: h.n]],
            "formed": dates(h.formed[: h.n]),
            "n_members": h.n_members[: h.n].astype(np.int64),
        }
    )
    schemes = w.schemes.drop(columns=["area_code"]).copy()
    units = w.units_frame.drop(columns=["area_code"]).copy()
    t = w.tenancies
    tn = t.n
    tenancies = pd.DataFrame(
        {
            "tenancy_id": _ids(np.arange(tn)),
            "household_id": _ids(t.household[:tn]),
            "person_id": _ids(t.person[:tn]),
            "unit_id": _ids(t.unit[:tn]),
            "scheme_id": w.u_scheme[t.unit[:tn]],
            "tenancy_type": _names(t.type[:tn], C.UNIT_TYPES),
            "route": _names(t.route[:tn], C.ROUTES),
            "application_id": _ids(t.application[:tn]),
            "start_date": dates(t.start[:tn]),
            "end_date": dates(t.end[:tn]),
            "end_reason": _names(t.end_reason[:tn], C.END_REASONS),
        }
    )
    a = w.applications
    an = a.n
    outcome = a.outcome[:an].copy()
    outcome_day = a.outcome_day[:an].copy()
    # an open application of someone who has left or died was withdrawn then
    exit_day = p.exit_day[a.person[:an]]
    withdrawn = (outcome == C.OUTCOMES.index("open")) & (exit_day < C.NEVER)
    outcome[withdrawn] = C.OUTCOMES.index("withdrawn")
    outcome_day[withdrawn] = exit_day[withdrawn]
    applications = pd.DataFrame(
        {
            "application_id": _ids(np.arange(an)),
            "household_id": _ids(a.household[:an]),
            "person_id": _ids(a.person[:an]),
            "applied_date": dates(a.applied[:an]),
            "band": a.band[:an],
            "need_type": _names(a.need_type[:an], C.NEED_TYPES),
            "offers": a.offers[:an].astype(np.int64),
            "outcome": _names(outcome, C.OUTCOMES),
            "outcome_date": dates(outcome_day),
            "tenancy_id": _ids(a.tenancy[:an]),
        }
    )
    v = w.voids
    voids = pd.DataFrame(
        {
            "void_id": _ids(np.arange(v.n)),
            "unit_id": _ids(v.unit[: v.n]),
            "start_date": dates(v.start[: v.n]),
            "end_date": dates(v.end[: v.n]),
            "reason": _names(v.reason[: v.n], C.VOID_REASONS),
        }
    )
    st = w.stays
    sn = st.n
    care_stays = pd.DataFrame(
        {
            "stay_id": _ids(np.arange(sn)),
            "person_id": _ids(st.person[:sn]),
            "scheme_id": st.scheme[:sn],
            "care_type": _names(st.care_type[:sn], ("residential", "nursing")),
            "stay_kind": _names(st.kind[:sn], C.STAY_KINDS),
            "referral_date": dates(st.referral[:sn]),
            "admission_date": dates(st.admission[:sn]),
            "discharge_date": dates(st.discharge[:sn]),
            "admission_source": _names(st.source[:sn], ("hospital", "home")),
            "discharge_destination": _names(st.dest[:sn], C.STAY_DEST),
        }
    )
    sp = w.spells
    pn = sp.n
    discharge = sp.discharge[:pn]
    ready = sp.ready[:pn]
    delayed = np.where(discharge < C.NEVER, np.maximum(discharge - np.minimum(ready, discharge), 0), 0)
    hospital_spells = pd.DataFrame(
        {
            "spell_id": _ids(np.arange(pn)),
            "person_id": _ids(sp.person[:pn]),
            "admission_date": dates(sp.admission[:pn]),
            "ready_date": dates(np.minimum(ready, discharge)),
            "discharge_date": dates(discharge),
            "from_state": _names(sp.from_state[:pn], C.STATE_NAMES),
            "destination": _names(sp.dest[:pn], C.SPELL_DEST),
            "delayed_days": delayed.astype(np.int64),
            "care_stay_id": _ids(sp.stay[:pn]),
        }
    )
    hs = w.hospice
    hn = hs.n
    hospice_stays = pd.DataFrame(
        {
            "stay_id": _ids(np.arange(hn)),
            "person_id": _ids(hs.person[:hn]),
            "admission_date": dates(hs.admission[:hn]),
            "discharge_date": dates(hs.discharge[:hn]),
            "from_state": _names(hs.from_state[:hn], C.STATE_NAMES),
            "outcome": np.where(hs.died[:hn] == 1, "died", "discharged").astype(object),
            "care_stay_id": _ids(hs.stay[:hn]),
        }
    )
    pk = w.packages
    kn = pk.n
    care_packages = pd.DataFrame(
        {
            "package_id": _ids(np.arange(kn)),
            "person_id": _ids(pk.person[:kn]),
            "team": _names(pk.team[:kn], TEAMS),
            "referral_date": dates(pk.referral[:kn]),
            "start_date": dates(pk.start[:kn]),
            "end_date": dates(pk.end[:kn]),
            "hours_per_week": pk.hours[:kn].astype(np.float64),
            "end_reason": _names(pk.end_reason[:kn], C.PACKAGE_END),
        }
    )
    queues = pd.DataFrame(w.queue_rows)
    queues["month"] = [month_start(m) for m in queues["month"]]
    return {
        "people": people,
        "households": households,
        "schemes": schemes,
        "units": units,
        "tenancies": tenancies,
        "applications": applications,
        "voids": voids,
        "care_stays": care_stays,
        "hospital_spells": hospital_spells,
        "hospice_stays": hospice_stays,
        "care_packages": care_packages,
        "queues": queues,
    }


def _ni(w: E.World, n: int) -> np.ndarray:
    from .identity import ni_numbers

    return ni_numbers(_ids(np.arange(n)), w.seed)


def month_start(t: int) -> pd.Timestamp:
    first, _, _, _ = E.month_bounds(int(t))
    return pd.Timestamp(dates([first])[0])


def person_months(w: E.World, rows: list[dict]) -> pd.DataFrame:
    """The monthly census of simulated people, plus household members following their household."""
    if not rows:
        return pd.DataFrame()
    cat = {k: np.concatenate([r[k] for r in rows]) for k in rows[0] if k != "month"}
    months = np.concatenate([np.full(len(r["person"]), r["month"], dtype=np.int32) for r in rows])
    lead_part = _frame(w, cat["person"], months, cat)
    members = _member_rows(w, int(months.min()), int(months.max()))
    out = pd.concat([lead_part, members], ignore_index=True)
    return out.sort_values(["month", "person_id"], kind="stable").reset_index(drop=True)


def _month_of_day(days) -> np.ndarray:
    """Month index (0 = 1998-01) of days since 1970."""
    m = (C.EPOCH + np.asarray(days, dtype=np.int64)).astype("datetime64[M]").astype(np.int64)
    return m - (np.datetime64("1998-01", "M").astype(np.int64))


def _month_end_days(months: np.ndarray) -> np.ndarray:
    uniq = np.unique(months)
    ends = {int(m): E.month_bounds(int(m))[1] for m in uniq}
    lut = np.array([ends[int(m)] for m in uniq], dtype=np.int64)
    return lut[np.searchsorted(uniq, months)]


def _categorical(codes, names) -> pd.Categorical:
    """Codes straight into a categorical: millions of rows without a string per row."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(names))


def _frame(w, person, months, cat) -> pd.DataFrame:
    p = w.people
    end = _month_end_days(months)
    unit = cat["unit"]
    stay = cat["stay"]
    bed = np.where(stay >= 0, w.stays.unit[np.maximum(stay, 0)], -1)
    where = np.where(unit >= 0, unit, bed)
    area = np.where(where >= 0, w.u_area[np.maximum(where, 0)], p.area[person])
    scheme = np.where(where >= 0, w.u_scheme[np.maximum(where, 0)], -1)
    return pd.DataFrame(
        {
            "person_id": _ids(person),
            "month": dates([E.month_bounds(int(m))[0] for m in np.unique(months)])[np.searchsorted(np.unique(months), months)],
            "state": _categorical(cat["state"], C.STATE_NAMES),
            "need_level": cat["need"].astype(np.int8),
            "care_hours": cat["hours"].astype(np.float32),
            "age": ((end - p.dob[person]) // 365.25).astype(np.int16),
            "area": _categorical(area, AREAS),
            "household_id": _ids(np.where(cat["tenancy"] >= 0, p.household[person], -1)),
            "tenancy_id": _ids(cat["tenancy"]),
            "scheme_id": scheme.astype(np.int64),
            "unit_id": _ids(where),
            "arrears_band": cat["arrears"].astype(np.int8),
            "wellbeing": cat["wellbeing"].astype(np.int8),
            "employment": _categorical(cat["employment"], C.EMPLOYMENT),
            "benefits": _categorical(cat["benefits"], C.BENEFITS),
            "income_band": _categorical(cat["income"], C.INCOME),
            "has_support_need": cat["support"].astype(np.int8),
        }
    )


def _member_rows(w: E.World, m0: int, m1: int) -> pd.DataFrame:
    """Members live wherever their household's tenancy is, and leave when it ends."""
    p = w.people
    n = p.n
    members = np.flatnonzero(p.role[:n] == C.ROLE_MEMBER)
    t = w.tenancies
    tn = t.n
    if len(members) == 0 or tn == 0:
        return pd.DataFrame()
    order = np.lexsort((t.start[:tn], t.household[:tn]))
    hh_sorted = t.household[:tn][order]
    start_sorted = t.start[:tn][order].astype(np.int64)
    end_sorted = t.end[:tn][order].astype(np.int64)
    first_start = np.full(w.households.n, C.NEVER, dtype=np.int64)
    np.minimum.at(first_start, t.household[:tn], t.start[:tn].astype(np.int64))
    last_end = np.zeros(w.households.n, dtype=np.int64)
    np.maximum.at(last_end, t.household[:tn], t.end[:tn].astype(np.int64))
    # members who died before this stretch of months are not in it
    members = members[p.death_day[members] >= E.month_bounds(m0)[0]]
    hh = p.household[members]
    first_m = np.maximum(_month_of_day(first_start[hh]), m0)
    ended = last_end[hh] < C.NEVER
    stop_m = np.where(ended, np.minimum(m1, _month_of_day(np.where(ended, last_end[hh], 0))), m1)
    count = np.maximum(stop_m - first_m + 1, 0)
    who = np.repeat(members, count)
    months = np.repeat(first_m, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    end_day = _month_end_days(months)
    hw = p.household[who]
    # one sorted key per (household, start day); days since 1970 are within +-2**20
    key = hh_sorted * (1 << 22) + start_sorted + (1 << 21)
    probe = hw.astype(np.int64) * (1 << 22) + end_day + (1 << 21)
    pos = np.searchsorted(key, probe, side="right") - 1
    ok = (pos >= 0) & (hh_sorted[np.maximum(pos, 0)] == hw) & (end_sorted[np.maximum(pos, 0)] > end_day)
    ttype = t.type[:tn][order][np.maximum(pos, 0)]
    state = np.where(ok, ttype, C.MOVED).astype(np.int8)
    tenancy = np.where(ok, order[np.maximum(pos, 0)], -1)
    unit = np.where(ok, t.unit[:tn][tenancy.clip(0)], -1)
    # a member who died is in the timeline up to the month of death
    died = p.death_day[who] <= end_day
    state = np.where(died, C.DIED, state).astype(np.int8)
    tenancy = np.where(died, -1, tenancy)
    unit = np.where(died, -1, unit)
    # keep each member's rows up to and including the first month they have left or died
    gone = (state == C.MOVED) | (state == C.DIED)
    first_gone = pd.Series(gone).groupby(who).cumsum().to_numpy()
    keep = (first_gone == 0) | (gone & (first_gone == 1))
    # a member is only in the timeline from when they are known (the household's start)
    keep &= p.entered[who] <= end_day
    who, months, state, tenancy, unit = who[keep], months[keep], state[keep], tenancy[keep], unit[keep]
    k = len(who)
    cat = {
        "state": state, "need": p.need[who], "hours": np.zeros(k, np.float32), "tenancy": tenancy, "unit": unit,
        "arrears": np.full(k, -1, np.int8), "wellbeing": np.full(k, -1, np.int8), "employment": p.employment[who],
        "benefits": p.benefits[who], "income": p.income[who], "support": p.support[who], "stay": np.full(k, -1),
    }
    return _frame(w, who, months, cat)
