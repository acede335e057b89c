"""The ground every layer of llif stands on: what the sources hold, the domain's words, the settings.

Why a package of its own: ingest, the warehouse, the models, the forecast engine, the explorer
and Dagster all need to agree on the same facts (a source table's key, the name of a state, an
area, a unit cost, where the warehouse lives). Each fact is written here once, as data, and every
layer imports it from here; this package imports none of them (an import-linter contract in
``make test`` enforces it, see ``.importlinter``), so a provider connecting its own systems edits
a contract here, never the synthetic world that tests the pipeline.
"""
