"""`llif` works from an installed wheel, outside the checkout (llif/package.py builds it).

The wheel is installed without dependencies into a fresh virtual environment that borrows the
development environment's installed packages (a .pth file), so the test needs no network and
nothing of the checkout is importable: every path the code uses must come from the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from llif.package import build_wheel

from helpers.paths import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(tmp / "dist")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    # the development environment's packages, but not its editable llif (its .pth is not read from there)
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    py = venv / "bin" / "python"
    # the console scripts pip would have written with the dependencies (dbt, llif)
    for name, entry in (("dbt", "from dbt.cli.main import cli as main"), ("llif", "from llif.cli import main"),
                        ("llif-dbt", "from orchestration.dbt_child import main")):
        script = venv / "bin" / name
        script.write_text(f"#!{py}\nimport sys\n{entry}\nsys.exit(main())\n")
        script.chmod(0o755)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
                   check=True)
    return py, tmp


def _run(py: Path, tmp: Path, code: str, *args: str, timeout: float = 300) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLIF_", "DBT_", "DAGSTER_"))}
    env.update(LLIF_HOME=str(tmp / "home"), PYTHONNOUSERSITE="1")
    cmd = [str(py), "-c", textwrap.dedent(code), *args] if code else [str(py), *args]
    done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_the_wheel_carries_the_dbt_project_scenarios_and_workspace(installed):
    py, tmp = installed
    out = json.loads(_run(py, tmp, """
        import json, llif, orchestration.dbt as d
        from llif import services
        from contracts.settings import paths
        from simulation.scenarios import shipped_scenarios
        from orchestration.definitions import defs
        keys = [k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()]
        print(json.dumps({"llif": llif.__file__, "dbt": str(d.project.project_dir),
                          "manifest": d.project.manifest_path.exists(),
                          "workspace": str(services.workspace_file()),
                          "scenarios": [s.name for s in shipped_scenarios()],
                          "home": str(paths().home), "marts": sum(k.startswith("marts/") for k in keys)}))
    """))
    site = str(py.parent.parent)
    assert out["llif"].startswith(site) and not out["llif"].startswith(str(ROOT))
    assert out["dbt"].startswith(site) and out["dbt"].endswith("orchestration/dbt-project") and out["manifest"]
    assert out["workspace"].startswith(site)
    assert len(out["scenarios"]) == len(list((ROOT / "scenarios").glob("*.yaml"))) and "baseline" in out["scenarios"]
    assert out["home"] == str(tmp / "home") and out["marts"] >= 10


def test_llif_commands_run_from_the_wheel(installed):
    py, tmp = installed
    llif = str(py.parent / "llif")
    text = _run(py, tmp, "", llif, "forecast", "run", "--toy", "300", "--scenario", "all",
                "--replications", "2", "--months", "3", "--processes", "1")
    assert "8 scenario(s) x 2 replications x 3 months" in text
    assert "duckdb" in _run(py, tmp, "", llif, "check", "--target", "duckdb")
    # dbt itself runs on the packaged project, its run files under LLIF_HOME, not in the package
    _run(py, tmp, """
        import subprocess, sys, os
        from pathlib import Path
        from orchestration.dbt import project, dbt_environment
        env = {**os.environ, **dbt_environment()}
        dbt = Path(sys.executable).parent / "dbt"
        done = subprocess.run([str(dbt), "ls", "--project-dir",
                               str(project.project_dir), "--profiles-dir", str(project.profiles_dir),
                               "--select", "marts", "--quiet", "--resource-type", "model"],
                              env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "fct_person_month" in done.stdout, done.stdout
        assert not (project.project_dir / "logs").exists()
    """)
