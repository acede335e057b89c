"""Which night a run is: the logical date that seeds the forecast and the backtest.

Why not the wall clock: rerunning last night's job in the morning must give planners the same
numbers, and a run stopped at 01:59 and retried at 02:01 is still the same night. The date is,
in order: an explicit ``run_date`` in the run's config; the ``llif/run_date`` tag the schedule
(and ``llif demo``) puts on the runs it launches, which Dagster copies to a re-execution; the
schedule's own ``dagster/scheduled_execution_time``; and, for a run launched by hand, the day
its *root* run was created (every re-execution of it shares that root, so it reruns the same
night).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

RUN_DATE_TAG = "llif/run_date"
WEEKLY_TAG = "llif/full_refresh"      # "true" on the Sunday run: weekly work is redone then
SCHEDULED_TAG = "dagster/scheduled_execution_time"
TIMEZONE = ZoneInfo("Europe/London")


def night_date(tags: Mapping[str, str], explicit: str | None = None,
               root_created: dt.datetime | float | None = None) -> dt.date:
    """The night a run belongs to (see the module docstring for the order)."""
    if explicit:
        return dt.date.fromisoformat(str(explicit)[:10])
    if tags.get(RUN_DATE_TAG):
        return dt.date.fromisoformat(tags[RUN_DATE_TAG][:10])
    if tags.get(SCHEDULED_TAG):
        when = dt.datetime.fromisoformat(tags[SCHEDULED_TAG])
        return (when.astimezone(TIMEZONE) if when.tzinfo else when).date()
    if root_created is not None:
        when = root_created if isinstance(root_created, dt.datetime) else dt.datetime.fromtimestamp(root_created, dt.UTC)
        return when.astimezone(TIMEZONE).date()
    raise ValueError("no night date: give run_date in the run's config or the llif/run_date tag")


def is_weekly_run(tags: Mapping[str, str]) -> bool:
    """The Sunday run (full dbt refresh): weekly work such as the backtest's cut-off models is redone."""
    return str(tags.get(WEEKLY_TAG, "")).lower() == "true"


def night_of(context, explicit: str | None = None) -> dt.date:
    """``night_date`` of the run an asset's ``context`` belongs to."""
    run = context.run
    root = run.root_run_id or run.run_id
    record = context.instance.get_run_record_by_id(root)
    created = record.create_timestamp if record is not None else None
    return night_date(run.tags, explicit, created)
