"""The calibrated LightGBM model that llif registers in MLflow, as data plus this one file.

Why a file of its own that imports nothing from llif: MLflow logs these models *from code*
(decision 41). It stores a copy of this file with every model version and runs that copy to
build the model when anyone loads it with ``mlflow.pyfunc.load_model``; the model's numbers -
the boosters in LightGBM's own text format, the category vocabulary, the calibration, the
feature order - sit beside it in one JSON document (``STATE_FILE``). No pickle names a class,
so moving or renaming this module, or the packages around it, never makes a registered
champion unloadable. The file must therefore keep to numpy, pandas, lightgbm and mlflow: an
``import models_ml...`` here would bring the class-path dependence back through the stored copy.

llif itself does not run the stored copy: ``models_ml.tracking.load_model`` reads the JSON
document into the current ``LgbmModel`` (``from_state``), so tonight's code scores every
version it can read, and a version in the pickled format of before decision 41 is refused with
a message saying to rerun training.
"""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

FORMAT = "llif-calibrated-lgbm/1"  # bump when the state document changes meaning
STATE_FILE = "lgbm_model.json"
STATE_ARTIFACT = "state"  # the key under which the document is logged as a pyfunc artifact


class UnreadableModelState(ValueError):
    """A state document this code cannot read (another format, or not a document at all)."""


def encode(frame: pd.DataFrame, vocab: dict[str, list], features: list[str] | tuple[str, ...]) -> np.ndarray:
    """The feature matrix in ``features`` order: categoricals as codes into the stored
    vocabulary (unknown -> NaN), a missing sex as "U", everything else as numbers."""
    out = np.empty((len(frame), len(features)), dtype=np.float64)
    for j, col in enumerate(features):
        if col in vocab:
            mapping = {v: i for i, v in enumerate(vocab[col])}
            values = frame[col]
            if col == "sex":
                values = values.fillna("U")
            out[:, j] = values.map(mapping).to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            out[:, j] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class LgbmModel(PythonModel):
    """A calibrated LightGBM model as an MLflow pyfunc: ``predict`` gives a DataFrame of
    probabilities (``p_<class>``) for rows holding ``features``.

    The boosters travel as model strings (plain text, bit-identical when reloaded) and the
    calibration as a few numbers, so the artifact needs nothing but lightgbm to load.
    Multiclass: bias-corrected temperature scaling, softmax(T * log p + b). Binary (one booster
    per outcome): Platt scaling on the logit.
    """

    def __init__(self, kind: str = "", classes: list[str] | None = None, boosters: list[str] | None = None,
                 vocab: dict[str, list] | None = None, calibration: list[dict] | None = None,
                 best_iterations: list[int] | None = None, features: list[str] | None = None):
        # every argument has a default because MLflow builds the model empty from the stored
        # code file and fills it in load_context
        self.kind = kind  # "multiclass" or "binary"
        self.classes = list(classes or [])
        self.boosters = list(boosters or [])
        self.vocab = vocab or {}
        self.calibration = calibration or []
        self.best_iterations = list(best_iterations or [])
        self.features = list(features or [])
        self._loaded = None

    # -- the state document ---------------------------------------------------------------

    def to_state(self) -> dict:
        return {"format": FORMAT, "kind": self.kind, "classes": self.classes, "features": self.features,
                "vocab": self.vocab, "calibration": self.calibration,
                "best_iterations": [int(i) for i in self.best_iterations], "boosters": self.boosters}

    @classmethod
    def from_state(cls, state: dict) -> "LgbmModel":
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            found = state.get("format") if isinstance(state, dict) else type(state).__name__
            raise UnreadableModelState(f"model state format {found!r}; this code reads {FORMAT!r}")
        return cls(state["kind"], state["classes"], state["boosters"], state["vocab"], state["calibration"],
                   state["best_iterations"], state["features"])

    def save_state(self, path: Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_state()))
        return path

    @classmethod
    def load_state(cls, path: Path) -> "LgbmModel":
        return cls.from_state(json.loads(Path(path).read_text()))

    def load_context(self, context) -> None:
        """MLflow's hook when it loads the stored copy of this file: fill the empty model from
        the state document logged beside it."""
        loaded = self.load_state(context.artifacts[STATE_ARTIFACT])
        self.__dict__.update(loaded.__dict__)

    def __getstate__(self):
        # a copy within llif (Dagster's outputs, multiprocessing) need not carry the boosters twice
        state = dict(self.__dict__)
        state["_loaded"] = None
        return state

    # -- scoring --------------------------------------------------------------------------

    def _models(self) -> list[lgb.Booster]:
        if self._loaded is None:
            self._loaded = [lgb.Booster(model_str=s) for s in self.boosters]
        return self._loaded

    @property
    def columns(self) -> list[str]:
        return [f"p_{c}" for c in self.classes]

    def raw_proba(self, frame: pd.DataFrame) -> np.ndarray:
        x = encode(frame, self.vocab, self.features)
        models = self._models()
        if self.kind == "multiclass":
            return models[0].predict(x, num_iteration=self.best_iterations[0], num_threads=2)
        return np.column_stack([m.predict(x, num_iteration=it, num_threads=2)
                                for m, it in zip(models, self.best_iterations)])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.apply_calibration(self.raw_proba(frame))

    def apply_calibration(self, p: np.ndarray) -> np.ndarray:
        eps = 1e-12
        if self.kind == "multiclass":
            c = self.calibration[0]
            return softmax(c["temperature"] * np.log(np.clip(p, eps, 1.0)) + np.asarray(c["bias"]))
        out = np.empty_like(p)
        for j, c in enumerate(self.calibration):
            q = np.clip(p[:, j], 1e-9, 1 - 1e-9)
            out[:, j] = 1.0 / (1.0 + np.exp(-(c["a"] * np.log(q / (1 - q)) + c["b"])))
        return out

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return pd.DataFrame(self.predict_proba(model_input), columns=self.columns, index=model_input.index)

    def contributions(self, frame: pd.DataFrame, output: int | list[int]) -> pd.DataFrame | list[pd.DataFrame]:
        """LightGBM's pred_contrib (SHAP values on the raw score) of one class (multiclass) or
        one outcome (binary), one column per feature plus ``bias``; a list of outputs gives a
        list of frames from one pass (multiclass pred_contrib computes every class anyway)."""
        many = isinstance(output, list)
        outputs = output if many else [output]
        x = encode(frame, self.vocab, self.features)
        names = list(self.features) + ["bias"]
        width = len(names)
        if self.kind == "multiclass":
            contrib = self._models()[0].predict(x, num_iteration=self.best_iterations[0], pred_contrib=True, num_threads=2)
            frames = [pd.DataFrame(contrib[:, o * width:(o + 1) * width], columns=names, index=frame.index) for o in outputs]
        else:
            frames = [pd.DataFrame(self._models()[o].predict(x, num_iteration=self.best_iterations[o], pred_contrib=True,
                                                              num_threads=2), columns=names, index=frame.index)
                      for o in outputs]
        return frames if many else frames[0]

    def feature_importance(self) -> pd.DataFrame:
        rows = {}
        for cls, m in zip(self.classes if self.kind == "binary" else ["all"], self._models()):
            rows[f"gain_{cls}"] = m.feature_importance("gain", iteration=None)
        return pd.DataFrame(rows, index=list(self.features))


# Models from code: when MLflow runs (the stored copy of) this file it takes the model named
# here, empty, and fills it from the state artifact. Run as an ordinary import it only records
# an empty model in MLflow's slot for code models, which nothing else reads.
set_model(LgbmModel())
