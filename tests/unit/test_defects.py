"""The shared defect functions: rates on large keyed samples, and keyed (not positional) draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_sources import defects
from synthetic_sources.systems.base import DefectRates

N = 200_000
SEED = 7


def _sd(p, n):
    return np.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def ni():
    i = np.arange(N)
    prefix = np.array(["AB", "CE", "JK", "NP"])[i % 4]
    return pd.Series(prefix + pd.Series(i).astype(str).str.zfill(6).to_numpy() + np.array(list("ABCD"))[i % 4],
                     dtype=object)


@pytest.fixture(scope="module")
def keys():
    # sparse, unordered record ids: nothing may depend on them being 0..n-1
    return np.random.default_rng(0).permutation(N).astype(np.int64) * 7919 + 13


def _canonical(ni_values: pd.Series) -> pd.Series:
    s = ni_values.astype(object).str.upper().str.replace(r"[\s-]", "", regex=True)
    letters, digits = s.str[:2], s.str[2:8].str.replace("O", "0").str.replace("I", "1")
    return letters + digits + s.str[8:]


def test_ni_missing_and_malformed_rates(ni, keys):
    out = defects.ni_as_recorded(ni, keys, SEED, "t", 0.03, 0.05)
    missing = out.isna()
    assert abs(missing.mean() - 0.03) < 4 * _sd(0.03, N)
    present = ~missing
    bad = present & (out != ni)
    assert abs(bad.sum() / present.sum() - 0.05) < 4 * _sd(0.05, present.sum())
    # every malformed value is a recognisable version of the true one
    canon = _canonical(out[bad])
    true = ni[bad]
    assert ((canon == true) | (canon == true.str[:8])).all()
    # all five kinds occur
    kinds = pd.Series(np.select(
        [out[bad].str.contains(" "), out[bad].str.contains("-"), out[bad].str.islower(),
         out[bad].str.len() == 8], ["spaced", "hyphen", "lower", "no_suffix"], "letter_o"))
    assert set(kinds) == {"spaced", "hyphen", "lower", "no_suffix", "letter_o"}


def test_ni_missing_rate_per_row(ni, keys):
    rate = np.where(np.arange(N) < N // 2, 0.08, 0.03)
    out = defects.ni_as_recorded(ni, keys, SEED, "t", rate, 0.0)
    assert abs(out[: N // 2].isna().mean() - 0.08) < 4 * _sd(0.08, N // 2)
    assert abs(out[N // 2:].isna().mean() - 0.03) < 4 * _sd(0.03, N // 2)
    assert (out.dropna() == ni[out.notna()]).all()


def test_draws_are_keyed_not_positional(ni, keys):
    """A record's defects do not depend on which other records are in the frame, or where."""
    full = defects.ni_as_recorded(ni, keys, SEED, "t", 0.2, 0.3)
    pick = np.random.default_rng(1).choice(N, 5000, replace=False)
    part = defects.ni_as_recorded(ni.iloc[pick].reset_index(drop=True), keys[pick], SEED, "t", 0.2, 0.3)
    assert part.tolist() == full.iloc[pick].tolist()
    names = pd.Series(np.resize(["David", "Gwyneth", "Jones", "Rhiannon"], N), dtype=object)
    full_n = defects.name_as_recorded(names, keys, SEED, "n", 0.2, 0.2)
    part_n = defects.name_as_recorded(names.iloc[pick].reset_index(drop=True), keys[pick], SEED, "n", 0.2, 0.2)
    assert part_n.tolist() == full_n.iloc[pick].tolist()
    # and a different seed or salt gives different defects
    assert not defects.ni_as_recorded(ni, keys, SEED + 1, "t", 0.2, 0.3).equals(full)


def test_ni_keeps_index_and_missing_input(keys):
    s = pd.Series(["AB123456C", None, "CE654321A"], index=[10, 20, 30], dtype=object)
    out = defects.ni_as_recorded(s, keys[:3], SEED, "t", 0.0, 0.0)
    assert list(out.index) == [10, 20, 30]
    assert out.tolist() == ["AB123456C", None, "CE654321A"]
    assert out.dtype == object


def test_dob_swapped(keys):
    dob = pd.Series(pd.Timestamp("1930-01-01") + pd.to_timedelta(np.arange(N) % 25_000, unit="D"))
    out = defects.dob_swapped(dob, keys, SEED, "d", 0.01)
    changed = out != dob
    eligible = (dob.dt.day <= 12) & (dob.dt.day != dob.dt.month)
    assert not (changed & ~eligible).any()
    assert abs(changed[eligible].mean() - 0.01) < 4 * _sd(0.01, eligible.sum())
    assert (out[changed].dt.day == dob[changed].dt.month).all()
    assert (out[changed].dt.month == dob[changed].dt.day).all()
    assert (out[changed].dt.year == dob[changed].dt.year).all()
    with_nat = defects.dob_swapped(pd.Series([pd.NaT, pd.Timestamp("1950-03-04")]), [1, 2], SEED, "d", 1.0)
    assert pd.isna(with_nat[0]) and with_nat[1] == pd.Timestamp("1950-04-03")


