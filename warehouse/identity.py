"""Identity linkage: one pseudonymous ``person_key`` per real person across the four systems.

The provider identifies people by NI number and date of birth, and often cannot: vendor B lacks
the NI number for 40% of its clients, every vendor writes dates its own way and clerks swap day
and month, names carry typos, nicknames and old surnames. So linkage runs in two passes over
``identity.source_identifiers`` (docs/warehouse_contract.md) and writes
``identity.person_xref``:

1. **Deterministic**: the same cleaned NI number and the same date of birth (or the same NI with
   day and month swapped) is the same person. Cheap, and the evidence the rest hangs on.
2. **Probabilistic** (Splink, Fellegi-Sunter on DuckDB) over every real record, so records with no
   or unusable NI numbers still find their person; the NI number is one of the comparisons, so a
   deterministic pair also scores as certain and two different NI numbers count hard against a
   link.

Records are then clustered by union-find over the deterministic links and the probabilistic
links above the threshold, strongest first, refusing any merge that would put two different NI
numbers in one person (the chaining that connected components otherwise allows). Method,
thresholds and measured quality: docs/identity.md.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from contracts.reference import formal_names, nicknames
from contracts.vocabulary import ni_numbers as _ni

log = logging.getLogger(__name__)

XREF_COLUMNS = ["system", "source_table", "record_key", "person_key", "match_method", "match_probability"]

# Pairs at or above this probability are the same person. Chosen on the scale-1.0 world of
# seed 11 and checked on seed 5: precision is flat from 0.5 to 0.97, recall falls steadily
# above 0.8 (day-month swaps with no NI score 0.8-0.9). See docs/identity.md.
MATCH_THRESHOLD = 0.8
# Pairs kept from prediction for clustering and diagnostics (well below the threshold).
PREDICT_FLOOR = 0.5
# Below this many real records there is too little to train a model on: deterministic only.
MIN_RECORDS_FOR_MODEL = 200
# u probabilities from this many random pairs: enough for stable estimates of rare levels.
U_MAX_PAIRS = 3e6

# HMRC's format (a suffix that does not distinguish people), the prefixes never issued, the
# placeholder numbers and date of birth that belong to nobody: the vocabulary's NI rules
# (contracts/vocabulary/ni_numbers.py), which the synthetic world issues numbers by too.
_NI_FULL = _ni.NI_FULL
_NI_STEM = _ni.NI_STEM
_NI_BAD_PREFIXES = _ni.NEVER_ISSUED_PREFIXES
PLACEHOLDER_NI_STEMS = frozenset(_ni.PLACEHOLDER_NI_STEMS)
PLACEHOLDER_DOBS = (pd.Timestamp(_ni.PLACEHOLDER_DOB),)

# Names trainers and testers use for records that belong to nobody.
_TEST_WORDS = frozenset({"TEST", "TESTING", "DUMMY", "TRAINING", "TRAINEE", "DONOTUSE", "UNKNOWN"})
_TEST_NAMES = frozenset({("MICKEY", "MOUSE"), ("MINNIE", "MOUSE"), ("DONALD", "DUCK"), ("DONOT", "USE"),
                         ("DO", "NOTUSE"), ("JOE", "BLOGGS"), ("JOHN", "DOE"), ("JANE", "DOE")})


@dataclass
class LinkageResult:
    """What a linkage run did, for the nightly log, the benchmark and the tests."""

    records: int = 0
    test_records: int = 0
    persons: int = 0
    by_method: dict = field(default_factory=dict)  # match_method -> records
    deterministic_links: int = 0
    candidate_pairs: int = 0  # pairs Splink scored at or above PREDICT_FLOOR
    probabilistic_links: int = 0  # of those, at or above the threshold
    links_refused: int = 0  # above the threshold but joining two NI numbers
    threshold: float = MATCH_THRESHOLD
    keys_carried: int = 0  # person keys kept from the previous run
    seconds: dict = field(default_factory=dict)

    def metadata(self) -> dict:
        """Flat numbers for the orchestrator's run record (Dagster asset metadata)."""
        out = {name: getattr(self, name) for name in (
            "records", "test_records", "persons", "deterministic_links", "candidate_pairs",
            "probabilistic_links", "links_refused", "keys_carried", "threshold")}
        out.update({f"records_{method}": n for method, n in self.by_method.items()})
        out["seconds"] = round(float(self.seconds.get("total", 0.0)), 2)
        return out


