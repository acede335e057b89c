"""A small hand-made truth store (docs/truth_store.md) for the CRM and asset writers' tests.

It is not a simulation: tenancies, applications and timelines are drawn independently, just
plausible enough (and large enough) to exercise every as-of rule and to measure defect rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AREAS = [
    "Cardiff", "Vale of Glamorgan", "Rhondda Cynon Taf", "Bridgend",
    "Newport", "Caerphilly", "Merthyr Tydfil", "Neath Port Talbot",
]
MALE = ["David", "William", "Robert", "Richard", "Gareth", "Thomas", "Evan", "John", "Edward",
        "Rhys", "Owen", "Llyr", "Geraint", "Huw", "Aled", "Ioan", "Mark", "Paul", "Kevin"]
FEMALE = ["Elizabeth", "Margaret", "Catherine", "Jennifer", "Gwyneth", "Rhiannon", "Sian", "Ceri",
          "Nia", "Megan", "Cerys", "Ffion", "Carys", "Lowri", "Sarah", "Emma", "Helen"]
SURNAMES = ["Jones", "Williams", "Davies", "Evans", "Thomas", "Roberts", "Lewis", "Hughes",
            "Morgan", "Griffiths", "Edwards", "Owen", "Price", "Jenkins", "Rees", "Powell",
            "Phillips", "Bevan", "Pritchard", "Llewellyn", "Watkins", "Parry", "Howells"]
UNTIL = pd.Timestamp("2026-10-31")
START = pd.Timestamp("1998-01-01")


def _days(rng, low, high, n):
    return pd.to_timedelta(rng.integers(low, high, n), unit="D")


def _rand_dates(rng, start, end, n):
    span = (pd.Timestamp(end) - pd.Timestamp(start)).days
    return (pd.Timestamp(start) + _days(rng, 0, span, n)).to_numpy().astype("datetime64[ns]")


def _schemes_units(rng):
    kinds = (["general_needs"] * 16 + ["sheltered"] * 6 + ["extra_care"] * 2 + ["temporary"] * 4
             + ["care_home"] * 3)
    n = len(kinds)
    opened = _rand_dates(rng, "1960-01-01", "2020-01-01", n)
    closed = np.full(n, np.datetime64("NaT", "ns"))
    closed[3] = np.datetime64("2001-06-30", "ns")  # closed before asset go-live
    closed[5] = np.datetime64("2015-03-31", "ns")
    cap = rng.integers(15, 60, n)
    res = np.where(np.array(kinds) == "care_home", cap * 2 // 3, 0)
    schemes = pd.DataFrame({
        "scheme_id": np.arange(1, n + 1, dtype=np.int64),
        "scheme_type": kinds,
        "name": [f"Scheme {i}" for i in range(1, n + 1)],
        "area": rng.choice(AREAS, n),
        "postcode": [f"CF{i % 50} {i % 9}AB" for i in range(n)],
        "opened": opened,
        "closed": closed,
        "vendor": np.where(np.array(kinds) == "care_home", rng.choice(["A", "B"], n), ""),
        "capacity": cap.astype(np.int64),
        "residential_beds": res.astype(np.int64),
        "nursing_beds": np.where(np.array(kinds) == "care_home", cap - res, 0).astype(np.int64),
    })
    scheme_of = np.repeat(schemes["scheme_id"].to_numpy(), cap)
    kind_of = np.repeat(np.array(kinds), cap)
    nu = len(scheme_of)
    within = np.concatenate([np.arange(c) for c in cap])
    res_of = np.repeat(res, cap)
    unit_type = np.where(kind_of == "care_home", np.where(within < res_of, "residential", "nursing"), kind_of)
    avail = np.maximum(np.repeat(opened, cap), _rand_dates(rng, "1960-01-01", "2024-01-01", nu))
    units = pd.DataFrame({
        "unit_id": np.arange(1, nu + 1, dtype=np.int64),
        "scheme_id": scheme_of.astype(np.int64),
        "unit_type": unit_type,
        "bedrooms": np.where(kind_of == "general_needs", rng.integers(1, 5, nu), 1).astype(np.int64),
        "is_accessible": rng.integers(0, 2, nu).astype(np.int64),
        "postcode": [f"CF{i % 40} {i % 9}XY" for i in range(nu)],
        "available_from": avail.astype("datetime64[ns]"),
    })
    return schemes, units


def _voids(rng, units):
    nu = len(units)
    per = rng.integers(0, 4, nu)
    unit_id = np.repeat(units["unit_id"].to_numpy(), per)
    n = len(unit_id)
    start = _rand_dates(rng, "1999-01-01", "2026-10-15", n)
    end = start + _days(rng, 3, 120, n).to_numpy()
    end = np.where(end > np.datetime64(UNTIL), np.datetime64("NaT", "ns"), end).astype("datetime64[ns]")
    return pd.DataFrame({
        "void_id": np.arange(1, n + 1, dtype=np.int64),
        "unit_id": unit_id.astype(np.int64),
        "start_date": start,
        "end_date": end,
        "reason": rng.choice(["tenancy_end", "new_build", "repairs"], n, p=[0.85, 0.05, 0.10]),
    })


def make_truth(n_households: int = 3000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A truth dict with the tables and columns of docs/truth_store.md the CRM and assets read."""
    rng = np.random.default_rng(seed)
    schemes, units = _schemes_units(rng)
    rentable = units[units["unit_type"].isin(["general_needs", "sheltered", "extra_care", "temporary"])]

    # households and their tenancies (1..3 in a row, later ones transfers)
    nh = n_households
    hh_id = np.arange(1, nh + 1, dtype=np.int64)
    initial = rng.random(nh) < 0.4
    formed = np.where(initial, _rand_dates(rng, "1965-01-01", "1997-12-31", nh),
                      _rand_dates(rng, "1997-06-01", "2026-09-30", nh)).astype("datetime64[ns]")
    n_ten = 1 + (rng.random(nh) < 0.25) + (rng.random(nh) < 0.08)
    rows = []
    start = np.where(initial, formed, formed + _days(rng, 30, 500, nh).to_numpy()).astype("datetime64[ns]")
    alive = start <= np.datetime64(UNTIL)
    ten_id = 1
    for k in range(3):
        active = alive & (n_ten > k)
        idx = np.nonzero(active)[0]
        m = len(idx)
        dur = _days(rng, 60, 9000, m).to_numpy()
        end = start[idx] + dur
        last = n_ten[idx] == k + 1
        reason = np.where(last, rng.choice(["moved_out", "died", "evicted", "care_home", "moved_on"], m,
                                          p=[0.5, 0.3, 0.03, 0.12, 0.05]), "transfer")
        open_ = end > np.datetime64(UNTIL)
        rows.append(pd.DataFrame({
            "tenancy_id": np.arange(ten_id, ten_id + m, dtype=np.int64),
            "household_id": hh_id[idx],
            "seq": k,
            "route": np.where(k > 0, "transfer", np.where(initial[idx], "initial",
                                                           rng.choice(["register", "homeless"], m))),
            "start_date": start[idx],
            "end_date": np.where(open_, np.datetime64("NaT", "ns"), end).astype("datetime64[ns]"),
            "end_reason": np.where(open_, "", reason),
        }))
        ten_id += m
        alive = np.zeros(nh, dtype=bool)
        alive[idx] = ~open_ & ~last
        nxt = np.full(nh, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
        nxt[idx] = end + _days(rng, 0, 10, m).to_numpy()
        start = nxt
        alive &= start <= np.datetime64(UNTIL)
    ten = pd.concat(rows, ignore_index=True)
    u = rentable.sample(len(ten), replace=True, random_state=seed)
    ten["unit_id"] = u["unit_id"].to_numpy()
    ten["scheme_id"] = u["scheme_id"].to_numpy()
    ten["tenancy_type"] = u["unit_type"].to_numpy()

    # people: one lead per household, 0-3 members, some outside
    n_mem = np.minimum(rng.poisson(0.8, nh), 3)
    lead_pid = np.arange(1, nh + 1, dtype=np.int64) * 10
    mem_hh = np.repeat(hh_id, n_mem)
    mem_pid = np.repeat(lead_pid, n_mem) + np.concatenate([np.arange(1, c + 1) for c in n_mem]).astype(np.int64)
    n_out = nh // 10
    out_pid = 10 * nh + 100 + np.arange(n_out, dtype=np.int64) * 10
    pid = np.concatenate([lead_pid, mem_pid, out_pid])
    n = len(pid)
    role = np.array(["lead"] * nh + ["member"] * len(mem_pid) + ["outside"] * n_out)
    household = np.concatenate([hh_id, mem_hh, np.full(n_out, -1)]).astype(np.int64)
    sex = rng.choice(["M", "F"], n)
    first = np.where(sex == "M", rng.choice(MALE, n), rng.choice(FEMALE, n))
    surname = rng.choice(SURNAMES, n)
    changed = (sex == "F") & (rng.random(n) < 0.15)
    prev = np.where(changed, rng.choice(SURNAMES, n), "")
    sc_date = np.where(changed, _rand_dates(rng, "1995-01-01", "2026-09-01", n),
                       np.datetime64("NaT", "ns")).astype("datetime64[ns]")
    dob = _rand_dates(rng, "1920-01-01", "2004-01-01", n)
    prefix = np.array(["AB", "CE", "JK", "NP", "SW", "TR", "WX", "YZ"])[np.arange(n) % 8]
    suffix = np.array(["A", "B", "C", "D"])[np.arange(n) % 4]
    ni = pd.Series(prefix) + pd.Series(np.arange(n)).astype(str).str.zfill(6) + pd.Series(suffix)

    first_start = ten.groupby("household_id")["start_date"].min()
    hh_first = pd.Series(hh_id).map(first_start).to_numpy().astype("datetime64[ns]")
    hh_first = np.where(pd.isna(hh_first), formed, hh_first).astype("datetime64[ns]")
    entered = np.concatenate([hh_first, np.repeat(hh_first, n_mem),
                              _rand_dates(rng, "2005-01-01", "2026-09-01", n_out)])
    last_ten = ten.sort_values("seq").groupby("household_id").last()
    died_lead = pd.Series(hh_id).map(last_ten["end_reason"]).fillna("").to_numpy() == "died"
    death = np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    death[:nh] = np.where(died_lead, pd.Series(hh_id).map(last_ten["end_date"]).to_numpy(),
                          np.datetime64("NaT", "ns"))
    mem_dies = rng.random(len(mem_pid)) < 0.05
    mem_death = np.repeat(hh_first, n_mem) + _days(rng, 100, 6000, len(mem_pid)).to_numpy()
    death[nh:nh + len(mem_pid)] = np.where(mem_dies & (mem_death <= np.datetime64(UNTIL)), mem_death,
                                            np.datetime64("NaT", "ns"))
    people = pd.DataFrame({
        "person_id": pid,
        "role": role,
        "household_id": household,
        "sex": sex,
        "dob": dob,
        "first_name": first,
        "surname": surname,
        "previous_surname": prev,
        "surname_changed": sc_date,
        "ni_number": ni.to_numpy(),
        "segment": np.where(role == "member", 0, rng.integers(1, 7, n)).astype(np.int8),
        "segment_name": np.where(role == "member", "member", "older_ageing_in_place"),
        "area": rng.choice(AREAS, n),
        "postcode": "CF10 1AA",
        "entered": entered.astype("datetime64[ns]"),
        "origin": np.where(role == "member", "member", np.where(role == "outside", "outside_care", "register")),
        "death_date": death,
        "death_place": np.where(pd.isna(death), "", "home"),
    })
    households = pd.DataFrame({
        "household_id": hh_id,
        "lead_person_id": lead_pid,
        "area": rng.choice(AREAS, nh),
        "formed": formed,
        "n_members": (1 + n_mem).astype(np.int64),
    })
    ten["person_id"] = ten["household_id"] * 10

    # applications: one per non-initial tenancy (let), plus withdrawn and open ones
    let = ten[ten["route"] != "initial"]
    m = len(let)
    apps_let = pd.DataFrame({
        "household_id": let["household_id"].to_numpy(),
        "person_id": let["person_id"].to_numpy(),
        "applied_date": (let["start_date"] - _days(rng, 20, 500, m)).to_numpy(),
        "need_type": np.where(let["route"] == "transfer", "transfer",
                              np.where(let["route"] == "homeless", "homeless", "general")),
        "offers": rng.integers(1, 4, m),
        "outcome": "let",
        "outcome_date": let["start_date"].to_numpy(),
        "tenancy_id": let["tenancy_id"].to_numpy(),
    })
    k = nh // 5
    hh = rng.choice(hh_id, k)
    applied = _rand_dates(rng, "1996-01-01", "2026-10-20", k)
    outcome = rng.choice(["withdrawn", "open"], k, p=[0.6, 0.4])
    od = applied + _days(rng, 10, 900, k).to_numpy()
    outcome = np.where((outcome == "withdrawn") & (od > np.datetime64(UNTIL)), "open", outcome)
    apps_other = pd.DataFrame({
        "household_id": hh,
        "person_id": hh * 10,
        "applied_date": applied,
        "need_type": rng.choice(["general", "sheltered", "extra_care", "transfer"], k),
        "offers": rng.integers(0, 3, k),
        "outcome": outcome,
        "outcome_date": np.where(outcome == "open", np.datetime64("NaT", "ns"), od).astype("datetime64[ns]"),
        "tenancy_id": -1,
    })
    apps = pd.concat([apps_let, apps_other], ignore_index=True)
    apps.insert(0, "application_id", np.arange(1, len(apps) + 1, dtype=np.int64))
    apps.insert(4, "band", rng.choice(list("ABCD"), len(apps)))
    for c in ("offers", "tenancy_id", "household_id", "person_id"):
        apps[c] = apps[c].astype(np.int64)
    for c in ("applied_date", "outcome_date"):
        apps[c] = apps[c].astype("datetime64[ns]")
    ten["application_id"] = ten["tenancy_id"].map(
        apps[apps["tenancy_id"] >= 0].set_index("tenancy_id")["application_id"]).fillna(-1).astype(np.int64)

    # person_months: leads and members while in a tenancy
    tm = ten.merge(people[["person_id", "household_id"]], on="household_id", suffixes=("_lead", ""))
    first_m = np.maximum(tm["start_date"].dt.to_period("M"), pd.Period(START, "M"))
    last_m = tm["end_date"].fillna(UNTIL).dt.to_period("M")
    months = np.array([p.ordinal for p in last_m]) - np.array([p.ordinal for p in first_m]) + 1
    months = np.maximum(months, 0)
    rep = np.repeat(np.arange(len(tm)), months)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(months) - months, months)
    base_ord = np.array([p.ordinal for p in first_m])[rep] + offs
    month = pd.PeriodIndex.from_ordinals(base_ord, freq="M").to_timestamp()
    t = tm.iloc[rep].reset_index(drop=True)
    is_lead = (t["person_id"] == t["person_id_lead"]).to_numpy()
    nr = len(t)
    pm = pd.DataFrame({
        "person_id": t["person_id"].to_numpy(),
        "month": month.to_numpy().astype("datetime64[ns]"),
        "state": t["tenancy_type"].to_numpy(),
        "need_level": rng.integers(0, 4, nr).astype(np.int8),
        "care_hours": np.zeros(nr, dtype=np.float32),
        "age": np.full(nr, 50, dtype=np.int16),
        "area": "Cardiff",
        "household_id": t["household_id"].to_numpy(),
        "tenancy_id": t["tenancy_id"].to_numpy(),
        "scheme_id": t["scheme_id"].to_numpy(),
        "unit_id": t["unit_id"].to_numpy(),
        "arrears_band": np.where(is_lead, rng.choice([0, 1, 2], nr, p=[0.55, 0.41, 0.04]), -1).astype(np.int8),
        "wellbeing": np.where(is_lead, rng.integers(1, 11, nr), -1).astype(np.int8),
        "employment": rng.choice(["employed", "unemployed", "retired", "unable_to_work", "student"], nr),
        "benefits": rng.choice(["universal_credit", "housing_benefit", "pension_credit", "none"], nr),
        "income_band": rng.choice(["low", "middle", "high"], nr),
        "has_support_need": rng.integers(0, 2, nr).astype(np.int8),
    })
    ten = ten.drop(columns=["seq"])[
        ["tenancy_id", "household_id", "person_id", "unit_id", "scheme_id", "tenancy_type", "route",
         "application_id", "start_date", "end_date", "end_reason"]]
    return {
        "people": people,
        "households": households,
        "schemes": schemes,
        "units": units,
        "tenancies": ten,
        "applications": apps,
        "voids": _voids(rng, units),
        "person_months": pm,
    }


