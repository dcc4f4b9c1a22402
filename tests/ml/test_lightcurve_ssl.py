from __future__ import annotations

import numpy as np
import pytest
import torch

from astroexplorer.analysis.embedding import EMBEDDING_METHODS
from astroexplorer.core.errors import UserError
from astroexplorer.core.lightcurves import LightCurve
from astroexplorer.jobs.base import Cancelled, CancelToken, Progress, run_sync
from astroexplorer.ml.lightcurve_data import band_index_of, read_lightcurves
from astroexplorer.ml.lightcurve_ssl import (
    augment_lightcurves,
    lc_contrastive_job,
    lc_masked_job,
    lc_next_step_job,
)
from tests.helpers import assert_resumed_as_uninterrupted, cancel_at, room_for_half
from tests.ml.lightcurve_helpers import ListLightCurveSource, make_periodic_and_constant

# Tiny and fast: the whole module runs in seconds on two CPU cores.
FAST = {"batch_size": 16, "dim": 8, "width": 16, "depth": 1, "max_length": 32, "device": "cpu"}
JOBS = {"lc_contrastive": lc_contrastive_job, "lc_masked": lc_masked_job,
        "lc_next_step": lc_next_step_job}


@pytest.fixture(scope="module")
def source() -> ListLightCurveSource:
    # Periods of months: neighbouring observations predict each other, so the masked
    # and next-step losses have something to learn in a few steps.
    return make_periodic_and_constant(n=48, seed=0, points=(30, 50), periods=(150.0, 300.0))[0]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models: one intra-op thread is faster than two on a busy machine (and the
    results are the same on CPU)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run(method: str, src, **kwargs):
    reports: list[Progress] = []
    emb = run_sync(JOBS[method](src, **{**FAST, **kwargs}), on_progress=reports.append)
    return emb, reports


@pytest.mark.parametrize("method", list(JOBS))
def test_embeds_every_row_reproducibly(source, method):
    emb, reports = _run(method, source, epochs=2, seed=1)
    assert emb.vectors.shape == (48, 8) and emb.vectors.dtype == np.float32
    assert np.isfinite(emb.vectors).all() and emb.vectors.std(0).min() > 0
    assert emb.method == method
    cfg = emb.config
    assert cfg["epochs"] == 2 and cfg["seed"] == 1 and cfg["bands"] == ["g", "r", "i"]
    assert cfg["device"].startswith("CPU") and len(cfg["epoch_losses"]) == 2
    assert cfg["n_empty"] == 0 and cfg["n_short"] == 0
    if method != "lc_next_step":
        assert cfg["periodogram"]["n_freq"] == 512
    # One report for reading, one per training batch (2 epochs x 3), one per inference batch.
    assert [r.step for r in reports] == list(range(9)) and all(r.total == 8 for r in reports)
    assert reports[0].message == "reading light curves 1/48"
    assert reports[1].message.startswith("epoch 1/2, loss ")
    assert {"epoch", "loss", "objects_per_s", "eta_s"} <= set(reports[1].metrics)
    assert reports[-1].message == "embedding 48/48 light curves"
    again, _ = _run(method, source, epochs=2, seed=1)
    assert np.array_equal(emb.vectors, again.vectors)
    other, _ = _run(method, source, epochs=2, seed=2)
    assert not np.allclose(emb.vectors, other.vectors)


@pytest.mark.parametrize(("method", "epochs", "margin"), [
    ("lc_contrastive", 8, 0.3), ("lc_masked", 16, 0.05), ("lc_next_step", 8, 0.1)])
def test_training_lowers_the_loss_against_a_frozen_control(source, method, epochs, margin):
    # Same seed: same initialisation, batches, masks and views; only learning differs.
    trained, _ = _run(method, source, epochs=epochs, lr=1e-2)
    frozen, _ = _run(method, source, epochs=epochs, lr=1e-9)
    learned, control = trained.config["epoch_losses"], frozen.config["epoch_losses"]
    assert np.isfinite(learned).all()
    assert np.mean(learned[-2:]) < np.mean(control[-2:]) - margin


