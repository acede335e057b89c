"""The dbt docs site: every model, column, test and the lineage, as one static page.

``dbt docs generate --static`` writes a single self-contained ``static_index.html`` (no server
API, works offline). The nightly run builds it after the planning marts (asset ``dbt_docs``) so
the catalogue has tonight's tables, into ``LLIF_HOME/dbt_docs/index.html``, which ``make ui`` and
``llif serve`` serve. dbt's working files go to a temporary folder under LLIF_HOME, never into
the checkout, and the page is swapped in whole so a reader never sees half of it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from contracts.settings import dbt_project_dir, paths

DBT_DIR = dbt_project_dir()


class DocsFailed(RuntimeError):
    pass


def build_docs(warehouse: Path | None = None, out_dir: Path | None = None, target: str = "duckdb",
               timeout: float = 900) -> Path:
    """Build the static docs site for ``warehouse`` into ``out_dir/index.html``; returns that path."""
    p = paths()
    warehouse = Path(warehouse or p.warehouse)
    out_dir = Path(out_dir or p.dbt_docs)
    out_dir.mkdir(parents=True, exist_ok=True)
    dbt = Path(sys.executable).parent / "dbt"
    with tempfile.TemporaryDirectory(prefix=".build-", dir=out_dir) as work:
        cmd = [str(dbt), "docs", "generate", "--static", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
               "--target", target, "--target-path", work, "--log-path", work,
               "--quiet"]
        env = {**os.environ, "LLIF_WAREHOUSE": str(warehouse), "LLIF_HOME": str(p.home)}
        # its own process group: a stopped run takes dbt down with it (contracts.shutdown)
        from contracts.shutdown import run_child

        result = run_child(cmd, env=env, timeout=timeout)
        page = Path(work) / "static_index.html"
        if result.returncode != 0 or not page.exists():
            raise DocsFailed(f"dbt docs generate failed (exit {result.returncode}):\n{result.output[-2000:]}")
        final = out_dir / "index.html"
        tmp = out_dir / ".index.html.new"
        shutil.copyfile(page, tmp)
        os.replace(tmp, final)  # whole or not at all
    return final
