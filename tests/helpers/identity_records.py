"""``identity.source_identifiers`` built straight from a generated world's source files.

Linkage was written while the ingest was being written, so its tests need the contract's input
table without the ingest. This module plays the ingest's part for the four person tables only:
the same columns, record keys in the truth's ``source_records`` form, dates parsed from each
vendor's own format, sex mapped from each vendor's codes. Where the real ingest exists, the
tests also run through it (see ``tests/integration/test_identity.py``); this stand-in must not drift from
the contract (docs/warehouse_contract.md), which is why it is checked against the truth's keys.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from synthetic_sources.writers.embedded import read_care_b_latest, read_embedded_table

# The contract's column order.
COLUMNS = ["system", "source_table", "record_key", "ni_raw", "ni_clean", "ni_token", "first_name",
           "surname", "dob_raw", "dob", "sex", "postcode", "_loaded_at"]
TEST_KEY = b"identity-tests-only-key"


def _text(values) -> pd.Series:
    """Text as ``object`` with ``None`` for missing, whatever pandas inferred on reading."""
    s = pd.Series(values)
    out = s.astype(object).where(s.notna(), None)
    return out.reset_index(drop=True)


def _parse(values: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(values, format=fmt, errors="coerce").dt.normalize()


def _frame(system, table, keys, ni, first, surname, dob_raw, dob, sex) -> pd.DataFrame:
    from warehouse import pseudonymise  # the ingest's cleaning and tokens: one definition

    ni = _text(ni)
    clean = pseudonymise.clean_ni(ni)
    token = pseudonymise.ni_tokens(clean, TEST_KEY)
    n = len(ni)
    return pd.DataFrame({
        "system": [system] * n,
        "source_table": [table] * n,
        "record_key": _text(keys).astype(str),
        "ni_raw": ni,
        "ni_clean": clean,
        "ni_token": token,
        "first_name": _text(first),
        "surname": _text(surname),
        "dob_raw": _text(dob_raw),
        "dob": pd.Series(dob).reset_index(drop=True).astype("datetime64[ns]"),
        "sex": _text(sex),
        "postcode": pd.Series([None] * n, dtype=object),
        "_loaded_at": pd.Timestamp("2026-11-01 02:00:00"),
    })


def _identifiers(crm: pd.DataFrame | None, care_a: dict[str, pd.DataFrame], care_b: pd.DataFrame | None,
                 domcare: pd.DataFrame | None) -> pd.DataFrame:
    frames = []
    if crm is not None:
        c = crm
        dob_text = c["date_of_birth"]
        if pd.api.types.is_datetime64_any_dtype(dob_text):  # in memory: as the SQLite file holds it
            dob_text = pd.Series(pd.to_datetime(dob_text).dt.strftime("%Y-%m-%dT%H:%M:%S"), dtype=object)
        frames.append(_frame("crm", "contact", c["contact_ref"], c["ni_no"], c["first_name"], c["surname"],
                             dob_text, _parse(pd.Series(dob_text, dtype=object).str.slice(0, 10), "%Y-%m-%d"),
                             c["sex"]))
    for db, a in sorted(care_a.items()):
        frames.append(_frame("care_a", "Resident", db + ":" + a["ResidentNo"].astype(str), a["NINumber"],
                             a["Forename"], a["Surname"], a["DateOfBirth"],
                             _parse(a["DateOfBirth"], "%d/%m/%Y"),
                             a["Gender"].map({"Male": "M", "Female": "F"})))
    if care_b is not None:
        b = care_b
        frames.append(_frame("care_b", "client", b["client_ref"], b["ni_no"], b["first_name"],
                             b["last_name"], b["birth_date"], _parse(b["birth_date"], "%Y%m%d"),
                             b["gender"].where(b["gender"].isin(["M", "F"]))))
    if domcare is not None:
        d = domcare
        frames.append(_frame("domcare", "service_user", d["service_user_id"], d["ni_number"], d["forename"],
                             d["surname"], d["date_of_birth"], _parse(d["date_of_birth"], "%d.%m.%Y"),
                             pd.Series(d["sex"]).map({1: "M", 2: "F"})))
    out = pd.concat(frames, ignore_index=True)[COLUMNS]
    for col in out.columns:
        if out[col].dtype != object and col not in ("dob", "_loaded_at"):
            out[col] = _text(out[col])
    return out


def source_identifiers(sources_dir: Path) -> pd.DataFrame:
    """The four person tables of a generated sources folder mapped to ``identity.source_identifiers``."""
    sources_dir = Path(sources_dir)
    crm = read_embedded_table(sources_dir, "crm", "contact") if (sources_dir / "crm.sqlite").exists() else None
    care_a = {path.stem: read_embedded_table(sources_dir, path.stem, "Resident")
              for path in sorted((sources_dir / "care_a").glob("care_a_*.sqlite"))}
    care_b = read_care_b_latest(sources_dir, "client") if (sources_dir / "care_b_exports").exists() else None
    domcare = (read_embedded_table(sources_dir, "domcare", "service_user")
               if (sources_dir / "domcare.sqlite").exists() else None)
    return _identifiers(crm, care_a, care_b, domcare)


def world_in_memory(scale: float, seed: int, until: str = "2026-10-31") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(source identifiers, the truth's person-level ``source_records``) without writing files.

    Simulating the world at scale 1.0 takes seconds; writing its sources (ten million home-care
    visits) takes minutes. Linkage reads only the four person tables, so the full-scale test and
    the benchmark build those in memory, exactly as the writers would have stored them.
    """
    from synthetic_sources import world
    from synthetic_sources.systems import care_a, care_b, crm, domcare
    from synthetic_sources.systems.base import DefectRates

    sim = world.simulate_world(world.WorldConfig(scale=scale, seed=seed, until=until))
    as_of = pd.Timestamp(sim.meta["until"])
    tables, records = {}, []
    for module, table in ((crm, "contact"), (care_a, "Resident"), (care_b, "client"), (domcare, "service_user")):
        extract = module.build(sim.tables, as_of, seed, DefectRates())
        records.append(extract.source_records)
        tables[module.SYSTEM] = {db: specs[table].frame for db, specs in extract.databases.items() if table in specs}
    identifiers = _identifiers(
        next(iter(tables["crm"].values()), None), tables["care_a"],
        next(iter(tables["care_b"].values()), None), next(iter(tables["domcare"].values()), None))
    return identifiers, person_source_records(pd.concat(records, ignore_index=True))


