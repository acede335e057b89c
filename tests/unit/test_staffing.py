"""Carers needed per home-care team (simulation/staffing.py, forecast.home_care_staffing).

A team's hours are its areas' own hours added up in each replication, so in every replication
and month the teams (and the people with no recorded area) add up to the provider's hours; the
bands are the team totals' own; carers are hours over a full-time carer's contact hours.
"""

from __future__ import annotations

import numpy as np
import pytest

from contracts.settings import contact_hours_per_carer_week
from contracts.vocabulary.staffing import CONTACT_HOURS_PER_CARER_WEEK
from simulation.outputs import home_care_staffing, kpi_summary
from simulation.replications import run_forecast
from simulation.staffing import ALL_TEAMS, team_hours
from simulation.testing import toy_inputs


@pytest.fixture(scope="module")
def results():
    return run_forecast(toy_inputs(2000, seed=5), replications=6, months=8, run_date="2026-11-01", needed=False)


def test_the_teams_add_up_to_the_providers_hours_in_every_replication(results):
    labels, hours = team_hours(results, "baseline")
    assert labels[:3] == ["east", "central", "west"] and labels[-1] == ALL_TEAMS
    parts, total = hours[:, :-1], hours[:, -1]
    assert total.sum() > 0 and (parts >= 0).all()
    np.testing.assert_allclose(parts.sum(axis=1), total, rtol=1e-5)   # float32 breakdown rounding


def test_carers_are_hours_over_a_carers_contact_hours(results, monkeypatch):
    t = home_care_staffing(results)
    base = t[t["scenario"] == "baseline"]
    hours = base[(base["measure"] == "home_care_hours") & (base["team"] == ALL_TEAMS)].sort_values("month")
    carers = base[(base["measure"] == "carers_needed") & (base["team"] == ALL_TEAMS)].sort_values("month")
    s = kpi_summary(results)
    own = s[(s["scenario"] == "baseline") & (s["kpi"] == "home_care_hours")].sort_values("month")
    np.testing.assert_array_equal(hours["mean"].to_numpy(), own["mean"].to_numpy())
    weeks = hours["month"].dt.days_in_month.to_numpy() / 7.0
    np.testing.assert_allclose(carers["median"].to_numpy(), hours["median"].to_numpy() / (25.0 * weeks))
    assert (carers["contact_hours_per_carer_week"] == CONTACT_HOURS_PER_CARER_WEEK).all()
    monkeypatch.setenv("LLIF_CONTACT_HOURS_PER_CARER_WEEK", "20")
    more = home_care_staffing(results)
    more = more[(more["scenario"] == "baseline") & (more["measure"] == "carers_needed") & (more["team"] == "east")]
    fewer = base[(base["measure"] == "carers_needed") & (base["team"] == "east")]
    np.testing.assert_allclose(more["mean"].to_numpy(), fewer["mean"].to_numpy() * 25 / 20)


def test_a_teams_band_is_its_own_replications(results):
    """The east team's 90th percentile is that of its own per-replication totals."""
    labels, hours = team_hours(results, "baseline")
    east = hours[:, labels.index("east")]
    t = home_care_staffing(results)
    row = t[(t["scenario"] == "baseline") & (t["measure"] == "home_care_hours") & (t["team"] == "east")]
    np.testing.assert_allclose(row.sort_values("month")["p90"].to_numpy(), np.quantile(east, 0.9, axis=0))


@pytest.mark.parametrize("raw, message", [("lots", "not a number"), ("0", "1 to 60"), ("100", "1 to 60")])
def test_a_bad_contact_hours_setting_says_what_is_expected(monkeypatch, raw, message):
    monkeypatch.setenv("LLIF_CONTACT_HOURS_PER_CARER_WEEK", raw)
    with pytest.raises(ValueError, match=message):
        contact_hours_per_carer_week()
