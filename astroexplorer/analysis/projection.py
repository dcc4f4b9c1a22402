"""2-D maps of embeddings: PCA (instant), UMAP (umap-learn) and t-SNE (openTSNE).

UMAP and t-SNE hold the GIL for long stretches, so they run in a worker process
(Cancel terminates it). UMAP's ~25 s start-up (importing umap, compiling its numba
code) is paid once per session by a *warm* worker: :func:`prewarm_projection` starts
one in the background and every later UMAP reuses it.

Every map carries a quality figure, ``config["trustworthiness"]`` (scikit-learn's
trustworthiness with 10 neighbours on a random sample of up to 2,000 objects: 1 means
neighbourhoods in the map are neighbourhoods in the embedding; values below ~0.9 mean
the map invents neighbours), and a fitted ``model`` with which :func:`place_points_job`
puts new objects into the map without recomputing it.

With RAPIDS cuML installed and a CUDA GPU present, UMAP and t-SNE run on the GPU
(``backend="auto"``); the results API is the same.
"""

from __future__ import annotations

import importlib.util
import io
import pickle

import numpy as np

from ..core.catalogue import Projection
from ..core.errors import UserError
from ..jobs.base import Job, Progress
from ..jobs.process import prewarm, run_in_process
from ..registry import MethodEntry, Registry

__all__ = ["PROJECTION_METHODS", "PROJECTION_PARAMETERS", "pca_projection_job",
           "umap_projection_job", "tsne_projection_job", "projection_job", "place_points_job",
           "trustworthiness_of", "prewarm_projection", "cuml_available"]

PROJECTION_METHODS = Registry("projection")

#: Each method's parameters: name -> (default, minimum, maximum or choices, help).
#: The GUI's parameter panel and the CLI's options are built from this.
PROJECTION_PARAMETERS: dict[str, dict[str, tuple]] = {
    "umap": {
        "n_neighbors": (15, 2, 200, "neighbours: larger keeps more global structure"),
        "min_dist": (0.1, 0.0, 1.0, "minimum distance between points in the map"),
        "metric": ("euclidean", ("euclidean", "cosine"), None, "distance in the embedding"),
        "seed": (0, 0, 2**31 - 1, "random seed (same seed, same map)"),
    },
    "tsne": {
        "perplexity": (30.0, 2.0, 500.0, "effective number of neighbours"),
        "metric": ("euclidean", ("euclidean", "cosine"), None, "distance in the embedding"),
        "seed": (0, 0, 2**31 - 1, "random seed (same seed, same map)"),
    },
    "pca": {},
}

#: Objects sampled for the trustworthiness figure.
TRUST_SAMPLE = 2000
_UMAP_WARM_KEY = "umap"


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


def _check_metric(metric: str) -> str:
    choices = PROJECTION_PARAMETERS["umap"]["metric"][1]
    if metric not in choices:
        raise UserError(f"unknown metric {metric!r}; choose one of {', '.join(choices)}")
    return metric


def _pairwise(x: np.ndarray, metric: str) -> np.ndarray:
    """(n, n) float64 distances between the rows of ``x`` (n, d); the diagonal is +inf."""
    x = np.asarray(x, dtype=np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = x / np.where(norms > 0, norms, 1.0)
        d = 1.0 - x @ x.T
    else:
        sq = (x * x).sum(axis=1)
        d = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)
    np.fill_diagonal(d, np.inf)
    return d


