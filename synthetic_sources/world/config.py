"""What a user may choose about the world, validated with messages that say what to do."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

START = pd.Timestamp("1998-01-01")
DEFAULT_UNTIL = pd.Timestamp("2026-10-31")
DEFAULT_SEED = 20261031
MAX_SCALE = 4.0


class ConfigError(ValueError):
    """A bad option; the message names it and says what is allowed."""


# Flows a test world may change from a date (``RegimeChange``): what each multiplies.
REGIME_FLOWS = {
    "care_home_from_home": "permanent care-home admissions of people at home (PERMANENT_FROM_HOME)",
    "homeless_referrals": "homeless households referred for temporary accommodation (HOMELESS_REFERRALS)",
    "hospital_admissions": "emergency hospital admissions of everyone (HOSPITAL_ANNUAL_BY_AGE, care homes too)",
}


@dataclass(frozen=True)
class RegimeChange:
    """A change in how people move that the pipeline is not told about: from month ``start``
    (YYYY-MM) on, ``flow`` happens ``factor`` times as often. Why: the forecast must follow the
    latest data, and the only honest test is a world that changed in a way the models can see
    only through what happens (no new column, no flag); the benchmarks build such worlds."""

    flow: str
    factor: float
    start: str

    def __post_init__(self):
        if self.flow not in REGIME_FLOWS:
            raise ConfigError(f"regime change: flow must be one of {', '.join(REGIME_FLOWS)}; got {self.flow!r}")
        try:
            factor = float(self.factor)
        except (TypeError, ValueError):
            raise ConfigError(f"regime change: factor must be a number; got {self.factor!r}") from None
        if not (0.0 <= factor <= 20.0):
            raise ConfigError(f"regime change: factor must be between 0 and 20; got {factor}")
        object.__setattr__(self, "factor", factor)
        try:
            start = pd.Timestamp(self.start).to_period("M").strftime("%Y-%m")
        except (TypeError, ValueError):
            raise ConfigError(f"regime change: start must be a month like 2025-06; got {self.start!r}") from None
        object.__setattr__(self, "start", start)


@dataclass(frozen=True)
class WorldConfig:
    scale: float = 1.0
    seed: int = DEFAULT_SEED
    until: pd.Timestamp = DEFAULT_UNTIL
    changes: tuple[RegimeChange, ...] = ()

    def factor(self, flow: str, year: int, month: int) -> float:
        """How many times as often ``flow`` happens in that month (1 without a change)."""
        out = 1.0
        for c in self.changes:
            if c.flow == flow and f"{year}-{month:02d}" >= c.start:
                out *= c.factor
        return out

    def __post_init__(self):
        try:
            scale = float(self.scale)
        except (TypeError, ValueError):
            raise ConfigError(f"--scale must be a number, got {self.scale!r}") from None
        if not (0.005 <= scale <= MAX_SCALE):
            raise ConfigError(
                f"--scale must be between 0.005 and {MAX_SCALE} (1.0 is the provider's size, "
                f"about 16,000 households); got {self.scale}"
            )
        object.__setattr__(self, "scale", scale)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not (0 <= self.seed < 2**32):
            raise ConfigError(f"--seed must be a whole number from 0 to 4294967295; got {self.seed!r}")
        try:
            until = pd.Timestamp(self.until).normalize()
        except (TypeError, ValueError):
            raise ConfigError(f"--until must be a date like 2026-10-31; got {self.until!r}") from None
        if until < pd.Timestamp("2000-01-01"):
            raise ConfigError(f"--until must be 2000-01-01 or later (the world starts in 1998); got {until.date()}")
        if until > pd.Timestamp("2040-12-31"):
            raise ConfigError(f"--until must be 2040-12-31 or earlier; got {until.date()}")
        object.__setattr__(self, "until", until)
        changes = tuple(c if isinstance(c, RegimeChange) else RegimeChange(**c) for c in self.changes)
        object.__setattr__(self, "changes", changes)
