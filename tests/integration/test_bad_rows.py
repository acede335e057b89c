"""Bad rows never stop the night (issue 16 point 5, decision 50, docs/data_quality.md).

One small world (scale 0.02) has its sources damaged as an operator meets them: a vendor-B
placement dated ``16/11/2026 11:13``, one ended ``20260931``, one with no key, one with a care
level no code list knows and one with no start date, and a CRM tenancy naming a household not
(yet) in the CRM. Every system is ingested, linked and the whole project built (`dbt build`, the
planning marts aside as in the session's small world). Before decision 50 the unknown care level
alone made staging's not-null and accepted-values tests errors and dbt skipped every mart and ML
table downstream; now:

- no node errors or is skipped, and the marts and ML feature tables are built;
- what ingest can judge (the dates, the empty key) is in ``raw._quarantine`` with its file, row,
  field and reason, and none of it reaches a mart;
- what only dbt can judge (a code, a missing date, a household not yet keyed) warns with the
  count, and the warning points at a view in the ``quarantine`` schema holding the very rows.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import duckdb
import pytest

from helpers.dbt_runs import run_dbt, run_results
from helpers.worlds import SMALL_WORLD_KEY

BAD_DATE, BAD_END, NO_KEY, BAD_CODE, NO_START = 70901, 70902, None, 70904, 70905
ORPHAN_TENANCY = 99_999_001
ORPHAN_PREFIX = "relationships_stg_crm__tenancies_household_id__household_id__ref_stg_crm__households_"


def _damage_placements(export: Path) -> None:
    with export.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, good = rows[0], rows[1]
    col = {c: i for i, c in enumerate(header)}

    def like_good(placement_id, **fields) -> list[str]:
        row = list(good)
        row[col["placement_id"]] = "" if placement_id is None else str(placement_id)
        row[col["end_date"]] = ""
        row[col["updated_at"]] = "2026-10-30T00:00:00"
        for name, value in fields.items():
            row[col[name]] = value
        return row

    bad = [
        like_good(BAD_DATE, start_date="16/11/2026 11:13"),   # vendor B's form is yyyymmdd
        like_good(BAD_END, start_date="20200101", end_date="20260931"),  # no 31 September
        like_good(NO_KEY, start_date="20200101"),              # no key
        like_good(BAD_CODE, start_date="20200101", care_level="RESPITE_X"),  # no such care level
        like_good(NO_START, start_date=""),                    # a date the source left empty
    ]
    with export.open("a", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(bad)


def _orphan_tenancy(crm: Path) -> None:
    con = sqlite3.connect(crm)
    row = list(con.execute("SELECT * FROM tenancy ORDER BY tenancy_ref LIMIT 1").fetchone())
    cols = [r[1] for r in con.execute("PRAGMA table_info(tenancy)")]
    row[cols.index("tenancy_ref")] = ORPHAN_TENANCY
    row[cols.index("household_ref")] = 99_999_999  # a late record: its household is not keyed yet
    con.execute(f"INSERT INTO tenancy VALUES ({','.join('?' * len(row))})", row)
    con.commit()
    con.close()


@pytest.fixture(scope="module")
def bad_night(tmp_path_factory):
    from synthetic_sources import api
    from warehouse import duck, ingest
    from warehouse.identity import link_people

    home = tmp_path_factory.mktemp("bad_rows")
    api.generate(home=home, scale=0.02, seed=3, until="2026-10-31")
    sources = home / "sources"
    _damage_placements(max((sources / "care_b_exports").glob("placement_*.csv")))
    _orphan_tenancy(sources / "crm.sqlite")
    warehouse = home / "warehouse.duckdb"
    for system in ingest.systems_with_sources(sources):
        ingest.ingest_system(system, warehouse, sources_dir=sources, pseudonym_key=SMALL_WORLD_KEY)
    with duck.open_writer(warehouse) as con:
        link_people(con)
    work = home / "dbt"
    proc = run_dbt(["build", "--exclude", "tag:planning"], work,
                   {"LLIF_WAREHOUSE": str(warehouse), "LLIF_HOME": str(home)}, check=False)
    results = {r["unique_id"]: r for r in run_results(work)}
    return {"warehouse": warehouse, "proc": proc, "results": results}


def _query(path: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_nothing_errors_or_is_skipped_and_the_marts_and_ml_tables_build(bad_night):
    bad = {uid: f"{r['status']} {r.get('message') or ''}" for uid, r in bad_night["results"].items()
           if r["status"] not in ("success", "pass", "warn")}
    assert not bad, bad  # the blocking list (keys) holds on this world: nothing is deliberate here
    assert bad_night["proc"].returncode == 0, bad_night["proc"].stdout[-3000:]
    built = {uid.split(".")[-1] for uid, r in bad_night["results"].items()
             if uid.startswith("model.") and r["status"] == "success"}
    assert {"fct_person_month", "fct_care_episodes", "fct_case_mix_monthly", "ml_person_months",
            "ml_person_features"} <= built
    assert _query(bad_night["warehouse"], "select count(*) from ml.ml_person_months")[0][0] > 0


def test_what_ingest_can_judge_is_quarantined_with_its_reason_and_kept_out_of_the_marts(bad_night):
    w = bad_night["warehouse"]
    held = _query(w, "select record_key, field, reason from raw._quarantine "
                     "where system = 'care_b' and source_table = 'placement' order by row_number")
    assert held == [
        (str(BAD_DATE), "start_date", "value 16/11/2026 11:13 is not a date in the form yyyymmdd"),
        (str(BAD_END), "end_date", "value 20260931 is not a date in the form yyyymmdd"),
        (None, "placement_id", held[2][2]),
    ], held
    assert "empty" in held[2][2] or "null" in held[2][2].lower(), held[2]
    raw_ids = {r[0] for r in _query(w, "select placement_id from raw.care_b__placement")}
    assert {BAD_CODE, NO_START} <= raw_ids and not {BAD_DATE, BAD_END} & raw_ids
    episodes = {r[0] for r in _query(w, "select care_episode_id from marts.fct_care_episodes")}
    assert f"B:{BAD_CODE}" in episodes and not {f"B:{BAD_DATE}", f"B:{BAD_END}"} & episodes


def test_what_dbt_judges_warns_with_the_count_and_points_at_the_rows(bad_night):
    results, out = bad_night["results"], bad_night["proc"].stdout
    w = bad_night["warehouse"]

    def warned(prefix: str) -> dict:
        hits = [r for uid, r in results.items() if uid.startswith(f"test.llif.{prefix}.")]
        assert len(hits) == 1, (prefix, [uid for uid in results if prefix in uid])
        return hits[0]

    for prefix, count in [(ORPHAN_PREFIX, 1),
                          ("not_null_stg_care_b__placements_care_type", 1),
                          ("not_null_stg_care_b__placements_admission_date", 1)]:
        r = warned(prefix)
        assert (r["status"], r["failures"]) == ("warn", count), r
        assert f"Got {count} result" in r["message"], r["message"]
        view = r["relation_name"]  # a long test name is shortened with a hash: dbt says which
        assert view.startswith('"warehouse"."quarantine".'), view
        assert f"select * from {view}" in out, out[-3000:]  # the warning shows where the rows are
        assert _query(w, f"select count(*) from {view}") == [(count,)]
    orphan = _query(w, f"select tenancy_id from {warned(ORPHAN_PREFIX)['relation_name']}")
    assert [str(r[0]) for r in orphan] == [str(ORPHAN_TENANCY)]
    # kept and flagged, not dropped (decision 36): its household joins when the CRM keys it
    assert _query(w, "select count(*) from marts.fct_tenancy_spells where tenancy_id = ?", [ORPHAN_TENANCY]) == [(1,)]
    unknown = _query(w, f"select placement_id from {warned('not_null_stg_care_b__placements_care_type')['relation_name']}")
    assert unknown == [(BAD_CODE,)]
