"""`astroexplorer project`: t-SNE / UMAP / PCA options, placing new objects, bad input."""

import numpy as np
import pytest

from astroexplorer.cli import main


def blobs(n_per: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0] * 6, [8.0] * 6])
    x = np.concatenate([c + rng.normal(size=(n_per, 6)) for c in centres]).astype(np.float32)
    return x, np.repeat([0, 1], n_per)


def test_tsne_map_and_placed_objects(tmp_path, capsys):
    x, labels = blobs(50, 0)
    new, new_labels = blobs(4, 1)
    np.save(tmp_path / "emb.npy", x)
    np.save(tmp_path / "new.npy", new)
    code = main(["project", str(tmp_path / "emb.npy"), "--method", "tsne", "--perplexity", "15",
                 "--out", str(tmp_path / "map.npy"), "--place", str(tmp_path / "new.npy"),
                 "--place-out", str(tmp_path / "new_xy.npy"), "--seed", "2"])
    assert code == 0
    xy, placed = np.load(tmp_path / "map.npy"), np.load(tmp_path / "new_xy.npy")
    assert xy.shape == (100, 2) and placed.shape == (8, 2)
    nearest = ((placed[:, None] - xy[None]) ** 2).sum(-1).argmin(1)
    assert np.array_equal(labels[nearest], new_labels)
    assert "trustworthiness" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--place", "NEW"], "--place and --place-out go together"),
    (["--method", "umap", "--min-dist", "3"], "min_dist"),
])
def test_bad_options_are_one_sentence(tmp_path, capsys, extra, message):
    x, _ = blobs(10, 0)
    np.save(tmp_path / "emb.npy", x)
    extra = [str(tmp_path / "emb.npy") if e == "NEW" else e for e in extra]
    code = main(["project", str(tmp_path / "emb.npy"), "--out", str(tmp_path / "m.npy"),
                 "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "m.npy").exists()
