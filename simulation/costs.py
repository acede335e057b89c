"""Cost by payer from a month's activity: the one formula the engine and the backtest share.

Why one function: the backtest prices what actually happened with the same unit costs and
the same rules as the forecast, so an error in cost is an error in activity, never a second
formula drifting from the first. Costs are linear in the month's counts (domain unit costs,
2024-25 prices; ``inputs.DEFAULT_COSTS``), so they are derived for whole series at once.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

# the activity series the formula reads (KPI names of simulation.forecast_model.KPIS)
COST_INPUTS: tuple[str, ...] = (
    "people_residential_care", "people_nursing_care", "home_care_hours", "people_extra_care",
    "hospital_admissions", "delayed_bed_days", "hospice_bed_days", "voids",
)
PAYERS: tuple[str, ...] = ("cost_nhs", "cost_local_authority", "cost_provider", "cost_charity", "cost_total")


def cost_by_payer(activity: Mapping[str, np.ndarray], costs: Mapping[str, float], days: np.ndarray) -> dict[str, np.ndarray]:
    """Per payer and in total, per month: people in care homes and extra care by the week,
    home-care hours (in the month) by the hour, emergency admissions by the spell and delayed
    days by the day (NHS), hospice days split between the NHS and charity, void units by the
    week (the provider's lost rent)."""
    a = {k: np.asarray(activity[k], dtype=float) for k in COST_INPUTS}
    c = costs
    weeks = np.asarray(days, dtype=float) / 7.0
    res = a["people_residential_care"] * c["residential_week"] * weeks
    nur = a["people_nursing_care"] * c["nursing_week"] * weeks
    nur_nhs = a["people_nursing_care"] * c["nursing_nhs_week"] * weeks
    hc = a["home_care_hours"] * c["home_care_hour"]
    ec = a["people_extra_care"] * c["extra_care_week"] * weeks
    hosp = a["hospital_admissions"] * c["hospital_admission"] + a["delayed_bed_days"] * c["delayed_bed_day"]
    hospice = a["hospice_bed_days"] * c["hospice_day"]
    out = {
        "cost_nhs": nur_nhs + hosp + hospice * c["hospice_nhs_share"],
        "cost_local_authority": res + (nur - nur_nhs) + hc + ec,
        "cost_provider": a["voids"] * c["void_week"] * weeks,
        "cost_charity": hospice * (1 - c["hospice_nhs_share"]),
    }
    out["cost_total"] = out["cost_nhs"] + out["cost_local_authority"] + out["cost_provider"] + out["cost_charity"]
    return out
