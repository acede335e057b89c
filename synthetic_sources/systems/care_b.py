"""Care vendor B: a hosted care-home system (since 2014) exporting one nightly CSV folder.

Unlike vendor A it is one database for all its homes, knows people as vendor-wide clients
(``client_ref`` like ``C100234``), and records movements as an append-style **event log** rather
than as transfer rows. Dates are compact ``yyyymmdd`` text, event times ISO timestamps; every
table carries ``updated_at``, the day a row last changed.

Tables (database ``care_b``):

- ``home``: home_code (``BH01``...), home_name, postcode, beds.
- ``client``: client_ref, first_name, last_name, birth_date, gender (``M``/``F``), ni_no
  (missing for 40%), created_at.
- ``placement``: placement_id, client_ref, home_code, care_level (``RESIDENTIAL``/``NURSING``),
  placement_type (``LONG_TERM``/``RESPITE``/``REABLEMENT``), start_date, end_date (NULL while
  open). Placements migrated at go-live have no admission event.
- ``movement_event``: event_id, client_ref, placement_id, event_code, event_ts, location.
  Codes: ``ADM`` admitted, ``HTX`` to hospital, ``HSP`` to hospice, ``HRT`` back (from hospital
  or hospice, see location), ``DTH`` died (location says where), ``DIS`` discharged.
  Locations: ``ACUTE_HOSPITAL``, ``HOSPICE``, ``CARE_HOME``, ``COMMUNITY``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_sources import keyed_random as kr
from synthetic_sources.defects import compound_key, format_date, time_of_day
from synthetic_sources.systems import _care_common as cc
from synthetic_sources.systems.base import CONTRACTS, GO_LIVE, DefectRates, SystemExtract, TableSpec

SYSTEM = "care_b"
DATABASE = CONTRACTS[SYSTEM].database
GO = GO_LIVE[SYSTEM]
DATE_FORMAT = CONTRACTS[SYSTEM].person_table().person.dob_format
TS_FORMAT = "%Y-%m-%dT%H:%M:%S"
MARKER = CONTRACTS[SYSTEM].tables["placement"].marker

CARE_LEVEL = {"residential": "RESIDENTIAL", "nursing": "NURSING"}
PLACEMENT_TYPE = {"permanent": "LONG_TERM", "respite": "RESPITE", "reablement": "REABLEMENT"}
ADMITTED_FROM = {"hospital": "ACUTE_HOSPITAL", "home": "COMMUNITY"}
END_EVENT = {
    "died": ("DTH", "CARE_HOME"),
    "died_in_hospital": ("DTH", "ACUTE_HOSPITAL"),
    "died_in_hospice": ("DTH", "HOSPICE"),
    "home": ("DIS", "COMMUNITY"),
}
# Events of one day sort in the order they happen (an admission before anything else).
EVENT_ORDER = {"ADM": 0, "HTX": 1, "HSP": 1, "HRT": 2, "DTH": 3, "DIS": 3}
CLIENT_START = 100001
TEST_CLIENT = 900001
PLACEMENT_START = 50001

TABLE_KEYS = {name: list(t.primary_key) for name, t in CONTRACTS[SYSTEM].tables.items()}


def homes(schemes: pd.DataFrame) -> pd.DataFrame:
    h = schemes.loc[(schemes["scheme_type"] == "care_home") & (schemes["vendor"] == "B")]
    h = h.sort_values("scheme_id").reset_index(drop=True)
    return h.assign(home_code=[f"BH{i + 1:02d}" for i in range(len(h))])


def _client_refs(numbers) -> np.ndarray:
    return np.asarray([f"C{n}" for n in np.asarray(numbers)], dtype=object)


# ---------------------------------------------------------------------------------------------
# histories (independent of the as-of date)


def _placement_history(truth: dict, home: pd.DataFrame, seed: int, rates: DefectRates) -> pd.DataFrame:
    all_b = truth["care_stays"].merge(home[["scheme_id", "home_code"]], on="scheme_id")
    # vendor-wide numbers over the whole truth (stable whatever the as-of date)
    first = all_b.groupby("person_id", as_index=False)["admission_date"].min()
    client_no = pd.Series(
        cc.sequence_numbers(cc.dt64(first["admission_date"]), first["person_id"].to_numpy(), start=CLIENT_START),
        index=first["person_id"].to_numpy(),
    )
    placement_no = pd.Series(
        cc.sequence_numbers(cc.dt64(all_b["admission_date"]), all_b["stay_id"].to_numpy(), start=PLACEMENT_START),
        index=all_b["stay_id"].to_numpy(),
    )
    p = all_b.loc[all_b["discharge_date"].isna() | (all_b["discharge_date"] >= GO)]
    p = p.sort_values("stay_id").reset_index(drop=True)
    keys = p["stay_id"].to_numpy()
    adm, dis = cc.dt64(p["admission_date"]), cc.dt64(p["discharge_date"])
    created, corrected = cc.keyed_entry(adm, keys, seed, f"{SYSTEM}:placement", rates, GO)
    dis_vis, _ = cc.keyed_entry(dis, keys, seed, f"{SYSTEM}:placement_end", rates, GO)
    nxt = cc.next_start_same_group(p["person_id"].to_numpy(), adm)
    shown_end = cc.contradictory_end(adm, dis, nxt, keys, seed, f"{SYSTEM}:placement", rates.contradictory)
    # a wrongly keyed start is the referral date typed in the wrong box
    wrong_start = np.minimum(cc.dt64(p["referral_date"]), adm - cc.days(1))
    return pd.DataFrame({
        "stay_id": keys,
        "person_id": p["person_id"].to_numpy(),
        "client_no": client_no.loc[p["person_id"].to_numpy()].to_numpy(),
        "placement_id": placement_no.loc[keys].to_numpy(),
        "home_code": p["home_code"].to_numpy(),
        "care_level": p["care_type"].map(CARE_LEVEL).to_numpy(),
        "placement_type": p["stay_kind"].map(PLACEMENT_TYPE).to_numpy(),
        "admission_source": p["admission_source"].to_numpy(),
        "destination": p["discharge_destination"].to_numpy(),
        "start": adm,
        "start_wrong": wrong_start,
        "end": shown_end,
        "true_end": dis,
        "created": created,
        "corrected": corrected,
        "end_visible": np.where(np.isnat(dis), cc.NAT, dis_vis),
    })


def _client_history(records: pd.DataFrame, people: pd.DataFrame, seed: int, rates: DefectRates) -> pd.DataFrame:
    return cc.person_history(records, "client_no", TEST_CLIENT, people, SYSTEM, seed, rates, DATE_FORMAT)


def _event_history(truth: dict, placements: pd.DataFrame, seed: int, rates: DefectRates) -> pd.DataFrame:
    """The movement log: admission, spells away and back, and the end of each placement."""
    pl = placements.set_index("stay_id")
    parts = []

    def add(kind, source_id, stay_id, date, code, location):
        parts.append(pd.DataFrame({
            "kind": kind, "source_id": np.asarray(source_id, dtype=np.int64),
            "stay_id": np.asarray(stay_id, dtype=np.int64), "date": cc.dt64(date),
            "code": np.asarray(code, dtype=object), "location": np.asarray(location, dtype=object),
        }))

    add(0, placements["stay_id"], placements["stay_id"], placements["start"], "ADM",
        placements["admission_source"].map(ADMITTED_FROM).to_numpy())
    ended = placements.loc[~np.isnat(placements["true_end"].to_numpy())]
    end_ev = ended["destination"].map(END_EVENT)
    add(1, ended["stay_id"], ended["stay_id"], ended["true_end"], [e[0] for e in end_ev], [e[1] for e in end_ev])
    for kind, frame, died, code, where in (
        (2, truth["hospital_spells"], "destination", "HTX", "ACUTE_HOSPITAL"),
        (3, truth["hospice_stays"], "outcome", "HSP", "HOSPICE"),
    ):
        ids = "spell_id" if kind == 2 else "stay_id"
        away = frame.loc[frame["care_stay_id"].isin(pl.index)]
        add(kind, away[ids], away["care_stay_id"], away["admission_date"], code, where)
        back_date = cc.dt64(away["discharge_date"])
        stay_end = pl.loc[away["care_stay_id"].to_numpy(), "true_end"].to_numpy()
        back = (away[died].to_numpy() != "died") & ~np.isnat(back_date) & (np.isnat(stay_end) | (stay_end > back_date))
        add(kind + 2, away[ids].to_numpy()[back], away["care_stay_id"].to_numpy()[back], back_date[back], "HRT", where)
    ev = pd.concat(parts, ignore_index=True)
    ev = ev.loc[ev["date"].to_numpy() >= cc.ts64(GO)].reset_index(drop=True)

    keys = compound_key(ev["kind"], ev["source_id"])
    visible, corrected = cc.keyed_entry(ev["date"], keys, seed, f"{SYSTEM}:event", rates, GO)
    p = pl.loc[ev["stay_id"].to_numpy()]
    order = ev["code"].map(EVENT_ORDER).to_numpy()
    stamp = time_of_day(ev["date"].to_numpy(), keys, seed, f"{SYSTEM}:event", 7, 22)
    wrong_by = cc.days(kr.integers(seed, f"{SYSTEM}:event:wrong_days", keys, 1, 8))
    return pd.DataFrame({
        "event_id": cc.sequence_numbers(
            ev["date"].to_numpy(), order, ev["kind"].to_numpy(), ev["source_id"].to_numpy()
        ),
        "client_no": p["client_no"].to_numpy(),
        "placement_id": p["placement_id"].to_numpy(),
        "event_code": ev["code"].to_numpy(),
        "ts": stamp,
        "ts_wrong": stamp - wrong_by,
        "location": ev["location"].to_numpy(),
        "visible": np.maximum(visible, p["created"].to_numpy()),
        "corrected": corrected,
    })


# ---------------------------------------------------------------------------------------------
# as-of views


def _home_as_of(home: pd.DataFrame) -> pd.DataFrame:
    return cc.table({
        "home_code": home["home_code"].to_numpy(),
        "home_name": home["name"].astype(object).to_numpy(),
        "postcode": home["postcode"].astype(object).to_numpy(),
        "beds": home["capacity"].to_numpy(np.int64),
        MARKER: np.full(len(home), cc.ts64(GO)),
    })


def _clients_as_of(c: pd.DataFrame, as_of) -> pd.DataFrame:
    c = c.loc[c["created"].to_numpy() <= cc.ts64(as_of)]
    return cc.table({
        "client_ref": _client_refs(c["client_no"]),
        "first_name": c["first_name"].to_numpy(),
        "last_name": c["surname"].to_numpy(),
        "birth_date": c["dob"].to_numpy(),
        "gender": c["sex"].to_numpy(),
        "ni_no": c["ni_number"].to_numpy(),
        "created_at": cc.dt64(c["created"]),
        MARKER: cc.dt64(c["created"]),
    })


def _placements_as_of(p: pd.DataFrame, as_of) -> pd.DataFrame:
    p = p.loc[p["created"].to_numpy() <= cc.ts64(as_of)]
    corrected = p["corrected"].to_numpy()
    wrong = ~np.isnat(corrected) & (corrected > cc.ts64(as_of))
    start = np.where(wrong, p["start_wrong"].to_numpy(), p["start"].to_numpy())
    end = cc.known(p["end"].to_numpy(), p["end_visible"].to_numpy(), as_of)
    return cc.table({
        "placement_id": p["placement_id"].to_numpy(np.int64),
        "client_ref": _client_refs(p["client_no"]),
        "home_code": p["home_code"].to_numpy(),
        "care_level": p["care_level"].to_numpy(),
        "placement_type": p["placement_type"].to_numpy(),
        "start_date": format_date(pd.Series(start), DATE_FORMAT).to_numpy(),
        "end_date": format_date(pd.Series(end), DATE_FORMAT).to_numpy(),
        MARKER: cc.change_marker(as_of, p["created"], p["corrected"], p["end_visible"]),
    })


def _events_as_of(e: pd.DataFrame, as_of) -> pd.DataFrame:
    e = e.loc[e["visible"].to_numpy() <= cc.ts64(as_of)]
    corrected = e["corrected"].to_numpy()
    wrong = ~np.isnat(corrected) & (corrected > cc.ts64(as_of))
    ts = np.where(wrong, e["ts_wrong"].to_numpy(), e["ts"].to_numpy())
    return cc.table({
        "event_id": e["event_id"].to_numpy(np.int64),
        "client_ref": _client_refs(e["client_no"]),
        "placement_id": e["placement_id"].to_numpy(np.int64),
        "event_code": e["event_code"].to_numpy(),
        "event_ts": format_date(pd.Series(ts), TS_FORMAT).to_numpy(),
        "location": e["location"].to_numpy(),
        MARKER: cc.change_marker(as_of, e["visible"], e["corrected"]),
    })


def build(
    truth: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    seed: int,
    rates: DefectRates = DefectRates(),
    since: pd.Timestamp | None = None,
) -> SystemExtract:
    """Vendor B's database as it stood on ``as_of`` (only rows changed after ``since`` if given)."""
    as_of = pd.Timestamp(as_of).normalize()
    since = None if since is None else pd.Timestamp(since).normalize()
    home = homes(truth["schemes"])
    if as_of < GO or home.empty:
        return SystemExtract(SYSTEM, {}, cc.empty_source_records())
    placements = _placement_history(truth, home, seed, rates)
    clients = _client_history(placements, truth["people"], seed, rates)
    tables = {
        "home": _home_as_of(home),
        "client": _clients_as_of(clients, as_of),
        "placement": _placements_as_of(placements, as_of),
        "movement_event": _events_as_of(_event_history(truth, placements, seed, rates), as_of),
    }
    db = {
        name: TableSpec(cc.since_filter(frame.sort_values(TABLE_KEYS[name]), MARKER, since), TABLE_KEYS[name], MARKER)
        for name, frame in tables.items()
    }
    records = cc.source_records(
        SYSTEM, "client", _client_refs(clients["client_no"]), clients["person_id"], clients["created"], as_of, since
    )
    return SystemExtract(SYSTEM, {DATABASE: db}, records)