# ---------------------------------------------------------------------------------------------
# cleaning


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT


def _map(values, fn) -> pd.Series:
    """``fn`` over the present values, ``None`` for missing, as an ``object`` Series.

    pandas 3 would infer its own string dtype (NaN for missing) from ``Series.map``; the
    comparison columns keep one representation of missing throughout.
    """
    vals = pd.Series(values).to_numpy(dtype=object)
    return pd.Series([None if _missing(v) else fn(v) for v in vals], dtype=object)


def _ni_text_one(v) -> str:
    v = re.sub(r"[\s\-./]", "", str(v).upper())
    return v[:2] + v[2:8].replace("O", "0").replace("I", "1") + v[8:]


def _ni_ok(v: str, pattern: re.Pattern) -> bool:
    return bool(pattern.match(v)) and v[:2] not in _NI_BAD_PREFIXES


def ni_stem(values) -> pd.Series:
    """The eight characters that identify a person (suffix optional), None if unusable.

    Cleaning only undoes the house styles clerks are known to use (case, spaces, hyphens, the
    letters O and I typed for 0 and 1 among the digits); it never guesses a letter or digit, so
    a malformed number cannot clean into someone else's (and the deterministic pass also
    requires the date of birth). Placeholder numbers are unusable.
    """
    def one(v):
        t = _ni_text_one(v)
        if not _ni_ok(t, _NI_STEM) or t[:8] in PLACEHOLDER_NI_STEMS:
            return None
        return t[:8]

    return _map(values, one)


def _name_one(v) -> str | None:
    v = unicodedata.normalize("NFKD", str(v)).encode("ascii", "ignore").decode().upper()
    return re.sub(r"[^A-Z]", "", v) or None


def _name(values) -> pd.Series:
    """Upper-case letters only (accents folded), None if nothing is left."""
    return _map(values, _name_one)


def _nickname_maps() -> tuple[dict[str, list[str]], dict[str, str]]:
    """Name -> every formal name it may stand for (itself included), and one canonical form.

    The canonical form (the alphabetically first formal name of a nickname, else the name) is
    only for blocking and for a loose similarity level; the exact nickname level uses the
    whole list, so Bill matches both William and Billy's other formal names. The list is
    published reference data (contracts/reference/README.md), not the synthetic world's.
    """
    inverse = {k: list(v) for k, v in formal_names().items()}
    forms = {n: sorted({n, *f}) for n, f in inverse.items()}
    for formal in nicknames():
        forms.setdefault(formal, [formal])
    canon = {n: f[0] for n, f in inverse.items()}
    return forms, canon


_FORMS, _CANON = _nickname_maps()


