"""`make ui` serves the Dagster UI over workspace.yaml and the MLflow UI, on localhost."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest

from llif import ui


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 90.0) -> bytes:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read()
        except Exception as exc:  # not up yet
            last = exc
            time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout}s: {last}")


@pytest.mark.timeout(240)
def test_the_uis_come_up_and_dagster_shows_the_code_location(tmp_path, monkeypatch):
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "home"))
    dagster_port, mlflow_port, explorer_port = _free_port(), _free_port(), _free_port()
    procs = ui.start(dagster_port, mlflow_port, explorer_port)
    try:
        assert b"<html" in _get(f"http://127.0.0.1:{mlflow_port}/").lower()
        assert _get(f"http://127.0.0.1:{explorer_port}/_stcore/health").strip() == b"ok"
        info = json.loads(_get(f"http://127.0.0.1:{dagster_port}/server_info"))
        assert "dagster_webserver_version" in info
        # the code location loads: the source systems are in the asset graph
        query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
        deadline = time.monotonic() + 90
        keys = []
        while time.monotonic() < deadline and not keys:
            req = urllib.request.Request(
                f"http://127.0.0.1:{dagster_port}/graphql", data=query, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                body = json.loads(resp.read())
            keys = [n["assetKey"]["path"] for n in (body.get("data") or {}).get("assetNodes") or []]
            if not keys:
                time.sleep(2)
        assert ["source", "crm"] in keys
        assert (tmp_path / "home" / "dagster_home").is_dir()
    finally:
        ui.stop(procs)
    assert all(p.poll() is not None for p in procs.values())
