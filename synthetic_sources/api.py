"""Generate the world and its source systems, carry it on night by night, and report on it.

These are the three things ``llif sources`` does; each is a plain function so tests, benchmarks
and Dagster call the same code as the command line.

Layout under ``LLIF_HOME``:
- ``sources/``: what the pipeline reads (SQLite files, the vendor-B export folder) and
  ``sources/manifest.json`` (the date the sources stand at, seed, scale, server systems);
- ``truth/``: the truth store and ``world.pkl``, the world's state at the end of its last
  simulated month, from which ``advance`` carries on.
"""

from __future__ import annotations

import json
import pickle
import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import pandas as pd

from contracts.settings import Paths
from contracts.settings import paths as llif_paths
from synthetic_sources.systems.base import SYSTEMS, DefectRates
from synthetic_sources.truth_store import TruthStore
from synthetic_sources.world import ConfigError, WorldConfig, continue_world, simulate_world
from synthetic_sources.world.history import month_index

# Which systems have a server form, and what kind of server holds them.
SERVER_SYSTEMS = {"crm": "postgresql", "assets": "postgresql", "domcare": "postgresql", "care_b": "mysql"}
MANIFEST = "manifest.json"
CHECKPOINT = "world.pkl"


class SourcesError(RuntimeError):
    """Something about the home or the sources that the user must sort out; says how."""


@dataclass
class GenerateResult:
    as_of: pd.Timestamp
    seconds: float
    counts: dict = field(default_factory=dict)  # system -> {database.table: rows}


def _system_module(system: str):
    return import_module(f"synthetic_sources.systems.{system}")


def parse_servers(items: list[str] | None) -> dict[str, str]:
    """``["crm=postgresql+psycopg://...", ...]`` -> {"crm": url}; names the bad item."""
    servers: dict[str, str] = {}
    for item in items or []:
        system, sep, url = item.partition("=")
        system = system.strip()
        if not sep or not url.strip():
            raise ConfigError(f"--server expects SYSTEM=URL (e.g. crm=postgresql+psycopg://host/db); got {item!r}")
        if system not in SERVER_SYSTEMS:
            raise ConfigError(
                f"--server: {system!r} has no server form; choose from {', '.join(SERVER_SYSTEMS)} "
                "(care vendor A keeps one local file per care home)"
            )
        servers[system] = url.strip()
    return servers


def _progress(desc: str, total: int, enabled: bool):
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="month", leave=False, disable=None)  # no bar in logs
    return bar, bar.update


def _write_person_months(store: TruthStore, frame: pd.DataFrame, append: bool) -> None:
    """The timeline is stored a year a file, so a night's advance rewrites one year, not 28."""
    folder = store.root / "person_months"
    folder.mkdir(parents=True, exist_ok=True)
    if frame.empty:
        return
    years = frame["month"].dt.year
    for year, part in frame.groupby(years, sort=True):
        path = folder / f"{int(year)}.parquet"
        if append and path.exists():
            old = pd.read_parquet(path)
            part = pd.concat([old[old["month"] < part["month"].min()], part], ignore_index=True)
        part.to_parquet(path, index=False)


def load_truth(home: Path | None = None) -> dict[str, pd.DataFrame]:
    """Every truth table (tests, validation and benchmarks only: pipeline code never calls this)."""
    store = TruthStore(llif_paths(home).truth)
    if not store.exists():
        raise SourcesError(f"no world in {store.root}; run `llif sources generate` first")
    tables = store.load_all()
    folder = store.root / "person_months"
    files = sorted(folder.glob("*.parquet"))
    tables["person_months"] = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return tables


def _home_is_empty(p: Paths) -> bool:
    return not (p.sources.exists() and any(p.sources.iterdir())) and not (p.truth.exists() and any(p.truth.iterdir()))


def _server_urls_for(manifest: dict, overrides: dict[str, str]) -> dict[str, str]:
    from contracts.settings import server_url

    urls = {}
    for system, stored in manifest.get("servers", {}).items():
        urls[system] = overrides.get(system) or server_url(system) or stored
        if "***" in urls[system]:
            raise SourcesError(
                f"the {system} server's password is not stored; set LLIF_{system.upper()}_URL "
                f"or pass --server {system}=URL"
            )
    return urls


def _check_servers(servers: dict[str, str]) -> None:
    from synthetic_sources.writers.server import check_reachable

    for system, url in servers.items():
        check_reachable(system, url)


def _write_systems(truth, as_of, seed, p: Paths, servers, mode, since, progress, overwrite=False):
    from synthetic_sources.writers.embedded import write_embedded
    from synthetic_sources.writers.server import write_server

    counts: dict = {}
    records = []
    for system in SYSTEMS:
        t0 = time.perf_counter()
        extract = _system_module(system).build(truth, as_of, seed, DefectRates(), since=since)
        if not extract.databases:  # before the system's go-live it holds nothing, not even files
            counts[system] = {}
            continue
        write_embedded(extract, p.sources, export_date=as_of, mode=mode)
        if system in servers:
            write_server(extract, servers[system], mode=mode, overwrite=overwrite)
        counts[system] = {
            f"{db}.{name}": len(spec.frame) for db, tables in extract.databases.items() for name, spec in tables.items()
        }
        records.append(extract.source_records)
        if progress:
            rows = sum(counts[system].values())
            print(f"  {system:<8} {rows:>10,} rows {'written' if since is None else 'new or changed'} "
                  f"in {time.perf_counter() - t0:5.1f}s", flush=True)
    return counts, pd.concat(records, ignore_index=True)


