"""Segments: the provider's case mix, learnt from each person's history.

k-means on the clustering space of ``features.segment_axes`` (shares and 0-1 indicators of a
person's history so far). k-means rather than a Gaussian mixture: on these near-binary axes the
mixture's full covariances stretched along the age and tenure continua and merged planted
segments (adjusted Rand about 0.55 against 0.66-0.70 for k-means at scale 0.2); nearest
centroid also makes the fitted segmentation a few numbers, cheap to apply to every training
row "as of" its month.

The number of segments comes from evidence on a seeded sample: for each k in ``k_range`` the
silhouette (on a sub-sample) and the bootstrap stability (mean adjusted Rand between the fit
and fits on bootstrap resamples, both labelling the whole sample); the chosen k has the best
silhouette among those at least ``min_stability`` stable. The range stops at 8 because every
segment multiplies the forecast lattice (simulation/lattice.py) and thins its cells.

Labels keep their meaning night to night: tonight's clusters are matched to last night's
segment numbers by the Hungarian algorithm on shared members (or on centroids when only the
previous model is known), so "segment 3" stays the same people unless they changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from models_ml import features as F

SEGMENTS_TABLE = ("ml", "segments")
PROFILES_TABLE = ("ml", "segment_profiles")
PATHWAYS_TABLE = ("ml", "segment_pathways")
DEFAULT_SEED = 20261031

PROFILE_COLUMNS = (
    "age", "age_at_entry", "months_since_entry", "share_lead_tenant", "share_general_needs",
    "share_sheltered", "share_extra_care", "share_temporary", "share_community", "share_care_home",
    "share_away", "share_home_care", "mean_weekly_care_hours_to_date", "max_need_level_to_date",
    "n_hospital_admissions_to_date", "n_care_entries_from_hospital_to_date",
    "n_care_entries_from_home_to_date", "n_lets_to_date", "share_in_arrears", "mean_wellbeing_to_date",
    "has_support_need_to_date", "max_household_size_to_date", "is_current",
)


@dataclass
class SegmentModel:
    """A fitted segmentation: centroids in the clustering space, one name per segment."""

    centroids: np.ndarray  # (k, len(SEGMENT_AXES)), row i is segment i
    names: list[str]

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Segment of each row holding the history columns (a person, or a person-month "as of"
        that month)."""
        z = F.segment_axes(frame).to_numpy(dtype=np.float64)
        return nearest(z, self.centroids)

    def to_frame(self) -> pd.DataFrame:
        out = pd.DataFrame(self.centroids, columns=[f"axis_{a}" for a in F.SEGMENT_AXES])
        out.insert(0, "segment", np.arange(self.k, dtype=np.int64))
        out.insert(1, "segment_name", self.names)
        return out

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "SegmentModel":
        frame = frame.sort_values("segment")
        cols = [f"axis_{a}" for a in F.SEGMENT_AXES]
        return cls(frame[cols].to_numpy(dtype=np.float64), frame["segment_name"].astype(str).tolist())