def test_cancel_after_the_first_training_batch_stops_at_once(source):
    token = CancelToken()
    reports: list[Progress] = []

    def on_progress(p: Progress) -> None:
        reports.append(p)
        if p.message.startswith("epoch"):
            token.cancel()

    with pytest.raises(Cancelled):
        run_sync(lc_masked_job(source, epochs=5, **FAST), on_progress, token)
    assert [r.message.split(",")[0] for r in reports] == ["reading light curves 1/48", "epoch 1/5"]


@pytest.mark.parametrize("method", list(JOBS))
def test_resume_after_cancel_gives_the_uninterrupted_result(source, method, tmp_path):
    whole, _ = _run(method, source, epochs=3, seed=4)
    ckpt = tmp_path / "run.safetensors"
    cancelled = cancel_at(JOBS[method](source, epochs=3, seed=4, checkpoint=ckpt, **FAST), "epoch 2/3")
    assert ckpt.exists()
    resumed, reports = _run(method, source, epochs=3, seed=4, checkpoint=ckpt, resume=True)
    assert_resumed_as_uninterrupted(whole, resumed, reports, cancelled)
    with pytest.raises(UserError, match="different run"):
        _run(method, source, epochs=3, seed=5, checkpoint=ckpt, resume=True)


def test_max_train_and_empty_or_short_light_curves(source):
    curves = [source.get(i) for i in range(20)]
    nothing = LightCurve(np.array([1.0, 2.0]), np.array([np.nan, np.nan]), np.ones(2),
                         np.array(["g", "g"]))
    one = LightCurve(np.array([5.0]), np.array([18.0]), np.array([0.1]), np.array(["r"]))
    src = ListLightCurveSource([nothing, one] + curves)
    emb, reports = _run("lc_next_step", src, epochs=1, max_train=16)
    assert emb.vectors.shape == (22, 8) and np.isfinite(emb.vectors).all()
    assert emb.config["n_train"] == 16 and emb.config["n_empty"] == 1 and emb.config["n_short"] == 1
    assert not emb.vectors[0].any() and emb.vectors[1].any()  # zeros only with no data
    assert sum(r.message.startswith("epoch") for r in reports) == 1


class _RecordingSource(ListLightCurveSource):
    def __init__(self, curves):
        super().__init__(curves)
        self.reads: list[int] = []

    def get(self, row):
        self.reads.append(int(row))
        return super().get(row)


def test_train_rows_are_the_only_rows_trained_on(source):
    curves = [source.get(i) for i in range(24)]
    rows = np.array([1, 4, 5, 9, 12, 13, 17, 20, 22, 23])
    src = _RecordingSource(curves)
    emb, _ = _run("lc_contrastive", src, epochs=1, train_rows=rows[::-1])
    assert src.reads[:rows.size] == rows.tolist()  # the training set, read first
    assert emb.vectors.shape == (24, 8) and np.isfinite(emb.vectors).all()
    assert emb.config["n_train"] == rows.size and emb.config["train_rows"]["count"] == rows.size
    # Other rows changed (a constant star instead): same training, so the same
    # vectors for the training rows; all rows are still embedded.
    flat = LightCurve(np.arange(30.0), np.full(30, 18.0), np.full(30, 0.03), np.array(["g"] * 30))
    swapped = [c if i in rows else flat for i, c in enumerate(curves)]
    mask = np.isin(np.arange(24), rows)
    other, _ = _run("lc_contrastive", ListLightCurveSource(swapped), epochs=1, train_rows=mask)
    assert other.config["train_rows"] == emb.config["train_rows"]
    assert np.array_equal(other.vectors[rows], emb.vectors[rows])
    assert not np.allclose(other.vectors[~mask], emb.vectors[~mask])
    everything, _ = _run("lc_contrastive", src, epochs=1)
    assert not np.array_equal(everything.vectors[rows], emb.vectors[rows])


def test_augmented_views_keep_actual_times_within_each_object(source):
    ragged = read_lightcurves(source, np.arange(8), band_index_of(source), 64)
    batch = ragged.batch(np.arange(8))
    gen = torch.Generator().manual_seed(0)
    view = augment_lightcurves(batch, gen, max_shift=50.0, delete=0.3)
    assert view.time.shape == batch.time.shape
    lengths = view.lengths
    assert (lengths >= 1).all() and (lengths <= batch.lengths).all()
    assert (lengths < batch.lengths).any()
    for j in range(8):
        m, n0 = int(lengths[j]), int(batch.lengths[j])
        assert view.mask[j, :m].all() and not view.mask[j, m:].any()  # kept points first
        t = view.time[j, :m].double().numpy()
        original = batch.time[j, :n0].double().numpy()
        # One shift per object: differences between kept times are original differences.
        diffs = t[1:] - t[0]
        assert np.all(np.diff(t) >= 0)
        assert np.all(np.min(np.abs((original[None, :] - original[:, None]).ravel()[:, None]
                                    - diffs[None, :]), axis=0) < 1e-3)
    assert torch.equal(view.log_scale, batch.log_scale)


