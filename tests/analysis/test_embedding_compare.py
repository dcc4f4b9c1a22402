import numpy as np
import pytest

from astroexplorer.analysis.embedding_compare import knn_label_scores, shared_neighbours


def knn_label_accuracy(vectors, labels, **kwargs) -> float:
    return knn_label_scores(vectors, labels, **kwargs)[0]


def _clusters(n_per: int = 60, d: int = 8, spread: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (3, d))
    labels = np.repeat(np.array(["a", "b", "c"], dtype=object), n_per)
    x = centres[np.repeat(np.arange(3), n_per)] + rng.normal(0, spread, (3 * n_per, d))
    return x, labels


def test_knn_accuracy_separates_a_good_embedding_from_noise():
    x, labels = _clusters()
    assert knn_label_accuracy(x, labels) == 1.0
    noise = np.random.default_rng(1).normal(size=x.shape)
    assert knn_label_accuracy(noise, labels) < 0.6


def test_knn_scores_say_which_class_an_embedding_mixes_up():
    x, labels = _clusters()
    x[labels == "c"] = x[labels == "b"] + 0.01  # c sits on top of b: they are confused
    accuracy, by_class = knn_label_scores(x, labels)
    assert list(by_class) == ["a", "b", "c"] and by_class["a"] == 1.0
    assert by_class["b"] + by_class["c"] < 1.5
    assert accuracy == pytest.approx(sum(by_class.values()) / 3)  # equal-sized classes


def test_knn_accuracy_ignores_unknown_labels_and_samples():
    x, labels = _clusters()
    labels = labels.copy()
    labels[:30] = ""
    labels[30:40] = None
    assert knn_label_accuracy(x, labels, sample=50) == 1.0
    with pytest.raises(ValueError, match="only 5 objects have a label"):
        knn_label_accuracy(x[:5], np.array(["a"] * 5, dtype=object))
    with pytest.raises(ValueError, match="labels"):
        knn_label_accuracy(x, labels[:10])


def test_shared_neighbours_is_one_for_the_same_geometry_and_low_for_noise():
    x, _ = _clusters(spread=1.0)
    rotated = x @ np.linalg.qr(np.random.default_rng(2).normal(size=(8, 8)))[0] * 5.0
    assert shared_neighbours(x, x) == 1.0
    # Standardising per dimension changes distances a little after a rotation.
    assert shared_neighbours(x, rotated) > 0.5
    noise = np.random.default_rng(3).normal(size=x.shape)
    assert shared_neighbours(x, noise) < 0.2
    with pytest.raises(ValueError, match="same objects"):
        shared_neighbours(x, x[:10])
