"""Segments and transition models end to end on a small world (scale 0.05).

One world is generated, ingested, linked and dbt-run up to the ml feature marts once for the
session (tests/conftest.py's small_world); segmentation, training, the gate, the probability tables and the outlooks
then run on it with MLflow in the world's home. Checks: the feature marts pass their dbt tests
(test_marts compiles them for SQL Server and scans them) and do not look ahead (a warehouse truncated at a month
gives the same features up to it); segment labels are stable night to night; training is
deterministic; the gate refuses a worse challenger and promotes a better one; the probability
table equals the champion models' direct predictions on its cells' rows; LightGBM beats the
Markov baseline; the outlooks cover the current census.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from helpers.dbt_runs import run_dbt, run_results

ML_MODELS = ["ml_person_months", "ml_person_features"]
TRUNCATE_AT = "2021-06-01"


@pytest.fixture(scope="module")
def world(small_world, tmp_path_factory):
    """(home, warehouse, dbt work dir): a copy of the session's small world (marts and ml
    feature marts built by its `dbt build`), since segments, MLflow and tables are written here."""
    home = tmp_path_factory.mktemp("ml_world") / "home"
    shutil.copytree(small_world[0], home)
    return home, home / "warehouse.duckdb", small_world[2]


@pytest.fixture(scope="module")
def tracking(world):
    from models_ml.tracking import Tracking

    return Tracking.for_home(world[0])


@pytest.fixture(scope="module")
def segmented(world):
    from models_ml import segments as S
    from truth_validation import segments as V

    home, path, _ = world
    with duckdb.connect(str(path)) as con:
        truth = V.true_segments(con, home / "truth")
        result = S.build_segments(con, previous=None, truth=truth)
        S.write_segments(con, result)
    return result


@pytest.fixture(scope="module")
def trained(world, segmented, tracking):
    """Three nights: a weak model (promoted: no champion yet), the real one (better: promoted),
    the weak one again (worse: refused)."""
    from models_ml import tracking as T
    from models_ml.transitions.config import TrainConfig
    from models_ml.transitions.gate import gate_and_promote
    from models_ml.transitions.training import train_transition_models

    weak = TrainConfig(num_boost_round=2, learning_rate=0.01, early_stopping_rounds=1)
    nights = []
    with duckdb.connect(str(world[1])) as con:
        for cfg, with_drivers in ((weak, False), (TrainConfig(), True), (weak, False)):
            res = train_transition_models(con, tracking, T.run_tags("test-run", "transition_models", "abc123"),
                                            cfg=cfg, with_drivers=with_drivers)
            gate = gate_and_promote(con, tracking)
            nights.append((res, gate))
    return nights


# ---------------------------------------------------------------------------------------------
# the feature marts


def test_feature_marts_pass_their_tests_and_document_every_column(world):
    _, path, work = world
    results = [r for r in run_results(work) if any(m in r["unique_id"] for m in ML_MODELS)]
    bad = [f"{r['unique_id']}: {r['status']}" for r in results if r["status"] not in ("success", "pass")]
    assert not bad and len(results) > 50, bad
    import json
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] in ML_MODELS}
    with duckdb.connect(str(path), read_only=True) as con:
        for name, node in nodes.items():
            # ml_person_months is incremental by person (docs/decisions.md 30)
            expected = "incremental" if name == "ml_person_months" else "table"
            assert node["schema"] == "ml" and node["config"]["materialized"] == expected, name
            actual = {r[0] for r in con.execute("select column_name from information_schema.columns "
                                                "where table_schema = 'ml' and table_name = ?", [name]).fetchall()}
            assert actual == set(node["columns"]), name
            assert all(c["description"].strip() for c in node["columns"].values()), name


def test_features_use_nothing_after_their_month(world, tmp_path):
    """Truncate the marts' inputs at a month, rebuild the feature mart: every row up to that month
    has the same features (and the same 12-month labels where the horizon was already complete)."""
    from models_ml.features import LABELS

    _, path, _ = world
    copy = tmp_path / "truncated.duckdb"
    shutil.copy(path, copy)
    t = TRUNCATE_AT
    with duckdb.connect(str(copy)) as con:
        con.execute(f"delete from marts.fct_person_month where month_start > date '{t}'")
        con.execute(f"delete from marts.dim_month where month_start > date '{t}'")
        con.execute("drop table if exists ml.segments")
        for view, where, nulls in (
            ("stg_crm__circumstances", f"review_date <= last_day(date '{t}')", {}),
            ("stg_crm__household_members", f"joined_date <= last_day(date '{t}')",
             {"left_date": f"case when left_date > last_day(date '{t}') then null else left_date end"}),
        ):
            cols = [r[0] for r in con.execute("select column_name from information_schema.columns where table_schema = "
                                              "'staging' and table_name = ? order by ordinal_position", [view]).fetchall()]
            select = ", ".join(f"{nulls[c]} as {c}" if c in nulls else c for c in cols)
            con.execute(f"create table staging._t as select {select} from staging.{view} where {where}")
            con.execute(f"drop view staging.{view}")
            con.execute(f"alter table staging._t rename to {view}")
    run_dbt(["run", "--select", "ml_person_months"], tmp_path / "dbt", {"LLIF_WAREHOUSE": str(copy)})
    key = ["person_key", "month_start"]
    with duckdb.connect(str(path), read_only=True) as full_con, duckdb.connect(str(copy), read_only=True) as cut_con:
        sql = ("select * exclude (segment, segment_name, person_inputs_fingerprint) from ml.ml_person_months "
               f"where month_start <= date '{t}' order by person_key, month_start")
        full = full_con.execute(sql).df()
        cut = cut_con.execute(sql).df()
    assert len(full) == len(cut) > 10000
    features = [c for c in full.columns if c not in LABELS and c not in key + ["person_month_id"]]
    pd.testing.assert_frame_equal(full[key + features], cut[key + features], check_dtype=False)
    done = cut["is_outlook_horizon_complete"] == 1
    labels = [c for c in LABELS if c.endswith("_next_12_months")] + ["next_state", "next_need_level"]
    pd.testing.assert_frame_equal(full.loc[done, labels].reset_index(drop=True), cut.loc[done, labels].reset_index(drop=True),
                                  check_dtype=False)


@pytest.mark.timeout(1200)
def test_incremental_feature_mart_equals_a_full_rebuild_after_new_months(world, tmp_path):
    """ml_person_months is incremental by person: a night with segments, then more than a month
    of new activity, late arrivals and corrections (crossing into a new month); the nightly
    build keeps the rows of people whose inputs did not change, rebuilds the others, and holds
    exactly what --full-refresh does, row for row."""
    from synthetic_sources import api
    from warehouse import duck, ingest
    from warehouse.identity import link_people

    from helpers.worlds import SMALL_WORLD_KEY

    home = tmp_path / "home"
    shutil.copytree(world[0], home, ignore=shutil.ignore_patterns("mlartifacts", "mlflow.db"))
    path = home / "warehouse.duckdb"
    env = {"LLIF_WAREHOUSE": str(path)}
    with duckdb.connect(str(path)) as con:
        # last night's segments (the mart reads them when they exist): a change for everyone
        con.execute("create or replace table ml.segments as select person_key, 1 + cast(hash(person_key) % 4 as integer) "
                    "as segment, 'segment ' || cast(1 + cast(hash(person_key) % 4 as integer) as varchar) as segment_name "
                    "from marts.dim_person")
    run_dbt(["run", "--select", "ml_person_inputs_fingerprinted", "ml_person_months"], tmp_path / "dbt0", env)
    with duckdb.connect(str(path)) as con:
        con.execute("create table main.before_months as select * from ml.ml_person_months")
        before = con.execute("select count(*), max(month_start), count(*) filter (where segment is not null) "
                             "from ml.ml_person_months").fetchone()
    assert before[2] == before[0]  # the segments reached every row

    api.advance(home=home, days=35)
    for system in ingest.systems_with_sources(home / "sources"):
        ingest.ingest_system(system, path, sources_dir=home / "sources", pseudonym_key=SMALL_WORLD_KEY)
    with duck.open_writer(path) as con:
        link_people(con)
    work = tmp_path / "dbt"
    run_dbt(["run", "--select", "+ml_person_months"], work, env)
    node = next(r for r in run_results(work) if r["unique_id"].endswith(".ml_person_months"))
    ran = (work / "target" / "compiled" / "llif" / "models" / "ml" / "ml_person_months.sql").read_text()
    assert node["status"] == "success" and "inner join rebuilt_people" in ran  # the incremental branch ran
    with duckdb.connect(str(path)) as con:
        con.execute("create table main.incremental_months as select * from ml.ml_person_months")
        after = con.execute("select count(*), max(month_start) from ml.ml_person_months").fetchone()
        kept, rebuilt = con.execute("""
            select count(*) filter (where b.person_inputs_fingerprint = a.person_inputs_fingerprint),
                   count(*) filter (where b.person_inputs_fingerprint <> a.person_inputs_fingerprint)
            from (select distinct person_key, person_inputs_fingerprint from main.before_months) as b
            inner join (select distinct person_key, person_inputs_fingerprint from main.incremental_months) as a
                on b.person_key = a.person_key""").fetchone()
        # a kept person's rows are the ones built the night before, untouched
        changed_kept = con.execute("""
            select count(*) from (
                select * from main.incremental_months where person_key in (
                    select a.person_key from main.incremental_months as a
                    inner join main.before_months as b
                        on a.person_key = b.person_key and a.person_inputs_fingerprint = b.person_inputs_fingerprint)
                except all select * from main.before_months)""").fetchone()[0]
    assert after[1] > before[1], (before, after)  # new months arrived
    assert kept > 0 and rebuilt > 0, (kept, rebuilt)  # people whose timelines ended are kept, the living rebuilt
    assert changed_kept == 0

    run_dbt(["run", "--select", "ml_person_months", "--full-refresh"], work, env)
    with duckdb.connect(str(path)) as con:
        only_incremental, only_full = (con.execute(
            f"select count(*) from (select * from {a} except all select * from {b})").fetchone()[0]
            for a, b in (("main.incremental_months", "ml.ml_person_months"),
                         ("ml.ml_person_months", "main.incremental_months")))
    assert only_incremental == 0 and only_full == 0, (
        f"incremental and full feature marts differ: {only_incremental} rows only in the incremental, "
        f"{only_full} only in the full rebuild, of {after[0]} (people kept {kept}, rebuilt {rebuilt})")


# ---------------------------------------------------------------------------------------------
# segments


def test_segments_are_chosen_named_profiled_and_published(segmented, world):
    meta = segmented.metadata()
    assert 4 <= segmented.k <= 8 and segmented.evidence["chosen"].sum() == 1
    assert meta["adjusted_rand_index_vs_truth"] > 0.4  # >= 0.6 required at scale 1.0, not on a tiny world
    assert len(set(segmented.model.names)) == segmented.k
    assert set(segmented.pathways["segment"]) == set(range(segmented.k))
    with duckdb.connect(str(world[1]), read_only=True) as con:
        n = con.execute("select count(*), count(distinct person_key), min(segment), max(segment) from ml.segments").fetchone()
        people = con.execute("select count(*) from ml.ml_person_features").fetchone()[0]
    assert n[0] == n[1] == people and n[2] == 0 and n[3] == segmented.k - 1


def test_segment_labels_are_stable_night_to_night(segmented, world):
    from models_ml import segments as S

    with duckdb.connect(str(world[1]), read_only=True) as con:
        again = S.build_segments(con, previous=segmented.assignments[["person_key", "segment"]], with_pathways=False)
        # last night's numbers permuted: tonight follows them
        perm = np.roll(np.arange(segmented.k), 2)
        shuffled = segmented.assignments[["person_key", "segment"]].assign(segment=lambda d: perm[d["segment"]])
        follows = S.build_segments(con, previous=shuffled, with_pathways=False)
        by_centroid = S.build_segments(con, previous=S.SegmentModel(segmented.model.centroids[np.argsort(perm)],
                                                                    segmented.model.names), with_pathways=False)
    assert again.k == segmented.k and again.previous_agreement == 1.0
    assert np.array_equal(again.assignments["segment"], segmented.assignments["segment"])
    assert np.array_equal(follows.assignments["segment"], perm[segmented.assignments["segment"]])
    assert np.array_equal(by_centroid.assignments["segment"], perm[segmented.assignments["segment"]])


# ---------------------------------------------------------------------------------------------
# transition models


def test_training_is_deterministic(world, segmented):
    from models_ml.transitions.config import NEXT_STATE, TrainConfig
    from models_ml.transitions.training import fit_all

    with duckdb.connect(str(world[1]), read_only=True) as con:
        quick = TrainConfig(num_boost_round=40)  # determinism needs no full-length model
        a, frames = fit_all(con, cfg=quick, only=(NEXT_STATE,))
        b, _ = fit_all(con, cfg=quick, only=(NEXT_STATE,))
    test = frames["next_month"].loc[lambda d: d["period"] == "test"]
    assert a[NEXT_STATE].model.boosters == b[NEXT_STATE].model.boosters
    assert np.array_equal(a[NEXT_STATE].model.predict_proba(test), b[NEXT_STATE].model.predict_proba(test))


def test_lightgbm_beats_the_markov_baseline_on_log_loss(trained):
    from models_ml.transitions.config import NEED, NEXT_STATE

    metrics = trained[1][0].metrics
    for name in (NEXT_STATE, NEED):
        m = metrics[name]
        assert m["heldout_log_loss"] < m["baseline_heldout_log_loss"], (name, m)
        assert m["heldout_calibration_error"] < 0.01


def test_gate_promotes_better_and_refuses_worse(trained, tracking):
    from models_ml import tracking as T
    from models_ml.transitions.config import MODEL_NAMES, NEXT_STATE

    (r1, g1), (r2, g2), (r3, g3) = trained
    for name in MODEL_NAMES:
        assert g1.decisions[name].promoted and g1.decisions[name].reason == "no champion yet"
        assert g2.decisions[name].promoted, g2.decisions[name].reason  # better than the weak champion
        assert not g3.decisions[name].promoted, g3.decisions[name].reason  # the weak one again: refused
        assert T.alias_version(tracking, name, T.CHAMPION) == r2.versions[name]
        assert T.alias_version(tracking, name, T.CHALLENGER) == r3.versions[name]
    run = tracking.client().get_run(r2.run_ids[NEXT_STATE])
    assert run.data.tags["dagster_run_id"] == "test-run" and run.data.tags["git_commit"] == "abc123"
    assert "heldout_log_loss" in run.data.metrics and "window_test_end" in run.data.params
    artifacts = {a.path for a in tracking.client().list_artifacts(run.info.run_id, "evaluation")}
    assert any(p.endswith(".png") for p in artifacts) and any("drivers_" in p for p in artifacts)
    assert tracking.tracking_uri.startswith("sqlite:///") and tracking.artifact_location.startswith("file:///")


def test_refit_trains_on_every_labelled_month_and_is_what_is_registered(trained, world, tracking):
    """The production refit's window ends at the latest labelled month (the held-out end), its
    run points at the evaluation run, and the registered version (what the champion alias
    loads) is the refit, not the evaluation fit."""
    from models_ml import features as F
    from models_ml import tracking as T
    from models_ml.transitions.config import MODEL_NAMES, OUTLOOK
    from models_ml.transitions.gate import evaluation_fit
    from models_ml.transitions.mlflow_runs import EVALUATION_RUN_TAG, FIT_TAG, PRODUCTION_RUN_TAG

    res = trained[1][0]
    client = tracking.client()
    with duckdb.connect(str(world[1]), read_only=True) as con:
        latest = F.latest_complete_month(con)
    for name in MODEL_NAMES:
        fm = res.fitted[name]
        horizon = 12 if name == OUTLOOK else 1
        labelled = F.months_before(latest, horizon)
        ev = client.get_run(res.run_ids[name])
        rf = client.get_run(res.refit_run_ids[name])
        assert rf.data.params["train_end"] == f"{labelled:%Y-%m}" == ev.data.params["window_test_end"]
        assert ev.data.params["train_end"] == f"{F.months_before(labelled, 24):%Y-%m}"
        assert rf.data.params["train_start"] == ev.data.params["train_start"] == "2016-01"
        assert rf.data.tags[EVALUATION_RUN_TAG] == ev.info.run_id and ev.data.tags[PRODUCTION_RUN_TAG] == rf.info.run_id
        assert (rf.data.tags[FIT_TAG], ev.data.tags[FIT_TAG]) == ("production", "evaluation")
        assert fm.refit_rows["train"] == fm.rows["train"] + fm.rows["valid"] + fm.rows["test"]
        assert fm.refit.best_iterations == fm.model.best_iterations  # rounds not scaled (decision 28)
        assert fm.refit.calibration == fm.model.calibration
        mv = client.get_model_version(name, res.versions[name])
        assert mv.run_id == rf.info.run_id and mv.tags[EVALUATION_RUN_TAG] == ev.info.run_id
        champion = T.load_champion(tracking, name)
        assert champion.boosters == fm.refit.boosters != fm.model.boosters
        evaluation, _ = evaluation_fit(tracking, name, res.versions[name])
        assert evaluation.boosters == fm.model.boosters


def test_gate_scores_evaluation_fits_not_refits(trained, world, tracking):
    """A challenger whose evaluation fit is weak is refused even when its registered refit is
    the strong champion's refit, which has seen the held-out months and scores better on them
    than the champion's evaluation fit: a gate scoring refits would promote it."""
    import dataclasses

    from models_ml import tracking as T
    from models_ml.transitions.config import NEXT_STATE, OUTLOOK
    from models_ml.transitions.gate import evaluation_fit, gate_and_promote, heldout_frames, heldout_log_loss
    from models_ml.transitions.mlflow_runs import log_fits

    _, (r2, _), (r3, _) = trained
    with duckdb.connect(str(world[1]), read_only=True) as con:
        frames = heldout_frames(con)
        for name in (NEXT_STATE, OUTLOOK):
            strong, weak = r2.fitted[name], r3.fitted[name]
            hybrid = dataclasses.replace(weak, refit=strong.refit, refit_rows=strong.refit_rows)
            frame = frames["outlook" if name == OUTLOOK else "next_month"]
            log_fits(hybrid, frame, tracking, T.run_tags("test-run", "transition_models", "abc123"))
            champion_eval, _ = evaluation_fit(tracking, name, r2.versions[name])
            assert heldout_log_loss(strong.refit, name, frames) < heldout_log_loss(champion_eval, name, frames)
        gate = gate_and_promote(con, tracking, names=(NEXT_STATE, OUTLOOK))
    for name in (NEXT_STATE, OUTLOOK):
        d = gate.decisions[name]
        assert not d.promoted and d.challenger_log_loss > d.champion_log_loss * 1.01, d.reason
        assert T.alias_version(tracking, name, T.CHAMPION) == r2.versions[name]


