import numpy as np
import pytest

from astroexplorer.analysis.anomaly import ANOMALY_METHODS, anomaly_job
from astroexplorer.core.errors import UserError
from astroexplorer.jobs import Progress, run_sync

OUTLIERS = [7, 123, 300, 411, 598]


def blobs_with_outliers(n_per=200, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0] * dim, [8.0] * dim, [0.0, 8.0] * (dim // 2)])
    x = np.concatenate([c + rng.normal(size=(n_per, dim)) for c in centres])
    x[OUTLIERS] = rng.normal(size=(len(OUTLIERS), dim)) * 3 + 25.0 * rng.choice([-1, 1], (
        len(OUTLIERS), dim))
    return x.astype(np.float32)


def test_registry_names():
    assert ANOMALY_METHODS.names() == ["isolation_forest", "lof", "knn_distance"]


@pytest.mark.parametrize("method", ["isolation_forest", "lof", "knn_distance"])
def test_planted_outliers_score_highest(method):
    x = blobs_with_outliers()
    reports = []
    scores = run_sync(anomaly_job(method, x, seed=1), reports.append)
    assert scores.shape == (len(x),) and scores.dtype == np.float64
    assert np.isfinite(scores).all()
    top = set(np.argsort(-scores)[:len(OUTLIERS)].tolist())
    assert top == set(OUTLIERS)
    assert reports and all(isinstance(r, Progress) for r in reports)


@pytest.mark.parametrize("method", ["isolation_forest", "lof", "knn_distance"])
def test_deterministic_by_seed_and_nan_rows_get_nan(method):
    x = blobs_with_outliers()
    x[[5, 50]] = np.nan
    x[60, 2] = np.inf
    a = run_sync(anomaly_job(method, x, seed=3))
    b = run_sync(anomaly_job(method, x.copy(), seed=3))
    np.testing.assert_array_equal(a, b)
    assert np.isnan(a[[5, 50, 60]]).all()
    assert np.isfinite(np.delete(a, [5, 50, 60])).all()


def test_isolation_forest_seed_matters():
    x = blobs_with_outliers()
    a = run_sync(anomaly_job("isolation_forest", x, seed=0))
    b = run_sync(anomaly_job("isolation_forest", x, seed=1))
    assert not np.array_equal(a, b)


def test_knn_distance_is_distance_to_kth_other_object():
    x = np.array([[0.0], [1.0], [3.0], [10.0]], dtype=np.float32)
    messages = []
    scores = run_sync(anomaly_job("knn_distance", x, k=2), lambda p: messages.append(p.message))
    np.testing.assert_allclose(scores, [3.0, 2.0, 3.0, 9.0])
    assert any("exact" in m for m in messages)


def test_knn_distance_approximate_path_says_so():
    x = blobs_with_outliers()
    messages = []
    scores = run_sync(anomaly_job("knn_distance", x, exact=False, k=5),
                      lambda p: messages.append(p.message))
    exact = run_sync(anomaly_job("knn_distance", x, exact=True, k=5))
    assert any("pynndescent" in m for m in messages)
    assert np.corrcoef(scores, exact)[0, 1] > 0.99


@pytest.mark.parametrize("bad, match", [
    (np.zeros(5), "2-D"),
    (np.full((4, 3), np.nan), "at least"),
])
def test_bad_embeddings_are_user_errors(bad, match):
    with pytest.raises(UserError, match=match):
        run_sync(anomaly_job("knn_distance", bad))


def test_unknown_method_is_user_error():
    with pytest.raises(UserError, match="unknown anomaly method"):
        anomaly_job("one_class_svm", np.zeros((5, 2)))