def test_nicknames_and_typos(keys):
    first = pd.Series(np.resize(["David", "William", "Margaret", "Gwyneth", "Huw", "Llyr", "Jo"], N),
                      dtype=object)
    out = defects.name_as_recorded(first, keys, SEED, "f", 0.03, 0.02)
    has_nick = first.isin(defects.NICKNAMES.keys())
    is_nick = pd.Series([o in defects.NICKNAMES.get(f, []) for f, o in zip(first, out)])
    assert abs(is_nick[has_nick].mean() - 0.02) < 4 * _sd(0.02, has_nick.sum())
    assert not is_nick[~has_nick].any()
    typo = (out != first) & ~is_nick
    assert abs(typo[~is_nick].mean() - 0.03) < 4 * _sd(0.03, (~is_nick).sum())
    t_in, t_out = first[typo], out[typo]
    assert (t_out.str[0] == t_in.str[0]).all(), "typos keep the first letter"
    assert ((t_out.str.len() - t_in.str.len()).abs() <= 1).all()
    assert (t_out.str.len() > 0).all()


def test_surname_typos_without_nicknames(keys):
    sur = pd.Series(np.resize(["Jones", "Williams", "Ap Rhys", "Wynne-Jones"], N), dtype=object)
    out = defects.name_as_recorded(sur, keys, SEED, "s", 0.05)
    assert abs((out != sur).mean() - 0.05) < 4 * _sd(0.05, N)


def test_nickname_map_has_the_welsh_and_english_forms():
    for formal, nick in [("David", "Dai"), ("David", "Dave"), ("William", "Bill"), ("William", "Wil"),
                         ("Elizabeth", "Liz"), ("Elizabeth", "Beth"), ("Margaret", "Peggy"),
                         ("Robert", "Bob"), ("Richard", "Dick"), ("Gareth", "Gaz"), ("Gwyneth", "Gwen"),
                         ("Rhiannon", "Rhi"), ("Thomas", "Twm"), ("Evan", "Ifan"), ("John", "Sion"),
                         ("Edward", "Ted")]:
        assert nick in defects.NICKNAMES[formal]
    assert "David" in defects.formal_names()["Dai"]


def test_format_date():
    d = pd.Series([pd.Timestamp("2024-03-07"), pd.NaT, pd.Timestamp("1999-12-31")], index=[5, 6, 7])
    assert defects.format_date(d, "%d/%m/%Y").tolist() == ["07/03/2024", None, "31/12/1999"]
    assert defects.format_date(d, "%Y%m%d").tolist() == ["20240307", None, "19991231"]
    assert defects.format_date(d, "%m-%d-%Y").tolist() == ["03-07-2024", None, "12-31-1999"]
    assert defects.format_date(d, "%d-%b-%y").tolist() == ["07-Mar-24", None, "31-Dec-99"]
    assert list(defects.format_date(d, "%Y").index) == [5, 6, 7]


def test_late_and_corrected(keys):
    ev = pd.Series(pd.Timestamp("2010-01-01") + pd.to_timedelta(np.arange(N) % 3000, unit="D"))
    rates = DefectRates()
    vis, corr = defects.late_and_corrected(ev, keys, SEED, "l", rates)
    lag = (vis - ev).dt.days
    assert lag.min() == 0 and lag.max() <= rates.late_max_days
    assert abs((lag > 0).mean() - rates.late) < 4 * _sd(rates.late, N)
    assert set(lag[lag > 0].unique()) == set(range(1, rates.late_max_days + 1))
    has = corr.notna()
    assert abs(has.mean() - rates.corrected) < 4 * _sd(rates.corrected, N)
    clag = (corr[has] - vis[has]).dt.days
    assert clag.min() >= 1 and clag.max() <= 60
    vis2, corr2 = defects.late_and_corrected(ev, keys, SEED, "l", DefectRates(late=0.0, corrected=0.0))
    assert (vis2 == ev).all() and vis2.dtype == "datetime64[ns]" and corr2.isna().all()


def test_arrival_migrates_history_on_go_live(keys):
    go = pd.Timestamp("2003-01-01")
    ev = pd.Series(pd.to_datetime(["1990-05-01", "2002-12-31", "2003-01-01", "2010-06-01", None]))
    vis, corr = defects.arrival(ev, keys[:5], SEED, "a", DefectRates(late=1.0, corrected=1.0), go)
    assert (vis[:2] == np.datetime64(go, "ns")).all()
    assert (vis[2:4] > ev[2:4].to_numpy()).all()  # all late at rate 1
    assert np.isnat(vis[4]) and np.isnat(corr[4])
    assert (corr[:4] > vis[:4]).all()


def test_latest_on_or_before():
    a = np.array(["2020-01-01", "2020-01-01", "NaT"], dtype="datetime64[ns]")
    b = np.array(["2021-01-01", "NaT", "NaT"], dtype="datetime64[ns]")
    got = defects.latest_on_or_before(pd.Timestamp("2020-06-30"), a, b)
    assert got[0] == a[0] and got[1] == a[1] and np.isnat(got[2])
    got = defects.latest_on_or_before(pd.Timestamp("2021-06-30"), a, b)
    assert got[0] == b[0]


def test_test_records_are_stable_dummies():
    t1 = defects.test_records("crm", 4, SEED, pd.Timestamp("1998-01-01"))
    t2 = defects.test_records("crm", 4, SEED, pd.Timestamp("1998-01-01"))
    pd.testing.assert_frame_equal(t1, t2)
    assert len(t1) == 4 and (t1["person_id"] == -1).all()
    assert t1["test_index"].tolist() == [0, 1, 2, 3]
    dummy_names = {"TEST", "Dummy", "Mickey", "Test", "Donald", "Minnie", "Training", "Do Not"}
    assert set(t1["first_name"]) <= dummy_names
    assert set(t1["ni_number"].dropna()) <= {"AA000000A"}
    assert (t1["created"] >= pd.Timestamp("1998-01-01")).all()
    other = defects.test_records("care_a", 4, SEED, pd.Timestamp("2009-01-01"))
    assert not other["created"].equals(t1["created"])
