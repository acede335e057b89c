"""dbt's per-run target folders do not pile up: dagster-dbt gives every invocation one and never
removes it (issue 16: about 47 MB a night)."""

from __future__ import annotations

import os

from orchestration.dbt import prune_run_targets


def _folder(root, name, age_days):
    path = root / name
    path.mkdir()
    (path / "manifest.json").write_text("{}")
    stamp = 1_790_000_000 - age_days * 86_400
    os.utime(path, (stamp, stamp))
    return path


def test_only_the_newest_run_targets_of_the_asset_are_kept(tmp_path):
    old = [_folder(tmp_path, f"llif_dbt-run{i}-abc{i}", age_days=10 - i) for i in range(6)]
    planning = _folder(tmp_path, "llif_dbt_planning-run0-zzz", age_days=30)   # another asset's
    current = _folder(tmp_path, "llif_dbt-runX-now", age_days=20)   # the current one, whatever its time
    (tmp_path / "manifest.json").write_text("{}")                  # dbt's own target files stay

    removed = prune_run_targets(current, keep=3)

    assert sorted(removed) == sorted(old[:4])
    assert {p.name for p in tmp_path.iterdir()} == {current.name, old[4].name, old[5].name, planning.name,
                                                   "manifest.json"}
    assert prune_run_targets(current, keep=3) == []
