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

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every run that uses the home (all of llif's) watches its own status, so the UI's
        *Terminate* stops it even when the code server's interrupt does not arrive
        (``orchestration.stop_watch.watch_cancellation``). Not for an ephemeral instance: no
        one else can mark its runs canceling."""
        instance, run_id = context.instance, context.run_id
        if instance is None or not run_id or instance.is_ephemeral:
            return
        from orchestration.stop_watch import watch_cancellation

        ref = instance.get_ref()
        watch_cancellation(lambda: dg.DagsterInstance.from_ref(ref), run_id)


def build_resources() -> dict:
    from orchestration.dbt import dbt_resource

    return {"llif": LlifHome(), "dbt": dbt_resource()}
