import numpy as np
import pytest
from scipy.spatial.distance import cdist

from astroexplorer.analysis.neighbours import (
    ApproximateNeighbourIndex,
    NeighbourIndex,
    approximate_index_job,
    find_similar,
    recall_at_k,
)
from astroexplorer.core.errors import UserError
from astroexplorer.jobs import Progress, run_sync


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


# Approximate index (pynndescent). Its graph build JIT-compiles on first use in a
# process, so one module-scoped index per metric is shared by the tests below.

def mixture(n=3000, dim=32, seed=3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(12, dim))
    x = centres[rng.integers(0, 12, n)] + rng.normal(size=(n, dim))
    x[[5, 77]] = np.nan  # never returned
    return x.astype(np.float32)


@pytest.fixture(scope="module", params=["euclidean", "cosine"])
def ann(request):
    x = mixture()
    reports = []
    index = run_sync(approximate_index_job(x, request.param, seed=0), reports.append)
    return x, index, reports


def test_approximate_index_is_a_job_with_progress(ann):
    x, index, reports = ann
    assert isinstance(index, ApproximateNeighbourIndex) and len(index) == len(x)
    assert all(isinstance(r, Progress) for r in reports) and len(reports) >= 3
    assert reports[-1].fraction == 1.0
    assert "pynndescent" in reports[0].message


def test_approximate_recall_against_exact_and_exact_distances(ann):
    x, index, _ = ann
    exact = NeighbourIndex(x, index.metric)
    queries = np.random.default_rng(0).choice(np.flatnonzero(np.isfinite(x).all(1)), 50,
                                              replace=False)
    recall = recall_at_k(exact, index, queries, k=10)
    assert 0.9 <= recall <= 1.0
    for row in queries[:5]:
        rows, dist = index.query(int(row), k=10)
        assert len(rows) == 10 and int(row) not in rows
        assert not {5, 77} & set(rows.tolist())
        assert np.all(np.diff(dist) >= 0)
        ref = brute(x, x[row], index.metric, exclude=[row])
        np.testing.assert_allclose(dist, ref[rows], rtol=1e-6, atol=1e-9)
        # The approximate k-th distance is never below the exact k-th distance.
        assert dist[-1] >= np.sort(ref)[9] - 1e-9


def test_approximate_selection_query_and_inclusion(ann):
    x, index, _ = ann
    sel = [3, 10, 17]
    rows, _ = index.query(sel, k=8)
    assert not set(sel) & set(rows.tolist())
    # Rows from different clusters: their mean lies between clusters, so the
    # selection is answered exactly.
    exact_rows, _ = NeighbourIndex(x, index.metric).query(sel, k=8)
    np.testing.assert_array_equal(rows, exact_rows)
    rows, dist = index.query([42], k=3, exclude_query=False)
    assert rows[0] == 42 and dist[0] == pytest.approx(0.0, abs=1e-6)


def test_approximate_user_errors(ann):
    x, index, _ = ann
    with pytest.raises(UserError, match="at least 1"):
        index.query([0], k=0)
    with pytest.raises(UserError, match="out of range"):
        index.query([len(x)])
    with pytest.raises(UserError, match="nothing to search from"):
        index.query([5])
    with pytest.raises(UserError, match="same embedding"):
        recall_at_k(NeighbourIndex(x[:100], index.metric), index, [0])
    with pytest.raises(UserError, match="at least 2"):
        ApproximateNeighbourIndex(np.full((4, 3), np.nan, dtype=np.float32))
