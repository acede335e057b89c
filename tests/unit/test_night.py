"""Which night a run is (orchestration.night): never the wall clock."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.night import RUN_DATE_TAG, SCHEDULED_TAG, is_weekly_run, night_date


def test_an_explicit_date_wins_then_the_tag_then_the_schedule_then_the_root_run():
    tags = {RUN_DATE_TAG: "2026-11-30", SCHEDULED_TAG: "2026-11-29T02:00:00+00:00"}
    assert night_date(tags, "2026-12-01") == dt.date(2026, 12, 1)
    assert night_date(tags) == dt.date(2026, 11, 30)
    assert night_date({SCHEDULED_TAG: "2026-11-29T02:00:00+00:00"}) == dt.date(2026, 11, 29)
    # 23:30 UTC on 31 May is already 1 June in London (BST)
    assert night_date({SCHEDULED_TAG: "2026-05-31T23:30:00+00:00"}) == dt.date(2026, 6, 1)
    created = dt.datetime(2026, 11, 28, 23, 59, tzinfo=dt.UTC)
    assert night_date({}, None, created) == dt.date(2026, 11, 28)
    assert night_date({}, None, created.timestamp()) == dt.date(2026, 11, 28)


def test_no_date_at_all_is_an_error_that_says_what_to_give():
    with pytest.raises(ValueError, match="run_date"):
        night_date({})


def test_the_sunday_run_is_the_weekly_one():
    assert is_weekly_run({"llif/full_refresh": "true"})
    assert not is_weekly_run({"llif/full_refresh": "false"}) and not is_weekly_run({})


def test_the_schedule_stamps_each_run_with_its_night():
    import dagster as dg

    from orchestration.jobs import nightly_schedule

    when = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=0)))   # a Sunday
    request = nightly_schedule(dg.build_schedule_context(scheduled_execution_time=when))
    assert request.tags[RUN_DATE_TAG] == "2026-11-29"
    assert is_weekly_run(request.tags)
    monday = nightly_schedule(dg.build_schedule_context(scheduled_execution_time=when + dt.timedelta(days=1)))
    assert monday.tags[RUN_DATE_TAG] == "2026-11-30" and not is_weekly_run(monday.tags)
