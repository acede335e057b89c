"""`make demo` runs `llif demo`: the first run makes a world, every later run is a new night."""

from __future__ import annotations

from llif import demo
from llif.cli import main
from synthetic_sources import api


def test_demo_generates_then_each_run_is_a_new_night(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("LLIF_HOME", str(home))
    assert main(["demo", "--scale", "0.02", "--seed", "5", "--replications", "4"]) == 0
    first = capsys.readouterr().out
    assert "generating the world" in first and "calibration:" in first and "look next" in first
    assert "the baseline forecast" in first  # its bottlenecks, or that it found none
    assert api.read_manifest(api.llif_paths(home))["as_of"] == "2026-10-31"

    # The second night's refresh is the same job on one more day, which the end-to-end test in
    # test_orchestration runs in full; here only the demo's own part is checked: a day passes
    # and the refresh is asked for with the analyst's replications.
    asked = []
    monkeypatch.setattr(demo, "_nightly_refresh", lambda replications=None: asked.append(replications) or ["raw/crm"])
    assert main(["demo", "--scale", "0.02", "--replications", "4"]) == 0
    second = capsys.readouterr().out
    assert "one more night passes" in second and asked == [4]
    assert api.read_manifest(api.llif_paths(home))["as_of"] == "2026-11-01"
