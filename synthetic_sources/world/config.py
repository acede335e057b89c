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


@dataclass(frozen=True)
class WorldConfig:
    scale: float = 1.0
    seed: int = DEFAULT_SEED
    until: pd.Timestamp = DEFAULT_UNTIL

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