def generate(
    home: Path | None = None,
    scale: float = 1.0,
    seed: int | None = None,
    until=None,
    replace: bool = False,
    servers: dict[str, str] | None = None,
    progress: bool = False,
    changes: tuple = (),
) -> GenerateResult:
    """Simulate the world from 1998 to ``until`` and write every source system as of that day.
    ``changes``: ``RegimeChange``s (or dicts of flow, factor, start) a test world is given."""
    kwargs = {"scale": scale, "changes": tuple(changes)}
    if seed is not None:
        kwargs["seed"] = seed
    if until is not None:
        kwargs["until"] = until
    config = WorldConfig(**kwargs)
    p = llif_paths(home)
    servers = servers or {}
    if not _home_is_empty(p) and not replace:
        raise SourcesError(
            f"{p.home} already holds a generated world; pass --replace to overwrite it, "
            "or set LLIF_HOME to another folder"
        )
    _check_servers(servers)
    started = time.perf_counter()
    if replace:
        _clear(p)
    months = month_index(config.until) + 1
    bar, tick = _progress("simulating the world", months, progress)
    sim = simulate_world(config, progress=tick)
    if bar is not None:
        bar.close()
    if progress:
        print(f"  world    {len(sim.tables['people']):>10,} people over {months} months", flush=True)
    store = TruthStore(p.truth)
    timeline = sim.tables.pop("person_months")
    store.save(sim.tables, sim.meta)
    _write_person_months(store, timeline, append=False)
    sim.tables["person_months"] = timeline
    _save_checkpoint(p, sim.world)
    counts, records = _write_systems(
        sim.tables, config.until, config.seed, p, servers, "create", None, progress, overwrite=replace
    )
    store.save({"source_records": records}, sim.meta)
    _save_manifest(p, config.until, config, servers)
    return GenerateResult(as_of=config.until, seconds=time.perf_counter() - started, counts=counts)


def advance(home: Path | None = None, days: int = 1, servers: dict[str, str] | None = None, progress: bool = False) -> GenerateResult:
    """The world lives on ``days`` more days; the sources get what those days would bring."""
    if isinstance(days, bool) or not isinstance(days, int) or not (1 <= days <= 3660):
        raise ConfigError(f"--days must be a whole number from 1 to 3660; got {days!r}")
    p = llif_paths(home)
    manifest = read_manifest(p)
    since = pd.Timestamp(manifest["as_of"])
    until = since + pd.Timedelta(days=days)
    urls = _server_urls_for(manifest, servers or {})
    _check_servers(urls)
    started = time.perf_counter()
    world = _load_checkpoint(p)
    store = TruthStore(p.truth)
    new_months = max(0, month_index(until) + 1 - world.month)
    bar, tick = _progress("advancing the world", new_months, progress and new_months > 0)
    sim, _ = continue_world(world, until, progress=tick)
    if bar is not None:
        bar.close()
    new_timeline = sim.tables.pop("person_months")
    store.save(sim.tables, sim.meta)
    _write_person_months(store, new_timeline, append=True)
    _save_checkpoint(p, sim.world)
    truth = load_truth(p.home)
    counts, records = _write_systems(truth, until, sim.world.seed, p, urls, "upsert", since, progress)
    old = store.load("source_records")
    merged = pd.concat([old, records], ignore_index=True).drop_duplicates(["system", "table", "record_key"], keep="last")
    store.save({"source_records": merged}, sim.meta)
    _save_manifest(p, until, sim.world.config, urls)
    return GenerateResult(as_of=until, seconds=time.perf_counter() - started, counts=counts)


def report(home: Path | None = None, wide: float = 1.0):
    """Every calibration target beside the world's value (reads the truth store)."""
    from synthetic_sources.calibration import evaluate

    p = llif_paths(home)
    manifest = read_manifest(p)
    return evaluate(load_truth(p.home), pd.Timestamp(manifest["as_of"]), wide=wide)


def read_manifest(p: Paths) -> dict:
    path = p.sources / MANIFEST
    if not path.exists():
        raise SourcesError(f"no generated sources in {p.sources}; run `llif sources generate` first")
    return json.loads(path.read_text())


def _save_manifest(p: Paths, as_of, config: WorldConfig, servers: dict[str, str]) -> None:
    from synthetic_sources.writers.server import mask_url

    p.sources.mkdir(parents=True, exist_ok=True)
    manifest = {
        "as_of": str(pd.Timestamp(as_of).date()),
        "seed": config.seed,
        "scale": config.scale,
        "servers": {s: mask_url(u) for s, u in servers.items()},
    }
    (p.sources / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))


def _save_checkpoint(p: Paths, world) -> None:
    rows, world.month_rows = world.month_rows, []
    try:
        with open(p.truth / CHECKPOINT, "wb") as fh:
            pickle.dump(world, fh, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        world.month_rows = rows


def _load_checkpoint(p: Paths):
    path = p.truth / CHECKPOINT
    if not path.exists():
        raise SourcesError(f"the world's saved state is missing ({path}); run `llif sources generate --replace`")
    with open(path, "rb") as fh:
        return pickle.load(fh)


def _clear(p: Paths) -> None:
    import shutil

    for folder in (p.sources, p.truth):
        if folder.exists():
            shutil.rmtree(folder)
