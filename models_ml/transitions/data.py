"""The rows a transition model learns from: the temporal windows and the sampled frames.

Windows are relative to the latest complete month M, so they roll forward nightly: the held-out
period is the last 12 months with a label, validation the 12 before, training from
``train_start`` up to that; the production refit's window runs to the held-out end (decision 28).

Most person-months are "nothing happens": rows with no change are sampled (``stay_rate``) in SQL
and weighted by the inverse of their inclusion probability, so the weighted data has the
population's rates and the probabilities need no correction for the sampling. The draw is a hash
of the row's key and the seed, so the sample does not depend on which rows are loaded or in
what order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts.vocabulary.states import CARE_HOME_STATES
from models_ml import features as F
from models_ml import segments as S
from models_ml.transitions.config import OUTCOMES, TrainConfig


@dataclass(frozen=True)
class Windows:
    """Row months (inclusive) of each period for a label horizon of ``horizon`` months."""

    horizon: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    valid_start: pd.Timestamp
    valid_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    @classmethod
    def make(cls, latest: pd.Timestamp, horizon: int, cfg: TrainConfig) -> "Windows":
        test_end = F.months_before(latest, horizon)
        test_start = F.months_before(test_end, cfg.heldout_months - 1)
        valid_end = F.months_before(test_start, 1)
        valid_start = F.months_before(valid_end, cfg.validation_months - 1)
        train_end = F.months_before(valid_start, 1)
        train_start = pd.Timestamp(cfg.train_start)
        if train_end < train_start:
            raise ValueError(f"not enough history: training would end {train_end:%Y-%m} before it starts {train_start:%Y-%m}")
        return cls(horizon, train_start, train_end, valid_start, valid_end, test_start, test_end)

    def period(self, months: pd.Series) -> np.ndarray:
        m = pd.to_datetime(months)
        return np.select([m <= self.train_end, m <= self.valid_end, m <= self.test_end],
                         ["train", "valid", "test"], "after")

    @property
    def refit_end(self) -> pd.Timestamp:
        """The production refit's last row month: the latest month with a label."""
        return self.test_end

    def as_dict(self) -> dict[str, str]:
        return {k: (v.strftime("%Y-%m") if isinstance(v, pd.Timestamp) else v) for k, v in self.__dict__.items()}

    def refit_dict(self) -> dict[str, str]:
        return {"horizon": self.horizon, "train_start": f"{self.train_start:%Y-%m}", "train_end": f"{self.refit_end:%Y-%m}"}


HISTORY_COLUMNS = tuple(c for c in F.SEGMENT_SOURCE_COLUMNS if c not in F.FEATURES)


def _columns() -> str:
    cols = ["person_key", "month_start", *[c for c in F.FEATURES if c != "segment"], *HISTORY_COLUMNS, *F.LABELS]
    return ", ".join(dict.fromkeys(cols))


def _uniform(seed: int) -> str:
    """A per-row uniform draw from a hash of the row's key and the seed: the sample is the same
    whichever rows are loaded and in whatever order."""
    return f"(hash(concat(person_month_id, ':{int(seed)}')) % 1000003) / 1000003.0"


def load_next_month_rows(con, w: Windows, cfg: TrainConfig, segment_model: S.SegmentModel | None,
                         periods: tuple[str, ...] = ("train", "valid", "test")) -> pd.DataFrame:
    """Rows with a next month: every row of the held-out period, changes always, and no-change
    rows of training and validation with probability ``stay_rate`` (weight 1 / stay_rate)."""
    change = "(next_state <> state or next_need_level <> need_level)"
    start = w.train_start if {"train", "valid"} & set(periods) else w.test_start
    end = w.test_end if "test" in periods else w.valid_end
    sql = f"""
        select {_columns()},
               case when month_start >= ? or {change} then 1.0 else {1.0 / cfg.stay_rate} end as sample_weight
        from {F.PERSON_MONTHS}
        where has_next_month = 1 and month_start between ? and ?
          and (month_start >= ? or {change} or {_uniform(cfg.seed)} < {cfg.stay_rate})
        order by person_key, month_start
    """
    df = con.execute(sql, [w.test_start.date(), start.date(), end.date(), w.test_start.date()]).df()
    return _finish(df, w, segment_model)


def load_outlook_rows(con, w: Windows, cfg: TrainConfig, segment_model: S.SegmentModel | None,
                      periods: tuple[str, ...] = ("train", "valid", "test")) -> pd.DataFrame:
    """Rows whose 12 months ahead are known: every held-out row, rows with any outcome, and
    others with probability ``negative_rate``."""
    any_pos = "(" + " or ".join(f"coalesce({c}, 0) = 1" for c in OUTCOMES.values()) + ")"
    start = w.train_start if {"train", "valid"} & set(periods) else w.test_start
    end = w.test_end if "test" in periods else w.valid_end
    sql = f"""
        select {_columns()},
               case when month_start >= ? or {any_pos} then 1.0 else {1.0 / cfg.negative_rate} end as sample_weight
        from {F.PERSON_MONTHS}
        where is_outlook_horizon_complete = 1 and month_start between ? and ?
          and (month_start >= ? or {any_pos} or {_uniform(cfg.seed + 1)} < {cfg.negative_rate})
        order by person_key, month_start
    """
    df = con.execute(sql, [w.test_start.date(), start.date(), end.date(), w.test_start.date()]).df()
    return _finish(df, w, segment_model)


def _finish(df: pd.DataFrame, w: Windows, segment_model: S.SegmentModel | None) -> pd.DataFrame:
    df["month_start"] = pd.to_datetime(df["month_start"])
    df["segment"] = segment_model.predict(df) if segment_model is not None and len(df) else -1
    df["period"] = w.period(df["month_start"])
    return df


def outlook_mask(df: pd.DataFrame, outcome: str) -> np.ndarray:
    """Rows an outcome is defined for: no care-home move for people already in one, no tenancy
    ending for people without a tenancy."""
    label = OUTCOMES[outcome]
    ok = df[label].notna().to_numpy()
    if outcome == "care_home_move":
        ok = ok & ~df["state"].isin(CARE_HOME_STATES).to_numpy()
    return ok
