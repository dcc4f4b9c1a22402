"""The ``similar`` and ``anomalies`` commands, run as real subprocesses."""

import csv

import numpy as np
import pytest

from tests.analysis.test_anomaly import OUTLIERS, blobs_with_outliers
from tests.test_cli import cli


@pytest.fixture
def emb(tmp_path):
    path = tmp_path / "emb.npy"
    np.save(path, blobs_with_outliers())
    return path


def test_similar_prints_table_and_writes_csv(emb, tmp_path):
    from astroexplorer.analysis.neighbours import find_similar

    out = tmp_path / "like.csv"
    res = cli("similar", emb, "--rows", "5,9,12", "-k", 4, "--metric", "cosine", "--out", out)
    lines = res.stdout.strip().splitlines()
    assert lines[0].split() == ["rank", "row", "distance"]
    assert len(lines) == 5
    rows, dist = find_similar(np.load(emb), [5, 9, 12], k=4, metric="cosine")
    assert [int(line.split()[1]) for line in lines[1:]] == rows.tolist()
    with open(out) as f:
        table = list(csv.DictReader(f))
    assert [int(r["row"]) for r in table] == rows.tolist()
    np.testing.assert_allclose([float(r["distance"]) for r in table], dist, rtol=1e-6)
    again = cli("similar", emb, "--rows", "5", "--out", out, check=False)
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize("args, match", [
    (["--rows", "5,x"], "must be row indices"),
    (["--rows", "100000"], "out of range"),
    (["--rows", "5", "-k", "0"], "at least 1"),
])
def test_similar_user_mistakes_are_one_sentence(emb, args, match):
    res = cli("similar", emb, *args, check=False)
    assert res.returncode == 2
    assert match in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("method", ["isolation_forest", "knn_distance"])
def test_anomalies_writes_scores(emb, tmp_path, method):
    out = tmp_path / "scores.npy"
    res = cli("anomalies", emb, "--method", method, "--out", out, "--seed", 2, "--quiet")
    assert res.stdout.strip() == str(out)
    scores = np.load(out)
    assert scores.shape == (600,) and scores.dtype == np.float64
    assert set(np.argsort(-scores)[:len(OUTLIERS)].tolist()) == set(OUTLIERS)


def test_anomalies_user_mistakes(emb, tmp_path):
    res = cli("anomalies", tmp_path / "missing.npy", "--method", "lof", "--out",
              tmp_path / "s.npy", check=False)
    assert res.returncode == 2 and "no such embedding file" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = cli("anomalies", emb, "--method", "lof", "-k", 3, "--out", tmp_path / "s.npy",
              check=False)
    assert res.returncode == 2 and "-k applies" in res.stderr
    res = cli("anomalies", emb, "--out", emb, check=False)
    assert res.returncode == 2 and "input file" in res.stderr
