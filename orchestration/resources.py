"""Every resource of the code location, built in one place from the settings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from contracts.settings import paths


class LlifHome(dg.ConfigurableResource):
    """Where this installation keeps its sources, warehouse and the rest (``LLIF_HOME``)."""

    home: str = ""

    @property
    def root(self) -> Path:
        return paths(Path(self.home)).home if self.home else paths().home

    @property
    def sources(self) -> Path:
        return paths(self.root).sources

    @property
    def warehouse(self) -> Path:
        return paths(self.root).warehouse


def build_resources() -> dict:
    from orchestration.dbt import dbt_resource

    return {"llif": LlifHome(), "dbt": dbt_resource()}
