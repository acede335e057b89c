"""Reference data from outside the provider's records (provenance in README.md beside it)."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from contracts.settings import paths

HERE = Path(__file__).resolve().parent
NICKNAMES_CSV = HERE / "nicknames.csv"


def nickname_files() -> list[Path]:
    """The published list, then the provider's own additions where it has any."""
    own = paths().home / "contracts" / "nicknames.csv"
    return [NICKNAMES_CSV, own] if own.exists() else [NICKNAMES_CSV]


@lru_cache(maxsize=4)
def _read(files: tuple[Path, ...]) -> dict[str, tuple[str, ...]]:
    pairs: dict[str, set[str]] = {}
    for path in files:
        with open(path, encoding="utf-8", newline="") as fh:
            for number, row in enumerate(csv.DictReader(fh), start=2):
                if set(row) != {"name1", "relationship", "name2"} or row["relationship"] != "has_nickname":
                    raise ValueError(f"llif: {path} line {number}: expected name1,has_nickname,name2; got {row}.")
                pairs.setdefault(row["name1"].strip().upper(), set()).add(row["name2"].strip().upper())
    return {formal: tuple(sorted(nicks)) for formal, nicks in sorted(pairs.items())}


def nicknames() -> dict[str, tuple[str, ...]]:
    """Formal given name -> its nicknames, upper case (WILLIAM -> BILL, BILLY, WILL, ...)."""
    return _read(tuple(nickname_files()))


def formal_names() -> dict[str, tuple[str, ...]]:
    """Nickname -> the formal names it may stand for (the inverse of :func:`nicknames`)."""
    inverse: dict[str, set[str]] = {}
    for formal, nicks in nicknames().items():
        for nick in nicks:
            inverse.setdefault(nick, set()).add(formal)
    return {nick: tuple(sorted(f)) for nick, f in sorted(inverse.items())}
