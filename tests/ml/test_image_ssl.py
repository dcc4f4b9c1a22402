from __future__ import annotations

import numpy as np
import pytest
import torch

from astroexplorer.core.errors import UserError
from astroexplorer.core.images import ArrayImageSource, ImageSource
from astroexplorer.jobs.base import Cancelled, CancelToken, Progress, run_sync
from astroexplorer.ml.image_ssl import simclr_job
from tests.helpers import assert_resumed_as_uninterrupted, cancel_at, room_for_half

# Small and fast: the whole module runs in seconds on two CPU cores.
FAST = {"batch_size": 32, "dim": 16, "width": 8}


def make_blobs_and_bars(
    n: int = 64, size: int = 32, bands: int = 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Cutouts ``(n, bands, size, size)`` float32 and labels ``(n,)``: 0 round blob, 1 bar.

    Objects sit near the centre at random orientations and brightnesses, with a
    colour (brighter in redder bands) and unit Gaussian sky noise.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] - size / 2 + 0.5
    cutouts = np.empty((n, bands, size, size), dtype=np.float32)
    labels = np.arange(n) % 2
    for i in range(n):
        theta = rng.uniform(0, np.pi)
        cx, cy = rng.normal(0, 1, 2)
        u = (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta)
        v = -(xx - cx) * np.sin(theta) + (yy - cy) * np.cos(theta)
        if labels[i] == 0:
            profile = np.exp(-(u**2 + v**2) / (2 * 2.5**2))
        else:
            profile = np.exp(-(u**2 / (2 * 6.0**2) + v**2 / (2 * 1.2**2)))
        flux = rng.uniform(20, 60) * np.linspace(1.0, 2.0, bands)
        cutouts[i] = flux[:, None, None] * profile + rng.normal(0, 1, (bands, size, size))
    return cutouts, labels


class CountingSource(ImageSource):
    """An ImageSource that records the rows of every read."""

    def __init__(self, data: np.ndarray) -> None:
        self.inner = ArrayImageSource(data)
        self.bands = self.inner.bands
        self.reads: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.inner)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.inner.shape

    def get_many(self, rows):
        self.reads.append(np.asarray(rows).copy())
        return self.inner.get_many(rows)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_blobs_and_bars()


def _run(images: ImageSource, **kwargs):
    reports: list[Progress] = []
    emb = run_sync(simclr_job(images, **{**FAST, **kwargs}), on_progress=reports.append)
    return emb, reports


def test_embeds_every_row_reproducibly(data):
    src = ArrayImageSource(data[0], bands=("g", "r", "i"))
    emb, reports = _run(src, epochs=2, seed=1)
    assert emb.vectors.shape == (64, 16) and emb.vectors.dtype == np.float32
    assert np.isfinite(emb.vectors).all()
    assert emb.method == "simclr"
    cfg = emb.config
    assert cfg["epochs"] == 2 and cfg["seed"] == 1 and cfg["bands"] == ["g", "r", "i"]
    assert cfg["device"].startswith("CPU") and cfg["amp"] == "none" and len(cfg["epoch_losses"]) == 2
    # One report to start, one per training batch (2 epochs x 2), one per inference batch.
    assert [r.step for r in reports] == list(range(6))
    assert all(r.total == 5 for r in reports)
    assert reports[1].message.startswith("epoch 1/2, loss ")
    assert set(reports[1].metrics) == {"epoch", "loss", "images_per_s", "objects_per_s", "eta_s"}
    assert reports[-1].message == "embedding 64/64 cutouts"
    again, _ = _run(src, epochs=2, seed=1)
    assert np.array_equal(emb.vectors, again.vectors)
    other, _ = _run(src, epochs=2, seed=2)
    assert not np.allclose(emb.vectors, other.vectors)


def test_training_lowers_the_loss(data):
    # Paired with a control run whose learning rate is ~0: the same seed gives the same
    # initialisation, batches and augmented views, so the difference is the learning
    # alone (per-epoch losses of a frozen network wander by ~0.2 with the views).
    src = ArrayImageSource(data[0])
    trained, _ = _run(src, epochs=12, lr=3e-3, seed=0)
    frozen, _ = _run(src, epochs=12, lr=1e-9, seed=0)
    learned, control = trained.config["epoch_losses"], frozen.config["epoch_losses"]
    assert np.isfinite(learned).all()
    assert np.mean(learned[-3:]) < learned[0] - 0.15
    assert np.mean(learned[-3:]) < np.mean(control[-3:]) - 0.25


def test_cancel_after_the_first_training_batch_stops_at_once(data):
    src = CountingSource(data[0])
    token = CancelToken()
    reports: list[Progress] = []

    def on_progress(p: Progress) -> None:
        reports.append(p)
        if p.message.startswith("epoch"):
            token.cancel()

    job = simclr_job(src, epochs=5, **FAST)
    with pytest.raises(Cancelled):
        run_sync(job, on_progress, token)
    assert [r.message.split(",")[0] for r in reports] == ["fitting band scales", "epoch 1/5"]
    # One read to fit the band scales, one to fingerprint the data (for checkpoints),
    # one training batch, and nothing after the cancel.
    assert len(src.reads) == 3 and src.reads[2].size == 32


def test_max_train_subsamples_training_but_embeds_all_rows(data):
    src = CountingSource(data[0])
    emb, reports = _run(src, epochs=1, max_train=20)
    assert emb.vectors.shape == (64, 16)
    assert emb.config["n_train"] == 20
    training = [r for r in reports if r.message.startswith("epoch")]
    assert len(training) == 1  # 20 rows make one batch of 32
    train_rows = src.reads[2]  # after the band scales and the fingerprint
    assert train_rows.size == 20 and np.all(np.diff(train_rows) > 0)  # sorted reads
    assert np.concatenate(src.reads[3:]).tolist() == list(range(64))


