"""Where things are: the checkout's root, its dbt project, and the tests' own data folders."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
DBT_PROJECT = ROOT / "dbt_project"
SNAPSHOTS = TESTS / "snapshots"  # stored outputs a change must update on purpose (--update-snapshots)
ONBOARDING = TESTS / "onboarding"  # a hand-made system llif has never seen (docs/onboarding.md)
HELPERS = Path(__file__).resolve().parent
# dbt's command line from the environment the tests run in (the wrapper llif-dbt sits beside it)
DBT = Path(sys.executable).parent / "dbt"
