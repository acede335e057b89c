"""What the tests share, in one place: paths, the small world's settings, running dbt, the
stand-ins for ingest and the truth fixtures of the synthetic systems.

The suite is arranged by how much of llif a test needs (docs/conventions.md, "Tests"):
``tests/unit`` (one module, no warehouse), ``tests/integration`` (a warehouse, dbt, Dagster or a
server) and ``tests/e2e`` (llif as its users run it: the command line, a night, a browser, the
services). ``tests/conftest.py`` holds the session fixtures all three use; pytest puts ``tests/``
on the import path through it, so a test imports ``from helpers import ...``.
"""
