"""The one door from the explorer to the forecast engine: run a what-if in-process, save it for tonight.

Why an adapter: the engine (``simulation/``) is built alongside the explorer and its API may
move; the what-if page calls only ``run_what_if`` and ``save_scenario`` here, so pointing the
page at a changed engine is an edit to this file alone. ``ENGINE`` lets tests put a stand-in in
its place (the page then behaves exactly as with the real engine).

Why the census is cached: estimating the engine's inputs from the warehouse (tonight's
population, rates, capacity) is the slow part of a run at scale 1.0; it depends only on the
warehouse, so it is done once per warehouse version and kept in the process, and a what-if then
costs only the runs themselves (fewer than the nightly run: the page offers 10 to 50).
"""

from __future__ import annotations

import atexit
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from explorer import data

# (warehouse, spec, runs, months, run_date) -> summary frame (or summary and paired differences) with scenario "baseline" and the what-if
ENGINE: Callable | None = None


class EngineUnavailable(Exception):
    """The engine cannot run here; ``str()`` says why in plain words and what to do."""


@dataclass
class WhatIfResult:
    name: str
    summary: pd.DataFrame      # normalised like data.forecast_summary: baseline and the what-if
    differences: pd.DataFrame  # the what-if minus the baseline, run by run, summarised
    runs: int
    months: int
    seconds: float


def scenarios_dir() -> Path:
    """Where what-ifs are saved: ``LLIF_HOME/scenarios/`` (``explorer/scenario_store.py``); the
    nightly forecast reads it beside the shipped scenarios."""
    from explorer.scenario_store import saved_dir

    return saved_dir()


def save_scenario(spec: dict, folder: Path | None = None, overwrite: bool = False, author: str | None = None) -> Path:
    """Write the scenario as ``<name>.yaml`` where the nightly run will find it, with its author and time."""
    from explorer.scenario_store import save

    return save(spec, Path(folder) if folder is not None else scenarios_dir(), overwrite=overwrite, author=author)


def engine_status() -> str | None:
    """None when what-ifs can run here, else why not, in plain words."""
    if ENGINE is not None:
        return None
    try:
        _engine_api()
    except EngineUnavailable as exc:
        return str(exc)
    return None


def _engine_api():
    try:
        from simulation import outputs, replications, scenarios  # noqa: F401
        from simulation.forecast_inputs import build_forecast_inputs  # noqa: F401
    except Exception as exc:
        raise EngineUnavailable(
            "The forecast engine is not installed in this copy of llif, so what-ifs cannot be run here. "
            "You can still check a what-if and save it: the next nightly run will include it.") from exc
    return replications, outputs


def run_what_if(warehouse: Path | str, spec: dict, runs: int = 20, months: int = 24, run_date=None) -> WhatIfResult:
    """The baseline and the what-if, ``runs`` times each on the same random numbers, summarised."""
    started = time.perf_counter()
    engine = ENGINE or _run_with_engine
    got = engine(Path(warehouse), spec, runs, months, run_date)
    summary, diff = got if isinstance(got, tuple) else (got, None)
    summary = data.normalise_summary(summary)
    diff = data.normalise_summary(diff) if diff is not None else _paired(summary, spec["name"])
    return WhatIfResult(spec["name"], summary, diff, runs, months, time.perf_counter() - started)


def run_goal_seek(warehouse: Path | str, lever: dict, kpi: str, *, below: float | None = None,
                  above: float | None = None, level: float = 0.8, runs: int = 20, months: int = 24, max_change: int = 200):
    """The smallest addition of ``lever``'s places meeting the goal, on tonight's inputs and seed
    (``simulation.goal_seek``); raises ValueError with a plain message for a goal it cannot seek."""
    if engine_status() is not None:
        raise EngineUnavailable(engine_status())
    from simulation.goal_seek import Goal, goal_seek

    goal = Goal(kpi, below=below, above=above, level=level)
    return goal_seek(_inputs_for(Path(warehouse)), lever, goal, replications=runs, months=months,
                     run_date=_night_for(Path(warehouse)), max_change=max_change)


def _paired(summary: pd.DataFrame, name: str) -> pd.DataFrame:
    """Differences of the averages, for a stand-in engine that gives no paired differences."""
    base = summary[summary["scenario"] == "baseline"].set_index(["month", "kpi"])
    what = summary[summary["scenario"] == name].set_index(["month", "kpi"])
    j = what[["mean", "median"]].join(base[["mean", "median"]].add_suffix("_base"), how="inner")
    out = pd.DataFrame({"mean": j["mean"] - j["mean_base"], "median": j["median"] - j["median_base"]}).reset_index()
    out["scenario"] = name
    return data.normalise_summary(out)


_INPUTS: dict = {}
_NIGHT: dict = {}
_LOCK = threading.Lock()
_WARMING: list[threading.Thread] = []


@atexit.register
def _finish_warming() -> None:
    """Let a background estimate finish before the interpreter goes: a daemon thread still
    inside DuckDB when Python finalises is torn down mid-call, and the process aborts."""
    for thread in _WARMING:
        thread.join(timeout=300)


def _inputs_for(warehouse: Path):
    """The engine's inputs for this warehouse version (tonight's census, rates and capacity).

    The nightly forecast keeps the inputs it ran on beside the warehouse (``forecasts/`` in the
    same LLIF_HOME), so a what-if starts from exactly tonight's baseline in a second; without
    them (no forecast yet) they are estimated here, once per process (tens of seconds at scale 1.0).
    """
    from simulation.forecast_inputs import build_forecast_inputs
    from simulation.inputs import load_inputs
    from simulation.outputs import latest_run_date

    key = (str(warehouse), data.stamp(warehouse))
    with _LOCK:
        if key not in _INPUTS:
            _INPUTS.clear()
            saved = load_inputs(Path(warehouse).parent / "forecasts")
            with data.connect(warehouse) as con:
                if saved is None:   # the nightly forecast's own way (simulation.forecast_inputs)
                    saved = build_forecast_inputs(con)
                _NIGHT[key] = latest_run_date(con)
            _INPUTS[key] = saved
        return _INPUTS[key]


def _night_for(warehouse: Path) -> str | None:
    """The run date of the nightly forecast the inputs belong to (None before any forecast)."""
    _inputs_for(warehouse)
    return _NIGHT.get((str(warehouse), data.stamp(warehouse)))


def warm(warehouse: Path | str) -> None:
    """Start estimating the inputs in the background while the planner fills in the form."""
    if ENGINE is not None or engine_status() is not None:
        return
    key = (str(warehouse), data.stamp(warehouse))
    if key in _INPUTS or _LOCK.locked():
        return

    def work():
        try:
            _inputs_for(Path(warehouse))
        except Exception:  # a failure shows when the planner runs the what-if
            pass

    thread = threading.Thread(target=work, name="llif-whatif-warm", daemon=True)
    _WARMING.append(thread)
    thread.start()


def _run_with_engine(warehouse: Path, spec: dict, runs: int, months: int, run_date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The real engine: common random numbers, no unconstrained run (the nightly gives "needed")."""
    replications, outputs = _engine_api()
    from simulation.scenarios import baseline, validate

    inputs, night = _inputs_for(warehouse), _night_for(warehouse)
    # tonight's seed by default, so the what-if's baseline is the nightly's (same runs, same months)
    results = replications.run_forecast(inputs, [baseline(), validate(spec, where="what-if")], replications=runs,
                                        months=months, run_date=run_date or night, processes=1, needed=False,
                                        breakdowns=False)   # the page shows the provider-wide figures
    return outputs.kpi_summary(results), outputs.scenario_differences(results)