def is_test_record(first, surname, ni_raw) -> np.ndarray:
    """Trainers' and testers' dummies: they belong to nobody and must link to nobody.

    Recognised by a test word in either name (TEST, Dummy, Training...), a cartoon or
    placeholder full name, or a placeholder NI number. A placeholder date of birth alone is not
    enough: real people are recorded with 01/01/1900 when nobody knew the date.
    """
    firsts = pd.Series(first).to_numpy(dtype=object)
    surnames = pd.Series(surname).to_numpy(dtype=object)
    nis = pd.Series(ni_raw).to_numpy(dtype=object)
    out = np.zeros(len(firsts), dtype=bool)
    for i, (a, b, n) in enumerate(zip(firsts, surnames, nis)):
        a = "" if _missing(a) else str(a)
        b = "" if _missing(b) else str(b)
        words = set(re.findall(r"[A-Z]+", f"{a} {b}".upper()))
        fa, fb = _name_one(a) or "", _name_one(b) or ""
        words |= {fa, fb}
        placeholder_ni = not _missing(n) and _ni_text_one(n)[:8] in PLACEHOLDER_NI_STEMS
        out[i] = bool(words & _TEST_WORDS) or (fa, fb) in _TEST_NAMES or placeholder_ni
    return out


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """The comparison columns for every record (one row per ``(system, record_key)``).

    ``unique_id`` numbers the records in (system, record key) order, so Splink's ids do not
    depend on the order rows arrive in.
    """
    f = frame.sort_values(["system", "record_key"], kind="stable").reset_index(drop=True)
    n = len(f)
    out = pd.DataFrame({"unique_id": np.arange(n, dtype=np.int64)})
    out["system"] = f["system"].to_numpy(dtype=object)
    out["source_table"] = f["source_table"].to_numpy(dtype=object)
    out["record_key"] = f["record_key"].astype(str).to_numpy(dtype=object)
    raw = f["ni_raw"].to_numpy(dtype=object)
    if "ni_clean" in f:  # where only the cleaned value survived, use it
        clean = f["ni_clean"].to_numpy(dtype=object)
        raw = np.array([c if _missing(r) else r for r, c in zip(raw, clean)], dtype=object)
    out["ni"] = ni_stem(raw).to_numpy()
    first = _name(f["first_name"])
    out["first"] = first.to_numpy()
    out["first_forms"] = _map(first, lambda v: _FORMS.get(v, [v])).to_numpy()
    out["first_canon"] = _map(first, lambda v: _CANON.get(v, v)).to_numpy()
    out["surname"] = _name(f["surname"]).to_numpy()
    dob = pd.to_datetime(f["dob"], errors="coerce").dt.normalize()
    dob = dob.where(~dob.isin(PLACEHOLDER_DOBS) & (dob >= pd.Timestamp("1880-01-01")))
    out["dob"] = dob.to_numpy().astype("datetime64[us]")
    out["birth_year"] = dob.dt.year.astype("Int64").array
    out["dob_md"] = _map(dob.dt.strftime("%m%d").where(dob.notna()), str).to_numpy()
    out["sex"] = _map(f["sex"], lambda v: v if v in ("M", "F") else None).to_numpy()
    pc = f["postcode"] if "postcode" in f else pd.Series([None] * n)
    out["postcode"] = _map(pc, lambda v: re.sub(r"\s", "", str(v).upper()) or None).to_numpy()
    out["first_init"] = _map(out["first_canon"], lambda v: v[0]).to_numpy()
    out["sur_init"] = _map(out["surname"], lambda v: v[0]).to_numpy()
    out["is_test"] = is_test_record(f["first_name"], f["surname"], raw)
    return out


# ---------------------------------------------------------------------------------------------
# deterministic pass


def deterministic_links(rec: pd.DataFrame) -> pd.DataFrame:
    """Pairs with the same NI stem and the same date of birth, or day and month swapped.

    A pair whose recorded sexes contradict is left to the probabilistic pass: no system here
    records sex wrongly, so a contradiction says one of the two NI numbers is not that
    person's.
    """
    r = rec.loc[~rec["is_test"] & rec["ni"].notna() & rec["dob"].notna(),
                ["unique_id", "ni", "dob", "sex"]]
    r = r[r.duplicated("ni", keep=False)]
    if r.empty:
        return pd.DataFrame({"uid_l": [], "uid_r": []}, dtype=np.int64)
    pairs = r.merge(r, on="ni", suffixes=("_l", "_r"))
    pairs = pairs[pairs["unique_id_l"] < pairs["unique_id_r"]]
    dl, dr = pd.to_datetime(pairs["dob_l"]), pd.to_datetime(pairs["dob_r"])
    same = dl == dr
    swapped = (dl.dt.year == dr.dt.year) & (dl.dt.month == dr.dt.day) & (dl.dt.day == dr.dt.month)
    sex_ok = pairs["sex_l"].isna() | pairs["sex_r"].isna() | (pairs["sex_l"] == pairs["sex_r"])
    keep = (same | swapped) & sex_ok
    return pd.DataFrame({"uid_l": pairs.loc[keep, "unique_id_l"].to_numpy(np.int64),
                         "uid_r": pairs.loc[keep, "unique_id_r"].to_numpy(np.int64)})


# ---------------------------------------------------------------------------------------------
# probabilistic pass


