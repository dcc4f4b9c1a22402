"""Figures that compare embeddings of the same objects: how well each groups a known
label, and how much two of them agree on who neighbours whom."""

from __future__ import annotations

import numpy as np

__all__ = ["knn_label_scores", "shared_neighbours"]


def _standardised(vectors: np.ndarray) -> np.ndarray:
    x = np.nan_to_num(np.asarray(vectors, dtype=np.float64))
    std = x.std(0)
    std[std == 0] = 1.0
    return (x - x.mean(0)) / std


def _neighbours(x: np.ndarray, k: int) -> np.ndarray:
    """Indices ``(n, k)`` of each row's k nearest other rows (cosine distance)."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(x)
    idx = nn.kneighbors(x, return_distance=False)
    # Drop each row itself (usually first; duplicates may put it elsewhere).
    own = idx == np.arange(len(x))[:, None]
    own[~own.any(1), -1] = True
    return idx[~own].reshape(len(x), k)


def knn_label_scores(vectors: np.ndarray, labels: np.ndarray, k: int = 10, sample: int = 5000,
                     seed: int = 0) -> tuple[float, dict[str, float]]:
    """Leave-one-out accuracy of a k-nearest-neighbour vote predicting ``labels``,
    overall and within each class.

    Parameters
    ----------
    vectors : ndarray, shape (N, D)
    labels : ndarray, shape (N,)
        Class of each object; empty strings, None and NaN mean "unknown" and are left out.
    k : int
        Neighbours voting (cosine distance on standardised vectors).
    sample : int
        At most this many labelled objects (drawn at random with ``seed``) are used.

    Returns
    -------
    accuracy : float
        Fraction in [0, 1] of sampled objects whose label is the majority label of
        their ``k`` neighbours among the sample (ties go to the first label in sorted order).
    by_class : dict of str to float
        The same fraction among the sampled objects of each class, classes sorted.

    Raises
    ------
    ValueError
        Shapes disagree, or fewer than ``k + 1`` objects are labelled.
    """
    vectors = np.asarray(vectors)
    labels = np.asarray(labels, dtype=object)
    if vectors.ndim != 2 or labels.shape != (vectors.shape[0],):
        raise ValueError(f"need vectors (N, D) and labels (N,), got {vectors.shape} and {labels.shape}")
    known = np.array([v is not None and str(v) not in ("", "nan", "--") for v in labels])
    rows = np.flatnonzero(known)
    if rows.size < k + 1:
        raise ValueError(f"only {rows.size} objects have a label; need at least {k + 1}")
    if rows.size > sample:
        rows = np.sort(np.random.default_rng(seed).choice(rows, sample, replace=False))
    classes, codes = np.unique(labels[rows].astype(str), return_inverse=True)
    idx = _neighbours(_standardised(vectors[rows]), k)
    votes = np.zeros((rows.size, classes.size), dtype=np.int64)
    np.add.at(votes, (np.repeat(np.arange(rows.size), k), codes[idx].ravel()), 1)
    right = votes.argmax(1) == codes
    by_class = {str(c): float(right[codes == i].mean()) for i, c in enumerate(classes)}
    return float(right.mean()), by_class


def shared_neighbours(a: np.ndarray, b: np.ndarray, k: int = 10, sample: int = 2000,
                      seed: int = 0) -> float:
    """Mean fraction of each object's ``k`` nearest neighbours that two embeddings share.

    ``a`` ``(N, D1)`` and ``b`` ``(N, D2)`` embed the same N objects; neighbours are
    found among a random sample of at most ``sample`` objects (cosine distance on
    standardised vectors). 1.0: identical neighbourhoods; about k / sample for
    unrelated embeddings.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"need two embeddings of the same objects, got {a.shape} and {b.shape}")
    n = a.shape[0]
    if n < k + 1:
        raise ValueError(f"need at least {k + 1} objects, got {n}")
    rows = np.arange(n)
    if n > sample:
        rows = np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    na, nb = _neighbours(_standardised(a[rows]), k), _neighbours(_standardised(b[rows]), k)
    shared = [np.intersect1d(x, y, assume_unique=True).size for x, y in zip(na, nb)]
    return float(np.mean(shared) / k)