# ---------------------------------------------------------------------------------------------
# checks shared by the system tests


def row_hashes(frame: pd.DataFrame) -> pd.Series:
    """One hash per row over every column, NULL-safe (None, NaN, NaT and <NA> hash alike)."""
    norm = frame.astype(object).where(frame.notna(), None)
    return pd.util.hash_pandas_object(norm, index=False)


def _keyed(frame: pd.DataFrame, pk: list[str]) -> pd.Series:
    return pd.Series(row_hashes(frame).to_numpy(), index=pd.MultiIndex.from_frame(frame[pk]))


def check_delta(build, truth, seed, d1, d2, rates=None) -> dict[str, int]:
    """``build(d2, since=d1)`` holds exactly the rows of ``build(d2)`` that are new or changed
    since ``build(d1)``, and upserting it into ``build(d1)`` gives ``build(d2)``.

    Returns the delta size per table (so a test can also check the delta is not trivially empty).
    """
    kw = {} if rates is None else {"rates": rates}
    full1 = build(truth, d1, seed, **kw)
    full2 = build(truth, d2, seed, **kw)
    delta = build(truth, d2, seed, since=d1, **kw)
    sizes = {}
    for db, tables in full2.databases.items():
        for name, spec2 in tables.items():
            pk = spec2.primary_key
            f1 = full1.databases[db][name].frame
            dl = delta.databases[db][name].frame
            h1, h2 = _keyed(f1, pk), _keyed(spec2.frame, pk)
            assert h2.index.is_unique, f"{name}: primary key not unique"
            changed = h2[~h2.index.isin(h1.index) | (h2 != h1.reindex(h2.index)).to_numpy()]
            got = _keyed(dl, pk)
            assert set(got.index) == set(changed.index), f"{name}: delta rows != changed rows"
            assert (got.reindex(changed.index) == changed).all(), f"{name}: delta content differs"
            kept = f1[~pd.MultiIndex.from_frame(f1[pk]).isin(got.index)]
            upserted = pd.concat([kept, dl], ignore_index=True)
            assert len(upserted) == len(spec2.frame), f"{name}: upsert row count"
            a = _keyed(upserted, pk).sort_index()
            b = h2.sort_index()
            assert a.index.equals(b.index) and (a == b).all(), f"{name}: upsert != full build"
            sizes[name] = len(dl)
    return sizes


def assert_extract_equal(a, b) -> None:
    assert a.databases.keys() == b.databases.keys()
    for db in a.databases:
        assert a.databases[db].keys() == b.databases[db].keys()
        for name in a.databases[db]:
            pd.testing.assert_frame_equal(a.databases[db][name].frame, b.databases[db][name].frame)
    pd.testing.assert_frame_equal(a.source_records, b.source_records)