def test_probability_table_matches_direct_model_predictions(trained, world, tracking):
    from models_ml import probability_table as PT
    from models_ml import segments as S
    from models_ml import tracking as T
    from models_ml.transitions.config import NEED, NEXT_STATE

    with duckdb.connect(str(world[1])) as con:
        built = PT.build_probability_tables(con, tracking, T.run_tags("test-run", "probability_tables", "abc123"))
        loaded = PT.load_probability_tables(con)
        seg_model = S.read_segment_model(con)
        donors = PT.cell_donors(PT.reference_rows(con, seg_model), built.tables.lattice)
    assert built.tables.lattice.n_segments == seg_model.k
    assert np.allclose(loaded.transition_probs(np.arange(loaded.lattice.size)),
                       built.tables.transition_probs(np.arange(loaded.lattice.size)))
    next_state = T.load_champion(tracking, NEXT_STATE)
    need = T.load_champion(tracking, NEED)
    rng = np.random.default_rng(0)
    cells = rng.choice(built.tables.lattice.size, 30, replace=False)
    for cell in cells:
        rows = donors.loc[donors["cell"] == cell]
        direct = next_state.predict_proba(rows).mean(axis=0)
        assert np.allclose(direct / direct.sum(), built.tables.transition_probs([cell])[0], atol=1e-9)
        direct_need = need.predict_proba(rows).mean(axis=0)
        assert np.allclose(direct_need / direct_need.sum(), built.tables.need_probs([cell])[0], atol=1e-9)
    # a real row's cell gives back what the lookup computes from its attributes
    row = donors.loc[donors["donor_level"] == 0].iloc[0]
    cell = loaded.cells(state=[row["state"]], need_level=[row["need_level"]], age=[row["age"]], sex=[row["sex"]],
                        segment=[row["segment"]], months_in_state=[row["months_in_state"]])[0]
    assert cell == row["cell"]


