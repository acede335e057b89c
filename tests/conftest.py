"""Shared pytest options."""


def pytest_addoption(parser):
    parser.addoption("--update-snapshots", action="store_true", help="rewrite stored snapshots (asset graph)")
