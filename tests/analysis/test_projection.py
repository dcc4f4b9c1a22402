import numpy as np
import pytest

from astroexplorer.analysis import embedding_job, projection_job
from astroexplorer.analysis.projection import place_points_job, trustworthiness_of
from astroexplorer.core.errors import UserError
from astroexplorer.jobs import run_sync
from tests.helpers import make_small_catalogue


def blobs(n_per=60, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0] * 8, [6] * 8, [0, 6] * 4])
    x = np.concatenate([c + rng.normal(size=(n_per, 8)) for c in centres]).astype(np.float32)
    return x, np.repeat(np.arange(3), n_per)


def nearest_neighbour_agreement(xy, labels):
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return float(np.mean(labels[d.argmin(1)] == labels))


def test_pca_projection_separates_blobs_and_is_deterministic():
    x, labels = blobs()
    a = run_sync(projection_job("pca", x))
    b = run_sync(projection_job("pca", x.copy()))
    assert a.xy.shape == (len(x), 2) and a.xy.dtype == np.float32
    np.testing.assert_allclose(a.xy, b.xy)
    assert nearest_neighbour_agreement(a.xy, labels) > 0.95


def test_umap_projection_in_worker_process_places_new_points_and_is_reproducible():
    x, labels = blobs()
    p = run_sync(projection_job("umap", x, n_neighbors=10, seed=1))
    assert p.xy.shape == (len(x), 2) and np.isfinite(p.xy).all()
    assert p.config["seed"] == 1 and p.config["trustworthiness"] > 0.9
    assert nearest_neighbour_agreement(p.xy, labels) > 0.95
    # Same seed, same map (the warm worker is reused, which must not change it).
    again = run_sync(projection_job("umap", x, n_neighbors=10, seed=1))
    np.testing.assert_allclose(again.xy, p.xy, atol=1e-4)
    _check_placement(p, x, labels)


def _check_placement(p, x, labels):
    """New points from each blob land among that blob's points in the map."""
    new, new_labels = blobs(n_per=5, seed=7)
    xy = run_sync(place_points_job(p, new))
    assert xy.shape == (len(new), 2) and xy.dtype == np.float32
    d = ((xy[:, None, :] - p.xy[None, :, :]) ** 2).sum(-1)
    assert np.mean(labels[d.argmin(1)] == new_labels) > 0.9
    with pytest.raises(UserError, match="dimensions"):
        run_sync(place_points_job(p, new[:, :4]))


def test_tsne_projection_separates_blobs_places_new_points_and_is_reproducible():
    x, labels = blobs()
    seen = []
    p = run_sync(projection_job("tsne", x, perplexity=20, seed=3, n_iter=250), seen.append)
    assert p.method == "tsne" and p.xy.shape == (len(x), 2)
    assert nearest_neighbour_agreement(p.xy, labels) > 0.95
    assert p.config["trustworthiness"] > 0.9 and p.config["backend"] == "openTSNE"
    assert any("iteration 50 of 500" in s.message for s in seen)  # progress per 50 iterations
    again = run_sync(projection_job("tsne", x, perplexity=20, seed=3, n_iter=250))
    np.testing.assert_allclose(again.xy, p.xy, atol=1e-3)
    _check_placement(p, x, labels)


def test_pca_map_places_new_points_exactly_and_reports_trustworthiness():
    x, labels = blobs()
    p = run_sync(projection_job("pca", x))
    assert 0.9 < p.config["trustworthiness"] <= 1.0
    np.testing.assert_allclose(run_sync(place_points_job(p, x[:7])), p.xy[:7], atol=1e-4)
    _check_placement(p, x, labels)


def test_trustworthiness_tells_a_good_map_from_a_random_one():
    x, _ = blobs()
    good = run_sync(projection_job("pca", x)).xy
    shuffled = np.random.default_rng(0).permutation(good)
    assert trustworthiness_of(x, good) > trustworthiness_of(x, shuffled) + 0.2


@pytest.mark.parametrize("options, match", [
    ({"metric": "manhattan"}, "unknown metric"),
    ({"min_dist": 2.0}, "min_dist"),
    ({"n_neighbors": 1}, "n_neighbors"),
    ({"backend": "cuml"}, "cuML"),
])
def test_umap_rejects_bad_options(options, match):
    x, _ = blobs()
    with pytest.raises(UserError, match=match):
        run_sync(projection_job("umap", x, **options))


def test_placing_into_a_map_without_model_is_refused():
    x, _ = blobs()
    p = run_sync(projection_job("pca", x))
    p.model = None
    with pytest.raises(UserError, match="cannot place"):
        run_sync(place_points_job(p, x[:3]))


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 4)), "at least 3"),
    (np.zeros(5), "2-D"),
    (np.array([[1.0, np.nan]] * 5), "NaN"),
])
def test_projection_rejects_bad_embeddings(bad, match):
    with pytest.raises(UserError, match=match):
        run_sync(projection_job("pca", bad))


def test_unknown_method_is_user_error():
    with pytest.raises(UserError, match="unknown projection method"):
        projection_job("tsne-typo", np.zeros((5, 2)))


def test_pca_pixels_embedding_aligned_with_rows():
    cat = make_small_catalogue()
    emb = run_sync(embedding_job("pca", cat, dim=4))
    assert emb.vectors.shape == (len(cat), 4) and emb.vectors.dtype == np.float32
    assert np.isfinite(emb.vectors).all()
    assert emb.method == "pca"


def test_pca_pixels_survives_nan_pixels():
    cat = make_small_catalogue()
    cat.images._data[5, :, :4, :4] = np.nan
    emb = run_sync(embedding_job("pca", cat, dim=3))
    assert np.isfinite(emb.vectors).all()


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_trustworthiness_equals_scikit_learns(metric):
    from sklearn.manifold import trustworthiness

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 12))
    xy = x[:, :2] + rng.normal(scale=0.5, size=(300, 2))
    assert trustworthiness_of(x, xy, metric=metric) == pytest.approx(
        trustworthiness(x, xy, n_neighbors=10, metric=metric), abs=1e-12)
