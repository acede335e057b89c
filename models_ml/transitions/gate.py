"""The champion gate: promote a challenger only if it is no worse than the champion.

Both are scored on tonight's held-out months, each by its *evaluation fit* (the registered
versions are production refits that have seen those months), so the comparison is like with
like (decision 28). ``gate_and_promote`` is what the Dagster asset calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models_ml import features as F
from models_ml import segments as S
from models_ml import tracking as T
from models_ml.lgbm_model import LgbmModel
from models_ml.transitions.config import MODEL_NAMES, NEED, OUTCOMES, OUTLOOK, TrainConfig
from models_ml.transitions.data import Windows, load_next_month_rows, load_outlook_rows, outlook_mask
from models_ml.transitions.metrics import log_loss
from models_ml.transitions.mlflow_runs import EVALUATION_MODEL_TAG
from simulation.lattice import LIVE_STATES, STATES


@dataclass
class GateDecision:
    name: str
    challenger_version: str | None
    champion_version: str | None
    challenger_log_loss: float | None
    champion_log_loss: float | None
    promoted: bool
    reason: str


@dataclass
class GateResult:
    decisions: dict[str, GateDecision]
    tolerance: float

    @property
    def all_promoted_or_kept(self) -> bool:
        return all(d.champion_version is not None or d.promoted for d in self.decisions.values())

    def metadata(self) -> dict:
        return {"tolerance": self.tolerance,
                **{name: {"promoted": d.promoted, "reason": d.reason, "challenger": d.challenger_version,
                          "champion_before": d.champion_version,
                          "challenger_log_loss": d.challenger_log_loss, "champion_log_loss": d.champion_log_loss}
                   for name, d in self.decisions.items()}}


def no_worse(challenger: float, champion: float, tolerance: float) -> bool:
    """The gate's rule: the challenger's held-out log loss at most ``tolerance`` (relative)
    above the champion's, both measured on the same held-out rows."""
    return challenger <= champion * (1.0 + tolerance)


def heldout_log_loss(model: LgbmModel, name: str, frames: dict[str, pd.DataFrame]) -> float:
    if name == OUTLOOK:
        df = frames["outlook"]
        losses = []
        p = model.predict_proba(df)
        for j, (outcome, label) in enumerate(OUTCOMES.items()):
            ok = outlook_mask(df, outcome)
            y = df.loc[ok, label].to_numpy(dtype=int)
            q = p[ok, j]
            losses.append(log_loss(y, np.column_stack([1 - q, q])))
        return float(np.mean(losses))
    df = frames["next_month"]
    if name == NEED:
        df = df.loc[df["next_state"].isin(LIVE_STATES)]
        y = df["next_need_level"].astype(int).to_numpy()
    else:
        y = df["next_state"].map({s: i for i, s in enumerate(STATES)}).to_numpy(dtype=np.int64)
    return log_loss(y, model.predict_proba(df))


def evaluation_fit(tracking: T.Tracking, name: str, version: str) -> tuple[LgbmModel, str]:
    """The evaluation fit behind a registered version, and its URI: what the version's
    ``evaluation_model_uri`` tag names. A version registered before production refits (no tag)
    was itself the evaluation fit."""
    mv = tracking.client().get_model_version(name, version)
    uri = (mv.tags or {}).get(EVALUATION_MODEL_TAG) or f"models:/{name}/{version}"
    return T.load_model(tracking, uri), uri


def heldout_frames(con, cfg: TrainConfig = TrainConfig()) -> dict[str, pd.DataFrame]:
    latest = F.latest_complete_month(con)
    seg_model = S.read_segment_model(con)
    return {"next_month": load_next_month_rows(con, Windows.make(latest, 1, cfg), cfg, seg_model, periods=("test",)),
            "outlook": load_outlook_rows(con, Windows.make(latest, 12, cfg), cfg, seg_model, periods=("test",))}


def gate_and_promote(con, tracking: T.Tracking, tolerance: float = 0.01, names: tuple[str, ...] = MODEL_NAMES,
                     cfg: TrainConfig = TrainConfig()) -> GateResult:
    """Promote each challenger that is no worse than its champion on tonight's held-out period.

    Like with like: the registered versions are production refits, which have seen the held-out
    months, so the gate scores each version's *evaluation fit* (``evaluation_fit``) - the
    challenger's trained before tonight's held-out period, the champion's before an older one -
    on the same rows (the champion's logged figure was for an older period, so it is not
    comparable). What is promoted is the refit. With no champion yet, or a champion in the
    retired pickled format (``tracking.RetiredModelFormat``), the challenger is promoted. A refused challenger keeps its alias for inspection; the champion is unchanged.
    """
    tracking.activate()
    frames = heldout_frames(con, cfg)
    decisions = {}
    for name in names:
        chal_v = T.alias_version(tracking, name, T.CHALLENGER)
        champ_v = T.alias_version(tracking, name, T.CHAMPION)
        if chal_v is None:
            decisions[name] = GateDecision(name, None, champ_v, None, None, False, "no challenger")
            continue
        if chal_v == champ_v:
            decisions[name] = GateDecision(name, chal_v, champ_v, None, None, False, "challenger is already champion")
            continue
        chal, _ = evaluation_fit(tracking, name, chal_v)
        chal_loss = heldout_log_loss(chal, name, frames)
        if champ_v is None:
            T.set_alias(tracking, name, T.CHAMPION, chal_v)
            tracking.client().delete_registered_model_alias(name, T.CHALLENGER)
            decisions[name] = GateDecision(name, chal_v, None, chal_loss, None, True, "no champion yet")
            continue
        try:
            champ, _ = evaluation_fit(tracking, name, champ_v)
        except T.RetiredModelFormat:
            # a champion from before decision 41 cannot be read, so nothing could ever beat it:
            # tonight's challenger replaces it rather than the night failing every time
            T.set_alias(tracking, name, T.CHAMPION, chal_v)
            tracking.client().delete_registered_model_alias(name, T.CHALLENGER)
            decisions[name] = GateDecision(name, chal_v, champ_v, chal_loss, None, True,
                                           f"champion version {champ_v} is in the retired pickled format "
                                           "(decision 41) and cannot be scored")
            continue
        champ_loss = heldout_log_loss(champ, name, frames)
        ok = no_worse(chal_loss, champ_loss, tolerance)
        if ok:
            T.set_alias(tracking, name, T.CHAMPION, chal_v)
            tracking.client().delete_registered_model_alias(name, T.CHALLENGER)
        reason = (f"evaluation fits' held-out log loss {chal_loss:.5f} vs champion {champ_loss:.5f} "
                  f"({'within' if ok else 'beyond'} {tolerance:.1%})")
        decisions[name] = GateDecision(name, chal_v, champ_v, chal_loss, champ_loss, ok, reason)
    return GateResult(decisions, tolerance)
