import numpy as np
import pytest

from astroexplorer.analysis.embedding import cached_embedding_job, embedding_cache_key
from astroexplorer.analysis.embedding_cache import (
    EmbeddingCache,
    cache_dir,
    cache_key,
    fingerprint_images,
    fingerprint_lightcurves,
)
from astroexplorer.core import ArrayImageSource, Catalogue, Embedding
from astroexplorer.core.errors import UserError
from astroexplorer.jobs.base import run_sync
from tests.helpers import make_small_catalogue


def test_fingerprints_change_with_the_data_and_only_with_it():
    cat = make_small_catalogue()
    same = make_small_catalogue()
    assert fingerprint_images(cat.images) == fingerprint_images(same.images)
    assert fingerprint_lightcurves(cat.lightcurves) == fingerprint_lightcurves(same.lightcurves)
    cube = cat.images.get_many(np.arange(len(cat)))
    cube[len(cat) - 1, 0, 0, 0] += 1.0  # the last row is always in the sample
    assert fingerprint_images(ArrayImageSource(cube, cat.images.bands)) != \
        fingerprint_images(cat.images)
    assert fingerprint_lightcurves(make_small_catalogue(seed=1).lightcurves) != \
        fingerprint_lightcurves(cat.lightcurves)


def test_key_ignores_where_it_runs_but_not_what_is_computed():
    base = cache_key("abc", "simclr", {"epochs": 5, "dim": 32})
    assert base == cache_key("abc", "simclr", {"dim": 32, "epochs": 5, "device": "cuda",
                                               "checkpoint": "/x", "resume": True})
    assert base != cache_key("abc", "simclr", {"epochs": 6, "dim": 32})
    assert base != cache_key("abd", "simclr", {"epochs": 5, "dim": 32})
    assert base != cache_key("abc", "byol", {"epochs": 5, "dim": 32})
    rows = np.arange(3000)
    other = rows.copy()
    other[1500] = 3001  # str() of both arrays is the same "[0 1 2 ... 2999]"
    assert cache_key("abc", "simclr", {"train_rows": rows}) != \
        cache_key("abc", "simclr", {"train_rows": other})
    assert cache_key("abc", "simclr", {"train_rows": rows}) == \
        cache_key("abc", "simclr", {"train_rows": rows.copy()})


def test_round_trip_and_unreadable_entries(tmp_path):
    cache = EmbeddingCache(tmp_path)
    emb = Embedding(np.arange(12, dtype=np.float32).reshape(4, 3), "pca", {"dim": 3, "x": [1, 2]})
    path = cache.put("k1", emb)
    assert path == tmp_path / "k1.npz" and not list(tmp_path.glob(".*"))
    back = cache.get("k1")
    assert np.array_equal(back.vectors, emb.vectors) and back.method == "pca"
    assert back.config == {"dim": 3, "x": [1, 2], "cache_key": "k1", "from_cache": True}
    assert cache.get("missing") is None
    (tmp_path / "broken.npz").write_bytes(b"garbage")
    assert cache.get("broken") is None  # recomputed, never a crash


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTROEXPLORER_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    assert EmbeddingCache().folder == tmp_path / "c"


def test_cached_job_computes_once_then_returns_the_stored_embedding(tmp_path):
    cat = make_small_catalogue()
    cache = EmbeddingCache(tmp_path)
    first = run_sync(cached_embedding_job("pca", cat, cache, dim=4))
    key = embedding_cache_key("pca", cat, {"dim": 4})
    assert first.config["cache_key"] == key and cache.path(key).exists()
    messages = []
    again = run_sync(cached_embedding_job("pca", cat, cache, dim=4),
                     lambda p: messages.append(p.message))
    assert messages == ["embedding found in the cache"]
    assert np.array_equal(again.vectors, first.vectors)
    other = run_sync(cached_embedding_job("pca", cat, cache, dim=3))
    assert other.vectors.shape[1] == 3 and len(list(tmp_path.glob("*.npz"))) == 2


def test_learned_methods_checkpoint_next_to_the_cache_entry(tmp_path):
    pytest.importorskip("torch")
    cat = make_small_catalogue(n=16)
    cache = EmbeddingCache(tmp_path)
    opts = {"epochs": 1, "batch_size": 8, "dim": 4, "width": 4}
    emb = run_sync(cached_embedding_job("simclr", cat, cache, **opts))
    key = emb.config["cache_key"]
    assert cache.checkpoint_path(key).exists()
    assert emb.config["checkpoint"] == str(cache.checkpoint_path(key))
    # The same request on another device is the same embedding: found, not retrained.
    messages = []
    again = run_sync(cached_embedding_job("simclr", cat, cache, device="cpu", **opts),
                     lambda p: messages.append(p.message))
    assert messages == ["embedding found in the cache"]
    assert np.array_equal(again.vectors, emb.vectors)


def test_no_data_for_the_method_is_a_user_error(tmp_path):
    cat = make_small_catalogue()
    bare = Catalogue(cat.table, name="bare")
    with pytest.raises(UserError, match="no cutouts"):
        cached_embedding_job("pca", bare, EmbeddingCache(tmp_path))
