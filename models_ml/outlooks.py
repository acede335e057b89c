"""Individual outlooks: each person's chances of the main outcomes within 12 months.

Direct 12-month models (the champion ``llif_person_outlook``) rather than chaining the monthly
models twelve times: a chained forecast needs every feature (arrears, recent stays, need) moved
forward month by month, which is the forecast engine's job; the direct models are trained on
exactly the question care managers ask and give per-person drivers from one pred_contrib call.

The table ``ml.person_outlooks`` is restricted: one row per person in the current census, keyed
by the pseudonymous person_key only (convention 8), for care managers' caseload views, not for
the public marts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models_ml import features as F
from models_ml import segments as S
from models_ml import tracking as T
from models_ml.lgbm_model import LgbmModel
from models_ml.transitions.config import OUTCOMES, OUTLOOK
from models_ml.transitions.data import HISTORY_COLUMNS, outlook_mask

OUTLOOK_TABLE = ("ml", "person_outlooks")


def census(con, segment_model: S.SegmentModel | None) -> pd.DataFrame:
    """Everyone alive and in a live state at the end of the latest complete month."""
    latest = F.latest_complete_month(con)
    cols = ", ".join(dict.fromkeys(["person_key", "month_start", *[c for c in F.FEATURES if c != "segment"], *HISTORY_COLUMNS]))
    df = con.execute(f"select {cols} from {F.PERSON_MONTHS} where month_start = ? order by person_key",
                     [latest.date()]).df()
    df["segment"] = segment_model.predict(df) if segment_model is not None and len(df) else -1
    return df


def top_drivers(contrib: pd.DataFrame, frame: pd.DataFrame, n: int = 3) -> list[str]:
    """The ``n`` features raising a person's score most, as "feature=value (+0.42)"."""
    c = contrib.drop(columns="bias")
    values = c.to_numpy()
    order = np.argsort(-values, axis=1, kind="stable")[:, :n]
    names = np.asarray(c.columns)
    raw = frame[list(names)].to_numpy(dtype=object)  # row-wise iloc would dominate the run
    out = []
    for i in range(len(c)):
        parts = []
        for j in order[i]:
            if values[i, j] <= 0:
                break
            v = raw[i, j]
            shown = "unknown" if pd.isna(v) else (f"{v:g}" if isinstance(v, (int, float, np.integer, np.floating)) else str(v))
            parts.append(f"{names[j]}={shown} (+{values[i, j]:.2f})")
        out.append("; ".join(parts))
    return out


@dataclass
class OutlookResult:
    outlooks: pd.DataFrame
    model_version: str | None
    seconds: float

    def metadata(self) -> dict:
        o = self.outlooks
        out = {"people": int(len(o)), "as_of_month": str(o["as_of_month"].iloc[0])[:10] if len(o) else None,
               "model_version": self.model_version, "seconds": round(self.seconds, 1)}
        for outcome in OUTCOMES:
            col = f"p_{outcome}_12_months"
            out[f"mean {col}"] = round(float(o[col].mean()), 4) if len(o) else None
            out[f"people with {col} >= 0.5"] = int((o[col] >= 0.5).sum())
        return out


def score_outlooks(model: LgbmModel, frame: pd.DataFrame, n_drivers: int = 3) -> pd.DataFrame:
    p = model.predict_proba(frame)
    out = pd.DataFrame({"person_key": frame["person_key"].to_numpy(),
                        "as_of_month": pd.to_datetime(frame["month_start"]).to_numpy(),
                        "state": frame["state"].to_numpy(), "need_level": frame["need_level"].to_numpy(),
                        "segment": frame["segment"].to_numpy(dtype=np.int64)})
    for j, outcome in enumerate(model.classes):
        defined = outlook_mask(frame.assign(**{OUTCOMES[outcome]: 0}), outcome)
        if outcome == "tenancy_end":
            defined = defined & frame["tenancy_type"].ne("none").to_numpy()
        out[f"p_{outcome}_12_months"] = np.where(defined, p[:, j], np.nan)
        drivers = top_drivers(model.contributions(frame, j), frame, n_drivers)
        out[f"drivers_{outcome}"] = np.where(defined, np.asarray(drivers, dtype=object), None)
    return out


def build_outlooks(con, tracking: T.Tracking, n_drivers: int = 3, write: bool = True) -> OutlookResult:
    """Score the current census with the champion outlook model and write ml.person_outlooks."""
    started = time.perf_counter()
    seg_model = S.read_segment_model(con)
    model = T.load_champion(tracking, OUTLOOK)
    version = T.alias_version(tracking, OUTLOOK, T.CHAMPION)
    frame = census(con, seg_model)
    out = score_outlooks(model, frame, n_drivers)
    if seg_model is not None:
        out["segment_name"] = np.asarray(seg_model.names + ["unknown"], dtype=object)[out["segment"].to_numpy()]
    out["model_version"] = version
    if write:
        F.write_table(con, *OUTLOOK_TABLE, out)
    return OutlookResult(out, version, time.perf_counter() - started)