def test_handles_nans_single_band_and_oblong_cutouts():
    cutouts = make_blobs_and_bars(n=12, size=24, bands=1)[0][:, :, :, 2:22].copy()  # 24 x 20
    cutouts[0, 0, :5] = np.nan
    cutouts[3, 0, 10, 10] = np.inf
    emb, _ = _run(ArrayImageSource(cutouts), epochs=1, batch_size=5)
    assert emb.vectors.shape == (12, 16) and np.isfinite(emb.vectors).all()


def test_leaves_global_torch_state_alone(data):
    rng_before = torch.get_rng_state()
    modes: list[bool] = []
    job = simclr_job(ArrayImageSource(data[0][:16]), epochs=1, batch_size=8, dim=8, width=4)
    run_sync(job, lambda p: modes.append(
        torch.is_inference_mode_enabled() or not torch.is_grad_enabled()))
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert not any(modes)


@pytest.mark.parametrize(
    ("cutouts", "kwargs", "match"),
    [
        (np.zeros((0, 3, 32, 32), np.float32), {}, "at least 2 cutouts"),
        (np.zeros((4, 3, 8, 8), np.float32), {}, "too small"),
        (np.zeros((4, 3, 32, 32), np.float32), {"epochs": 0}, "epochs"),
        (np.zeros((4, 3, 32, 32), np.float32), {"batch_size": 1}, "batch size"),
        (np.zeros((4, 3, 32, 32), np.float32), {"temperature": 0.0}, "temperature"),
        (np.zeros((4, 3, 32, 32), np.float32), {"device": "quantum"}, "not recognised"),
    ],
)
def test_invalid_input_is_a_user_error_at_once(cutouts, kwargs, match):
    with pytest.raises(UserError, match=match):
        simclr_job(ArrayImageSource(cutouts), **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_requested_without_cuda_is_a_user_error(data):
    with pytest.raises(UserError, match="cuda"):
        simclr_job(ArrayImageSource(data[0]), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_one_mixed_precision_epoch_on_cuda(data):
    emb, reports = _run(ArrayImageSource(data[0]), epochs=1, device="cuda")
    assert emb.config["amp"] in ("bf16", "fp16")
    assert "CUDA" in emb.config["device"]
    assert emb.vectors.shape == (64, 16) and emb.vectors.dtype == np.float32
    assert np.isfinite(emb.vectors).all()
    assert all(np.isfinite(r.metrics["loss"]) for r in reports if r.metrics)


def test_resume_after_cancel_gives_the_uninterrupted_result(data, tmp_path):
    src = ArrayImageSource(data[0])
    whole, _ = _run(src, epochs=3, seed=4)
    ckpt = tmp_path / "run.safetensors"
    cancelled = cancel_at(simclr_job(src, epochs=3, seed=4, checkpoint=ckpt, **FAST), "epoch 2/3")
    assert ckpt.exists() and not list(tmp_path.glob(".*tmp"))
    resumed, reports = _run(src, epochs=3, seed=4, checkpoint=ckpt, resume=True)
    assert_resumed_as_uninterrupted(whole, resumed, reports, cancelled)


def test_a_checkpoint_only_resumes_its_own_run(data, tmp_path):
    ckpt = tmp_path / "run.safetensors"
    _run(ArrayImageSource(data[0]), epochs=1, checkpoint=ckpt)
    with pytest.raises(UserError, match="different run"):
        _run(ArrayImageSource(data[0]), epochs=1, lr=5e-4, checkpoint=ckpt, resume=True)
    with pytest.raises(UserError, match="different run"):
        _run(ArrayImageSource(data[0][::-1].copy()), epochs=1, checkpoint=ckpt, resume=True)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(UserError, match="bad.safetensors is not a readable"):
        _run(ArrayImageSource(data[0]), epochs=1, checkpoint=bad, resume=True)
    assert bad.read_bytes() == b"not a checkpoint at all"  # never overwritten by a refused run


def test_input_size_and_depth_configure_the_encoder(data):
    src = ArrayImageSource(data[0])
    emb, _ = _run(src, epochs=1, input_size=16, depth=2)
    assert emb.vectors.shape == (64, 16) and np.isfinite(emb.vectors).all()
    assert emb.config["encoder"] == {"name": "SmallCNNEncoder", "width": 8, "depth": 2,
                                     "input_size": 16}
    with pytest.raises(UserError, match="resampled to 8x8"):
        simclr_job(src, input_size=8)
    with pytest.raises(UserError, match="no option colour_jitter"):
        simclr_job(src, colour_jitter=True)


def test_a_batch_size_too_big_for_the_gpu_is_halved_without_other_effect(data, monkeypatch):
    from astroexplorer.ml import image_ssl

    src = ArrayImageSource(data[0])
    direct, _ = _run(src, epochs=2, batch_size=16)
    monkeypatch.setattr(image_ssl, "fit_batch_size", room_for_half)
    halved, reports = _run(src, epochs=2, batch_size=32)
    assert halved.config["batch_size"] == 16 and halved.config["batch_size_requested"] == 32
    assert any(r.message == "batches of 32 do not fit in memory: using 16" for r in reports)
    assert sum(r.message.startswith("epoch") for r in reports) == 2 * 64 // 16
    assert reports[-1].step == reports[-1].total
    # The trial step left no trace: the same vectors as asking for 16 directly.
    assert np.array_equal(halved.vectors, direct.vectors)
