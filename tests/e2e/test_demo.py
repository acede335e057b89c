"""`make demo` runs `llif demo`: the first run makes a world, every later run is a new night."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from llif import demo
from llif.cli import main
from synthetic_sources import api


def test_demo_generates_then_each_run_is_a_new_night(first_night, tmp_path, monkeypatch, capsys):
    # the first run: `llif demo --scale 0.02` into an empty LLIF_HOME (the session's shared first
    # night, tests/conftest.py, which test_orchestration's end-to-end test goes on from)
    assert first_night.exit_code == 0
    first = first_night.out
    assert f"generating the world (scale 0.02) into {first_night.home.resolve()}" in first
    assert "generating the world" in first and "calibration:" in first and "look next" in first
    assert "the baseline forecast" in first  # its bottlenecks, or that it found none
    assert api.read_manifest(api.llif_paths(first_night.home))["as_of"] == "2026-10-31"
    # one line per step with its time, not Dagster's events; those are in the log file it names
    lines = first.splitlines()
    assert len(lines) <= 60, len(lines)
    steps = [line for line in lines if re.match(r"\s+\[\s*\d+/\d+\] ", line)]
    total = int(re.search(r"\[\s*\d+/(\d+)\]", steps[0]).group(1))
    assert len(steps) == total >= 15 and all(re.search(r"done in +[\d.]+ s", line) for line in steps), steps
    assert "DEBUG" not in first and "STEP_START" not in first
    log = Path(re.search(r"Dagster's full log: (\S+)", first).group(1))
    assert log.parent == first_night.home / "logs" and "STEP_SUCCESS" in log.read_text()
    assert "report" in first.split("look next:")[1] and ".pdf" in first.split("look next:")[1]

    # The second night's refresh is the same job on one more day, which the end-to-end test in
    # test_orchestration runs in full; here only the demo's own part is checked: a day passes
    # and the refresh is asked for with the analyst's replications. On a copy of the first
    # night's home, which the other test shares.
    home = tmp_path / "home"
    shutil.copytree(first_night.home, home)
    monkeypatch.setenv("LLIF_HOME", str(home))
    asked = []
    monkeypatch.setattr(demo, "_nightly_refresh", lambda replications=None: asked.append(replications) or ["raw/crm"])
    assert main(["demo", "--scale", "0.02", "--replications", "4"]) == 0
    second = capsys.readouterr().out
    assert "one more night passes" in second and asked == [4]
    assert api.read_manifest(api.llif_paths(home))["as_of"] == "2026-11-01"
    assert api.read_manifest(api.llif_paths(first_night.home))["as_of"] == "2026-10-31"  # left as it was
