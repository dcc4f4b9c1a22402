"""2-D maps of embeddings: PCA (instant) and UMAP (in a worker process)."""

from __future__ import annotations

import numpy as np

from ..core.catalogue import Projection
from ..core.errors import UserError
from ..jobs.base import Job, Progress
from ..jobs.process import run_in_process
from ..registry import MethodEntry, Registry

__all__ = ["PROJECTION_METHODS", "pca_projection_job", "umap_projection_job", "projection_job"]

PROJECTION_METHODS = Registry("projection")


def _check(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise UserError(f"an embedding must be a 2-D (N, D) array, not shape {vectors.shape}")
    if vectors.shape[0] < 3:
        raise UserError(f"a map needs at least 3 objects, not {vectors.shape[0]}")
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        raise UserError(f"the embedding has {int(bad.sum())} rows with NaN or infinite values")
    return vectors


def pca_projection_job(vectors: np.ndarray, seed: int = 0) -> Job[Projection]:
    """First two principal components of ``vectors`` (N, D) -> Projection (N, 2)."""
    vectors = _check(vectors)
    yield Progress(0, 1, "PCA projection")
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    if xy.shape[1] < 2:
        xy = np.column_stack([xy, np.zeros(len(xy))])
    # Fix the sign so the same data always gives the same picture.
    peak = np.abs(xy).argmax(axis=0)
    xy *= np.where(xy[peak, [0, 1]] < 0, -1.0, 1.0)
    yield Progress(1, 1, "PCA projection done")
    return Projection(xy, "pca", {"seed": seed})


def _umap_in_child(vectors: np.ndarray, n_neighbors: int, min_dist: float, metric: str,
                   seed: int) -> Job[Projection]:
    yield Progress(0, 3, "loading UMAP (its first use compiles code, ~20 s)")
    import warnings

    import umap  # noqa: PLC0415 - heavy (numba); imported only in the worker

    # A seed makes UMAP single-threaded; it says so on every call.
    warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)

    yield Progress(1, 3, f"UMAP of {len(vectors)} points")
    reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, metric=metric,
                        random_state=seed, n_components=2)
    xy = reducer.fit_transform(vectors)
    yield Progress(3, 3, "UMAP done")
    return Projection(xy, "umap", {"n_neighbors": n_neighbors, "min_dist": min_dist,
                                   "metric": metric, "seed": seed})


def umap_projection_job(vectors: np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1,
                        metric: str = "euclidean", seed: int = 0) -> Job[Projection]:
    """UMAP of ``vectors`` (N, D) -> Projection (N, 2), run in a child process so the
    caller stays responsive and Cancel terminates it at once."""
    vectors = _check(vectors)
    n_neighbors = int(min(n_neighbors, len(vectors) - 1))
    return (yield from run_in_process(_umap_in_child, vectors, n_neighbors, min_dist, metric, seed))


PROJECTION_METHODS.register(MethodEntry("umap", "UMAP", umap_projection_job,
                                        "uniform manifold approximation (umap-learn)"))
PROJECTION_METHODS.register(MethodEntry("pca", "PCA", pca_projection_job,
                                        "first two principal components"))


def projection_job(method: str, vectors: np.ndarray, **options) -> Job[Projection]:
    """The job computing ``method``'s 2-D map of an (N, D) embedding."""
    return PROJECTION_METHODS[method].load()(vectors, **options)
