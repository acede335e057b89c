"""Where planners' what-ifs are kept, and the scenarios the nightly forecast runs.

Why ``LLIF_HOME/scenarios/`` and not the checkout's ``scenarios/``: the checkout is code (read
only in a deployment, replaced by an upgrade, shared by every installation); a planner's what-if
is data of one installation. The shipped scenarios stay where they are; a saved what-if can
never overwrite one, nor take a shipped scenario's name (the nightly would run two of them).

Every saved file starts with who saved it and when (comment lines, so the engine's scenario
format is unchanged), and is checked by the engine's own validator before it is written.

The nightly forecast reads both folders through ``nightly_scenarios()``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

MAX_SAVED = 100  # a what-if folder is a planners' shortlist, not an archive
MAX_DESCRIPTION = 2000


def saved_dir(home: Path | None = None) -> Path:
    from contracts.settings import paths

    return paths(home).scenarios


def shipped_dir() -> Path:
    import simulation.scenarios as sc

    return Path(getattr(sc, "SCENARIOS_DIR", Path(sc.__file__).resolve().parent.parent / "scenarios"))


def shipped_names() -> set[str]:
    import yaml

    names = set()
    for f in shipped_dir().glob("*.yaml"):
        spec = yaml.safe_load(f.read_text()) or {}
        names |= {f.stem, str(spec.get("name", f.stem))}
    return names


def save(spec: dict, folder: Path | None = None, overwrite: bool = False, author: str | None = None,
         now: dt.datetime | None = None) -> Path:
    """Write the what-if as ``<name>.yaml`` with its author and time; returns the path."""
    import yaml

    from explorer.whatif import slug, to_yaml

    folder = Path(folder) if folder is not None else saved_dir()
    name = str(spec.get("name", ""))
    if not name or slug(name) != name:
        raise ValueError(f"a scenario's name must be lower-case words joined by _, got {name!r}")
    if name in shipped_names():
        raise FileExistsError(f"'{name}' is the name of a scenario that comes with llif; choose another name.")
    if len(str(spec.get("description", ""))) > MAX_DESCRIPTION:
        raise ValueError(f"the description is longer than {MAX_DESCRIPTION} characters; shorten it")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{name}.yaml"
    if path.exists() and not overwrite:
        raise FileExistsError(f"A scenario called '{name}' is already saved ({path.name}). "
                              "Choose another name, or tick 'Replace it'.")
    if not path.exists() and len(list(folder.glob("*.yaml"))) >= MAX_SAVED:
        raise ValueError(f"{MAX_SAVED} what-ifs are saved already; remove some from {folder} first")
    text = to_yaml(spec)
    from simulation.scenarios import validate

    validate(yaml.safe_load(text), where=str(path))  # the engine's own check has the last word
    when = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    header = f"# saved from the explorer by {author or 'unknown'} at {when}\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(header + text)
    os.replace(tmp, path)
    return path


def saved_by(path: Path) -> tuple[str | None, str | None]:
    """(author, time) from a saved what-if's first line, or (None, None)."""
    first = Path(path).read_text().split("\n", 1)[0]
    prefix = "# saved from the explorer by "
    if not first.startswith(prefix):
        return None, None
    author, _, when = first.removeprefix(prefix).rpartition(" at ")
    return author or None, when or None


def nightly_scenarios(home: Path | None = None) -> list:
    """What the nightly forecast runs: the baseline and the shipped scenarios first, then every
    what-if saved in ``LLIF_HOME/scenarios/`` by file name. A saved file that no longer validates
    (an engine upgrade) or takes a shipped name is left out and named in the returned list's
    ``skipped`` attribute, so one planner's file never stops the night."""
    from simulation.scenarios import ScenarioError, load_scenario, shipped_scenarios

    scenarios = _ScenarioList(shipped_scenarios())
    taken = {s.name for s in scenarios}
    folder = saved_dir(home)
    for f in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            s = load_scenario(f)
        except ScenarioError as exc:
            scenarios.skipped.append(f"{f}: {exc}")
            continue
        if s.name in taken:
            scenarios.skipped.append(f"{f}: the name {s.name!r} is taken by another scenario")
            continue
        taken.add(s.name)
        scenarios.append(s)
    return scenarios


class _ScenarioList(list):
    def __init__(self, items=()):
        super().__init__(items)
        self.skipped: list[str] = []
