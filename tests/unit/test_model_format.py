"""Registered models survive a refactor (decision 41, issue 13 item 6).

A tiny calibrated LightGBM model (random rows, a few boosting rounds: no warehouse) is logged
from code and registered as champion in an MLflow store of its own. Checks: llif's loader (the
one the forecast's tables, the outlooks and the gate use) gives back the same probabilities; the
logged model holds no pickle and names no llif module; in a fresh interpreter where the old
class path ``models_ml.transitions`` cannot be imported it still loads and predicts the same,
and MLflow's own ``pyfunc.load_model`` does so with no ``models_ml`` importable at all; a
champion in the retired pickled format is refused with a message saying to rerun training, and
the gate replaces it with tonight's challenger.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.models import Model, infer_signature

from models_ml import features as F
from models_ml import tracking as T
from models_ml.lgbm_model import LgbmModel
from models_ml.transitions import gate as G
from models_ml.transitions.config import TrainConfig
from models_ml.transitions.fitting import build_vocab, encode, refit_booster
from models_ml.transitions.mlflow_runs import PIP_REQUIREMENTS

NAME = "llif_test_format"


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "state": rng.choice(["general_needs", "sheltered", "residential_care"], n),
        "sex": rng.choice(["F", "M", None], n),
        "area_code": rng.choice(["A1", "A2", "A3"], n),
        "tenancy_type": rng.choice(["secure", "starter"], n),
        "let_route": rng.choice(["waiting_list", "transfer"], n),
        "segment": rng.integers(-1, 3, n),
    })
    for col in F.NUMERIC:
        frame[col] = rng.normal(size=n).astype("float64")
    frame.loc[rng.random(n) < 0.1, "wellbeing_score"] = np.nan
    return frame


def _tiny_model(kind: str = "multiclass") -> LgbmModel:
    frame = _rows(600, 1)
    vocab = build_vocab(frame, 3)
    x = encode(frame, vocab)
    rng = np.random.default_rng(2)
    params = {**TrainConfig().lgb_params(), "min_data_in_leaf": 20}
    if kind == "multiclass":
        y = (x[:, F.FEATURES.index("age")] > 0).astype(int) + (rng.random(len(frame)) < 0.2)
        booster = refit_booster(x, y, np.ones(len(y)), vocab, {**params, "objective": "multiclass", "num_class": 3}, 8)
        return LgbmModel("multiclass", ["a", "b", "c"], [booster.model_to_string()], vocab,
                         [{"temperature": 1.3, "bias": [0.1, -0.2, 0.0]}], [8], list(F.FEATURES))
    boosters = []
    for j in range(2):
        y = (x[:, F.FEATURES.index("need_level")] + rng.normal(size=len(frame)) > j).astype(float)
        boosters.append(refit_booster(x, y, np.ones(len(y)), vocab, {**params, "objective": "binary"}, 6).model_to_string())
    return LgbmModel("binary", ["one", "two"], boosters, vocab, [{"a": 0.9, "b": 0.1}, {"a": 1.1, "b": -0.2}],
                     [6, 6], list(F.FEATURES))


def _signature(model: LgbmModel, frame: pd.DataFrame):
    example = frame[list(F.FEATURES)].head(50).reset_index(drop=True)
    return infer_signature(example, model.predict(None, example))


def _register(tracking: T.Tracking, model: LgbmModel, name: str, alias: str) -> str:
    with mlflow.start_run():
        info = T.log_model(model, _signature(model, _rows(50, 3)), PIP_REQUIREMENTS, registered_model_name=name)
    version = str(info.registered_model_version)
    T.set_alias(tracking, name, alias, version)
    return version


def _register_pickled(tracking: T.Tracking, model: LgbmModel, name: str) -> str:
    """What log_fits did before decision 41: the python model itself, cloudpickled."""
    tracking.activate()
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="model", python_model=model, registered_model_name=name,
                                       pip_requirements=PIP_REQUIREMENTS)
    version = str(info.registered_model_version)
    T.set_alias(tracking, name, T.CHAMPION, version)
    return version


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    home = tmp_path_factory.mktemp("model_format")
    tracking = T.Tracking.for_home(home)
    tracking.activate()
    return home, tracking


@pytest.fixture(scope="module")
def champions(store):
    _, tracking = store
    models = {kind: _tiny_model(kind) for kind in ("multiclass", "binary")}
    for kind, model in models.items():
        _register(tracking, model, f"{NAME}_{kind}", T.CHAMPION)
    return models


def test_champion_loads_through_the_forecasts_loader_with_the_same_probabilities(store, champions):
    _, tracking = store
    rows = _rows(300, 4)
    for kind, model in champions.items():
        loaded = T.load_champion(tracking, f"{NAME}_{kind}")
        assert type(loaded) is LgbmModel and loaded.features == list(F.FEATURES)
        assert loaded.boosters == model.boosters and loaded.calibration == model.calibration
        assert np.array_equal(loaded.predict_proba(rows), model.predict_proba(rows))
        width = len(F.FEATURES) + 1
        assert np.array_equal(loaded.contributions(rows, 1).to_numpy(), model.contributions(rows, 1).to_numpy())
        assert loaded.contributions(rows, 0).shape == (len(rows), width)


def test_logged_model_holds_no_pickle_and_names_no_llif_module(store, champions):
    _, tracking = store
    local = Path(mlflow.artifacts.download_artifacts(f"models:/{NAME}_multiclass@{T.CHAMPION}",
                                                     dst_path=str(store[0] / "download")))
    files = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    assert not [f for f in files if f.endswith((".pkl", ".pickle"))], files
    assert "lgbm_model.py" in files and "artifacts/lgbm_model.json" in files
    pyfunc = Model.load(str(local)).flavors["python_function"]
    assert "python_model" not in pyfunc and pyfunc["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    # MLflow records where the code file came from (an owner-only copy made for logging, decision
    # 51); it loads the copy beside MLmodel, and nothing in MLmodel names llif's package
    mlmodel = (local / "MLmodel").read_text()
    assert Path(pyfunc["model_code_path"]).name == "lgbm_model.py"
    assert not [line for line in mlmodel.splitlines() if "models_ml" in line], mlmodel
    code = (local / "lgbm_model.py").read_text()
    assert not [line for line in code.splitlines() if line.startswith(("import ", "from ")) and "models_ml" in line]


_MOVED = """
import importlib.abc, json, sys

