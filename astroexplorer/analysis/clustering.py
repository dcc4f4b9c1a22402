"""Clusters in an embedding (HDBSCAN) as a cluster-id column and as named subsets.

:func:`hdbscan_job` runs scikit-learn's ``HDBSCAN`` (no extra dependency) on the rows
with finite vectors; rows holding NaN or infinite values get label -1 ("noise") and
are counted in the result. HDBSCAN itself is one call, so the job reports progress per
stage (check, reduce, cluster, assign, relabel). For many rows the clustering runs on
a PCA-reduced copy (see :data:`PCA_ABOVE_ROWS`) and is fitted on a random sample (see
:data:`MAX_FIT_ROWS`); the result's ``config`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.errors import UserError
from ..jobs.base import Job, Progress

__all__ = ["ClusterResult", "cluster_subsets", "hdbscan_job", "PCA_ABOVE_ROWS", "PCA_DIM",
           "MAX_FIT_ROWS", "CLUSTER_METRICS"]

#: Distances understood. Cosine clusters the rows scaled to unit length with the
#: euclidean distance, which is a monotone function of the cosine distance
#: (``|a - b|^2 = 2 (1 - cos)`` for unit vectors).
CLUSTER_METRICS = ("euclidean", "cosine")

#: Above this many (finite) rows, an embedding of more than :data:`PCA_DIM` dimensions
#: is clustered through a PCA-reduced copy: HDBSCAN's neighbour searches are
#: tree-based and slow down sharply with dimension.
PCA_ABOVE_ROWS = 50_000
#: Dimensions kept by that PCA.
PCA_DIM = 16
#: Above this many rows, HDBSCAN is fitted on a random sample and the other rows join
#: the cluster of their nearest sampled row. scikit-learn's HDBSCAN builds its
#: minimum spanning tree in O(N^2): 100k x 16 took 160 s on 2 busy cores.
MAX_FIT_ROWS = 50_000

_BATCH = 65_536


@dataclass(frozen=True)
class ClusterResult:
    """What :func:`hdbscan_job` found.

    Attributes
    ----------
    labels : ndarray, shape (N,) int32
        Cluster id of each row; ``-1`` is noise (including rows with non-finite
        vectors). Ids are numbered by decreasing cluster size: cluster 0 is the largest.
    probabilities : ndarray, shape (N,) float32
        HDBSCAN's membership strength in [0, 1]; 0 for noise.
    sizes : dict[int, int]
        Rows in each cluster, largest first.
    n_noise : int
        Rows labelled -1, non-finite rows included.
    n_nonfinite : int
        Rows left out of the fit for NaN or infinite values (labelled -1).
    config : dict
        The parameters used and how the data were prepared (``"reduced"`` describes
        the PCA step and ``"subsample"`` the sampling, each None when not done).
    """

    labels: np.ndarray
    probabilities: np.ndarray
    sizes: dict[int, int]
    n_noise: int
    n_nonfinite: int
    config: dict = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        """Number of clusters found (noise excluded)."""
        return len(self.sizes)

    def subsets(self) -> dict[str, np.ndarray]:
        """The clusters as named row subsets; see :func:`cluster_subsets`."""
        return cluster_subsets(self.labels)


def cluster_subsets(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Named row subsets of a cluster-id column.

    Parameters
    ----------
    labels : array-like, shape (N,) int
        Cluster id per row, -1 (or any negative id) for noise.

    Returns
    -------
    dict[str, ndarray of int64]
        ``{"cluster 3": rows, ...}`` ordered by decreasing size (ties by id), then
        ``"noise"`` last when any row is noise. Rows are ascending.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"cluster labels must be a 1-D integer array, not {labels.dtype} "
                        f"of shape {labels.shape}")
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = np.lexsort((ids, -counts))
    out = {f"cluster {int(ids[i])}": np.flatnonzero(labels == ids[i]) for i in order}
    noise = np.flatnonzero(labels < 0)
    if noise.size:
        out["noise"] = noise
    return out


def _check(vectors: np.ndarray, metric: str, min_cluster_size: int,
           min_samples: int | None) -> tuple[np.ndarray, np.ndarray]:
    if metric not in CLUSTER_METRICS:
        raise UserError(f"unknown metric {metric!r}; choose one of {', '.join(CLUSTER_METRICS)}")
    if int(min_cluster_size) < 2:
        raise UserError(f"the minimum cluster size must be at least 2, not {min_cluster_size}")
    if min_samples is not None and int(min_samples) < 1:
        raise UserError(f"min_samples must be at least 1, not {min_samples}")
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[1] == 0:
        raise UserError(f"an embedding must be a 2-D (N, D) array, not shape {vectors.shape}")
    if not (np.issubdtype(vectors.dtype, np.floating) or np.issubdtype(vectors.dtype, np.integer)):
        raise UserError(f"an embedding must hold numbers, not {vectors.dtype}")
    vectors = vectors.astype(np.float32, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        good = np.isfinite(vectors).all(axis=1)
        if metric == "cosine":
            good &= np.einsum("ij,ij->i", vectors, vectors) > 0
    n_good = int(good.sum())
    need = max(int(min_cluster_size), int(min_samples or 0), 2)
    if n_good < need:
        raise UserError(f"clustering with a minimum cluster size of {min_cluster_size} needs at "
                        f"least {need} objects with finite embedding values, not {n_good}")
    return vectors, good


def hdbscan_job(vectors: np.ndarray, min_cluster_size: int = 15, min_samples: int | None = None,
                metric: str = "euclidean", seed: int = 0, pca_dim: int = PCA_DIM,
                pca_above_rows: int = PCA_ABOVE_ROWS,
                max_fit_rows: int | None = MAX_FIT_ROWS) -> Job[ClusterResult]:
    """HDBSCAN clusters of an embedding, as a job.

    Parameters
    ----------
    vectors : ndarray, shape (N, D)
        The embedding (any units; distances are taken as they are).
    min_cluster_size : int
        Smallest group of objects called a cluster (>= 2).
    min_samples : int or None
        Neighbours defining a core point (None: ``min_cluster_size``); larger
        values call more objects noise.
    metric : {"euclidean", "cosine"}
        See :data:`CLUSTER_METRICS`.
    seed : int
        Seeds the randomized PCA used for large N; with the same seed and data the
        labels are identical.
    pca_dim, pca_above_rows : int
        With more than ``pca_above_rows`` finite rows and more than ``pca_dim``
        dimensions, cluster the first ``pca_dim`` principal components instead.
    max_fit_rows : int or None
        With more finite rows than this, HDBSCAN is fitted on a random sample of
        this many rows (seeded; the minimum cluster size scaled by the sampled
        fraction) and every other row takes the cluster (and membership strength)
        of its nearest sampled row: noise if that row is noise. None fits all rows.

    Returns
    -------
    Job yielding Progress and returning :class:`ClusterResult`

    Raises
    ------
    UserError
        For a non-2-D embedding, an unknown metric, a minimum cluster size below 2,
        or fewer finite rows than the minimum cluster size.
    """
    from sklearn.cluster import HDBSCAN

    vectors, good = _check(vectors, metric, min_cluster_size, min_samples)
    n, dim = vectors.shape
    x = vectors[good].astype(np.float64)
    n_bad = n - len(x)
    fit_rows = None
    if max_fit_rows is not None and len(x) > int(max_fit_rows):
        rng = np.random.default_rng(seed)
        fit_rows = np.sort(rng.choice(len(x), int(max_fit_rows), replace=False))
    n_rest = 0 if fit_rows is None else len(x) - len(fit_rows)
    total = 4 + -(-n_rest // _BATCH)
    msg = f"clustering {len(x)} objects" + (
        f" ({n_bad} with non-finite values left out as noise)" if n_bad else "")
    yield Progress(0, total, msg)
    if metric == "cosine":
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    reduced = None
    if len(x) > pca_above_rows and dim > pca_dim:
        from sklearn.decomposition import PCA

        yield Progress(1, total, f"reducing {dim} to {pca_dim} dimensions with PCA")
        pca = PCA(n_components=pca_dim, svd_solver="randomized", random_state=seed)
        x = pca.fit_transform(x)
        kept = float(pca.explained_variance_ratio_.sum())
        reduced = (f"PCA {dim} -> {pca_dim} dimensions ({100 * kept:.0f}% of the variance) "
                   f"because N = {len(x)} > {pca_above_rows}")
    fit_size, fit_samples, subsample = int(min_cluster_size), min_samples, None
    x_fit = x
    if fit_rows is not None:
        # The sample holds a fraction of each cluster: scale the sizes with it.
        frac = len(fit_rows) / len(x)
        fit_size = max(2, int(round(min_cluster_size * frac)))
        if min_samples is not None:
            fit_samples = max(1, int(round(min_samples * frac)))
        x_fit = x[fit_rows]
        subsample = (f"fitted on {len(fit_rows)} random rows (min cluster size {fit_size}); "
                     f"the other {n_rest} take the cluster of their nearest fitted row")
    yield Progress(2, total, f"HDBSCAN on {len(x_fit)} x {x.shape[1]} "
                             f"(min cluster size {fit_size})")
    model = HDBSCAN(min_cluster_size=fit_size,
                    min_samples=None if fit_samples is None else int(fit_samples),
                    metric="euclidean", copy=True).fit(x_fit)
    raw = model.labels_.astype(np.int64)
    raw_prob = np.where(raw >= 0, model.probabilities_, 0.0)
    if fit_rows is not None:
        from sklearn.neighbors import NearestNeighbors

        all_raw = np.empty(len(x), dtype=np.int64)
        all_prob = np.empty(len(x))
        all_raw[fit_rows], all_prob[fit_rows] = raw, raw_prob
        rest = np.setdiff1d(np.arange(len(x)), fit_rows, assume_unique=True)
        nn = NearestNeighbors(n_neighbors=1).fit(x_fit)
        for step, lo in enumerate(range(0, len(rest), _BATCH)):
            chunk = rest[lo:lo + _BATCH]
            nearest = nn.kneighbors(x[chunk], return_distance=False)[:, 0]
            all_raw[chunk], all_prob[chunk] = raw[nearest], raw_prob[nearest]
            yield Progress(3 + step, total, f"assigning the other rows: "
                                            f"{min(lo + _BATCH, len(rest))}/{len(rest)}")
        raw, raw_prob = all_raw, all_prob
    yield Progress(total - 1, total, "numbering clusters by size")
    ids, counts = np.unique(raw[raw >= 0], return_counts=True)
    order = np.lexsort((ids, -counts))
    lookup = np.full(int(ids.max()) + 2 if ids.size else 1, -1, dtype=np.int32)
    lookup[ids[order]] = np.arange(len(ids), dtype=np.int32)
    labels = np.full(n, -1, dtype=np.int32)
    labels[good] = np.where(raw >= 0, lookup[np.maximum(raw, 0)], -1)
    probs = np.zeros(n, dtype=np.float32)
    probs[good] = raw_prob
    sizes = {i: int(c) for i, c in enumerate(counts[order])}
    config = {"method": "hdbscan", "min_cluster_size": int(min_cluster_size),
              "min_samples": None if min_samples is None else int(min_samples),
              "metric": metric, "seed": int(seed), "reduced": reduced, "subsample": subsample}
    yield Progress(total, total, f"{len(sizes)} clusters, {int((labels < 0).sum())} noise")
    return ClusterResult(labels=labels, probabilities=probs, sizes=sizes,
                         n_noise=int((labels < 0).sum()), n_nonfinite=int(n_bad), config=config)
