"""Hospital stays cut into months: bed days and long-stay days by kind of month.

Why: the engine works in months and most stays are shorter than one, so it counts kinds of
month (a stay inside the month, the month a stay begins, a whole month in hospital, the month
it ends) and multiplies by the expected days of each kind. The warehouse cannot see the day a
patient was medically fit to leave, so "delayed" bed days are measured as it measures them:
days beyond the 21st of a stay (``fct_hospital_spells.long_stay_excess_days``). One function
cuts stays into months, for the engine's expectations and for the backtest's actuals alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LONG_STAY_DAYS = 21   # the warehouse's proxy of delay: days beyond the 21st in hospital
KINDS = ("within", "enter", "stay", "exit")


def stay_months(admission: pd.Series, discharge: pd.Series, until=None) -> pd.DataFrame:
    """One row per stay and calendar month it touches: month (first day), kind, bed days in
    the month and long-stay days (beyond day 21 of the stay) in the month. Open stays
    (discharge NaT) run to ``until`` (inclusive) as whole months; without ``until`` they are
    left out."""
    adm = pd.to_datetime(admission).to_numpy(dtype="datetime64[D]")
    dis = pd.to_datetime(discharge).to_numpy(dtype="datetime64[D]")
    open_ = np.isnat(dis)
    if until is not None:
        end = np.datetime64(pd.Timestamp(until).date(), "D")
        dis = np.where(open_, end + 1, dis)     # still there at the end of `until`
    else:
        keep = ~open_
        adm, dis, open_ = adm[keep], dis[keep], open_[keep]
    first = adm.astype("datetime64[M]")
    last = (dis - 1).astype("datetime64[M]")   # the month of the last night in hospital
    same = (dis.astype("datetime64[M]") == first) & ~open_
    n_months = np.where(same, 1, (last - first).astype(np.int64) + 1)
    n_months = np.maximum(n_months, 1)
    stay = np.repeat(np.arange(len(adm)), n_months)
    k = np.arange(len(stay)) - np.repeat(np.cumsum(n_months) - n_months, n_months)
    month = first[stay] + k.astype("timedelta64[M]")
    m_start = month.astype("datetime64[D]")
    m_end = (month + 1).astype("datetime64[D]")          # exclusive
    lo = np.maximum(m_start, adm[stay])
    hi = np.minimum(m_end, dis[stay])
    days = (hi - lo).astype(np.int64)
    # long-stay days: nights from the 22nd onwards
    long_from = adm[stay] + LONG_STAY_DAYS
    long_days = np.clip((hi - np.maximum(lo, long_from)).astype(np.int64), 0, None)
    ends_here = (dis[stay] <= m_end) & ~open_[stay]
    starts_here = adm[stay] >= m_start
    kind = np.select([starts_here & ends_here, starts_here, ends_here], ["within", "enter", "exit"], "stay")
    return pd.DataFrame({"stay": stay, "month": month.astype("datetime64[ns]"), "kind": kind,
                         "days": days.astype(float), "long_days": long_days.astype(float)})


def expected_days(months: pd.DataFrame) -> dict[str, float]:
    """Mean bed days and long-stay days of each kind of month (NaN where a kind never occurs)."""
    g = months.groupby("kind")[["days", "long_days"]].mean()
    out = {}
    for kind in KINDS:
        out[f"days_{kind}"] = float(g.loc[kind, "days"]) if kind in g.index else np.nan
        out[f"long_{kind}"] = float(g.loc[kind, "long_days"]) if kind in g.index else np.nan
    return out
