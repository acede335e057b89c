"""Sensors the dagster-daemon runs: an alert when a night fails, or finishes with failed checks.

Thin: they gather what failed from the run's events and call ``orchestration.alert_messages`` (e-mail, webhook).
They tick every 15 seconds, so an alert goes out well within a minute of the failure. Without
an alert channel configured they skip with a message saying what to set (visible on the
sensor's page in the UI) rather than fail every tick.
"""

import dagster as dg

ALERT_INTERVAL_SECONDS = 15


def _failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    out = []
    for e in events:
        ev = e.dagster_event.event_specific_data
        if not ev.passed:
            finding = ev.metadata.get("finding")
            text = finding.value if finding is not None else (ev.description or _dbt_test_text(ev.metadata))
            out.append(f"{ev.asset_key.to_user_string()} {ev.check_name} ({ev.severity.value}): {text}")
    return out


def _dbt_test_text(metadata) -> str:
    """A dbt test's check carries only its count: say it, and where the rows are (decision 50:
    every dbt test that finds rows keeps them as a view in the ``quarantine`` schema)."""
    count = metadata.get("dagster_dbt/failed_row_count")
    if count is None:
        return ""
    return (f"{count.value} rows found; they are in the quarantine schema, one view per test "
            "(dbt's run_results.json gives each test's relation_name; docs/data_quality.md)")


def _failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    out = []
    for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        err = e.dagster_event.event_specific_data.error
        message = (err.message.strip().splitlines() or [""])[-1] if err is not None else ""
        out.append((e.step_key or "?", message[:500]))
    return out


def _configured() -> str | None:
    from contracts.settings import service_settings

    s = service_settings()
    if (s.smtp_host and s.alert_to) or s.alert_webhook:
        return None
    return "no alert channel configured: set LLIF_SMTP_HOST and LLIF_ALERT_TO (or LLIF_ALERT_WEBHOOK)"


@dg.run_failure_sensor(name="llif_run_failure_alert", minimum_interval_seconds=ALERT_INTERVAL_SECONDS,
                       default_status=dg.DefaultSensorStatus.RUNNING, monitor_all_code_locations=False,
                       description="E-mails (and posts to the webhook) when any run fails: which step, why, "
                                   "and which checks failed.")
def run_failure_alert(context: dg.RunFailureSensorContext):
    from orchestration.alert_messages import run_failure_alert as compose
    from orchestration.alert_messages import send

    why = _configured()
    if why:
        return dg.SkipReason(why)
    run = context.dagster_run
    alert = compose(run.job_name, run.run_id, _failed_steps(context.instance, run.run_id),
                    _failed_checks(context.instance, run.run_id))
    used = send(alert)
    context.log.info("alert sent by %s for run %s", ", ".join(used), run.run_id)


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="llif_check_failure_alert",
                      minimum_interval_seconds=ALERT_INTERVAL_SECONDS, default_status=dg.DefaultSensorStatus.RUNNING,
                      description="E-mails when a run succeeded but some of its asset checks failed.")
def check_failure_alert(context: dg.RunStatusSensorContext):
    from orchestration.alert_messages import check_failure_alert as compose
    from orchestration.alert_messages import send

    run = context.dagster_run
    failed = _failed_checks(context.instance, run.run_id)
    if not failed:
        return dg.SkipReason(f"run {run.run_id}: every check passed")
    why = _configured()
    if why:
        return dg.SkipReason(why)
    send(compose(run.job_name, run.run_id, failed))


alert_sensors = [run_failure_alert, check_failure_alert]
