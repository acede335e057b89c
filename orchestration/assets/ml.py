"""Segments, transition models and what the forecast and care managers read from them.

Each asset calls one function in ``models_ml`` (no Dagster there) and publishes its result's
metadata. Each model is fitted twice (decision 28): an evaluation fit that chooses rounds and
calibration and is scored on the held-out months, then a production refit on every labelled
month, which is what is registered. The champion gate is a blocking asset check on the transition
models: it promotes a challenger (the refit) whose evaluation fit is no worse than the champion's
evaluation fit on tonight's held-out period; a refused challenger is a warning (the champion
stays and everything downstream goes on with it); no champion at all is an error and blocks what
follows.
"""


import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.ingest import WAREHOUSE_POOL
from orchestration.resources import LlifHome
from orchestration.tracking import run_tags_of, tracking_of

PERSON_FEATURES = dg.AssetKey(["ml", "ml_person_features"])
PERSON_MONTHS = dg.AssetKey(["ml", "ml_person_months"])
SEGMENTS = dg.AssetKey(["ml", "segments"])
TRANSITION_MODELS = dg.AssetKey(["ml", "transition_models"])
PROBABILITY_TABLES = dg.AssetKey(["ml", "transition_probabilities"])
OUTLOOKS = dg.AssetKey(["ml", "person_outlooks"])
GATE_TOLERANCE = 0.01  # relative held-out log loss a challenger may lose (docs/transition_models.md)


@dg.asset(key=SEGMENTS, deps=[PERSON_FEATURES], group_name="ml", pool=WAREHOUSE_POOL, kinds={"scikitlearn", "duckdb"},
          description="Clustering of people into segments, named from their profiles, labels kept from last night; "
                      "ml.segments, ml.segment_profiles, ml.segment_pathways.")
def segments(context: AssetExecutionContext, llif: LlifHome) -> dg.MaterializeResult:
    from models_ml import segments as S
    from truth_validation import segments as V
    from truth_validation.warehouse import has_truth
    from warehouse import duck

    with duck.open_writer(llif.warehouse) as con:
        truth = V.true_segments(con, llif.root / "truth") if has_truth(llif.root) else None
        result = S.build_segments(con, previous=S.read_previous_segments(con), truth=truth)
        S.write_segments(con, result)
    return dg.MaterializeResult(metadata=result.metadata())


@dg.asset(key=TRANSITION_MODELS, deps=[PERSON_MONTHS, SEGMENTS], group_name="ml", pool=WAREHOUSE_POOL,
          kinds={"lightgbm", "mlflow"},
          description="LightGBM next-state, need-level and 12-month outlook models: an evaluation fit on a "
                      "temporal split against a Markov baseline, then a production refit on every labelled "
                      "month with its rounds and calibration; each refit registered in MLflow as `challenger`.")
def transition_models(context: AssetExecutionContext, llif: LlifHome) -> dg.MaterializeResult:
    from models_ml.transitions.training import train_transition_models
    from warehouse import duck

    with duck.open_reader(llif.warehouse) as con:
        result = train_transition_models(con, tracking_of(llif), run_tags_of(context))
    return dg.MaterializeResult(metadata=result.metadata())


@dg.asset_check(asset=TRANSITION_MODELS, name="champion_gate", blocking=True,
                description="Promote each challenger (a production refit) to `champion` if its evaluation fit's "
                            "held-out log loss is no worse than the champion's evaluation fit on the same months "
                            f"(tolerance {GATE_TOLERANCE:.0%}).")
def champion_gate(llif: LlifHome) -> dg.AssetCheckResult:
    from models_ml.transitions.gate import gate_and_promote
    from warehouse import duck

    with duck.open_reader(llif.warehouse) as con:
        gate = gate_and_promote(con, tracking_of(llif), tolerance=GATE_TOLERANCE)
    refused = [name for name, d in gate.decisions.items() if not d.promoted]
    if not gate.all_promoted_or_kept:
        severity = dg.AssetCheckSeverity.ERROR
    else:
        severity = dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(passed=not refused, severity=severity, metadata={
        **gate.metadata(), "refused": ", ".join(refused) or "none"})


@dg.asset(key=PROBABILITY_TABLES, deps=[TRANSITION_MODELS], group_name="ml", pool=WAREHOUSE_POOL,
          kinds={"mlflow", "duckdb"},
          description="The champion models (production refits) evaluated once over the forecast engine's lattice: "
                      "ml.transition_probabilities and ml.need_probabilities, and an MLflow artifact.")
def transition_probabilities(context: AssetExecutionContext, llif: LlifHome) -> dg.MaterializeResult:
    from models_ml.probability_table import build_probability_tables
    from warehouse import duck

    with duck.open_writer(llif.warehouse) as con:
        result = build_probability_tables(con, tracking_of(llif), run_tags_of(context))
    return dg.MaterializeResult(metadata=result.metadata())


@dg.asset(key=OUTLOOKS, deps=[TRANSITION_MODELS], group_name="ml", pool=WAREHOUSE_POOL, kinds={"lightgbm", "duckdb"},
          description="Restricted: for everyone in the current census, the chance of a care-home move, an emergency "
                      "hospital stay, need rising and the tenancy ending within 12 months, with the top drivers.")
def person_outlooks(context: AssetExecutionContext, llif: LlifHome) -> dg.MaterializeResult:
    from models_ml.outlooks import build_outlooks
    from warehouse import duck

    with duck.open_writer(llif.warehouse) as con:
        result = build_outlooks(con, tracking_of(llif))
    return dg.MaterializeResult(metadata=result.metadata())


ml_assets = [segments, transition_models, transition_probabilities, person_outlooks]
ml_checks = [champion_gate]
