"""Tonight's housing register as the forecast's starting waiting lists.

Why: sheltered and extra-care housing (and general needs) are supply-bound - every flat that
comes free is let at once to someone waiting, usually after years on the register - while the
engine used to learn the demand for places from the lets that happened, which equal the supply.
Starting with nobody waiting, a vacancy stayed empty whenever nobody happened to "arrive" that
month, so the forecast ran a few per cent under schemes that are in fact always full (the
sheltered and extra-care misses of the first backtests), and a new 60-flat scheme could only be
filled by the trickle of new arrivals ("lowers the waiting list by 1").

So the open applications at the census enter the forecast as people waiting: applicants who are
already in the timeline (tenants asking for sheltered or extra care, people we care for at home)
queue where they are, with the people sharing their home; applicants from outside wait outside
(``engine.WAITING``), as many people as their household holds, with attributes copied from
recent arrivals into what they applied for. Lets go by band, then length of wait (the register's
order). New applications arrive at the register's own rate (applications per let, from the
register mart), and applicants withdraw at its observed monthly rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.lattice import STATE_CODE

# what each need type on the register is waiting for
WANTS = {"general": STATE_CODE["general_needs"], "homeless": STATE_CODE["temporary"],
         "sheltered": STATE_CODE["sheltered"], "extra_care": STATE_CODE["extra_care"]}
BANDS = ("A", "B", "C", "D")     # A the highest priority
N_STATES = len(STATE_CODE)


@dataclass
class Register:
    """Open applications at the census, one entry per application, and the register's rates."""

    want: np.ndarray            # state code wanted
    band: np.ndarray            # 0 (A) .. 3 (D)
    months_waiting: np.ndarray  # whole months since applying
    size: np.ndarray            # people in the household (>= 1)
    area: np.ndarray            # area index, -1 unknown
    person: np.ndarray          # census index of the applicant when in the timeline, else -1
    withdraw: np.ndarray = field(default_factory=lambda: np.zeros(N_STATES))   # monthly, by state wanted
    inflow: np.ndarray = field(default_factory=lambda: np.ones(N_STATES))      # applications per let
    band_mix: np.ndarray = field(default_factory=lambda: np.tile([0.25, 0.25, 0.25, 0.25], (N_STATES, 1)))

    @property
    def n(self) -> int:
        return int(len(self.want))

    def people_waiting(self) -> np.ndarray:
        """(N_STATES,) people waiting at the census, by state wanted."""
        return np.bincount(self.want, weights=self.size, minlength=N_STATES)

    def fingerprint_parts(self) -> list[np.ndarray]:
        return [self.want, self.band, self.months_waiting, self.size, self.area, self.person,
                self.withdraw, self.inflow, self.band_mix]


def _table_exists(con, schema: str, name: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, name]).fetchone()[0] > 0


def read_register(con, ref, census_keys: np.ndarray, census_state: np.ndarray, area_idx: dict) -> Register | None:
    """The applications open at the end of the census month ``ref`` (None for a warehouse with
    no register mart). ``census_keys`` are the census's person keys, in census order."""
    if not _table_exists(con, "marts", "fct_register_applications"):
        return None
    end = (pd.Timestamp(ref) + pd.offsets.MonthEnd(0)).date()
    apps = con.execute(
        """select application_id, person_key, need_type, band, applied_date, household_size, area_code
           from marts.fct_register_applications
           where is_end_before_start = 0 and applied_date <= ?
             and (status_date is null or status_date > ?)
             and need_type in ('general', 'homeless', 'sheltered', 'extra_care')
           order by application_id""", [end, end]).df()
    index = {k: i for i, k in enumerate(census_keys)}
    person = apps["person_key"].map(index).fillna(-1).to_numpy(np.int64)
    want = apps["need_type"].map(WANTS).to_numpy(np.int64, copy=True)
    here = person >= 0
    # an applicant already where they applied to be: a homeless household in temporary
    # accommodation waits to move on to a settled home; others (a transfer within the same kind
    # of housing) change nothing the forecast counts
    same = here & (census_state[np.maximum(person, 0)] == want)
    moving_on = same & (want == STATE_CODE["temporary"])
    want[moving_on] = STATE_CODE["general_needs"]
    keep = ~(same & ~moving_on)
    apps, person, want = apps[keep].reset_index(drop=True), person[keep], want[keep]
    applied = pd.to_datetime(apps["applied_date"]).to_numpy().astype("datetime64[M]")
    months = (np.datetime64(pd.Timestamp(ref).date(), "M") - applied).astype(np.int64).clip(0)
    band = apps["band"].map({b: i for i, b in enumerate(BANDS)}).fillna(len(BANDS) - 1).to_numpy(np.int64)
    size = apps["household_size"].fillna(1).clip(lower=1).to_numpy(np.int64)
    area = np.array([area_idx.get(a, -1) if isinstance(a, str) else -1 for a in apps["area_code"]], dtype=np.int64)
    reg = Register(want=want, band=band, months_waiting=months, size=size, area=area, person=person)
    reg.withdraw, reg.inflow = _rates(con, ref)
    reg.band_mix = _band_mix(con, ref)
    return reg


def _rates(con, ref) -> tuple[np.ndarray, np.ndarray]:
    """Per state wanted: the monthly share of waiting applicants who withdraw (last two years)
    and the applications made per let (last three years: demand beyond what capacity let)."""
    withdraw, inflow = np.zeros(N_STATES), np.ones(N_STATES)
    if not _table_exists(con, "marts", "fct_register_waiting_monthly"):
        return withdraw, inflow
    ref_d = pd.Timestamp(ref).date()
    df = con.execute(
        """select need_type,
                  sum(case when month_start > ? then n_withdrawn else 0 end) as withdrawn,
                  sum(case when month_start > ? then n_waiting_end else 0 end) as waiting,
                  sum(n_applied) as applied, sum(n_let) as let
           from marts.fct_register_waiting_monthly
           where month_start > ? and month_start <= ?
           group by need_type order by need_type""",
        [pd.Timestamp(ref - np.timedelta64(730, "D")).date(), pd.Timestamp(ref - np.timedelta64(730, "D")).date(),
         pd.Timestamp(ref - np.timedelta64(1096, "D")).date(), ref_d]).df()
    for r in df.itertuples(index=False):
        s = WANTS.get(r.need_type)
        if s is None:
            continue
        if r.waiting and r.waiting > 0:
            withdraw[s] = float(min(r.withdrawn / r.waiting, 0.5))
        if r.let and r.let >= 10:
            inflow[s] = float(np.clip(r.applied / r.let, 0.5, 5.0))
    return withdraw, inflow


def _band_mix(con, ref) -> np.ndarray:
    """Per state wanted, the bands of the last two years' applications (newcomers' bands)."""
    mix = np.tile(np.array([0.25, 0.25, 0.25, 0.25]), (N_STATES, 1))
    ref_d = pd.Timestamp(ref).date()
    since = pd.Timestamp(pd.Timestamp(ref) - pd.DateOffset(months=24)).date()
    df = con.execute(
        """select need_type, band, count(*) as n from marts.fct_register_applications
           where applied_date > ? and applied_date <= ? and is_end_before_start = 0
           group by need_type, band order by need_type, band""", [since, ref_d]).df()
    for need_type, g in df.groupby("need_type"):
        s = WANTS.get(need_type)
        if s is None:
            continue
        counts = np.array([g.loc[g["band"] == b, "n"].sum() for b in BANDS], dtype=float) + 0.5
        mix[s] = counts / counts.sum()
    return mix
