"""Unit costs of care, health and empty homes: one table, read by the engine and the what-if form.

Why here: the engine's defaults (``simulation/inputs.py``) and the what-if form's
(``explorer/whatif.py``) were two copies of the domain's table; the form fell back to its own
when the engine could not be imported. Values are the domain's defaults at 2024-25 prices
(``docs/domain.md``, "Unit costs"); every one can be overridden by a scenario.

Two rows are assumptions, not prices: ``nursing_nhs_week`` is the NHS-funded nursing care
element (Wales FNC, about £236 a week) paid out of the nursing fee, and ``hospice_nhs_share`` the
NHS's part of hospice in-patient days (the rest is charity). A planner does not set them on the
form (``on_form`` False).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnitCost:
    key: str            # the engine's name (scenario files use it)
    label: str          # plain words, with the unit
    unit: str           # what one is priced per: resource-week, hour, spell, day, unit-week, share
    default: float
    low: float          # the domain's range for sensitivity
    high: float
    payer: str          # who pays by default
    on_form: bool = True


UNIT_COSTS: tuple[UnitCost, ...] = (
    UnitCost("residential_week", "Residential care home, a resident-week", "resident-week", 850.0, 663.0, 1000.0,
             "local_authority"),
    UnitCost("nursing_week", "Nursing care home, a resident-week", "resident-week", 1050.0, 900.0, 1400.0,
             "local_authority"),
    UnitCost("nursing_nhs_week", "NHS-funded nursing care, a resident-week (paid out of the nursing fee)",
             "resident-week", 236.0, 236.0, 236.0, "nhs", on_form=False),
    UnitCost("home_care_hour", "Home care, an hour", "hour", 25.0, 19.30, 30.0, "local_authority"),
    UnitCost("extra_care_week", "Extra care (care and support), a resident-week", "resident-week", 200.0, 150.0, 350.0,
             "local_authority"),
    UnitCost("hospital_admission", "Emergency hospital admission", "spell", 2000.0, 1590.0, 2500.0, "nhs"),
    UnitCost("delayed_bed_day", "Hospital bed day while waiting to leave", "day", 500.0, 313.0, 562.0, "nhs"),
    UnitCost("hospice_day", "Hospice in-patient day", "day", 500.0, 400.0, 700.0, "nhs"),
    UnitCost("hospice_nhs_share", "Share of hospice days the NHS pays (the rest charity)", "share", 0.3, 0.3, 0.3,
             "nhs", on_form=False),
    UnitCost("void_week", "Empty home (lost rent), a week", "unit-week", 110.0, 100.0, 120.0, "provider"),
    # how care-home places are bought (simulation/block_spot.py; contracts/vocabulary/commissioning.py
    # says where the figures come from): a block bed is paid every week whether used or not, a spot
    # placement only while someone is in it, at a higher price; outside the person's own area at a
    # higher price again
    UnitCost("residential_block_week", "Residential care home, a block-contract bed-week (paid whether used)",
             "bed-week", 800.0, 700.0, 900.0, "local_authority", on_form=False),
    UnitCost("residential_spot_week", "Residential care home, a spot placement-week", "resident-week",
             950.0, 850.0, 1100.0, "local_authority", on_form=False),
    UnitCost("nursing_block_week", "Nursing care home, a block-contract bed-week (paid whether used)",
             "bed-week", 1000.0, 900.0, 1150.0, "local_authority", on_form=False),
    UnitCost("nursing_spot_week", "Nursing care home, a spot placement-week", "resident-week",
             1150.0, 1000.0, 1400.0, "local_authority", on_form=False),
    UnitCost("out_of_area_uplift", "Extra share paid for a placement outside the person's area", "share",
             0.15, 0.05, 0.30, "local_authority", on_form=False),
)

UNIT_COST: dict[str, UnitCost] = {c.key: c for c in UNIT_COSTS}


def default_costs() -> dict[str, float]:
    """A fresh dict of every default (the engine's ``SimulationInputs.costs``)."""
    return {c.key: c.default for c in UNIT_COSTS}