# Rates at which the same person's two records disagree, where the training data cannot show
# them (the defect is too rare to be seen, or absent from these systems but not from life): a
# clerk's slip in a date or a sex code happens, and one field must not veto a link on its own.
SLIP_M = {"dob_year_out": 0.001, "dob_within_month": 0.002, "dob_other": 0.002, "sex_other": 0.001}
# Two different people share a valid NI number only through a keying error.
NI_U_EXACT = 1e-6


def _settings(with_postcode: bool):
    """The Splink model: comparisons, and the blocking rules that generate candidate pairs."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    ni = cl.CustomComparison(
        output_column_name="ni",
        comparison_levels=[
            cll.NullLevel("ni"),
            cll.ExactMatchLevel("ni").configure(u_probability=NI_U_EXACT, fix_u_probability=True),
            cll.ElseLevel(),
        ],
    )
    # A typo is one edit away with the first letter right: people rarely mistype the first
    # letter, and allowing it lets Nia match Lia (a typo of Lisa) as easily as Lisa.
    typo = "damerau_levenshtein({c}_l, {c}_r) <= 1 AND {c}_l[1] = {c}_r[1]"
    first = cl.CustomComparison(
        output_column_name="first",
        comparison_levels=[
            cll.NullLevel("first"),
            cll.ExactMatchLevel("first"),
            cll.CustomLevel("list_contains(first_forms_l, first_r) OR list_contains(first_forms_r, first_l)",
                            label_for_charts="One is a nickname of the other"),
            cll.CustomLevel(typo.format(c="first"), label_for_charts="One typo"),
            cll.CustomLevel("len(list_intersect(first_forms_l, first_forms_r)) > 0 "
                            "OR jaro_winkler_similarity(first_canon_l, first_canon_r) >= 0.88",
                            label_for_charts="Nicknames of one name, or similar once nicknames resolved"),
            cll.ElseLevel(),
        ],
    )
    surname = cl.CustomComparison(
        output_column_name="surname",
        comparison_levels=[
            cll.NullLevel("surname"),
            cll.ExactMatchLevel("surname").configure(tf_adjustment_column="surname"),
            cll.CustomLevel(typo.format(c="surname"), label_for_charts="One typo"),
            cll.JaroWinklerLevel("surname", 0.88),
            cll.ElseLevel(),
        ],
    )
    dob = cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel(
                "year(dob_l) = year(dob_r) AND month(dob_l) = day(dob_r) AND day(dob_l) = month(dob_r)",
                label_for_charts="Day and month swapped"),
            cll.CustomLevel("abs(date_diff('day', dob_l, dob_r)) BETWEEN 364 AND 366",
                            label_for_charts="A year out").configure(
                m_probability=SLIP_M["dob_year_out"], fix_m_probability=True),
            cll.CustomLevel("abs(date_diff('day', dob_l, dob_r)) <= 31",
                            label_for_charts="Within a month").configure(
                m_probability=SLIP_M["dob_within_month"], fix_m_probability=True),
            cll.ElseLevel().configure(m_probability=SLIP_M["dob_other"], fix_m_probability=True),
        ],
    )
    sex = cl.CustomComparison(
        output_column_name="sex",
        comparison_levels=[
            cll.NullLevel("sex"),
            cll.ExactMatchLevel("sex"),
            cll.ElseLevel().configure(m_probability=SLIP_M["sex_other"], fix_m_probability=True),
        ],
    )
    comparisons = [ni, first, surname, dob, sex]
    if with_postcode:
        comparisons.append(cl.ExactMatch("postcode"))
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            block_on("ni"),
            block_on("dob"),
            block_on("first_init", "sur_init", "birth_year"),
            block_on("first_canon", "dob_md"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
    )


def probabilistic_links(rec: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, dict]:
    """Scored pairs (uid_l, uid_r, match_probability) at or above ``PREDICT_FLOOR``, and timings.

    Training, all unsupervised: the prior from the deterministic rule (which finds about two
    thirds of the links: measured 0.67 at scale 1.0); u probabilities from random pairs (seeded:
    the only random step); m probabilities by expectation maximisation twice, on pairs sharing
    an NI number (to learn how names, dates and sex differ within a person) and on pairs sharing
    a date of birth (to learn the NI comparison). Splink works in its own in-memory DuckDB: its
    intermediate tables never touch the warehouse.
    """
    from splink import DuckDBAPI, Linker, block_on

    timings = {}
    cols = ["unique_id", "ni", "first", "first_forms", "first_canon", "surname", "dob", "sex", "postcode",
            "first_init", "sur_init", "birth_year", "dob_md"]
    data = rec.loc[~rec["is_test"], cols].reset_index(drop=True)
    with_postcode = bool(data["postcode"].notna().mean() > 0.05)
    if not with_postcode:  # no source holds one today; a comparison of nothing cannot be trained
        data = data.drop(columns="postcode")
    scon = duckdb.connect()
    try:
        db_api = DuckDBAPI(scon)
        sdf = db_api.register(data, table_name="records")
        linker = Linker(sdf, _settings(with_postcode), log_level=None)  # the caller's logging decides

        t = time.perf_counter()
        linker.training.estimate_probability_two_random_records_match([block_on("ni", "dob")], recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed)
        timings["u"] = time.perf_counter() - t
        t = time.perf_counter()
        for rule in ("ni", "dob"):
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(rule), estimate_without_term_frequencies=True)
            except Exception as exc:  # too few pairs to train on: keep the starting values, say so
                log.warning("identity: EM on pairs sharing %s failed (%s); using starting m values",
                            rule, " ".join(str(exc).split())[:200])
        timings["em"] = time.perf_counter() - t
        t = time.perf_counter()
        pred = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR, warning_mode="never")
        edges = pred.as_pandas_dataframe()[["unique_id_l", "unique_id_r", "match_probability"]]
        timings["predict"] = time.perf_counter() - t
    finally:
        scon.close()
    edges = edges.rename(columns={"unique_id_l": "uid_l", "unique_id_r": "uid_r"})
    return edges.astype({"uid_l": np.int64, "uid_r": np.int64, "match_probability": np.float64}), timings


# ---------------------------------------------------------------------------------------------
# clustering


class _UnionFind:
    """Union-find whose sets remember their NI stems, to refuse merging two NI numbers."""

    def __init__(self, n: int, ni: np.ndarray):
        self.parent = np.arange(n, dtype=np.int64)
        self.ni = {i: v for i, v in enumerate(ni) if not _missing(v)}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        na, nb = self.ni.get(ra), self.ni.get(rb)
        if na is not None and nb is not None and na != nb:
            return False
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        if na is None and nb is not None:
            self.ni[ra] = nb
        self.ni.pop(rb, None)
        return True


# A record with no NI number that matches two people with different NI numbers is ambiguous
# unless one match is this many times likelier (in odds) than the other: then it links to neither.
AMBIGUITY_ODDS = 20.0


def ambiguous_links(rec: pd.DataFrame, links: pd.DataFrame) -> np.ndarray:
    """Which of ``links`` to drop because an NI-less record fits two NI numbers about equally.

    Namesakes are common here (few surnames, few first names): a care record with no NI number
    may match two people of the same name born the same day. Clustering strongest-first would
    pick one by a hair's breadth (or by id order on a tie); refusing to guess costs one missed
    link instead of one wrong link plus one missed.
    """
    ni = rec["ni"].to_numpy(dtype=object)
    has = np.array([not _missing(v) for v in ni], dtype=bool)
    left, right = links["uid_l"].to_numpy(np.int64), links["uid_r"].to_numpy(np.int64)
    pr = links["match_probability"].to_numpy(np.float64)
    long = pd.DataFrame({
        "edge": np.concatenate([np.arange(len(left)), np.arange(len(left))]),
        "rec": np.concatenate([left, right]),
        "partner_ni": np.concatenate([ni[right], ni[left]]),
        "rec_has": np.concatenate([has[left], has[right]]),
        "partner_has": np.concatenate([has[right], has[left]]),
        "p": np.concatenate([pr, pr]),
    })
    long = long[~long["rec_has"] & long["partner_has"]]
    drop = np.zeros(len(left), dtype=bool)
    if long.empty:
        return drop
    best = long.groupby(["rec", "partner_ni"])["p"].max().reset_index()
    best = best.sort_values(["rec", "p", "partner_ni"], ascending=[True, False, True])
    multi = best[best.duplicated("rec", keep=False)]

    def odds(p: float) -> float:
        return p / max(1.0 - p, 1e-300)

    for rec_id, g in multi.groupby("rec"):
        top, second = g["p"].iloc[0], g["p"].iloc[1]
        keep_ni = g["partner_ni"].iloc[0] if odds(top) >= AMBIGUITY_ODDS * odds(second) else None
        mine = long[long["rec"] == rec_id]
        bad = mine.loc[mine["partner_ni"] != keep_ni, "edge"].to_numpy() if keep_ni is not None \
            else mine["edge"].to_numpy()
        drop[bad] = True
    return drop


def cluster(rec: pd.DataFrame, det: pd.DataFrame, prob: pd.DataFrame, threshold: float):
    """(cluster root, match method, best accepted link probability) per record, and the count
    of links refused (two NI numbers, or ambiguous).

    Deterministic links first, then probabilistic links strongest first (ties by ids, so the
    result does not depend on the order Splink returned them). Connected components alone would
    let one wrong link chain two people's whole histories together; here a link that would put
    two NI numbers in one person is refused, so a wrong link can cost at most the NI-less
    records it brings.
    """
    n = len(rec)
    uf = _UnionFind(n, rec["ni"].to_numpy(dtype=object))
    best = np.full(n, np.nan)
    method = np.full(n, "single", dtype=object)
    for a, b in zip(det["uid_l"].to_numpy(), det["uid_r"].to_numpy()):
        uf.union(int(a), int(b))
        best[a] = best[b] = 1.0
        method[a] = method[b] = "ni_dob"
    p = prob.loc[prob["match_probability"] >= threshold, ["uid_l", "uid_r", "match_probability"]]
    ambiguous = ambiguous_links(rec, p)
    p = p[~ambiguous]
    p = p.sort_values(["match_probability", "uid_l", "uid_r"], ascending=[False, True, True], kind="stable")
    refused = 0
    for a, b, mp in zip(p["uid_l"].to_numpy(), p["uid_r"].to_numpy(), p["match_probability"].to_numpy()):
        if not uf.union(int(a), int(b)):
            refused += 1
            continue
        for x in (a, b):
            if method[x] != "ni_dob":
                method[x] = "probabilistic"
                best[x] = mp if np.isnan(best[x]) else max(best[x], mp)
    roots = np.array([uf.find(i) for i in range(n)], dtype=np.int64)
    return roots, method, best, refused + int(ambiguous.sum())


# ---------------------------------------------------------------------------------------------
# person keys

# Which system's record anchors a new person's key: the housing CRM is where most people are
# first recorded, so its record is least likely to be preceded by a later arrival.
_SYSTEM_ORDER = {"crm": 0, "care_a": 1, "care_b": 2, "domcare": 3}


def _hash_key(material: str) -> str:
    return "P" + hashlib.sha256(f"llif-person-key-v1|{material}".encode()).hexdigest()[:16].upper()


def assign_person_keys(rec: pd.DataFrame, roots: np.ndarray, previous: pd.DataFrame | None):
    """A ``person_key`` per record, carried over from last night where the person is the same.

    Each of last night's keys goes to the cluster now holding most of the records it was on
    (ties: the cluster with the smaller anchor, then the smaller key), one key per cluster: a
    person gains records without changing key; when two people merge the larger keeps its key
    and the other's retires; when a person splits, the part keeping most records keeps the key.
    A cluster with no key to carry gets the hash of its anchor record (the smallest record key
    of the most central system), so a fresh warehouse gives the same keys every time, and a
    person who unmerges gets back the key they had before the merge.
    Returns (keys, number of clusters that carried a key).
    """
    order = np.array([_SYSTEM_ORDER.get(s, 9) for s in rec["system"].to_numpy(dtype=object)])
    frame = pd.DataFrame({"root": roots, "order": order,
                          "system": rec["system"].to_numpy(dtype=object),
                          "record_key": rec["record_key"].to_numpy(dtype=object)})
    anchors = (frame.sort_values(["root", "order", "record_key"], kind="stable")
               .drop_duplicates("root").set_index("root"))
    anchor_material = anchors["system"] + "|" + anchors["record_key"]
    key_of_root: dict[int, str] = {}
    used: set[str] = set()
    if previous is not None and len(previous):
        prev = previous[["system", "record_key", "person_key"]].astype(object)
        votes = frame.merge(prev, on=["system", "record_key"], how="inner")
        votes = votes.groupby(["root", "person_key"]).size().rename("n").reset_index()
        votes["anchor"] = anchor_material.reindex(votes["root"]).to_numpy()
        votes = votes.sort_values(["n", "anchor", "person_key"], ascending=[False, True, True], kind="stable")
        for root, key in zip(votes["root"].to_numpy(), votes["person_key"].to_numpy()):
            if root in key_of_root or key in used:
                continue
            key_of_root[int(root)] = key
            used.add(key)
    carried = len(key_of_root)
    for root, material in anchor_material.items():
        if int(root) in key_of_root:
            continue
        key, salt = _hash_key(material), 0
        while key in used:  # a carried key already holds this hash: the person split
            salt += 1
            key = _hash_key(f"{material}#{salt}")
        key_of_root[int(root)] = key
        used.add(key)
    return np.array([key_of_root[int(r)] for r in roots], dtype=object), carried


# ---------------------------------------------------------------------------------------------
# the run


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table]).fetchone()[0])


def link_people(con: duckdb.DuckDBPyConnection, seed: int = 1, threshold: float | None = None) -> LinkageResult:
    """Read ``identity.source_identifiers``, link, and replace ``identity.person_xref``.

    ``seed`` fixes Splink's random sample for u probabilities, which with the sorted inputs
    makes the whole run reproducible. ``threshold`` overrides ``MATCH_THRESHOLD`` (for
    evaluation sweeps, not for production).
    """
    started = time.perf_counter()
    threshold = MATCH_THRESHOLD if threshold is None else float(threshold)
    result = LinkageResult(threshold=threshold)
    if not _table_exists(con, "identity", "source_identifiers"):
        raise RuntimeError("identity.source_identifiers does not exist: run the ingest of the person "
                           "tables (warehouse/ingest.py) before linkage")
    # one row per record even if a load left two (the latest wins, as the contract's upsert would)
    frame = con.execute("""
        SELECT system, source_table, record_key, ni_raw, ni_clean, first_name, surname, dob, sex, postcode
        FROM identity.source_identifiers
        QUALIFY row_number() OVER (PARTITION BY system, record_key ORDER BY _loaded_at DESC NULLS LAST) = 1
    """).df()
    t = time.perf_counter()
    rec = prepare(frame)
    result.seconds["prepare"] = time.perf_counter() - t
    result.records = len(rec)
    result.test_records = int(rec["is_test"].sum())

    t = time.perf_counter()
    det = deterministic_links(rec)
    result.deterministic_links = len(det)
    result.seconds["deterministic"] = time.perf_counter() - t

    real = int((~rec["is_test"]).sum())
    if real >= MIN_RECORDS_FOR_MODEL:
        prob, timings = probabilistic_links(rec, seed)
        result.seconds.update({f"splink_{k}": v for k, v in timings.items()})
    else:
        if real:
            log.warning("identity: %d records are too few to train the linkage model; "
                        "deterministic links only", real)
        prob = pd.DataFrame({"uid_l": pd.Series([], dtype=np.int64), "uid_r": pd.Series([], dtype=np.int64),
                             "match_probability": pd.Series([], dtype=np.float64)})
    result.candidate_pairs = len(prob)

    t = time.perf_counter()
    roots, method, best, refused = cluster(rec, det, prob, threshold)
    result.probabilistic_links = int((prob["match_probability"] >= threshold).sum())
    result.links_refused = refused
    sizes = pd.Series(roots).map(pd.Series(roots).value_counts()).to_numpy()
    method = np.where(sizes == 1, "single", method)
    best = np.where(sizes == 1, np.nan, best)
    previous = None
    if _table_exists(con, "identity", "person_xref"):
        previous = con.execute("SELECT system, record_key, person_key FROM identity.person_xref").df()
    keys, carried = assign_person_keys(rec, roots, previous)
    result.keys_carried = carried
    result.seconds["cluster"] = time.perf_counter() - t

    xref = pd.DataFrame({
        "system": rec["system"].to_numpy(dtype=object),
        "source_table": rec["source_table"].to_numpy(dtype=object),
        "record_key": rec["record_key"].to_numpy(dtype=object),
        "person_key": keys,
        "match_method": method.astype(object),
        "match_probability": best.astype(np.float64),
    })
    t = time.perf_counter()
    write_xref(con, xref)
    result.seconds["write"] = time.perf_counter() - t
    result.persons = int(xref["person_key"].nunique())
    result.by_method = {k: int(v) for k, v in xref["match_method"].value_counts().sort_index().items()}
    result.seconds["total"] = time.perf_counter() - started
    log.info("identity: %s", result)
    return result


def write_xref(con: duckdb.DuckDBPyConnection, xref: pd.DataFrame) -> None:
    """Replace ``identity.person_xref`` in one transaction: readers see last night's or tonight's."""
    con.execute("CREATE SCHEMA IF NOT EXISTS identity")
    con.register("_person_xref_new", xref)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("""
            CREATE OR REPLACE TABLE identity.person_xref AS
            SELECT system::VARCHAR AS system, source_table::VARCHAR AS source_table,
                   record_key::VARCHAR AS record_key, person_key::VARCHAR AS person_key,
                   match_method::VARCHAR AS match_method, match_probability::DOUBLE AS match_probability
            FROM _person_xref_new
            ORDER BY system, record_key
        """)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_person_xref_new")


# ---------------------------------------------------------------------------------------------
# evaluation (tests and benchmarks: the truth never reaches pipeline code)


def _pairs(sizes) -> int:
    s = np.asarray(sizes, dtype=np.int64)
    return int((s * (s - 1) // 2).sum())


def evaluate_linkage(xref: pd.DataFrame, source_records: pd.DataFrame) -> dict:
    """Pairwise precision, recall and F1 of ``person_key`` against the true ``person_id``.

    A pair of records is predicted when they share a person key and true when they share a
    person id; test records (person id -1) are left out, as are records only one side knows
    (counted). ``source_records`` is the truth's table (``table`` or ``source_table``).
    """
    truth = source_records.rename(columns={"table": "source_table"})
    x = xref[["system", "source_table", "record_key", "person_key"]].astype(
        {"system": object, "source_table": object, "record_key": str, "person_key": object})
    truth = truth[["system", "source_table", "record_key", "person_id"]].astype(
        {"system": object, "source_table": object, "record_key": str})
    person_tables = set(zip(x["system"], x["source_table"]))
    in_scope = np.array([(s, t) in person_tables for s, t in zip(truth["system"], truth["source_table"])],
                        dtype=bool)
    truth = truth[in_scope]
    both = x.merge(truth, on=["system", "source_table", "record_key"], how="outer", indicator=True)
    matched = both[both["_merge"] == "both"]
    test = matched["person_id"] == -1
    # a test record sharing its key with any other record has been linked to something
    key_sizes = matched["person_key"].map(matched["person_key"].value_counts())
    ev = matched[~test]
    tp = _pairs(ev.groupby(["person_key", "person_id"]).size())
    predicted = _pairs(ev.groupby("person_key").size())
    true = _pairs(ev.groupby("person_id").size())
    precision = tp / predicted if predicted else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positive_pairs": tp,
        "false_positive_pairs": predicted - tp,
        "false_negative_pairs": true - tp,
        "predicted_pairs": predicted,
        "true_pairs": true,
        "records": int(len(ev)),
        "persons_true": int(ev["person_id"].nunique()),
        "persons_predicted": int(ev["person_key"].nunique()),
        "test_records": int(test.sum()),
        "test_records_linked": int((test & (key_sizes > 1)).sum()),
        "records_not_in_truth": int((both["_merge"] == "left_only").sum()),
        "truth_records_not_linked": int((both["_merge"] == "right_only").sum()),
    }
