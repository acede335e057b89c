"""The calibrated ground-truth world: ``simulate_world`` runs it, ``continue_world`` carries it on."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .config import ConfigError, RegimeChange, WorldConfig
from .history import World, month_bounds
from .tables import person_months, static_tables

__all__ = ["ConfigError", "RegimeChange", "WorldConfig", "World", "SimulatedWorld", "simulate_world", "continue_world"]


@dataclass
class SimulatedWorld:
    world: World
    tables: dict[str, pd.DataFrame]
    meta: dict


def _meta(world: World) -> dict:
    return {
        "seed": world.seed,
        "scale": world.scale,
        "until": str(world.config.until.date()),
        "start": "1998-01-01",
        "months_simulated": world.month,
        "last_month": str(pd.Timestamp(month_bounds(world.month - 1)[0], unit="D").date()),
    }


def simulate_world(config: WorldConfig, progress=None) -> SimulatedWorld:
    world = World(config)
    world.run_until(config.until, progress=progress)
    tables = static_tables(world)
    tables["person_months"] = person_months(world, world.month_rows)
    return SimulatedWorld(world, tables, _meta(world))


def continue_world(world: World, until, progress=None) -> tuple[SimulatedWorld, int]:
    """Carry a saved world on to ``until``; returns the world and the first new month's index.

    ``tables['person_months']`` then holds only the new months: the caller appends them.
    """
    first_new = world.month
    world.month_rows = []
    world.config = WorldConfig(scale=world.scale, seed=world.seed, until=pd.Timestamp(until))
    world.run_until(world.config.until, progress=progress)
    tables = static_tables(world)
    tables["person_months"] = person_months(world, world.month_rows)
    return SimulatedWorld(world, tables, _meta(world)), first_new
