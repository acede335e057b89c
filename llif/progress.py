"""One line per stage of a Dagster run on the terminal, the full log in a file.

Why: ``make demo`` runs the nightly job in-process, and Dagster's console logger prints every
DEBUG event (about 3,800 lines at scale 1.0), so a new user cannot see what is happening or how
far it has got. ``quiet_run`` sends everything the run writes, Dagster's events, Python logging,
warnings and whatever libraries or worker processes print on the file descriptors, to a log
file, and keeps the terminal for one line per step: ``[ 7/23] dbt build ... done in 41 s``.

Steps run one after another in-process, so a step's line is begun when it starts and finished
when it ends: a long step (dbt at scale 1.0 takes minutes) shows what is running meanwhile.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import dagster as dg

# plain names for the steps a reader would otherwise have to decode
_LABELS = {
    "llif_dbt": "dbt build (staging, timeline, marts, ML features, tests)",
    "llif_dbt_planning": "dbt planning marts",
    "dbt_docs": "dbt docs site",
    "person_xref": "identity linkage (NI number and date of birth, then Splink)",
    "care_a_all_homes": "care vendor A: every home together",
    "validation__truth_agreement": "validation against the synthetic truth",
    "truth_agreement": "validation against the synthetic truth",
    "ml__segments": "segments",
    "ml__transition_models": "transition models (LightGBM, MLflow)",
    "ml__transition_models_champion_gate": "champion gate",
    "ml__transition_probabilities": "probability tables",
    "ml__person_outlooks": "individual outlooks",
    "forecast__scenario_forecasts": "forecast: baseline and every scenario",
    "forecast__backtest": "forecast backtest",
    "published__warehouse": "publish the night for the explorer",
    "health_ingest": "checks: quarantine share and freshness of every source",
    "identity__person_xref_linkage_match_rate": "check: linkage match rate against last night",
    "health_marts": "checks: marts' row counts against last night",
    "reports__nightly_report": "nightly report (HTML and PDF)",
}


def label(step_key: str) -> str:
    if step_key in _LABELS:
        return _LABELS[step_key]
    if step_key.startswith("ingest_"):
        return f"ingest {step_key.removeprefix('ingest_')}"
    site = re.fullmatch(r"raw__(\w+?)_homes__(.+)", step_key)
    if site:  # a site's own ingest (orchestration/assets/ingest.py, site_key)
        from contracts.sources import source_systems

        spec = source_systems().get(site.group(1))
        return f"ingest {spec.label if spec else site.group(1)} file {site.group(2)}"
    return step_key.replace("__", "/")


@dataclass
class StageLines:
    """Turns step events into lines on ``out``: begun at the start, finished at the end."""

    out: TextIO
    total: int
    done: int = 0
    started: float = field(default_factory=time.perf_counter)
    _open: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def start(self, step: str) -> None:
        self._open[step] = time.perf_counter()
        self._write(f"  [{self.done + 1:>2}/{self.total}] {label(step):<58} ")

    def finish(self, step: str, ok: bool, error: str = "") -> None:
        began = self._open.pop(step, None)
        if began is None:  # a step that ended without a start event: give it a line of its own
            self._write(f"  [{self.done + 1:>2}/{self.total}] {label(step):<58} ")
            began = time.perf_counter()
        self.done += 1
        took = time.perf_counter() - began
        so_far = time.perf_counter() - self.started
        if ok:
            self._write(f"done in {took:6.1f} s  ({so_far / 60:4.1f} min so far)\n")
        else:
            self.failed.append(step)
            self._write(f"FAILED after {took:.1f} s: {error[:160]}\n")

    def skipped(self, step: str) -> None:
        self.done += 1
        self._write(f"  [{self.done:>2}/{self.total}] {label(step):<58} skipped (an upstream step failed)\n")


class _StageHandler(logging.Handler):
    def __init__(self, lines: StageLines):
        super().__init__(level=logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key")
        if event is None or step is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self.lines.start(step)
        elif kind == "STEP_SUCCESS":
            self.lines.finish(step, ok=True)
        elif kind == "STEP_FAILURE":
            error = getattr(event.event_specific_data, "error", None)
            message = (error.message.strip().splitlines() or [""])[-1] if error is not None else ""
            self.lines.finish(step, ok=False, error=message)
        elif kind == "STEP_SKIPPED":
            self.lines.skipped(step)


def progress_logger(lines: StageLines, log: TextIO) -> dg.LoggerDefinition:
    """A Dagster logger writing every event to ``log`` and one line per step to ``lines``."""

    @dg.logger(description="llif: one line per step on the terminal, everything in the log file")
    def _llif_progress(_init_context) -> logging.Logger:
        # a logger of its own, outside the hierarchy: nothing else may add handlers to it
        logger = logging.Logger("llif_progress", level=logging.DEBUG)  # noqa: LOG001
        to_file = logging.StreamHandler(log)
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(to_file)
        logger.addHandler(_StageHandler(lines))
        return logger

    return _llif_progress


def log_file(folder: Path, name: str) -> Path:
    """A new owner-only log file ``<name>-<YYYYmmdd-HHMMSS>.log`` under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    path.touch(mode=0o600)
    return path


@contextmanager
def quiet_run(path: Path) -> Iterator[tuple[TextIO, TextIO]]:
    """Everything written to file descriptors 1 and 2 (by Python, C libraries, child processes)
    goes to ``path`` while the block runs; yields (the terminal, the log file)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    log = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (closed below)
    try:
        on_fd1 = sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):  # a StringIO or a test's capture
        on_fd1 = False
    # sys.stdout writes to descriptor 1, which is about to be the log: write to a copy of the
    # terminal instead; a redirected sys.stdout (a test's capture) stays the terminal as it is
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8") if on_fd1 else sys.stdout
    root = logging.getLogger()
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(min(old_level, logging.INFO) if old_level else logging.INFO)
    logging.captureWarnings(True)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    # Python-level writers too: whatever prints, or makes a logging handler, while the run goes on
    # writes to the log even when sys.stdout was not descriptor 1 (a test's capture)
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = log, log
    try:
        yield terminal, log
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        logging.captureWarnings(False)
        root.removeHandler(handler)
        root.setLevel(old_level)
        if on_fd1:
            terminal.close()
        log.close()
