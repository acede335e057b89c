"""The forecast schema is a contract: the engine writes exactly it, readers pick the same run."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from contracts import forecast as contract
from simulation import outputs
from simulation.testing import toy_forecast


@pytest.fixture(scope="module")
def results():
    return toy_forecast(3, 4)


def test_every_table_is_written_with_the_declared_columns(results):
    con = duckdb.connect()
    outputs.write_forecast(con, results, {"run_date": "2026-11-01"})
    got = dict(con.execute("select table_name, list(column_name order by ordinal_position) from "
                           "information_schema.columns where table_schema = 'forecast' group by 1").fetchall())
    assert {t: tuple(c) for t, c in got.items()} == contract.TABLES


def test_a_column_the_contract_does_not_declare_is_refused(results, monkeypatch):
    real = outputs.summarise

    def with_extra(res):
        frames = real(res)
        frames["kpi_summary"] = frames["kpi_summary"].assign(p99=0.0)
        return frames

    monkeypatch.setattr(outputs, "summarise", with_extra)
    with pytest.raises(ValueError, match=r"forecast.kpi_summary .* not the declared"):
        outputs.write_forecast(duckdb.connect(), results, {"run_date": "2026-11-01"})


def test_the_engine_and_the_explorer_read_the_same_latest_run(results, tmp_path):
    from explorer import data

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        outputs.write_forecast(con, results, {"run_date": "2026-11-02", "run_id": "night-2"})
        # a backfill of an earlier night, written afterwards: it is what planners read now
        outputs.write_forecast(con, results, {"run_date": "2026-10-01", "run_id": "backfill-1"})
        con.execute("update forecast.runs set created_at = created_at + interval 1 second where run_id = 'backfill-1'")
        assert outputs.latest_run(con) == ("backfill-1", "2026-10-01")
    assert data.latest_run(path) == "backfill-1"
    summary = data.forecast_summary(path)
    assert not summary.empty and {"lo80", "hi80", "lo95", "hi95"} <= set(summary.columns)
    assert summary["lo80"].le(summary["hi80"]).all()
    assert pd.Series(summary["month"]).notna().all()
