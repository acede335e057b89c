"""Everything a night writes under LLIF_HOME is its owner's only (issue 16 point 3, decision 51).

The session's first night (`llif demo` on a tiny world: the world's sources, ingest, linkage,
dbt, the models in MLflow's store, the forecast, the published copy, the report, Dagster's own
storage and logs) is walked file by file: no file or folder may be readable, writable or
enterable by the group or by other users. Before decision 51 only the warehouse, the pseudonym
key and the explorer's files were, and the MLflow store, the forecasts and dbt's logs were 0644
under a usual umask of 022.
"""

from __future__ import annotations

import os
import stat

import pytest


def _loose(root) -> list[str]:
    out = []
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                continue
            if mode & 0o077:
                out.append(f"{oct(mode & 0o777)} {os.path.relpath(path, root)}")
    return out


@pytest.fixture(autouse=True)
def _a_usual_umask():
    """The test's own process runs with the usual 022, as an operator's shell does, so a pass
    means llif set its own umask rather than inherited one."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_nothing_the_first_night_wrote_is_readable_by_others(first_night):
    assert first_night.exit_code == 0, first_night.out[-3000:]
    home = first_night.home
    assert {"warehouse.duckdb", "dagster_home", "sources"} <= set(os.listdir(home)), sorted(os.listdir(home))
    assert os.stat(home).st_mode & 0o077 == 0, oct(os.stat(home).st_mode)
    loose = _loose(home)
    assert not loose, f"{len(loose)} paths under LLIF_HOME are open to others:\n" + "\n".join(loose[:40])


def test_the_command_line_puts_the_callers_umask_back(tmp_path, monkeypatch):
    """`main` sets 077 for what it runs and restores the caller's, so a test (or a notebook)
    calling it keeps its own umask afterwards."""
    from llif.cli import main

    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "home"))
    with pytest.raises(SystemExit):
        main(["--help"])  # argparse exits from inside main: the umask is put back all the same
    assert os.umask(0o022) == 0o022