def test_leaves_global_torch_state_alone(source):
    rng_before = torch.get_rng_state()
    run_sync(lc_contrastive_job(source, epochs=1, **FAST))
    assert torch.equal(torch.get_rng_state(), rng_before)


@pytest.mark.parametrize(
    ("job", "curves", "kwargs", "match"),
    [
        (lc_masked_job, 1, {}, "at least 2 light curves"),
        (lc_masked_job, 0, {}, "has any observation"),
        (lc_masked_job, 4, {"epochs": 0}, "epochs"),
        (lc_masked_job, 4, {"batch_size": 1}, "batch_size"),
        (lc_masked_job, 4, {"max_length": 2}, "max_length"),
        (lc_masked_job, 4, {"mask_fraction": 1.0}, "mask_fraction"),
        (lc_masked_job, 4, {"heads": 3}, "heads"),
        (lc_contrastive_job, 4, {"temperature": 0.0}, "temperature"),
        (lc_next_step_job, 4, {"heads": 4}, "no option heads"),
        (lc_next_step_job, 4, {"device": "quantum"}, "not recognised"),
        (lc_masked_job, 4, {"n_freq": 12}, "multiple of 8"),
        (lc_contrastive_job, 4, {"periodogram": "yes"}, "True or False"),
        (lc_masked_job, 4, {"train_rows": [0, 9]}, r"lie in \[0, 4\)"),
        (lc_masked_job, 4, {"train_rows": [2, 2]}, "at least 2 rows"),
        (lc_masked_job, 4, {"train_rows": [[0, 1]]}, "1-d sequence"),
        (lc_masked_job, 4, {"train_rows": [0.5, 1.0]}, "1-d sequence"),
    ],
)
def test_invalid_input_is_a_user_error_at_once(source, job, curves, kwargs, match):
    if curves == 0:
        empty = LightCurve(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, str))
        src = ListLightCurveSource([empty, empty])
    else:
        src = ListLightCurveSource([source.get(i) for i in range(curves)])
    with pytest.raises(UserError, match=match):
        job(src, **kwargs)


def test_all_nan_light_curves_are_a_user_error(source):
    nan = LightCurve(np.arange(5.0), np.full(5, np.nan), np.ones(5), np.array(["g"] * 5))
    with pytest.raises(UserError, match="finite time and value"):
        run_sync(lc_masked_job(ListLightCurveSource([nan, nan, nan]), **FAST))


def test_registered_as_light_curve_methods():
    for name, job in JOBS.items():
        entry = EMBEDDING_METHODS[name]
        assert entry.modality == "lightcurve" and entry.needs == "torch"
        assert entry.label.startswith("Light curves: ") and entry.load() is job


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", list(JOBS))
def test_one_mixed_precision_epoch_on_cuda(source, method):
    emb, _ = _run(method, source, epochs=1, device="cuda")
    assert emb.config["amp"] in ("bf16", "fp16")
    assert emb.vectors.shape == (48, 8) and np.isfinite(emb.vectors).all()


def test_a_batch_size_too_big_for_the_gpu_is_halved_without_other_effect(source, monkeypatch):
    from astroexplorer.ml import lightcurve_ssl

    direct, _ = _run("lc_masked", source, epochs=2, batch_size=8)
    monkeypatch.setattr(lightcurve_ssl, "fit_batch_size", room_for_half)
    halved, reports = _run("lc_masked", source, epochs=2, batch_size=16)
    assert halved.config["batch_size"] == 8 and halved.config["batch_size_requested"] == 16
    assert any(r.message == "batches of 16 do not fit in memory: using 8" for r in reports)
    assert sum(r.message.startswith("epoch") for r in reports) == 2 * 48 // 8
    assert reports[-1].step == reports[-1].total
    assert np.array_equal(halved.vectors, direct.vectors)