def nearest(z: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    # squared distances without the (n, k, d) intermediate
    d = (z ** 2).sum(1)[:, None] - 2.0 * z @ centroids.T + (centroids ** 2).sum(1)[None, :]
    return np.argmin(d, axis=1).astype(np.int64)


@dataclass
class SegmentResult:
    assignments: pd.DataFrame  # person_key, segment, segment_name, as_of_month
    model: SegmentModel
    evidence: pd.DataFrame  # k, silhouette, stability, inertia, chosen
    profiles: pd.DataFrame  # one row per segment: size, means of PROFILE_COLUMNS, centroid
    pathways: pd.DataFrame  # segment, rank, pathway, n_people, share
    k: int
    seed: int
    ari: float | None = None  # against the truth store's planted segments (validation only)
    ari_people: int = 0
    previous_agreement: float | None = None  # share of people keeping last night's segment
    matched_by: str = "size"  # how labels were aligned: previous members, centroids, or size order
    extra: dict = field(default_factory=dict)

    def metadata(self) -> dict:
        sizes = self.assignments["segment"].value_counts().sort_index()
        out = {
            "n_segments": self.k,
            "n_people": int(len(self.assignments)),
            "silhouette": float(self.evidence.loc[self.evidence["chosen"], "silhouette"].iloc[0]),
            "bootstrap_stability": float(self.evidence.loc[self.evidence["chosen"], "stability"].iloc[0]),
            "labels_matched_by": self.matched_by,
            "segments": {f"{s}: {n}": int(sizes.get(s, 0)) for s, n in enumerate(self.model.names)},
        }
        if self.ari is not None:
            out["adjusted_rand_index_vs_truth"] = round(float(self.ari), 4)
            out["adjusted_rand_people"] = self.ari_people
        if self.previous_agreement is not None:
            out["share_keeping_previous_segment"] = round(float(self.previous_agreement), 4)
        return out


# ---------------------------------------------------------------------------------------------
# choosing k


def choose_k(z: np.ndarray, k_range: tuple[int, int], seed: int, sample_size: int = 15000,
             n_bootstrap: int = 3, min_stability: float = 0.8) -> pd.DataFrame:
    """Silhouette and bootstrap stability for each k, on a seeded sample (k-means on a sample of
    15,000 people finds the same clusters as on all of them, in a fraction of the time)."""
    rng = np.random.default_rng(seed)
    sample = z[rng.choice(len(z), min(len(z), sample_size), replace=False)] if len(z) > sample_size else z
    sil_idx = rng.choice(len(sample), min(len(sample), 4000), replace=False)
    rows = []
    for k in range(k_range[0], k_range[1] + 1):
        if k >= len(sample):
            break
        km = KMeans(k, n_init=4, random_state=seed).fit(sample)
        labels = km.labels_
        sil = float(silhouette_score(sample[sil_idx], labels[sil_idx])) if len(set(labels[sil_idx])) > 1 else -1.0
        agreements = []
        for b in range(n_bootstrap):
            boot = sample[rng.choice(len(sample), len(sample), replace=True)]
            other = KMeans(k, n_init=2, random_state=seed + 1 + b).fit(boot)
            agreements.append(adjusted_rand_score(labels, nearest(sample, other.cluster_centers_)))
        rows.append({"k": k, "silhouette": sil, "stability": float(np.mean(agreements)),
                     "inertia": float(km.inertia_)})
    evidence = pd.DataFrame(rows)
    stable = evidence.loc[evidence["stability"] >= min_stability]
    pick = stable if len(stable) else evidence.loc[[evidence["stability"].idxmax()]]
    chosen = int(pick.sort_values(["silhouette", "k"], ascending=[False, True])["k"].iloc[0])
    evidence["chosen"] = evidence["k"] == chosen
    return evidence


# ---------------------------------------------------------------------------------------------
# keeping labels stable


def match_to_previous(labels: np.ndarray, k: int, person_keys: pd.Series | None = None,
                      previous: pd.DataFrame | None = None, centroids: np.ndarray | None = None,
                      previous_centroids: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """A permutation ``perm`` (new cluster -> segment number) keeping last night's numbers.

    On shared members when last night's assignments are given (the most direct meaning of
    "the same segment"), else on centroid distance, else by size (largest first, so a first
    night is deterministic too). Last night's numbers >= k (fewer segments tonight) are not
    reused, so segments stay 0..k-1 as the lattice needs.
    """
    if previous is not None and person_keys is not None and len(previous):
        prev = pd.Series(previous["segment"].to_numpy(), index=previous["person_key"].to_numpy())
        old = prev.reindex(person_keys.to_numpy()).to_numpy()
        ok = ~pd.isna(old)
        if ok.sum() > 0:
            old = old[ok].astype(np.int64)
            new = labels[ok]
            overlap = np.zeros((k, k))
            keep = old < k
            np.add.at(overlap, (new[keep], old[keep]), 1.0)
            rows, cols = linear_sum_assignment(-overlap)
            perm = np.empty(k, dtype=np.int64)
            perm[rows] = cols
            return perm, "previous_members"
    if centroids is not None and previous_centroids is not None and len(previous_centroids):
        m = min(k, len(previous_centroids))
        cost = ((centroids[:, None, :] - previous_centroids[None, :m, :]) ** 2).sum(-1)
        cost = np.hstack([cost, np.full((k, k - m), cost.max() + 1.0)]) if m < k else cost
        rows, cols = linear_sum_assignment(cost)
        perm = np.empty(k, dtype=np.int64)
        perm[rows] = cols
        return perm, "previous_centroids"
    sizes = np.bincount(labels, minlength=k)
    order = np.lexsort((np.arange(k), -sizes))  # largest first, ties by cluster index
    perm = np.empty(k, dtype=np.int64)
    perm[order] = np.arange(k)
    return perm, "size"


# ---------------------------------------------------------------------------------------------
# naming


def name_segment(axes_mean: pd.Series, profile: pd.Series) -> str:
    """A plain-words name from the profile; the thresholds read the centroid, not the truth."""
    a = axes_mean
    if a["care_home"] >= 0.35:
        if abs(a["care_from_hospital"] - a["care_from_home"]) < 0.15:
            return "older, moved into a care home (from hospital or from home)"
        route = "after a hospital stay" if a["care_from_hospital"] > a["care_from_home"] else "planned from home"
        return f"older, moved into a care home {route}"
    if a["community"] >= 0.35:
        return "older, home care in their own home"
    if a["temporary"] >= 0.2 or a["homeless_entry"] >= 0.5:
        if a["not_lead"] >= 0.5:
            return "members of homeless households"
        if a["long_temporary"] >= 0.5 and a["support_need"] >= 0.5 and a["homeless_entry"] < 0.9:
            return "supported housing, long-term support"
        return "homeless households, short-term emergency housing" if a["temporary"] >= 0.2 \
            else "formerly homeless, settled tenants"
    if a["not_lead"] >= 0.6:
        if a["older"] >= 0.5:
            care = " and home-care clients" if a["community"] >= 0.1 else ""
            return f"older household members{care}"
        young = profile.get("age_at_entry", np.nan)
        return "household members, children" if pd.notna(young) and young < 16 else "household members"
    if a["older"] >= 0.5:
        where = " in sheltered or extra-care housing" if a["sheltered"] >= 0.4 else ""
        need = ", with care needs" if a["need"] >= 0.3 else ""
        return f"older, ageing in place{where}{need}"
    return "working-age long-term tenants"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


# ---------------------------------------------------------------------------------------------
# pathways


def pathways(con, assignments: pd.DataFrame, top: int = 5, max_states: int = 6) -> pd.DataFrame:
    """The state sequences each segment's people follow (runs collapsed, the first six states),
    with the absorbing end (moved_out, died) from the full timeline."""
    seqs = con.execute(f"""
        with runs as (
            select person_key, month_start, state,
                   lag(state) over (partition by person_key order by month_start) as prev
            from marts.fct_person_month
        ), changes as (
            select person_key, month_start, state,
                   row_number() over (partition by person_key order by month_start) as step
            from runs where prev is null or prev <> state
        )
        select person_key, string_agg(state, ' > ' order by month_start) as pathway
        from changes where step <= {int(max_states)}
        group by person_key
    """).df()
    df = assignments[["person_key", "segment"]].merge(seqs, on="person_key", how="inner")
    counts = df.groupby(["segment", "pathway"]).size().rename("n_people").reset_index()
    totals = df.groupby("segment").size().rename("segment_people")
    counts = counts.merge(totals, on="segment")
    counts["share"] = counts["n_people"] / counts["segment_people"]
    counts = counts.sort_values(["segment", "n_people", "pathway"], ascending=[True, False, True])
    counts["rank"] = counts.groupby("segment").cumcount() + 1
    return counts.loc[counts["rank"] <= top, ["segment", "rank", "pathway", "n_people", "share"]].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# the night's segmentation


def read_previous_segments(con) -> pd.DataFrame | None:
    """Last night's assignments (person_key, segment), or None on the first night."""
    if not F.table_exists(con, *SEGMENTS_TABLE):
        return None
    return con.execute("select person_key, segment from ml.segments").df()


def read_segment_model(con) -> SegmentModel | None:
    if not F.table_exists(con, *PROFILES_TABLE):
        return None
    return SegmentModel.from_frame(con.execute("select * from ml.segment_profiles").df())


def build_segments(con, previous: pd.DataFrame | SegmentModel | None = None, truth: pd.DataFrame | None = None,
                   seed: int = DEFAULT_SEED, k_range: tuple[int, int] = (4, 8), k: int | None = None,
                   min_stability: float = 0.8, with_pathways: bool = True) -> SegmentResult:
    """Segment every person of ml_person_features.

    ``previous``: last night's assignments (``read_previous_segments``) or model, to keep labels.
    ``truth``: person_key -> true_segment (``truth_validation.segments.true_segments``), only to
    publish the adjusted Rand index; it never influences the fit. ``k`` forces the number of
    segments (tests), skipping the evidence.
    """
    people = F.load_person_features(con)
    if len(people) < 10:
        raise ValueError("ml.ml_person_features has fewer than 10 people: build the ml marts first")
    z = F.segment_axes(people).to_numpy(dtype=np.float64)
    if k is None:
        evidence = choose_k(z, k_range, seed, min_stability=min_stability)
        k = int(evidence.loc[evidence["chosen"], "k"].iloc[0])
    else:
        evidence = choose_k(z, (k, k), seed, min_stability=0.0)
    km = KMeans(k, n_init=8, random_state=seed).fit(z)
    raw = nearest(z, km.cluster_centers_)

    prev_frame = previous if isinstance(previous, pd.DataFrame) else None
    prev_centroids = previous.centroids if isinstance(previous, SegmentModel) else None
    perm, matched_by = match_to_previous(raw, k, people["person_key"], prev_frame, km.cluster_centers_, prev_centroids)
    labels = perm[raw]
    centroids = np.empty_like(km.cluster_centers_)
    centroids[perm] = km.cluster_centers_

    axes = pd.DataFrame(z, columns=list(F.SEGMENT_AXES))
    axes_mean = axes.groupby(labels).mean()
    prof = people[list(PROFILE_COLUMNS)].astype(float).groupby(labels).mean()
    names = _unique([name_segment(axes_mean.loc[s], prof.loc[s]) if s in prof.index else f"segment {s}"
                     for s in range(k)])
    model = SegmentModel(centroids, names)

    assignments = pd.DataFrame({
        "person_key": people["person_key"].to_numpy(),
        "segment": labels.astype(np.int64),
        "segment_name": np.asarray(names, dtype=object)[labels],
        "as_of_month": pd.to_datetime(people["as_of_month"]).to_numpy(),
    })
    profiles = model.to_frame()
    sizes = np.bincount(labels, minlength=k)
    profiles.insert(2, "n_people", sizes.astype(np.int64))
    profiles.insert(3, "share_of_people", sizes / sizes.sum())
    prof = prof.reindex(range(k))
    for col in PROFILE_COLUMNS:
        profiles[f"mean_{col}"] = prof[col].to_numpy()
    entry = people.groupby(labels)["entry_route"].agg(lambda s: s.value_counts().index[0])
    profiles["most_common_entry_route"] = entry.reindex(range(k)).to_numpy()

    result = SegmentResult(
        assignments=assignments, model=model, evidence=evidence, profiles=profiles,
        pathways=pathways(con, assignments) if with_pathways else pd.DataFrame(),
        k=k, seed=seed, matched_by=matched_by,
    )
    if prev_frame is not None and len(prev_frame):
        both = assignments.merge(prev_frame, on="person_key", suffixes=("", "_previous"))
        result.previous_agreement = float((both["segment"] == both["segment_previous"]).mean()) if len(both) else None
    if truth is not None:
        result.ari, result.ari_people = adjusted_rand(assignments, truth)
    return result


def adjusted_rand(assignments: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, int]:
    """ARI against the planted segments 1-6, over people the world gives one (not members)."""
    both = assignments.merge(truth, on="person_key")
    both = both.loc[both["true_segment"] > 0]
    if both.empty:
        return float("nan"), 0
    return float(adjusted_rand_score(both["true_segment"], both["segment"])), int(len(both))


def write_segments(con, result: SegmentResult) -> dict[str, int]:
    """ml.segments (for the marts and the forecast), ml.segment_profiles (names, sizes, profile
    and the centroids the transition models apply as of each month) and ml.segment_pathways."""
    out = {
        "ml.segments": F.write_table(con, *SEGMENTS_TABLE, result.assignments),
        "ml.segment_profiles": F.write_table(con, *PROFILES_TABLE, result.profiles),
    }
    if len(result.pathways):
        out["ml.segment_pathways"] = F.write_table(con, *PATHWAYS_TABLE, result.pathways)
    return out


# ---------------------------------------------------------------------------------------------
# as of a past month (the backtest's cut-off)


def history_as_of(con, cutoff) -> pd.DataFrame:
    """Each person's history columns at their latest person-month up to ``cutoff`` (inclusive):
    the person as the segmentation would have seen them then (the columns only look back)."""
    cols = ", ".join(dict.fromkeys(["person_key", "month_start", *F.SEGMENT_SOURCE_COLUMNS]))
    return con.execute(f"""
        select {cols} from {F.PERSON_MONTHS} where month_start <= ?
        qualify row_number() over (partition by person_key order by month_start desc) = 1
        order by person_key""", [pd.Timestamp(cutoff).date()]).df()


def fit_segment_model_as_of(con, cutoff, like: SegmentModel, seed: int = DEFAULT_SEED) -> SegmentModel:
    """The segmentation refit on people as of ``cutoff``, with tonight's number of segments and
    labels matched to tonight's centroids (so segment 3 means the same kind of people and the
    lattice has the same shape); names follow the matched labels. Only the number of segments
    and the names come from tonight: the centroids use no row after the cut-off."""
    people = history_as_of(con, cutoff)
    if len(people) < like.k:
        raise ValueError(f"ml.ml_person_months: {len(people)} people up to {pd.Timestamp(cutoff):%Y-%m}, "
                         f"fewer than the {like.k} segments")
    z = F.segment_axes(people).to_numpy(dtype=np.float64)
    km = KMeans(like.k, n_init=8, random_state=seed).fit(z)
    raw = nearest(z, km.cluster_centers_)
    perm, _ = match_to_previous(raw, like.k, centroids=km.cluster_centers_, previous_centroids=like.centroids)
    centroids = np.empty_like(km.cluster_centers_)
    centroids[perm] = km.cluster_centers_
    return SegmentModel(centroids, list(like.names))


def segments_as_of(con, segment_model: SegmentModel, cutoff) -> pd.DataFrame:
    """person_key -> segment as of ``cutoff`` (each person's latest row up to it): what
    ``simulation.forecast_inputs.build_forecast_inputs(segments=...)`` takes for a census then."""
    people = history_as_of(con, cutoff)
    seg = segment_model.predict(people) if len(people) else np.array([], dtype=np.int64)
    return pd.DataFrame({"person_key": people["person_key"].to_numpy(), "segment": seg.astype(np.int64)})
