"""The errors every layer raises about the warehouse, defined once.

Why here: the warehouse's own module (``warehouse/duck.py``) and the explorer's reader
(``explorer/data.py``) each defined ``WarehouseMissing`` and ``WarehouseBusy``, on different bases
(``FileNotFoundError`` and ``RuntimeError`` there, one ``WarehouseUnavailable`` here), so a caller
catching one module's class missed the other's. One family now: ``WarehouseUnavailable`` is
what a page or a job catches to say "not now"; the two kinds keep their standard bases too, so
``except FileNotFoundError`` and ``except RuntimeError`` still catch what they caught.

``LlifError`` is the base of them all: an error llif raises on purpose, whose message says
what to do (``warehouse.pseudonymise.PseudonymKeyError`` and ingest's ``IngestError`` stand on
it too, and so does the source contracts' ``ContractError`` (also a ``ValueError``)).
"""

from __future__ import annotations


class LlifError(Exception):
    """An error llif raises on purpose; ``str()`` says what happened and what to do."""


class WarehouseUnavailable(LlifError):
    """The warehouse cannot be read or written now."""


class WarehouseMissing(WarehouseUnavailable, FileNotFoundError):
    """A reader asked for a warehouse that has not been built yet."""


class WarehouseBusy(WarehouseUnavailable, RuntimeError):
    """Another process holds the warehouse file."""