def test_outlooks_cover_the_current_census(trained, world, tracking):
    from models_ml import outlooks as O

    with duckdb.connect(str(world[1])) as con:
        result = O.build_outlooks(con, tracking)
        census = con.execute("select count(*) from ml.ml_person_months where month_start = "
                             "(select max(month_start) from marts.dim_month where is_complete = 1)").fetchone()[0]
        stored = con.execute("select count(*), count(distinct person_key) from ml.person_outlooks").fetchone()
    o = result.outlooks
    assert stored[0] == stored[1] == census == len(o) > 500
    for outcome in ("care_home_move", "hospital_admission", "need_rise", "tenancy_end"):
        p = o[f"p_{outcome}_12_months"].dropna()
        assert len(p) and p.between(0, 1).all()
    assert o["drivers_hospital_admission"].dropna().str.contains("=").any()
    assert o.loc[o["state"].isin(["residential_care", "nursing_care"]), "p_care_home_move_12_months"].isna().all()
    assert not any(c in o.columns for c in ("ni_number", "dob", "first_name", "surname"))


# ---------------------------------------------------------------------------------------------
# cut-off tables (the backtest's production path)


@pytest.fixture(scope="module")
def cutoff_world(world, segmented, tmp_path_factory):
    """(warehouse, cut-off, quick config, tables and info of a first cut-off_tables call)."""
    from models_ml import features as F
    from models_ml import forecast_tables as FT
    from models_ml.transitions.config import TrainConfig

    quick = TrainConfig(num_boost_round=30)
    with duckdb.connect(str(world[1]), read_only=True) as con:
        cutoff = F.months_before(F.latest_complete_month(con), 12)
        tables, info = FT.cutoff_tables(con, cutoff, tmp_path_factory.mktemp("cutoff_cache"), retrain=False, cfg=quick)
    return world[1], cutoff, quick, tables, info


