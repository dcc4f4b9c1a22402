import numpy as np
import pytest

from astroexplorer.analysis.clustering import ClusterResult, cluster_subsets, hdbscan_job
from astroexplorer.cli import main
from astroexplorer.core.errors import UserError
from astroexplorer.jobs import Progress, run_sync

SIZES = (300, 200, 100)


def blobs(dim=8, seed=0):
    """Three well separated Gaussian blobs of SIZES rows, shuffled; returns x, truth."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10.0, size=(len(SIZES), dim))
    x = np.concatenate([c + rng.normal(size=(m, dim)) for c, m in zip(centres, SIZES)])
    truth = np.repeat(np.arange(len(SIZES)), SIZES)
    perm = rng.permutation(len(x))
    return x[perm].astype(np.float32), truth[perm]


def test_finds_planted_clusters_numbered_by_size_with_progress():
    x, truth = blobs()
    reports = []
    result = run_sync(hdbscan_job(x, min_cluster_size=20, seed=0), reports.append)
    assert isinstance(result, ClusterResult)
    assert result.labels.shape == (len(x),) and result.labels.dtype == np.int32
    assert result.probabilities.shape == (len(x),) and result.probabilities.dtype == np.float32
    assert result.n_clusters == 3 and list(result.sizes) == [0, 1, 2]
    # Cluster 0 is the largest planted blob, and so on; almost no row is noise.
    for cluster, blob in enumerate(range(3)):
        members = result.labels[truth == blob]
        assert np.mean(members == cluster) > 0.95
    assert result.n_noise == int((result.labels == -1).sum()) < 0.05 * len(x)
    assert list(result.sizes.values()) == sorted(result.sizes.values(), reverse=True)
    assert np.all((result.probabilities >= 0) & (result.probabilities <= 1))
    assert np.all(result.probabilities[result.labels == -1] == 0)
    assert all(isinstance(r, Progress) for r in reports) and reports[-1].fraction == 1.0
    assert result.config["reduced"] is None and result.config["min_cluster_size"] == 20


def test_nan_rows_are_noise_and_reported():
    x, _ = blobs()
    x[[4, 9]] = np.nan
    x[11, 2] = np.inf
    result = run_sync(hdbscan_job(x, min_cluster_size=20))
    assert result.n_nonfinite == 3
    assert np.all(result.labels[[4, 9, 11]] == -1)
    assert np.all(result.probabilities[[4, 9, 11]] == 0)
    assert result.n_clusters == 3


def test_reproducible_and_large_n_goes_through_pca():
    x, truth = blobs(dim=24, seed=1)
    a = run_sync(hdbscan_job(x, min_cluster_size=20, seed=3, pca_dim=4, pca_above_rows=100))
    b = run_sync(hdbscan_job(x, min_cluster_size=20, seed=3, pca_dim=4, pca_above_rows=100))
    np.testing.assert_array_equal(a.labels, b.labels)
    assert "PCA 24 -> 4" in a.config["reduced"]
    assert a.n_clusters == 3
    assert np.mean(a.labels[truth == 0] == 0) > 0.95


def test_sampled_fit_assigns_the_other_rows_to_their_nearest_cluster():
    x, truth = blobs(seed=4)
    x[[0, 1]] = np.nan
    reports = []
    a = run_sync(hdbscan_job(x, min_cluster_size=40, seed=2, max_fit_rows=150), reports.append)
    assert "fitted on 150 random rows (min cluster size 10)" in a.config["subsample"]
    assert any("assigning the other rows" in r.message for r in reports)
    assert a.n_clusters == 3 and a.n_nonfinite == 2 and np.all(a.labels[[0, 1]] == -1)
    for cluster in range(3):
        assert np.mean(a.labels[truth == cluster] == cluster) > 0.9
    # Sizes count every row, sampled or assigned.
    assert sum(a.sizes.values()) + a.n_noise == len(x)
    b = run_sync(hdbscan_job(x, min_cluster_size=40, seed=2, max_fit_rows=150))
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)


def test_cosine_groups_directions():
    rng = np.random.default_rng(2)
    dirs = rng.normal(size=(2, 6))
    # Same direction, very different lengths: one cosine cluster per direction.
    x = np.concatenate([d * rng.uniform(1, 50, (150, 1)) + rng.normal(scale=0.05, size=(150, 6))
                        for d in dirs]).astype(np.float32)
    result = run_sync(hdbscan_job(x, min_cluster_size=20, metric="cosine"))
    assert result.n_clusters == 2
    assert len(set(result.labels[:150].tolist()) - {-1}) == 1


def test_cluster_subsets_ordered_by_size_noise_last():
    labels = np.array([1, -1, 0, 1, 2, 1, 0, -1, 2, 2, 2], dtype=np.int32)
    subsets = cluster_subsets(labels)
    assert list(subsets) == ["cluster 2", "cluster 1", "cluster 0", "noise"]
    np.testing.assert_array_equal(subsets["cluster 2"], [4, 8, 9, 10])
    np.testing.assert_array_equal(subsets["noise"], [1, 7])
    assert sum(len(v) for v in subsets.values()) == len(labels)
    assert list(cluster_subsets(np.zeros(3, dtype=np.int64))) == ["cluster 0"]
    with pytest.raises(UserError, match="integer"):
        cluster_subsets(np.array([0.5, 1.0]))


@pytest.mark.parametrize("bad, kwargs, match", [
    (np.ones(10), {}, "2-D"),
    (np.ones((10, 3)), {"min_cluster_size": 1}, "at least 2"),
    (np.ones((10, 3)), {"min_cluster_size": 20}, "at least 20 objects"),
    (np.full((40, 3), np.nan), {"min_cluster_size": 5}, "not 0"),
    (np.ones((10, 3)), {"metric": "manhattan"}, "unknown metric"),
    (np.ones((10, 3)), {"min_cluster_size": 5, "min_samples": 0}, "min_samples"),
])
def test_user_errors(bad, kwargs, match):
    with pytest.raises(UserError, match=match):
        run_sync(hdbscan_job(bad, **kwargs))


def test_cli_cluster_writes_labels_and_prints_sizes(tmp_path, capsys):
    x, truth = blobs()
    emb = tmp_path / "emb.npy"
    np.save(emb, x)
    out = tmp_path / "labels.npy"
    assert main(["cluster", str(emb), "--out", str(out), "--min-cluster-size", "20",
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "3 clusters" in printed and "cluster 0: " in printed
    labels = np.load(out)
    assert labels.dtype == np.int32 and labels.shape == (len(x),)
    assert np.mean(labels[truth == 0] == 0) > 0.95
    # No overwrite without consent; with it, the same labels.
    assert main(["cluster", str(emb), "--out", str(out), "--quiet"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["cluster", str(emb), "--out", str(out), "--min-cluster-size", "20",
                 "--overwrite", "--quiet"]) == 0
    np.testing.assert_array_equal(np.load(out), labels)


@pytest.mark.parametrize("array, args, match", [
    (np.ones(30, dtype=np.float32), [], "2-D"),
    (np.ones((10, 3), dtype=np.float32), ["--min-cluster-size", "50"], "at least 50 objects"),
    (None, [], "no such embedding"),
])
def test_cli_cluster_user_errors_name_the_file(tmp_path, capsys, array, args, match):
    emb = tmp_path / "emb.npy"
    if array is not None:
        np.save(emb, array)
    out = tmp_path / "labels.npy"
    assert main(["cluster", str(emb), "--out", str(out), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert match in err and "emb" in err and "Traceback" not in err
    assert not out.exists()
