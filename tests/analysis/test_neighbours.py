import numpy as np
import pytest
from scipy.spatial.distance import cdist

from astroexplorer.analysis.neighbours import NeighbourIndex, find_similar
from astroexplorer.core.errors import UserError


def blobs(n_per=200, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5.0, size=(3, dim))
    x = np.concatenate([c + rng.normal(size=(n_per, dim)) for c in centres]).astype(np.float32)
    return x, np.repeat(np.arange(3), n_per)


def brute(x, q, metric, exclude=()):
    d = cdist(q[None, :].astype(np.float64), x.astype(np.float64), metric)[0]
    d[list(exclude)] = np.inf
    d[~np.isfinite(d)] = np.inf
    return d


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("chunk", [64, 262_144])
def test_single_row_matches_brute_force_and_excludes_query(metric, chunk):
    x, labels = blobs()
    index = NeighbourIndex(x, metric, chunk_rows=chunk)
    for row in (0, 250, 599):
        rows, dist = index.query(row, k=15)
        ref = brute(x, x[row], metric, exclude=[row])
        assert row not in rows
        np.testing.assert_array_equal(rows, np.argsort(ref, kind="stable")[:15])
        np.testing.assert_allclose(dist, ref[rows], rtol=1e-6, atol=1e-9)
        assert np.all(np.diff(dist) >= 0)
        assert np.all(labels[rows] == labels[row])


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_several_rows_search_from_their_mean(metric):
    x, _ = blobs()
    sel = [3, 10, 17, 250]
    v = x[sel].astype(np.float64)
    if metric == "cosine":
        v /= np.linalg.norm(v, axis=1, keepdims=True)
    ref = brute(x, v.mean(axis=0), metric, exclude=sel)
    rows, dist = find_similar(x, sel, k=8, metric=metric)
    assert not set(rows) & set(sel)
    np.testing.assert_array_equal(rows, np.argsort(ref, kind="stable")[:8])
    np.testing.assert_allclose(dist, ref[rows], rtol=1e-6, atol=1e-9)


def test_query_row_included_when_asked():
    x, _ = blobs()
    rows, dist = find_similar(x, [42], k=3, exclude_query=False)
    assert rows[0] == 42 and dist[0] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_nan_and_zero_rows_never_returned(metric):
    x, _ = blobs(n_per=10)
    x[[1, 2, 5]] = np.nan
    x[3, 0] = np.inf
    x[4] = 0.0  # no direction: never a cosine neighbour
    rows, dist = NeighbourIndex(x, metric, chunk_rows=7).query([0], k=len(x))
    assert not {1, 2, 3, 5} & set(rows.tolist())
    assert np.isfinite(dist).all()
    expected = len(x) - 6 if metric == "cosine" else len(x) - 5
    assert len(rows) == expected
    # A selection that contains a NaN row searches from its other rows.
    r2, _ = find_similar(x, [0, 1], k=5, metric=metric)
    r1, _ = find_similar(x, [0], k=6, metric=metric)
    np.testing.assert_array_equal(r2, [r for r in r1 if r != 1][:5])


@pytest.mark.parametrize("bad, kwargs, match", [
    (np.zeros((5, 3)), {"query_rows": []}, "empty"),
    (np.ones((5, 3)), {"query_rows": [0], "k": 0}, "at least 1"),
    (np.ones((5, 3)), {"query_rows": [5]}, "out of range"),
    (np.ones((5, 3)), {"query_rows": [-1]}, "out of range"),
    (np.ones(5), {"query_rows": [0]}, "2-D"),
    (np.ones((5, 3)), {"query_rows": [0], "metric": "manhattan"}, "unknown metric"),
    (np.full((5, 3), np.nan), {"query_rows": [0]}, "nothing to search from"),
    (np.ones((5, 3)), {"query_rows": [0.5]}, "integer"),
])
def test_user_errors(bad, kwargs, match):
    with pytest.raises(UserError, match=match):
        find_similar(bad, **kwargs)


def test_euclidean_exact_for_data_far_from_the_origin():
    x, _ = blobs(dim=32)
    x = (x * 0.01 + 3e3).astype(np.float32)  # |x|^2 ~ 3e8: float32 |x|^2 - 2x.q would scramble
    for row in (1, 300):
        rows, dist = find_similar(x, row, k=20)
        ref = brute(x, x[row], "euclidean", exclude=[row])
        np.testing.assert_array_equal(rows, np.argsort(ref, kind="stable")[:20])
        np.testing.assert_allclose(dist, ref[rows], rtol=1e-6)