def trustworthiness_of(vectors: np.ndarray, xy: np.ndarray, n_neighbors: int = 10,
                       sample: int = TRUST_SAMPLE, seed: int = 0, metric: str = "euclidean"
                       ) -> float:
    """Trustworthiness in [0, 1] of the map ``xy`` (N, 2) of ``vectors`` (N, D),
    computed on a random sample of at most ``sample`` objects (neighbourhoods are
    taken within the sample).

    Venna & Kaski (2001): with k neighbours, ``T = 1 - 2 / (n k (2n - 3k - 1)) *
    sum_i sum_{j in U_i} (r(i, j) - k)``, where ``U_i`` are the k nearest neighbours
    of i in the map that are not among its k nearest in the embedding, and
    ``r(i, j)`` is j's rank among i's neighbours in the embedding (1 = nearest).
    Plain numpy (no scikit-learn import in a job thread).
    """
    n_all = len(vectors)
    rows = np.arange(n_all)
    if n_all > sample:
        rows = np.sort(np.random.default_rng(seed).choice(n_all, sample, replace=False))
    n = rows.size
    k = int(min(n_neighbors, (n - 1) // 2))
    if k < 1:
        return float("nan")
    high = _pairwise(vectors[rows], metric)
    low = _pairwise(xy[rows], "euclidean")
    # Rank (1 = nearest) of every j among i's neighbours in the embedding.
    order = np.argsort(high, axis=1, kind="stable")
    ranks = np.empty_like(order)
    ranks[np.arange(n)[:, None], order] = np.arange(n)[None, :]
    ranks += 1
    map_nearest = np.argpartition(low, k, axis=1)[:, :k]
    penalty = np.maximum(np.take_along_axis(ranks, map_nearest, axis=1) - k, 0).sum()
    return float(1.0 - 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)) * penalty)


def _with_quality(vectors: np.ndarray, projection: Projection) -> Projection:
    metric = projection.config.get("metric", "euclidean")
    projection.config["trustworthiness"] = trustworthiness_of(
        vectors, projection.xy, seed=int(projection.config.get("seed", 0)), metric=metric)
    projection.config["trustworthiness_sample"] = int(min(len(vectors), TRUST_SAMPLE))
    projection.config["dim"] = int(vectors.shape[1])
    return projection


def cuml_available() -> bool:
    """True if RAPIDS cuML is installed and a CUDA device is visible."""
    if importlib.util.find_spec("cuml") is None or importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount()) > 0
    except Exception:  # noqa: BLE001 - any CUDA problem means "no GPU"
        return False


def _backend(backend: str) -> str:
    if backend not in ("auto", "cpu", "cuml"):
        raise UserError(f"unknown backend {backend!r}; choose auto, cpu or cuml")
    if backend == "cuml" and not cuml_available():
        raise UserError("the cuml backend needs RAPIDS cuML and a CUDA GPU; neither is here")
    return backend


# -- PCA ------------------------------------------------------------------------------


