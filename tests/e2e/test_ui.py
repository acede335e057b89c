"""`make ui` (and `llif serve`) runs the Dagster webserver and daemon, MLflow, the explorer and the dbt docs."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest

from llif import services


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
    ports = services.Ports(dagster=_free_port(), mlflow=_free_port(), explorer=_free_port(), docs=_free_port())
    dagster_port, mlflow_port, explorer_port = ports.dagster, ports.mlflow, ports.explorer
    procs = services.start(host="127.0.0.1", ports=ports)
    try:
        assert set(procs) == set(services.SERVICES)
        assert b"dbt docs" in _get(f"http://127.0.0.1:{ports.docs}/")
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
        assert procs["dagster-daemon"].poll() is None
    finally:
        services.stop(procs)
    assert all(p.poll() is not None for p in procs.values())


def test_dagster_yaml_is_written_once_then_left_to_the_operator(tmp_path, monkeypatch):
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LLIF_DAGSTER_STORAGE_URL", raising=False)
    config = services.prepare_dagster_home() / "dagster.yaml"
    text = config.read_text()
    assert "sqlite" in text and "QueuedRunCoordinator" in text and "default_limit: 1" in text
    config.write_text(text + "\n# the operator's own line\n")
    services.prepare_dagster_home()
    assert config.read_text().endswith("# the operator's own line\n")


def test_postgres_storage_is_named_by_url_and_its_password_stays_in_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LLIF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LLIF_DAGSTER_STORAGE_URL", "postgresql://llif:s3cret@db.example:5432/dagster")
    text = (services.prepare_dagster_home() / "dagster.yaml").read_text()
    assert "env: LLIF_DAGSTER_STORAGE_URL" in text and "s3cret" not in text
    monkeypatch.setenv("LLIF_DAGSTER_STORAGE_URL", "mysql://x@y/z")
    with pytest.raises(ValueError, match="postgresql://"):
        services.dagster_yaml_text(tmp_path, "mysql://x@y/z")
