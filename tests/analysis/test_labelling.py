import numpy as np
import pytest

from astroexplorer.analysis.labelling import (
    INTERESTING,
    KEY_SCORES,
    NOT_INTERESTING,
    InterestLabels,
    rank_interest,
    rank_interest_job,
)
from astroexplorer.cli import main
from astroexplorer.core.errors import UserError
from astroexplorer.jobs import Progress, run_sync


def survey(seed=0, n_background=1900, n_interesting=100, dim=16):
    """Five background clusters and one planted "interesting" cluster (5% of rows),
    shuffled; returns x (N, dim) float32 and the interesting mask."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.5, size=(6, dim))
    per = n_background // 5
    x = np.concatenate([centres[i] + rng.normal(size=(per, dim)) for i in range(5)]
                       + [centres[5] + rng.normal(size=(n_interesting, dim))])
    interesting = np.r_[np.zeros(5 * per, bool), np.ones(n_interesting, bool)]
    perm = rng.permutation(len(x))
    return x[perm].astype(np.float32), interesting[perm]


def label_some(interesting, seed, n_each=20):
    rng = np.random.default_rng(seed)
    labels = InterestLabels(len(interesting))
    labels.set(rng.choice(np.flatnonzero(interesting), n_each, replace=False), "interesting")
    for row in rng.choice(np.flatnonzero(~interesting), n_each, replace=False):
        labels.set(int(row), "not")
    return labels


def top_fraction(scores, interesting, labels, top=50):
    """Fraction of the planted cluster among the top unlabelled rows of a ranking."""
    unlabelled = np.flatnonzero(np.isnan(labels.as_column()))
    best = unlabelled[np.argsort(-scores[unlabelled], kind="stable")[:top]]
    return interesting[best].mean()


def test_labels_store_set_clear_and_column_round_trip():
    labels = InterestLabels(6)
    assert len(labels) == 6 and labels.labelled_rows().size == 0
    labels.set(2, "interesting")
    labels.set([0, 4], 3)
    labels.set(5, KEY_SCORES["n"])
    assert labels.get(2) == INTERESTING and labels.get(5) == NOT_INTERESTING
    assert labels.get(1) is None
    np.testing.assert_array_equal(labels.labelled_rows(), [0, 2, 4, 5])
    labels.clear(4)
    col = labels.as_column()
    assert col.dtype == np.float32 and col.shape == (6,)
    np.testing.assert_array_equal(col, [3, np.nan, 5, np.nan, np.nan, 0])
    col[0] = 1  # a copy: the store is unchanged
    assert labels.get(0) == 3
    again = InterestLabels.from_column(labels.as_column())
    np.testing.assert_array_equal(again.as_column(), labels.as_column())
    assert KEY_SCORES["i"] == 5 and KEY_SCORES["0"] == 0 and KEY_SCORES["4"] == 4


@pytest.mark.parametrize("call, match", [
    (lambda lab: lab.set(0, 6), "between 0 and 5"),
    (lambda lab: lab.set(0, -1), "between 0 and 5"),
    (lambda lab: lab.set(0, float("nan")), "between 0 and 5"),
    (lambda lab: lab.set(0, "maybe"), "unknown label"),
    (lambda lab: lab.set(3, 1), "out of range"),
    (lambda lab: lab.clear(-1), "out of range"),
    (lambda lab: lab.set(0.5, 1), "integer"),
    (lambda lab: InterestLabels.from_column(np.array([1.0, 7.0]), "s.npy"), "s.npy holds 7.0"),
    (lambda lab: InterestLabels.from_column(np.array([np.inf]), "s.npy"), "from 0 to 5"),
    (lambda lab: InterestLabels.from_column(np.ones((2, 2)), "s.npy"), "s.npy must be a 1-D"),
    (lambda lab: InterestLabels.from_column(np.array(["a"]), "s.npy"), "numbers"),
])
def test_label_user_errors(call, match):
    with pytest.raises(UserError, match=match):
        call(InterestLabels(3))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_twenty_labels_each_bring_the_planted_cluster_to_the_top(seed):
    x, interesting = survey(seed)
    labels = label_some(interesting, seed + 10)
    reports = []
    scores = run_sync(rank_interest_job(x, labels, seed=0), reports.append)
    assert scores.shape == (len(x),) and scores.dtype == np.float64
    assert np.all((scores >= 0) & (scores <= 5))
    assert top_fraction(scores, interesting, labels) >= 0.8
    # A random ranking finds about the planted fraction (5%).
    random = np.random.default_rng(seed).random(len(x))
    assert top_fraction(random, interesting, labels) <= 0.2
    assert all(isinstance(r, Progress) for r in reports) and reports[-1].fraction == 1.0
    # Reproducible with the seed.
    np.testing.assert_array_equal(rank_interest(x, labels, seed=0), scores)


def test_anomaly_scores_are_rescaled_by_predicted_relevance():
    """Astronomaly's case: the detector's most anomalous objects are a dull outlying
    group (artefacts), the planted interesting ones come next and the background
    last. The user labels 10 artefacts 0 and 10 planted objects 5."""
    x, interesting = survey(3)
    rng = np.random.default_rng(4)
    boring_outliers = rng.choice(np.flatnonzero(~interesting), 60, replace=False)
    # Artefacts look alike: a tight group of their own, far from the rest.
    x[boring_outliers] = 12.0 + 0.3 * rng.normal(size=(60, x.shape[1]))
    anomaly = rng.random(len(x))
    anomaly[interesting] += 2.0
    anomaly[boring_outliers] += 3.0
    labels = InterestLabels(len(x))
    labels.set(rng.choice(boring_outliers, 10, replace=False), 0)
    labels.set(rng.choice(np.flatnonzero(interesting), 10, replace=False), 5)
    assert top_fraction(anomaly, interesting, labels) < 0.3  # anomaly alone: mostly dull
    combined = rank_interest(x, labels, anomaly_scores=anomaly)
    assert top_fraction(combined, interesting, labels) >= 0.8
    assert np.nanmax(combined) <= 5.0


def test_no_labels_falls_back_to_anomaly_scores_and_nan_rows_stay_nan():
    x, _ = survey(0)
    x[7] = np.nan
    anomaly = np.random.default_rng(0).random(len(x))
    scores = rank_interest(x, np.full(len(x), np.nan, dtype=np.float32), anomaly)
    assert np.isnan(scores[7])
    good = np.isfinite(scores)
    assert good.sum() == len(x) - 1
    # Same order as the anomaly scores, on 0-5.
    np.testing.assert_array_equal(np.argsort(scores[good]), np.argsort(anomaly[good]))
    assert scores[good].min() == 0 and scores[good].max() == 5
    # A labelled row whose anomaly score is NaN scores NaN; the others are ranked.
    labels = np.full(len(x), np.nan, dtype=np.float32)
    labels[[3, 4]] = [5, 0]
    anomaly[3] = np.nan
    scores = rank_interest(x, labels, anomaly)
    assert np.isnan(scores[3]) and np.isfinite(scores[4])
    assert np.array_equal(np.isnan(scores), np.isin(np.arange(len(x)), [3, 7]))


@pytest.mark.parametrize("vectors, labels, anomaly, match", [
    (np.ones((5, 2)), np.full(5, np.nan), None, "nothing to rank by"),
    (np.ones((5, 2)), np.full(4, np.nan), None, "4 rows but the embedding has 5"),
    (np.ones((5, 2)), np.zeros(5), np.zeros(3), "anomaly scores must have shape"),
    (np.ones(5), np.zeros(5), None, "2-D"),
    (np.ones((5, 2)), np.full(5, 9.0), None, "from 0 to 5"),
    (np.full((5, 2), np.nan), np.zeros(5), None, "no object has a finite embedding"),
    (np.ones((5, 2)), np.zeros(5), np.full(5, np.nan), "and a finite anomaly score"),
])
def test_rank_user_errors(vectors, labels, anomaly, match):
    with pytest.raises(UserError, match=match):
        rank_interest(vectors, labels, anomaly)


def test_cli_rank_interest_writes_scores(tmp_path, capsys):
    x, interesting = survey(0)
    labels = label_some(interesting, 10)
    np.save(tmp_path / "emb.npy", x)
    np.save(tmp_path / "labels.npy", labels.as_column())
    np.save(tmp_path / "anomaly.npy", np.random.default_rng(0).random(len(x)))
    out = tmp_path / "interest.npy"
    assert main(["rank-interest", str(tmp_path / "emb.npy"), "--labels",
                 str(tmp_path / "labels.npy"), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "most interesting unlabelled rows" in printed
    scores = np.load(out)
    assert scores.shape == (len(x),) and top_fraction(scores, interesting, labels) >= 0.8
    out2 = tmp_path / "combined.npy"
    assert main(["rank-interest", str(tmp_path / "emb.npy"), "--labels",
                 str(tmp_path / "labels.npy"), "--anomaly", str(tmp_path / "anomaly.npy"),
                 "--out", str(out2), "--quiet"]) == 0
    assert np.isfinite(np.load(out2)).all()


@pytest.mark.parametrize("emb, labels, anomaly, match", [
    (np.ones((5, 2)), np.full(5, np.nan, np.float32), None, "labels.npy has no labels"),
    (np.ones((5, 2)), np.zeros(4, np.float32), None, "labels.npy has 4 labels but"),
    (np.ones((5, 2)), np.zeros(5, np.float32), np.zeros(6), "anomaly.npy must hold one score"),
    (np.ones(5), np.zeros(5, np.float32), None, "emb.npy must be a 2-D"),
    (np.ones((5, 2)), np.full(5, 8, np.float32), None, "labels.npy holds 8.0"),
])
def test_cli_rank_interest_user_errors(tmp_path, capsys, emb, labels, anomaly, match):
    np.save(tmp_path / "emb.npy", emb)
    np.save(tmp_path / "labels.npy", labels)
    args = ["rank-interest", str(tmp_path / "emb.npy"), "--labels", str(tmp_path / "labels.npy"),
            "--out", str(tmp_path / "out.npy"), "--quiet"]
    if anomaly is not None:
        np.save(tmp_path / "anomaly.npy", anomaly)
        args += ["--anomaly", str(tmp_path / "anomaly.npy")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err
    assert not (tmp_path / "out.npy").exists()