def _pca_model(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and the two sign-fixed principal axes (D, 2)."""
    mean = vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(vectors - mean, full_matrices=False)
    axes = np.zeros((vectors.shape[1], 2), dtype=np.float64)
    axes[:, : min(2, vt.shape[0])] = vt[:2].T
    # Fix the signs so the same data always gives the same picture.
    xy = (vectors - mean) @ axes
    peak = np.abs(xy).argmax(axis=0)
    axes *= np.where(xy[peak, [0, 1]] < 0, -1.0, 1.0)
    return mean, axes


def pca_projection_job(vectors: np.ndarray, seed: int = 0) -> Job[Projection]:
    """First two principal components of ``vectors`` (N, D) -> Projection (N, 2)."""
    vectors = _check(vectors)
    yield Progress(0, 1, "PCA projection")
    mean, axes = _pca_model(vectors)
    buffer = io.BytesIO()
    np.savez(buffer, mean=mean, axes=axes)
    projection = Projection((vectors - mean) @ axes, "pca", {"seed": seed},
                            model=buffer.getvalue())
    yield Progress(1, 1, "PCA projection done")
    return _with_quality(vectors, projection)


# -- UMAP -----------------------------------------------------------------------------


def _import_umap():
    import warnings

    import umap  # noqa: PLC0415 - heavy (numba); imported only in the worker

    # A seed makes UMAP single-threaded; it says so on every call.
    warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
    return umap


def warm_umap() -> None:
    """Import umap and compile its numba code on a small problem (run in a worker)."""
    umap = _import_umap()
    # Below ~4,100 points umap-learn computes exact neighbours; 5,000 takes the
    # nearest-neighbour-descent path that real catalogues use, so it is compiled too.
    x = np.random.default_rng(0).normal(size=(5000, 8)).astype(np.float32)
    reducer = umap.UMAP(n_neighbors=10, random_state=0, n_epochs=20).fit(x)
    reducer.transform(x[:5])


def _umap_in_child(vectors: np.ndarray, n_neighbors: int, min_dist: float, metric: str,
                   seed: int, backend: str, keep_model: bool) -> Job[Projection]:
    use_cuml = backend == "cuml" or (backend == "auto" and cuml_available())
    yield Progress(0, 3, "loading UMAP")
    if use_cuml:
        from cuml.manifold import UMAP  # type: ignore[import-not-found]

        reducer = UMAP(n_neighbors=n_neighbors, min_dist=min_dist, metric=metric,
                       random_state=seed, n_components=2)
    else:
        umap = _import_umap()
        reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, metric=metric,
                            random_state=seed, n_components=2)
    yield Progress(1, 3, f"UMAP of {len(vectors):,} points{' on the GPU (cuML)' if use_cuml else ''}")
    xy = np.asarray(reducer.fit_transform(vectors))
    yield Progress(2, 3, "measuring the map's trustworthiness")
    config = {"n_neighbors": n_neighbors, "min_dist": min_dist, "metric": metric, "seed": seed,
              "backend": "cuml" if use_cuml else "umap-learn"}
    projection = Projection(xy, "umap", config,
                            model=pickle.dumps(reducer) if keep_model else None)
    projection = _with_quality(vectors, projection)
    yield Progress(3, 3, "UMAP done")
    return projection


def umap_projection_job(vectors: np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1,
                        metric: str = "euclidean", seed: int = 0, backend: str = "auto",
                        keep_model: bool = True) -> Job[Projection]:
    """UMAP of ``vectors`` (N, D) -> Projection (N, 2), in a warm worker process so the
    caller stays responsive, Cancel terminates it at once, and numba's start-up is
    paid once per session. ``keep_model`` keeps the fitted mapping (for placing new
    points); it costs memory of the order of the embedding's size."""
    vectors = _check(vectors)
    _check_metric(metric)
    if not 0.0 <= float(min_dist) <= 1.0:
        raise UserError(f"UMAP min_dist must be between 0 and 1, not {min_dist}")
    if int(n_neighbors) < 2:
        raise UserError(f"UMAP n_neighbors must be at least 2, not {n_neighbors}")
    n_neighbors = int(min(n_neighbors, len(vectors) - 1))
    return (yield from run_in_process(
        _umap_in_child, vectors, n_neighbors, float(min_dist), metric, int(seed),
        _backend(backend), keep_model, warm=(_UMAP_WARM_KEY, warm_umap)))


def prewarm_projection() -> None:
    """Start the UMAP worker now, in the background, so the user's first map does not
    wait for numba (call it when the application starts)."""
    prewarm(_UMAP_WARM_KEY, warm_umap)


# -- t-SNE ----------------------------------------------------------------------------

#: Iterations of openTSNE's two phases (early exaggeration, then the embedding proper).
TSNE_EARLY_ITER = 250
TSNE_ITER = 500
_TSNE_CHUNK = 50


def _tsne_in_child(vectors: np.ndarray, perplexity: float, metric: str, seed: int,
                   backend: str, n_iter: int, keep_model: bool) -> Job[Projection]:
    use_cuml = backend == "cuml" or (backend == "auto" and cuml_available())
    config = {"perplexity": perplexity, "metric": metric, "seed": seed,
              "backend": "cuml" if use_cuml else "openTSNE", "n_iter": n_iter}
    if use_cuml:
        from cuml.manifold import TSNE  # type: ignore[import-not-found]

        yield Progress(0, 2, f"t-SNE of {len(vectors):,} points on the GPU (cuML)")
        xy = np.asarray(TSNE(perplexity=perplexity, metric=metric, random_state=seed,
                             n_components=2).fit_transform(vectors))
        projection = Projection(xy, "tsne", config)  # cuML's t-SNE cannot place new points
    else:
        from openTSNE import TSNEEmbedding, affinity, initialization

        total = TSNE_EARLY_ITER + n_iter
        yield Progress(0, total, f"t-SNE: neighbours of {len(vectors):,} points")
        affinities = affinity.PerplexityBasedNN(vectors, perplexity=perplexity, metric=metric,
                                                n_jobs=1, random_state=seed)
        init = initialization.pca(vectors, random_state=seed)
        embedding = TSNEEmbedding(init, affinities, n_jobs=1, random_state=seed)
        done = 0
        for phase_iter, exaggeration, momentum in ((TSNE_EARLY_ITER, 12.0, 0.5),
                                                   (n_iter, None, 0.8)):
            for start in range(0, phase_iter, _TSNE_CHUNK):
                step = min(_TSNE_CHUNK, phase_iter - start)
                embedding = embedding.optimize(n_iter=step, exaggeration=exaggeration,
                                               momentum=momentum)
                done += step
                yield Progress(done, total, f"t-SNE: iteration {done} of {total}")
        projection = Projection(np.asarray(embedding), "tsne", config,
                                model=pickle.dumps(embedding) if keep_model else None)
    return _with_quality(vectors, projection)


def tsne_projection_job(vectors: np.ndarray, perplexity: float = 30.0,
                        metric: str = "euclidean", seed: int = 0, backend: str = "auto",
                        n_iter: int = TSNE_ITER, keep_model: bool = True) -> Job[Projection]:
    """t-SNE (openTSNE, FFT-accelerated) of ``vectors`` (N, D) -> Projection (N, 2), in
    a worker process; progress every 50 iterations; reproducible with ``seed``."""
    vectors = _check(vectors)
    _check_metric(metric)
    perplexity = float(perplexity)
    if perplexity <= 0:
        raise UserError(f"t-SNE perplexity must be positive, not {perplexity}")
    # openTSNE needs 3 * perplexity < N.
    perplexity = min(perplexity, (len(vectors) - 1) / 3.0)
    return (yield from run_in_process(_tsne_in_child, vectors, perplexity, metric, int(seed),
                                      _backend(backend), int(n_iter), keep_model))


PROJECTION_METHODS.register(MethodEntry("umap", "UMAP", umap_projection_job,
                                        "uniform manifold approximation (umap-learn)"))
PROJECTION_METHODS.register(MethodEntry("tsne", "t-SNE", tsne_projection_job,
                                        "t-distributed stochastic neighbour embedding "
                                        "(openTSNE)"))
PROJECTION_METHODS.register(MethodEntry("pca", "PCA", pca_projection_job,
                                        "first two principal components"))


def projection_job(method: str, vectors: np.ndarray, **options) -> Job[Projection]:
    """The job computing ``method``'s 2-D map of an (N, D) embedding."""
    return PROJECTION_METHODS[method].load()(vectors, **options)


# -- placing new points ---------------------------------------------------------------


def _place_in_child(method: str, model: bytes, vectors: np.ndarray) -> Job[np.ndarray]:
    yield Progress(0, 1, f"placing {len(vectors):,} objects into the {method.upper()} map")
    if method == "umap":
        _import_umap()
    fitted = pickle.loads(model)  # noqa: S301 - our own object, made in this session
    xy = np.asarray(fitted.transform(vectors), dtype=np.float32)
    yield Progress(1, 1, "placed")
    return xy


def place_points_job(projection: Projection, vectors: np.ndarray) -> Job[np.ndarray]:
    """Positions (M, 2) float32 in ``projection``'s map of new embedding vectors
    (M, D), without recomputing the map (UMAP's and openTSNE's ``transform``; PCA's
    axes)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or not len(vectors):
        raise UserError(f"new objects must be a non-empty (M, D) array, not shape {vectors.shape}")
    if not np.isfinite(vectors).all():
        raise UserError("the new objects' vectors contain NaN or infinite values")
    if projection.model is None:
        raise UserError(f"this {projection.method.upper()} map cannot place new objects "
                        "(its model was not kept): compute the map again")
    dim = projection.config.get("dim")
    if dim is not None and vectors.shape[1] != dim:
        raise UserError(f"the new objects have {vectors.shape[1]} dimensions; the map was "
                        f"made from {dim}")
    if projection.method == "pca":
        with np.load(io.BytesIO(projection.model)) as saved:
            mean, axes = saved["mean"], saved["axes"]
        yield Progress(1, 1, "placed")
        return ((vectors - mean) @ axes).astype(np.float32)
    warm = (_UMAP_WARM_KEY, warm_umap) if projection.method == "umap" else None
    return (yield from run_in_process(_place_in_child, projection.method, projection.model,
                                      vectors, warm=warm))
