import numpy as np
import pytest

from astroexplorer.analysis import embedding_job, projection_job
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


def test_umap_projection_in_worker_process():
    x, labels = blobs()
    p = run_sync(projection_job("umap", x, n_neighbors=10, seed=1))
    assert p.xy.shape == (len(x), 2) and np.isfinite(p.xy).all()
    assert p.config["seed"] == 1
    assert nearest_neighbour_agreement(p.xy, labels) > 0.95


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