def _same_tables(a, b) -> bool:
    n = a.lattice.size
    return (a.lattice.n_segments == b.lattice.n_segments and n == b.lattice.size
            and np.array_equal(a.transition_probs(np.arange(n)), b.transition_probs(np.arange(n)))
            and np.array_equal(a.need_probs(np.arange(n)), b.need_probs(np.arange(n))))


def test_cutoff_tables_use_nothing_after_the_cutoff(cutoff_world, tmp_path):
    """Rewrite what happened after the cut-off (labels of the cut-off month, everything later):
    a fresh training gives the same tables, the same segments and the same fingerprint."""
    from models_ml import forecast_tables as FT
    from models_ml import segments as S

    path, cutoff, quick, tables, info = cutoff_world
    assert info["trained"] and info["refit_window"]["train_end"] == f"{cutoff - pd.DateOffset(months=1):%Y-%m}"
    assert info["segment_model"] is not None and tables.lattice.n_segments == info["segment_model"].k
    copy = tmp_path / "rewritten.duckdb"
    shutil.copy(path, copy)
    d = f"date '{cutoff:%Y-%m-%d}'"
    with duckdb.connect(str(copy)) as con:
        con.execute(f"update ml.ml_person_months set next_state = 'dead', next_need_level = 3 where month_start >= {d}")
        changed = con.execute(f"update ml.ml_person_months set age = age + 30, need_level = 3, state = 'nursing_care', "
                              f"months_known = months_known + 100 where month_start > {d}").fetchone()[0]
        assert changed > 1000
        again, info2 = FT.cutoff_tables(con, cutoff, tmp_path / "cache", retrain=True, cfg=quick)
        segments = S.segments_as_of(con, info2["segment_model"], cutoff)
    assert info2["trained"] and info2["fingerprint"] == info["fingerprint"]
    assert _same_tables(tables, again)
    assert np.array_equal(info2["segment_model"].centroids, info["segment_model"].centroids)
    assert len(segments) > 500 and segments["segment"].between(0, info2["segment_model"].k - 1).all()


