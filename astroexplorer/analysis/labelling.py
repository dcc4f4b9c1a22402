"""Active labelling as in Astronomaly: the user scores objects, a model re-ranks the rest.

The user rates objects while browsing, on a 0-5 interest scale ("interesting" = 5,
"not" = 0 are one-key shortcuts); :class:`InterestLabels` keeps those scores as a
float32 column, NaN where unlabelled, saved with the session and exported.

:func:`rank_interest` fits a random forest regressor on the embedding of the labelled
rows and predicts every row's interest. Given anomaly scores, it combines them as
Astronomaly does (Lochner & Bassett 2021, Astronomy and Computing 36, 100481, eq. 3)::

    S' = S * tanh(exp(alpha * d / mean(d)) - 1 + arctanh(0.1 + 0.85 * U / 5))

where ``S`` is the anomaly score rescaled to [0, 5], ``U`` the predicted user score
(0-5) and ``d`` each object's euclidean distance (in the embedding) to its nearest
labelled object. Near labelled objects (``d`` small) the anomaly score is scaled by
the predicted relevance (a factor from 0.1 to 0.95); far from any label the factor
tends to 1 and the anomaly score alone decides, so unexplored regions still surface.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.errors import UserError
from ..jobs.base import Job, Progress, run_sync

__all__ = ["InterestLabels", "MAX_SCORE", "INTERESTING", "NOT_INTERESTING", "KEY_SCORES",
           "rank_interest", "rank_interest_job"]

#: The interest scale runs from 0 (not interesting) to MAX_SCORE.
MAX_SCORE = 5.0
INTERESTING = 5.0
NOT_INTERESTING = 0.0
#: Keyboard shortcuts of the labelling front ends: digits give a score, "i" marks
#: interesting and "n" not interesting.
KEY_SCORES = {**{str(i): float(i) for i in range(6)}, "i": INTERESTING, "n": NOT_INTERESTING}

_WORDS = {"interesting": INTERESTING, "not": NOT_INTERESTING}
_BATCH = 16_384


def _score(score: float | str) -> float:
    if isinstance(score, str):
        if score.lower() not in _WORDS:
            raise UserError(f"unknown label {score!r}; use a score from 0 to 5, "
                            f"'interesting' or 'not'")
        return _WORDS[score.lower()]
    value = float(score)
    if not 0.0 <= value <= MAX_SCORE:  # also rejects NaN
        raise UserError(f"an interest score must be between 0 and 5, not {score}")
    return value


class InterestLabels:
    """The user's interest scores of N objects, NaN where unlabelled.

    Parameters
    ----------
    n : int
        Number of objects (catalogue rows).
    """

    def __init__(self, n: int) -> None:
        n = int(n)
        if n < 0:
            raise UserError(f"the number of objects cannot be negative ({n})")
        self._scores = np.full(n, np.nan, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._scores)

    def _rows(self, row: int | Sequence[int] | np.ndarray) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(row))
        if rows.size and (rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer)):
            raise UserError("rows to label must be integer row indices")
        rows = rows.astype(np.int64)
        bad = rows[(rows < 0) | (rows >= len(self))]
        if bad.size:
            raise UserError(f"row {int(bad[0])} is out of range; there are rows 0 to "
                            f"{len(self) - 1}")
        return rows

    def set(self, row: int | Sequence[int] | np.ndarray, score: float | str) -> None:
        """Label one row (or several) with ``score``: a number from 0 to 5, or
        ``"interesting"`` (5) / ``"not"`` (0)."""
        self._scores[self._rows(row)] = _score(score)

    def clear(self, row: int | Sequence[int] | np.ndarray) -> None:
        """Forget the label of one row (or several)."""
        self._scores[self._rows(row)] = np.nan

    def get(self, row: int) -> float | None:
        """The score of ``row``, or None when unlabelled."""
        value = self._scores[self._rows(row)[0]]
        return None if np.isnan(value) else float(value)

    def labelled_rows(self) -> np.ndarray:
        """Rows with a label, ascending, shape (m,) int64."""
        return np.flatnonzero(~np.isnan(self._scores))

    def as_column(self) -> np.ndarray:
        """A copy of the scores for the table or an export: shape (N,) float32, NaN where
        unlabelled."""
        return self._scores.copy()

    @classmethod
    def from_column(cls, values: np.ndarray, source: str = "the labels column") -> InterestLabels:
        """Restore labels saved with :meth:`as_column` (e.g. from a session).

        Parameters
        ----------
        values : array-like, shape (N,)
            Scores from 0 to 5, NaN where unlabelled.
        source : str
            Where the values came from, for error messages (a file name).

        Raises
        ------
        UserError
            For a non-1-D array, non-numbers, or scores outside 0-5 (infinities included).
        """
        values = np.asarray(values)
        if values.ndim != 1:
            raise UserError(f"{source} must be a 1-D array of scores, not shape {values.shape}")
        if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
            raise UserError(f"{source} must hold numbers (0-5, NaN = unlabelled), "
                            f"not {values.dtype}")
        values = values.astype(np.float32)
        bad = ~np.isnan(values) & ~((values >= 0) & (values <= MAX_SCORE))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise UserError(f"{source} holds {values[row]} at row {row}; scores must be "
                            f"from 0 to 5, or NaN where unlabelled")
        labels = cls(len(values))
        labels._scores[:] = values
        return labels


def _rescale(scores: np.ndarray) -> np.ndarray:
    """Finite scores mapped linearly onto [0, MAX_SCORE] (all MAX_SCORE when constant)."""
    lo, hi = np.nanmin(scores), np.nanmax(scores)
    if not hi > lo:
        return np.where(np.isnan(scores), np.nan, MAX_SCORE)
    return (scores - lo) / (hi - lo) * MAX_SCORE


def rank_interest_job(vectors: np.ndarray, labels: InterestLabels | np.ndarray,
                      anomaly_scores: np.ndarray | None = None, seed: int = 0,
                      n_estimators: int = 100, alpha: float = 1.0) -> Job[np.ndarray]:
    """Predicted interest of every object, as a job; see :func:`rank_interest`."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.neighbors import NearestNeighbors

    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[1] == 0 or not (
            np.issubdtype(vectors.dtype, np.floating) or np.issubdtype(vectors.dtype, np.integer)):
        raise UserError(f"an embedding must be a 2-D (N, D) array of numbers, not "
                        f"{vectors.dtype} of shape {vectors.shape}")
    n = len(vectors)
    if not isinstance(labels, InterestLabels):
        labels = InterestLabels.from_column(labels, "the labels")
    if len(labels) != n:
        raise UserError(f"the labels have {len(labels)} rows but the embedding has {n}")
    anomaly = None
    if anomaly_scores is not None:
        anomaly = np.asarray(anomaly_scores, dtype=np.float64)
        if anomaly.shape != (n,):
            raise UserError(f"the anomaly scores must have shape ({n},) like the embedding's "
                            f"rows, not {anomaly.shape}")
    x = vectors.astype(np.float32, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.isfinite(x).all(axis=1)
    # Rows scored; labelled rows train the model even where their anomaly score is NaN.
    good = finite & np.isfinite(anomaly) if anomaly is not None else finite
    if not good.any():
        raise UserError("no object has a finite embedding" + (
            " and a finite anomaly score" if anomaly is not None else "") + ", so none can be ranked")
    y = labels.as_column()
    train = np.flatnonzero(finite & ~np.isnan(y))
    out = np.full(n, np.nan)
    if train.size == 0:
        if anomaly is None:
            raise UserError("no object with a finite embedding is labelled and no anomaly "
                            "scores were given, so there is nothing to rank by")
        yield Progress(1, 1, "no labels yet: ranking by anomaly score alone")
        out[good] = _rescale(anomaly[good])
        return out
    rows = np.flatnonzero(good)
    total = len(rows) // _BATCH + 3
    yield Progress(0, total, f"fitting a random forest on {train.size} labelled objects")
    model = RandomForestRegressor(n_estimators=int(n_estimators), random_state=seed, n_jobs=1)
    model.fit(x[train], y[train])
    predicted = np.empty(len(rows))
    for step, start in enumerate(range(0, len(rows), _BATCH)):
        predicted[start:start + _BATCH] = model.predict(x[rows[start:start + _BATCH]])
        yield Progress(step + 1, total, f"predicting interest: {min(start + _BATCH, len(rows))}"
                                        f"/{len(rows)}")
    if anomaly is None:
        out[rows] = predicted
        yield Progress(total, total, "interest ranking done")
        return out
    yield Progress(total - 1, total, "distances to the nearest labelled object")
    nn = NearestNeighbors(n_neighbors=1).fit(x[train])
    dist = np.empty(len(rows))
    for start in range(0, len(rows), _BATCH):
        dist[start:start + _BATCH] = nn.kneighbors(x[rows[start:start + _BATCH]])[0][:, 0]
    mean = dist.mean()
    penalty = np.exp(alpha * dist / mean) if mean > 0 else np.ones_like(dist)
    relevance = 0.1 + 0.85 * np.clip(predicted, 0.0, MAX_SCORE) / MAX_SCORE
    out[rows] = _rescale(anomaly[rows]) * np.tanh(penalty - 1.0 + np.arctanh(relevance))
    yield Progress(total, total, "interest ranking done (anomaly score x predicted relevance)")
    return out


def rank_interest(vectors: np.ndarray, labels: InterestLabels | np.ndarray,
                  anomaly_scores: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """Predicted interest of every object from the user's labels (higher = more interesting).

    Parameters
    ----------
    vectors : ndarray, shape (N, D)
        The embedding the model learns on.
    labels : InterestLabels or ndarray, shape (N,)
        Scores 0-5, NaN where unlabelled.
    anomaly_scores : ndarray, shape (N,), optional
        Higher = more anomalous (any scale). When given, the result is Astronomaly's
        combined score (module docstring, Lochner & Bassett 2021 eq. 3).
    seed : int
        Seeds the random forest; same inputs and seed give the same ranking.

    Returns
    -------
    ndarray, shape (N,) float64
        Without anomaly scores: the predicted user score (0-5). With them: the
        combined score (0-5); with no labels yet, the anomaly score rescaled
        linearly to 0-5. NaN for rows whose vector (or anomaly score) is not finite.
        Labelled rows are scored too; front ends usually list the unlabelled ones.

    Raises
    ------
    UserError
        For shapes that disagree, scores outside 0-5, or neither a label nor anomaly
        scores to rank by.
    """
    return run_sync(rank_interest_job(vectors, labels, anomaly_scores, seed=seed))