class Gone(importlib.abc.MetaPathFinder):
    # the class path a pickle would name no longer exists (moved or renamed)
    def find_spec(self, name, path=None, target=None):
        if name in BLOCKED or any(name.startswith(b + ".") for b in BLOCKED):
            raise ModuleNotFoundError(f"No module named {name!r} (simulated move)")
        return None

BLOCKED = set(sys.argv[2].split(","))
sys.meta_path.insert(0, Gone())
import pandas as pd
rows = pd.read_json(sys.argv[3], orient="split")
if sys.argv[1] == "llif":
    from models_ml import tracking as T
    model = T.load_champion(T.Tracking.for_home(__import__("pathlib").Path(sys.argv[4])), sys.argv[5])
    print(json.dumps(model.predict_proba(rows).tolist()))
else:
    import mlflow
    mlflow.set_tracking_uri(sys.argv[4]); mlflow.set_registry_uri(sys.argv[4])
    out = mlflow.pyfunc.load_model(sys.argv[5]).predict(rows)
    assert not any(m == "models_ml" or m.startswith("models_ml.") for m in sys.modules), "models_ml was imported"
    print(json.dumps(out.to_numpy().tolist()))
"""


def _run_moved(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "moved.py"
    script.write_text(_MOVED)
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)


def _in_fresh_interpreter(tmp_path: Path, *args: str) -> np.ndarray:
    out = _run_moved(tmp_path, *args)
    assert out.returncode == 0, out.stderr[-3000:]
    return np.asarray(json.loads(out.stdout.strip().splitlines()[-1]))


def test_champion_loads_after_the_class_moves(store, champions, tmp_path):
    """A fresh interpreter with ``models_ml.transitions`` (where the class lived when champions
    were pickled) impossible to import: llif's loader still reads the champion; and with no
    ``models_ml`` at all, MLflow's own loader runs the stored model file."""
    home, tracking = store
    rows = _rows(120, 5)
    path = tmp_path / "rows.json"
    rows.to_json(path, orient="split")
    expected = champions["multiclass"].predict_proba(rows)
    got = _in_fresh_interpreter(tmp_path, "llif", "models_ml.transitions", str(path), str(home), f"{NAME}_multiclass")
    assert np.allclose(got, expected, rtol=0, atol=1e-15)
    got = _in_fresh_interpreter(tmp_path, "mlflow", "models_ml", str(path), tracking.tracking_uri,
                                f"models:/{NAME}_binary@{T.CHAMPION}")
    assert np.allclose(got, champions["binary"].predict_proba(rows), rtol=0, atol=1e-15)


def test_a_retired_pickled_champion_is_refused_with_what_to_do(store):
    _, tracking = store
    _register_pickled(tracking, _tiny_model(), f"{NAME}_retired")
    with pytest.raises(T.RetiredModelFormat, match="Rerun training"):
        T.load_champion(tracking, f"{NAME}_retired")


def test_the_simulated_move_breaks_a_pickled_model(store, tmp_path):
    """The control for test_champion_loads_after_the_class_moves: the same simulated move
    makes a pickled model (the retired format) unloadable, so that test could fail."""
    _, tracking = store
    _register_pickled(tracking, _tiny_model(), f"{NAME}_control")
    path = tmp_path / "rows.json"
    _rows(10, 6).to_json(path, orient="split")
    out = _run_moved(tmp_path, "mlflow", "models_ml", str(path), tracking.tracking_uri, f"models:/{NAME}_control@{T.CHAMPION}")
    assert out.returncode != 0 and "simulated move" in out.stderr, out.stderr[-2000:]


def test_the_gate_replaces_a_retired_champion(store, monkeypatch):
    """Nothing could beat a champion that cannot be scored, so without this rule the nightly
    would refuse every challenger (or fail) for ever after the upgrade."""
    _, tracking = store
    name = f"{NAME}_gate"
    old = _register_pickled(tracking, _tiny_model(), name)
    new = _register(tracking, _tiny_model(), name, T.CHALLENGER)
    monkeypatch.setattr(G, "heldout_frames", lambda con, cfg=None: {})
    monkeypatch.setattr(G, "heldout_log_loss", lambda model, name, frames: 0.5)
    decision = G.gate_and_promote(None, tracking, names=(name,)).decisions[name]
    assert decision.promoted and decision.champion_version == old and decision.challenger_version == new
    assert "retired pickled format" in decision.reason
    assert T.alias_version(tracking, name, T.CHAMPION) == new
    assert T.alias_version(tracking, name, T.CHALLENGER) is None
