"""``make ui``: every service of ``llif serve`` on localhost, in one terminal (Ctrl-C stops them).

The Dagster UI (lineage, runs, reruns, asset checks), the daemon (the 02:00 schedule and the
failure alerts), the MLflow UI (model versions), the explorer (planners) and the dbt docs site.
What each is and how a server runs them for good: ``llif/services.py`` and ``deploy/README.md``.
"""

from __future__ import annotations

from llif import services


def run(dagster_port: int = 3000, mlflow_port: int = 5000, explorer_port: int = 8501, docs_port: int = 8580) -> int:
    ports = services.Ports(dagster=dagster_port, mlflow=mlflow_port, explorer=explorer_port, docs=docs_port)
    return services.run(host="127.0.0.1", ports=ports)
