"""End-of-life targets (#21 place of death at 65+, #22 hospice stays and their outcomes)."""

from __future__ import annotations

from synthetic_sources.calibration.context import Context, age_in_years, duration_days
from synthetic_sources.calibration.results import Band, Part, TargetResult, banded_result, fmt_days
from synthetic_sources.calibration.targets import META

DEATH_PLACES = ("hospital", "home", "care_home", "hospice")


def t21_place_of_death(ctx: Context) -> TargetResult:
    people = ctx.table("people", ["dob", "death_date", "death_place"])
    dead = people[ctx.in_window(people["death_date"])]
    dead = dead[age_in_years(dead["dob"], dead["death_date"]) >= 65]
    known = dead[dead["death_place"].isin(DEATH_PLACES)]
    n = len(known)
    counts = known["death_place"].value_counts()
    goals = {"hospital": 0.50, "home": 0.23, "care_home": 0.21, "hospice": 0.06}
    parts = [
        Part(
            place.replace("_", " "),
            counts.get(place, 0) / n if n else None,
            Band(g, g, g - 0.06, g + 0.06),
        )
        for place, g in goals.items()
    ]
    detail = (
        f"deaths at 65+ {ctx.window_text}: {n} with a place"
        + (f", {len(dead) - n} without (left out)" if len(dead) > n else "")
    )
    return banded_result(21, *META[21], parts, detail, ctx.wide)


def t22_hospice(ctx: Context) -> TargetResult:
    hs = ctx.table("hospice_stays", ["admission_date", "discharge_date", "outcome"])
    done = hs[ctx.in_window(hs["discharge_date"])]
    n = len(done)
    days = duration_days(done["admission_date"], done["discharge_date"])
    parts = [
        Part("mean", days.mean() if n else None, Band(15, 15, 10, 20), fmt_days),
        Part(
            "alive",
            (done["outcome"] == "discharged").mean() if n else None,
            Band(0.4, 0.4, 0.3, 0.5),
        ),
    ]
    detail = f"hospice stays ended {ctx.window_text}: {n}"
    return banded_result(22, *META[22], parts, detail, ctx.wide)
