"""The long-range forecast (issue 12 item 2): the population projection file, arrivals scaled
by their own area and age band, the rates' walk, yearly outputs and the decomposition."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from simulation.forecast_model import ForecastModel, _walk, arrival_caps, draw_params, stream_seeds
from simulation.long_range import NO_DEMOGRAPHY, decompose, long_range_scenarios, run_long_range, yearly
from simulation.population import (
    PROJECTION_BANDS,
    PopulationProjection,
    ProjectionError,
    band_of_age,
    default_projection,
    load_projection,
)
from simulation.replications import run_forecast
from simulation.scenarios import ScenarioError, build_plan, validate
from simulation.testing import AREAS, toy_inputs

HEADER = "area_code,age_band,year,population\n"


def _flat(areas=AREAS, years=range(2025, 2048), grow=None) -> PopulationProjection:
    """A projection flat everywhere except ``grow = {(area, band): change over 20 years}``."""
    grow = grow or {}
    yrs = np.array(list(years))
    values = np.full((len(areas), len(PROJECTION_BANDS), len(yrs)), 1000.0)
    for (a, b), g in grow.items():
        values[areas.index(a), PROJECTION_BANDS.index(b)] *= (1 + g) ** ((yrs - 2026) / 20)
    return PopulationProjection(areas=tuple(areas), years=yrs, values=values, source="toy.csv")


def _write(tmp_path, rows: list[str]):
    path = tmp_path / "projection.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def _full_rows(areas=("CDF",), years=(2026, 2027)) -> list[str]:
    return [f"{a},{b},{y},100" for a in areas for b in PROJECTION_BANDS for y in years]


# ------------------------------------------------------------------------- the projection file

def test_default_projection_is_the_stated_assumption():
    p = default_projection()
    assert set(p.areas) == {"CDF", "VOG", "RCT", "BGD", "NWP", "CPH", "MTD", "NPT"}
    y26, y46 = list(p.years).index(2026), list(p.years).index(2046)
    old, young = PROJECTION_BANDS.index("85+"), PROJECTION_BANDS.index("18-39")
    assert p.values[:, old, y46] / p.values[:, old, y26] == pytest.approx(2.0)      # 85+ doubles
    assert p.values[:, young, y46] / p.values[:, young, y26] == pytest.approx(1.0)  # younger flat


def test_a_good_file_loads(tmp_path):
    p = load_projection(_write(tmp_path, _full_rows(("CDF", "VOG"))))
    assert p.areas == ("CDF", "VOG") and list(p.years) == [2026, 2027]
    assert p.values.shape == (2, len(PROJECTION_BANDS), 2)


@pytest.mark.parametrize("bad, message", [
    ("XXX,85+,2026,100", "line 16: area_code: unknown area 'XXX'"),
    ("CDF,85-89,2026,100", "line 16: age_band: unknown age band '85-89'"),
    ("CDF,85+,twenty,100", "line 16: year: 'twenty' is not a whole year"),
    ("CDF,85+,2028,0", "line 16: population: must be a positive number, got 0"),
    ("CDF,85+,2028,-5", "line 16: population: must be a positive number, got -5"),
    ("CDF,85+,2028,many", "line 16: population: 'many' is not a number"),
    ("CDF,85+,2026,100", "line 16: CDF 85+ 2026 appears twice"),
])
def test_bad_rows_name_file_line_and_field(tmp_path, bad, message):
    path = _write(tmp_path, _full_rows() + [bad])
    with pytest.raises(ProjectionError) as exc:
        load_projection(path)
    assert str(exc.value).startswith(str(path)) and message in str(exc.value)


def test_missing_years_and_columns_are_named(tmp_path):
    rows = [r for r in _full_rows(years=(2026, 2027, 2028)) if r != "CDF,65-74,2027,100"]
    with pytest.raises(ProjectionError, match=r"year: CDF 65-74 has no row for 2027"):
        load_projection(_write(tmp_path, rows))
    path = tmp_path / "two.csv"
    path.write_text("area_code,age_band,people\nCDF,85+,1\n")
    with pytest.raises(ProjectionError, match=r"two.csv: line 1: missing column\(s\) year, population"):
        load_projection(path)
    with pytest.raises(ProjectionError, match="no such file"):
        load_projection(tmp_path / "absent.csv")


def test_forecast_outside_the_file_or_its_areas_is_an_error():
    toy = toy_inputs(200, seed=1)
    with pytest.raises(ProjectionError, match=r"area_code: no rows for NPT"):
        _flat(areas=("CDF", "VOG", "RCT")).factors(toy.areas, toy.reference_month, ["2027-01-01"])
    plan_months = [np.datetime64("2050-01-01")]
    with pytest.raises(ProjectionError, match=r"year: the forecast needs 2026..2050, the file covers 2025..2047"):
        _flat().factors(toy.areas, toy.reference_month, plan_months)


def test_setting_points_at_a_providers_file(tmp_path, monkeypatch):
    from contracts.settings import population_projection_file

    path = _write(tmp_path, _full_rows())
    monkeypatch.setenv("LLIF_POPULATION_PROJECTION", str(path))
    assert population_projection_file() == path
    assert default_projection().source == str(path)
    monkeypatch.setenv("LLIF_POPULATION_PROJECTION", str(tmp_path / "none.csv"))
    with pytest.raises(ValueError, match="LLIF_POPULATION_PROJECTION"):
        population_projection_file()


def test_factors_follow_the_projection_and_the_knob():
    toy = toy_inputs(200, seed=1)
    proj = _flat(grow={("CDF", "85+"): 1.0})
    dates = np.array([np.datetime64("2046-10-01")])
    old, cdf = PROJECTION_BANDS.index("85+"), AREAS.index("CDF")
    full = proj.factors(toy.areas, toy.reference_month, dates)
    assert full[0, cdf, old] == pytest.approx(2.0, rel=0.01)
    assert np.delete(full[0, :len(AREAS), :len(PROJECTION_BANDS)].ravel(), cdf * len(PROJECTION_BANDS) + old) \
        == pytest.approx(1.0)
    half = proj.factors(toy.areas, toy.reference_month, dates, strength=0.5)
    assert half[0, cdf, old] - 1 == pytest.approx((full[0, cdf, old] - 1) / 2)
    assert band_of_age(np.array([17.9, 18.0, 84.9, 85.0, 103.0, np.nan])).tolist() == [0, 1, 5, 6, 6, 7]


def test_demography_knob_is_validated():
    with pytest.raises(ScenarioError, match="x.yaml: demography"):
        validate({"name": "x", "demography": -1}, "x.yaml")
    assert validate({"name": "b", "demography": 0.5}).is_baseline
    assert validate({"name": "b", "demography": 0}).demand_key != validate({"name": "b"}).demand_key


# ------------------------------------------------------------------------- the engine

def _arrivals_by_class(inputs, plan, reps=6):
    """Arrivals of each (area, projection band) in the last five years, summed over reps."""
    t = inputs.arrivals.templates
    cls = np.where(t["area"] >= 0, t["area"], len(inputs.areas)) * (len(PROJECTION_BANDS) + 1) + band_of_age(t["age"])
    total = np.zeros((len(inputs.areas) + 1) * (len(PROJECTION_BANDS) + 1))
    caps = arrival_caps(inputs, [plan], plan.months)
    for r in range(reps):
        params = draw_params(inputs, stream_seeds(np.random.SeedSequence(5), r), plan.months, caps, rep=r,
                             parameter_uncertainty=False)
        m = ForecastModel(inputs, plan, params)
        late = np.repeat(np.arange(plan.months), m.arrival_counts.sum(axis=1)) >= plan.months - 60
        total += np.bincount(cls[m.arrival_pick[late]], minlength=len(total))
    return total


def test_arrivals_grow_with_their_own_area_and_age_band_only():
    toy = toy_inputs(30000, seed=2)
    proj = _flat(grow={("CDF", "85+"): 1.0})
    months = 240
    plain = _arrivals_by_class(toy, build_plan(toy, None, months))
    grown = _arrivals_by_class(toy, build_plan(toy, None, months, population=proj))
    target = AREAS.index("CDF") * (len(PROJECTION_BANDS) + 1) + PROJECTION_BANDS.index("85+")
    others = np.delete(np.arange(len(plain)), target)
    assert plain[target] > 300
    # the last five years of a doubling over 20 (1.68 to 2.0): CDF's 85+ arrivals grow, the rest do not
    assert 1.6 < grown[target] / plain[target] < 2.1
    assert grown[others].sum() / plain[others].sum() == pytest.approx(1.0, abs=0.03)
    for area in range(len(AREAS)):
        rows = [area * (len(PROJECTION_BANDS) + 1) + b for b in range(len(PROJECTION_BANDS) + 1)]
        if area != AREAS.index("CDF"):
            assert grown[rows].sum() / plain[rows].sum() == pytest.approx(1.0, abs=0.06)


def test_demography_zero_is_the_run_without_a_projection_bit_for_bit():
    toy = toy_inputs(300, seed=4)
    proj = _flat(grow={("CDF", "85+"): 1.0, ("RCT", "75-84"): 0.5})
    kw = dict(replications=3, months=36, run_date="2026-11-01", breakdowns=False)
    plain = run_forecast(toy, [validate({"name": "baseline"})], **kw)
    zero = run_forecast(toy, [validate({"name": "baseline", "demography": 0})], population=proj, **kw)
    grown = run_forecast(toy, [validate({"name": "baseline"})], population=proj, **kw)
    for key in ("values", "unconstrained"):
        a, b = getattr(plain, key), getattr(zero, key)
        assert all(np.array_equal(x, y) for x, y in zip(a.values(), b.values()))
    assert not np.array_equal(plain.values["baseline"], grown.values["baseline"])


def test_walk_keeps_the_first_year_and_widens_later():
    steps = _walk(np.random.default_rng(0), 20, np.array([0.1, 0.0]), 1)
    assert steps.shape == (20, 2) and np.all(steps[0] == 1) and np.all(steps[:, 1] == 1)
    many = np.log(np.stack([_walk(np.random.default_rng(i), 20, np.array([0.1]), 5)[:, 0] for i in range(3000)]))
    var = many.var(axis=0)
    assert var[:5] == pytest.approx(0.0) and var[19] == pytest.approx(3 * 5 * 0.01, rel=0.1)
    assert np.all(np.diff(var[::5]) > 0)
    # a replication's arrival rate in year 20: the walk adds 19 yearly steps of variance 0.1^2
    # to the level's (the rate's own posterior and one year's wander)
    toy = toy_inputs(300, seed=4, bootstrap=False)
    toy = replace(toy, arrivals=replace(toy.arrivals, drift_sd=np.full(len(toy.arrivals.base_rate), 0.1)))
    caps = arrival_caps(toy, [], 240, walk=True)

    def year20(walk):
        logs = []
        for r in range(300):
            p = draw_params(toy, stream_seeds(np.random.SeedSequence(9), r), 240, caps, rep=r, walk=walk)
            logs.append(np.log(p.arrival_rate * (p.arrival_walk[19] if walk else 1.0)))
        return np.std(logs, axis=0)

    added = year20(True) ** 2 - year20(False) ** 2
    assert np.all(added > 0.1) and added.mean() == pytest.approx(19 * 0.01, rel=0.15)
    kw = dict(replications=2, months=24, run_date="2026-11-01", breakdowns=False)
    level, walk = run_forecast(toy, **kw), run_forecast(toy, walk=True, **kw)
    # the walk's steps are drawn after everything else: its first year is the one-level draw
    assert np.array_equal(level.values["baseline"][:, :, :12], walk.values["baseline"][:, :, :12])


def test_bands_widen_with_the_horizon_and_runs_repeat():
    # the toy's rates do not wander from year to year: give them the scale-1.0 provider's order
    toy = replace(toy_inputs(250, seed=6), rate_drift_sd=np.full(11, 0.05))
    toy = replace(toy, arrivals=replace(toy.arrivals, drift_sd=np.full(len(toy.arrivals.base_rate), 0.1)))
    proj = _flat(grow={("CDF", "85+"): 1.0})
    res = run_forecast(toy, replications=12, months=240, run_date="2026-11-01", breakdowns=False,
                       population=proj, walk=True)
    i = list(res.kpis).index("people_total")
    # demand, the unconstrained run's people (the constrained total is held by the places)
    per_year = yearly(res.needed("baseline"), res.kpis)[:, i]           # (reps, years)
    width = np.quantile(per_year, 0.9, axis=0) - np.quantile(per_year, 0.1, axis=0)
    assert width[0] < width[4] < width[9] < width[19]
    kw = dict(replications=4, population=proj, run_date="2026-11-01", decomposition_kpis=("people_total",))
    short, again = run_long_range(toy, years=3, **kw), run_long_range(toy, years=3, **kw)
    for name in short.results.values:
        assert np.array_equal(short.results.values[name], again.results.values[name])
    assert short.decomposition.equals(again.decomposition)
    # and a replication's first three years are the same over 3 or 20 years
    assert np.array_equal(short.results.values["baseline"][:, :, :36], res.values["baseline"][:4, :, :36])


def test_yearly_sums_flows_ends_stocks_and_averages_means():
    months = np.arange(1, 25, dtype=float)
    values = np.stack([months, months, months])[None]      # (1 rep, 3 kpis, 24 months)
    out = yearly(values, ["admissions_extra_care", "people_total", "churn_rate"])
    assert out[0, 0].tolist() == [78.0, 222.0]        # sum of 1..12, 13..24
    assert out[0, 1].tolist() == [12.0, 24.0]         # the year's last month
    assert out[0, 2].tolist() == [6.5, 18.5]          # the mean


def test_decomposition_adds_up_to_the_total_change():
    toy = toy_inputs(300, seed=7)
    more = validate({"name": "more_extra_care", "capacity": [{"unit_type": "extra_care", "delta": 10}],
                     "transitions": [{"from": "community", "to": "residential_care", "multiply": 0.8}]})
    runs = long_range_scenarios(1.0, more)
    assert [r.name for r in runs] == ["baseline", NO_DEMOGRAPHY, "more_extra_care"]
    res = run_forecast(toy, runs, replications=5, months=60, run_date="2026-11-01", breakdowns=False,
                       population=_flat(grow={("CDF", "85+"): 1.0, ("VOG", "75-84"): 1.0}), walk=True)
    kpis = ("needed_residential_beds", "waiting_extra_care", "home_care_hours", "admissions_extra_care")
    d = decompose(res, kpis, (1, 3, 5), scenario="more_extra_care").set_index(["kpi", "year", "component"])["mean"]
    for k in kpis:
        for y in (1, 3, 5):
            parts = d[(k, y, "rates")] + d[(k, y, "demography")] + d[(k, y, "scenario")]
            assert parts == pytest.approx(d[(k, y, "total")], abs=1e-9)
            assert d[(k, y, "start")] + d[(k, y, "total")] == pytest.approx(d[(k, y, "end")], abs=1e-9)
    # the end is the scenario's own yearly mean, the start the no-demography run's first year
    from simulation.long_range import scenario_years

    yr, names = scenario_years(res, "more_extra_care")
    base, _ = scenario_years(res, NO_DEMOGRAPHY)
    i = names.index("waiting_extra_care")
    assert d[("waiting_extra_care", 5, "end")] == pytest.approx(yr[:, i, 4].mean())
    assert d[("waiting_extra_care", 3, "start")] == pytest.approx(base[:, i, 0].mean())
    assert d.xs("scenario", level="component").abs().sum() > 0
    with pytest.raises(ValueError, match="unknown KPI"):
        decompose(res, ("no_such_kpi",))


def test_cli_prints_the_decomposition_and_writes_tables(tmp_path, capsys):
    from llif.forecast_cli import main

    out = tmp_path / "lr"
    assert main(["forecast", "long-range", "--toy", "200", "--years", "2", "--replications", "2",
                 "--processes", "1", "--demography", "0.5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2/2 replications" in text and "demography 0.5" in text and "needed_home_care_hours" in text
    assert {p.name for p in out.iterdir()} == {"yearly.csv", "decomposition.csv", "metadata.json"}
    bad = _write(tmp_path, _full_rows() + ["XXX,85+,2026,100"])
    assert main(["forecast", "long-range", "--toy", "200", "--years", "2", "--population", str(bad)]) == 2
    assert "area_code: unknown area" in capsys.readouterr().err
