"""``make wheel``: build the installable wheel, carrying what a checkout has beside the code.

    .venv/bin/python -m llif.package dist/

An installed llif has no checkout around it, so the wheel must carry:

- the dbt project with its parsed manifest, as ``orchestration/dbt-project`` (dagster-dbt's
  convention: ``dagster-dbt project prepare-and-package`` parses the project and copies it to the
  ``packaged_project_dir`` of ``orchestration/dbt.py``, which an installed code location uses);
- the shipped scenarios, as ``simulation/shipped_scenarios`` (``simulation.scenarios`` reads it
  where there is no checkout);
- ``workspace.yaml``, as ``llif/workspace.yaml`` (``llif serve`` hands it to Dagster).

Why from a copy: the packaged dbt project would take precedence over the checkout's own in every
process that imported the code location while it existed, so the checkout is never touched;
the tracked files are copied to a temporary folder, prepared and built there.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from contracts.settings import PROJECT_ROOT


def _tracked_files(root: Path) -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root, capture_output=True, check=True)
        return [Path(p) for p in out.stdout.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):  # no git (an unpacked source archive): everything
        skip = {".git", ".venv", ".llif", "dist", "build", "__pycache__", "target", "logs", "mlruns"}
        return [p.relative_to(root) for p in root.rglob("*") if p.is_file() and not (set(p.parts) & skip)]


def _run(cmd: list[str], cwd: Path, env: dict | None = None) -> None:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def build_wheel(out_dir: Path, root: Path = PROJECT_ROOT) -> Path:
    """Build the wheel into ``out_dir``; returns its path."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="llif-wheel-") as tmp:
        src = Path(tmp) / "src"
        for rel in _tracked_files(root):
            if (root / rel).is_file():
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / rel, src / rel)
        env = {**os.environ, "LLIF_HOME": str(Path(tmp) / "home"), "PYTHONPATH": str(src),
               "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",  # its preparer calls `dbt`
               "LLIF_WAREHOUSE": str(Path(tmp) / "home" / "warehouse.duckdb")}
        env.pop("DBT_TARGET_PATH", None)
        env.pop("DBT_LOG_PATH", None)
        _run([str(bin_dir / "dagster-dbt"), "project", "prepare-and-package", "--file", "orchestration/dbt.py"],
             cwd=src, env=env)
        manifest = src / "orchestration" / "dbt-project" / "target" / "manifest.json"
        if not manifest.exists():
            raise RuntimeError(f"dagster-dbt prepare-and-package left no manifest at {manifest}")
        shutil.copytree(src / "scenarios", src / "simulation" / "shipped_scenarios")
        shutil.copy2(src / "workspace.yaml", src / "llif" / "workspace.yaml")
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out_dir), str(src)],
             cwd=src, env=env)
    wheels = sorted(out_dir.glob("llif-*.whl"), key=lambda p: p.stat().st_mtime)
    return wheels[-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="build llif's wheel with the dbt project, scenarios and workspace")
    parser.add_argument("out_dir", nargs="?", default=str(PROJECT_ROOT / "dist"))
    print(build_wheel(Path(parser.parse_args(argv).out_dir)))


if __name__ == "__main__":
    main()