def test_cutoff_tables_cache_is_reused_and_refreshed_on_retrain(cutoff_world, tmp_path):
    """Same data: reused whatever ``retrain`` says. A correction before the cut-off: other nights
    reuse the (now stale) entry, the weekly retrain trains a new one that later nights take."""
    from models_ml import forecast_tables as FT

    path, cutoff, quick, tables, info = cutoff_world
    cache = Path(info["cache_path"]).parent.parent
    with duckdb.connect(str(path), read_only=True) as con:
        for retrain in (False, True):
            t, i = FT.cutoff_tables(con, cutoff, cache, retrain=retrain, cfg=quick)
            assert not i["trained"] and not i["stale"] and _same_tables(t, tables), retrain
    copy = tmp_path / "corrected.duckdb"
    shutil.copy(path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update ml.ml_person_months set wellbeing_score = coalesce(wellbeing_score, 5) + 1 "
                    f"where month_start between date '{cutoff - pd.DateOffset(months=30):%Y-%m-%d}' "
                    f"and date '{cutoff - pd.DateOffset(months=1):%Y-%m-%d}'")
        stale, i_stale = FT.cutoff_tables(con, cutoff, cache, retrain=False, cfg=quick)
        fresh, i_fresh = FT.cutoff_tables(con, cutoff, cache, retrain=True, cfg=quick)
        later, i_later = FT.cutoff_tables(con, cutoff, cache, retrain=False, cfg=quick)
    assert not i_stale["trained"] and i_stale["stale"] and _same_tables(stale, tables)
    assert i_fresh["trained"] and i_fresh["fingerprint"] != info["fingerprint"] and not _same_tables(fresh, tables)
    assert not i_later["trained"] and not i_later["stale"] and _same_tables(later, fresh)
    assert i_later["cache_path"] == i_fresh["cache_path"] != info["cache_path"]
