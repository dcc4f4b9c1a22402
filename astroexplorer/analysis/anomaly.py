"""Anomaly scores over an embedding, one float per object (higher = more unusual).

Each method is a job yielding Progress and returning scores of shape (N,) float64,
ready to become a catalogue column. Rows whose vectors hold NaN or infinite values
are left out of the fit and score NaN.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import UserError
from ..jobs.base import Job, Progress
from ..registry import MethodEntry, Registry

__all__ = [
    "ANOMALY_METHODS", "EXACT_KNN_LIMIT", "anomaly_job", "isolation_forest_job", "lof_job",
    "knn_distance_job",
]

ANOMALY_METHODS = Registry("anomaly")

#: Above this many rows, k-th neighbour distances are approximate (pynndescent).
EXACT_KNN_LIMIT = 200_000

_BATCH = 16_384


def _split(vectors: np.ndarray, min_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Check an (N, D) embedding; return it as float32 and the mask of finite rows."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise UserError(f"an embedding must be a 2-D (N, D) array, not shape {vectors.shape}")
    good = np.isfinite(vectors).all(axis=1)
    if good.sum() < min_rows:
        raise UserError(f"anomaly scores need at least {min_rows} objects with finite "
                        f"embedding values, not {int(good.sum())}")
    return vectors, good


def _scatter(good: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(len(good), np.nan)
    out[good] = values
    return out


def isolation_forest_job(vectors: np.ndarray, seed: int = 0, n_estimators: int = 100,
                         max_samples: int | str = "auto") -> Job[np.ndarray]:
    """Isolation forest scores, shape (N,) float64: minus sklearn's ``score_samples``,
    so short average isolation paths (outliers) score high."""
    from sklearn.ensemble import IsolationForest

    vectors, good = _split(vectors, 2)
    x = vectors[good]
    total = len(x) // _BATCH + 2
    yield Progress(0, total, f"isolation forest: fitting {n_estimators} trees on {len(x)} objects")
    forest = IsolationForest(n_estimators=n_estimators, max_samples=max_samples,
                             random_state=seed).fit(x)
    scores = np.empty(len(x))
    for step, start in enumerate(range(0, len(x), _BATCH)):
        scores[start:start + _BATCH] = -forest.score_samples(x[start:start + _BATCH])
        yield Progress(step + 2, total, f"isolation forest: scored {min(start + _BATCH, len(x))}"
                                        f"/{len(x)}")
    yield Progress(total, total, "isolation forest done")
    return _scatter(good, scores)


def lof_job(vectors: np.ndarray, seed: int = 0, n_neighbors: int = 20) -> Job[np.ndarray]:
    """Local outlier factor, shape (N,) float64: minus sklearn's
    ``negative_outlier_factor_`` (about 1 for inliers, larger for outliers).
    Exact neighbours; ``seed`` is unused (the method is deterministic)."""
    from sklearn.neighbors import LocalOutlierFactor

    vectors, good = _split(vectors, 3)
    x = vectors[good]
    n_neighbors = int(min(n_neighbors, len(x) - 1))
    yield Progress(0, 1, f"local outlier factor: exact {n_neighbors} neighbours of {len(x)} objects")
    lof = LocalOutlierFactor(n_neighbors=n_neighbors, novelty=False).fit(x)
    yield Progress(1, 1, "local outlier factor done")
    return _scatter(good, -lof.negative_outlier_factor_.astype(np.float64))


def knn_distance_job(vectors: np.ndarray, seed: int = 0, k: int = 10,
                     exact: bool | None = None) -> Job[np.ndarray]:
    """Euclidean distance from each object to its ``k``-th nearest other object,
    shape (N,) float64.

    Parameters
    ----------
    vectors : ndarray, shape (N, D)
    seed : int
        Seeds the approximate search (pynndescent); the exact one ignores it.
    k : int
        Which neighbour (1 = nearest other object).
    exact : bool or None
        Exact search (sklearn ``NearestNeighbors``) or approximate (pynndescent);
        None chooses exact up to :data:`EXACT_KNN_LIMIT` rows.
    """
    vectors, good = _split(vectors, 2)
    x = vectors[good]
    k = int(k)
    if k < 1:
        raise UserError(f"k must be at least 1, not {k}")
    k = min(k, len(x) - 1)
    if exact is None:
        exact = len(x) <= EXACT_KNN_LIMIT
    if exact:
        from sklearn.neighbors import NearestNeighbors

        total = len(x) // _BATCH + 2
        yield Progress(0, total, f"distance to the {k}-th neighbour: exact search "
                                 f"(scikit-learn) over {len(x)} objects")
        nn = NearestNeighbors(n_neighbors=k + 1).fit(x)
        scores = np.empty(len(x))
        for step, start in enumerate(range(0, len(x), _BATCH)):
            dist, _ = nn.kneighbors(x[start:start + _BATCH])
            # Column 0 is the object itself (or an exact duplicate, also at distance 0).
            scores[start:start + _BATCH] = dist[:, k]
            yield Progress(step + 1, total, f"exact k-th neighbour distances: "
                                            f"{min(start + _BATCH, len(x))}/{len(x)}")
    else:
        total = 2
        yield Progress(0, total, f"distance to the {k}-th neighbour: approximate search "
                                 f"(pynndescent) over {len(x)} objects")
        from pynndescent import NNDescent

        index = NNDescent(x, n_neighbors=max(k + 1, 15), random_state=seed,
                          metric="euclidean", low_memory=True)
        yield Progress(1, total, "approximate neighbour graph built")
        _, dist = index.neighbor_graph
        scores = dist[:, k].astype(np.float64)
    yield Progress(total, total, "k-th neighbour distances done")
    return _scatter(good, scores)


ANOMALY_METHODS.register(MethodEntry(
    "isolation_forest", "Isolation forest", isolation_forest_job,
    "objects isolated by few random splits (scikit-learn IsolationForest)"))
ANOMALY_METHODS.register(MethodEntry(
    "lof", "Local outlier factor", lof_job,
    "density relative to the 20 nearest neighbours' (scikit-learn, exact; slow beyond ~200k)"))
ANOMALY_METHODS.register(MethodEntry(
    "knn_distance", "Distance to k-th neighbour", knn_distance_job,
    "distance to the 10th nearest object (exact to 200k rows, pynndescent beyond)"))


def anomaly_job(method: str, vectors: np.ndarray, seed: int = 0, **options) -> Job[np.ndarray]:
    """The job computing ``method``'s anomaly scores of an (N, D) embedding.

    Returns
    -------
    Job yielding Progress and returning ndarray, shape (N,) float64
        Higher = more anomalous; NaN for rows with non-finite vectors.

    Raises
    ------
    UserError
        For an unknown method.
    """
    return ANOMALY_METHODS[method].load()(vectors, seed=seed, **options)