def load_source_identifiers(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Write the frame as ``identity.source_identifiers`` with the contract's SQL types."""
    con.execute("CREATE SCHEMA IF NOT EXISTS identity")
    con.register("_si_frame", frame)
    con.execute("""
        CREATE OR REPLACE TABLE identity.source_identifiers AS
        SELECT system::VARCHAR AS system, source_table::VARCHAR AS source_table,
               record_key::VARCHAR AS record_key, ni_raw::VARCHAR AS ni_raw,
               ni_clean::VARCHAR AS ni_clean, ni_token::VARCHAR AS ni_token,
               first_name::VARCHAR AS first_name, surname::VARCHAR AS surname,
               dob_raw::VARCHAR AS dob_raw, CAST(dob AS DATE) AS dob, sex::VARCHAR AS sex,
               postcode::VARCHAR AS postcode, CAST(_loaded_at AS TIMESTAMP) AS _loaded_at
        FROM _si_frame
    """)
    con.unregister("_si_frame")


def person_source_records(truth_source_records: pd.DataFrame) -> pd.DataFrame:
    """The truth's rows for person-level tables only (the CRM also maps its other tables)."""
    person_tables = {("crm", "contact"), ("care_a", "Resident"), ("care_b", "client"),
                     ("domcare", "service_user")}
    sr = truth_source_records
    keep = np.array([(s, t) in person_tables for s, t in zip(sr["system"], sr["table"])], dtype=bool)
    return sr.loc[keep].reset_index(drop=True)
