"""The warehouse layer: the DuckDB file, ingest into ``raw`` and ``identity``, and linkage.

Plain Python, never Dagster: the orchestration wraps these functions as assets, and tests and
benchmarks call them directly. The contract (tables, columns, audit, quarantine, tokens) is
``docs/warehouse_contract.md``. Nothing is imported here, so that importing one module
(``warehouse.identity``, say) never pulls in, or breaks on, another.
"""
