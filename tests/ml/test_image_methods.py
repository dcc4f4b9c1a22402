"""BYOL, the (variational) autoencoder and the benchmark baselines (supervised, random)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from astroexplorer.core.errors import UserError
from astroexplorer.core.images import ArrayImageSource
from astroexplorer.jobs.base import Progress, run_sync
from astroexplorer.ml.augment import SkyAugment
from astroexplorer.ml.encoders import ConvDecoder
from astroexplorer.ml.image_ssl import (
    BYOL,
    Autoencoder,
    autoencoder_job,
    byol_job,
    train_image_embedding,
    vae_job,
)
from astroexplorer.ml.supervised import random_encoder_job, supervised_cnn_job
from tests.helpers import assert_resumed_as_uninterrupted, cancel_at

from .test_image_ssl import CountingSource, make_blobs_and_bars

# Tiny and fast: 16 px inputs, width 4.
FAST = {"batch_size": 32, "dim": 16, "width": 4, "input_size": 16}
JOBS = {"byol": byol_job, "autoencoder": autoencoder_job, "vae": vae_job}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_blobs_and_bars()


def _run(job, images, **kwargs):
    reports: list[Progress] = []
    emb = run_sync(job(images, **{**FAST, **kwargs}), on_progress=reports.append)
    return emb, reports


@pytest.mark.parametrize("name", sorted(JOBS))
def test_embeds_every_row_reproducibly(data, name):
    src = ArrayImageSource(data[0][:32])
    emb, reports = _run(JOBS[name], src, epochs=1, seed=3)
    assert emb.method == name
    assert emb.vectors.shape == (32, 16) and emb.vectors.dtype == np.float32
    assert np.isfinite(emb.vectors).all()
    assert len(emb.config["epoch_losses"]) == 1 and reports[-1].message == "embedding 32/32 cutouts"
    again, _ = _run(JOBS[name], src, epochs=1, seed=3)
    assert np.array_equal(emb.vectors, again.vectors)
    other, _ = _run(JOBS[name], src, epochs=1, seed=4)
    assert not np.allclose(emb.vectors, other.vectors)


@pytest.mark.parametrize(("name", "margin"), [("byol", 0.2), ("autoencoder", 0.05), ("vae", 0.05)])
def test_training_lowers_the_loss_against_a_frozen_control(data, name, margin):
    # Same seed: same initialisation, batches and views; only the learning differs.
    src = ArrayImageSource(data[0])
    trained, _ = _run(JOBS[name], src, epochs=6, lr=3e-3)
    frozen, _ = _run(JOBS[name], src, epochs=6, lr=1e-9)
    learned, control = trained.config["epoch_losses"], frozen.config["epoch_losses"]
    assert np.isfinite(learned).all()
    assert np.mean(learned[-2:]) < np.mean(control[-2:]) - margin
    assert np.mean(learned[-2:]) < learned[0]


def _byol_modules(channels: int = 3):
    method = BYOL()
    opts = {"dim": 8, "width": 4, "depth": 1, "momentum": 0.9}
    torch.manual_seed(0)
    return method, method.build(channels, 16, opts), opts


def test_byol_target_moves_by_ema_and_never_by_gradients(data):
    method, modules, opts = _byol_modules()
    x = torch.from_numpy(np.arcsinh(data[0][:8, :, 8:24, 8:24] / 3.0))
    trainable = method.trainable(modules)
    target_ids = {id(p) for k in ("target_encoder", "target_projector") for p in modules[k].parameters()}
    assert target_ids and not target_ids & {id(p) for p in trainable}
    assert not any(p.requires_grad for k in ("target_encoder", "target_projector")
                   for p in modules[k].parameters())
    for m in modules.values():
        m.train()
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(trainable, lr=0.1)
    loss = method.loss(modules, x, lambda v: SkyAugment()(v, gen), opts)
    assert 0.0 <= loss.item() <= 4.0
    opt.zero_grad()
    loss.backward()
    assert all(p.grad is None for k in ("target_encoder", "target_projector")
               for p in modules[k].parameters())
    before = [p.detach().clone() for p in modules["target_encoder"].parameters()]
    opt.step()
    online = [p.detach().clone() for p in modules["encoder"].parameters()]
    assert any(not torch.equal(b, o) for b, o in zip(before, online, strict=True))
    method.after_step(modules, 0.0, opts)  # tau = momentum at the start of the run
    for b, o, t in zip(before, online, modules["target_encoder"].parameters(), strict=True):
        torch.testing.assert_close(t.detach(), 0.9 * b + 0.1 * o)
    frozen = [p.detach().clone() for p in modules["target_encoder"].parameters()]
    method.after_step(modules, 1.0, opts)  # tau = 1 at the end: the target no longer moves
    assert all(torch.equal(f, t) for f, t in zip(frozen, modules["target_encoder"].parameters(), strict=True))
    for t_buf, o_buf in zip(modules["target_encoder"].buffers(), modules["encoder"].buffers(), strict=True):
        assert torch.equal(t_buf, o_buf)


def test_vae_has_a_finite_kl_term_and_the_autoencoder_none(data):
    src = ArrayImageSource(data[0])
    vae = Autoencoder(variational=True)
    run_sync(train_image_embedding(src, vae, epochs=1, **FAST))
    assert set(vae.last_terms) == {"mse", "kl"}
    assert np.isfinite(vae.last_terms["kl"]) and vae.last_terms["kl"] > 0
    ae = Autoencoder()
    run_sync(train_image_embedding(src, ae, epochs=1, **FAST))
    assert set(ae.last_terms) == {"mse"}
    heavy, _ = _run(vae_job, src, epochs=1, beta=1.0)
    light, _ = _run(vae_job, src, epochs=1)
    assert heavy.config["epoch_losses"][0] > light.config["epoch_losses"][0] + 0.5 * vae.last_terms["kl"]


@pytest.mark.parametrize("out", [(20, 20), (24, 20), (17, 33)])
def test_decoder_reproduces_any_size(out):
    decoder = ConvDecoder(dim=8, out_channels=2, width=4, size=min(out))
    assert decoder(torch.zeros(3, 8), out).shape == (3, 2, *out)
    assert decoder(torch.zeros(3, 8)).shape == (3, 2, min(out), min(out))


def test_autoencoders_train_on_odd_and_oblong_cutouts():
    cutouts = make_blobs_and_bars(n=12, size=24, bands=1)[0][:, :, :, 2:22].copy()  # 24 x 20
    for kwargs in ({"input_size": 20}, {"input_size": None}, {"input_size": 17}):
        emb, _ = _run(vae_job, ArrayImageSource(cutouts), epochs=1, batch_size=6, **kwargs)
        assert emb.vectors.shape == (12, 16) and np.isfinite(emb.config["epoch_losses"]).all()


def test_byol_resume_after_cancel_gives_the_uninterrupted_result(data, tmp_path):
    src = ArrayImageSource(data[0][:40])
    whole, _ = _run(byol_job, src, epochs=3, seed=4, batch_size=20)
    ckpt = tmp_path / "byol.safetensors"
    cancelled = cancel_at(byol_job(src, epochs=3, seed=4, checkpoint=ckpt, **{**FAST, "batch_size": 20}),
              "epoch 2/3")
    resumed, reports = _run(byol_job, src, epochs=3, seed=4, batch_size=20, checkpoint=ckpt, resume=True)
    assert_resumed_as_uninterrupted(whole, resumed, reports, cancelled)


def test_train_rows_are_the_only_rows_trained_on(data):
    src = CountingSource(data[0])
    rows = np.arange(0, 64, 3)
    emb, _ = _run(autoencoder_job, src, epochs=1, train_rows=rows)
    assert emb.config["n_train"] == rows.size and emb.config["train_rows"]["count"] == rows.size
    assert src.reads[2].tolist() == rows.tolist()  # after the band scales and the fingerprint
    assert emb.vectors.shape == (64, 16)
    mask = np.zeros(64, bool)
    mask[rows] = True
    same, _ = _run(autoencoder_job, ArrayImageSource(data[0]), epochs=1, train_rows=mask)
    assert np.array_equal(same.vectors, emb.vectors)


def test_supervised_cnn_learns_the_labels_of_the_training_rows(data):
    # An easy label (objects 8x brighter or not), so that a few steps learn it.
    cutouts, labels = data
    cutouts = cutouts * np.where(labels == 1, 8.0, 1.0).astype(np.float32)[:, None, None, None]
    names = np.where(labels == 1, "bright", "faint").astype(object)
    names[60] = None  # a held-out row without a label is fine
    src = CountingSource(cutouts)

    def job(images, **kwargs):
        return supervised_cnn_job(images, names, np.arange(48), **kwargs)

    trained, _ = _run(job, src, epochs=4, lr=1e-2, batch_size=16)
    frozen, _ = _run(job, ArrayImageSource(cutouts), epochs=4, lr=1e-9, batch_size=16)
    assert trained.method == "supervised_cnn" and trained.config["classes"] == ["bright", "faint"]
    assert trained.vectors.shape == (64, 16) and trained.config["n_train"] == 48
    assert np.concatenate(src.reads[2:5]).max() < 48  # trained on the training rows only
    assert np.mean(trained.config["epoch_losses"][-2:]) < np.mean(frozen.config["epoch_losses"][-2:]) - 0.2


def test_random_encoder_is_reproducible_and_uses_data_statistics(data):
    src = ArrayImageSource(data[0])
    reports: list[Progress] = []
    emb = run_sync(random_encoder_job(src, dim=16, width=4, batch_size=20, seed=1), reports.append)
    assert emb.method == "random_encoder" and emb.vectors.shape == (64, 16)
    assert np.isfinite(emb.vectors).all() and emb.vectors.std(0).min() > 0
    assert reports[-1].message == "embedding 64/64 cutouts" and reports[-1].step == reports[-1].total
    assert np.array_equal(emb.vectors, run_sync(random_encoder_job(src, dim=16, width=4, batch_size=20,
                                                                   seed=1)).vectors)
    assert not np.allclose(emb.vectors, run_sync(random_encoder_job(src, dim=16, width=4, seed=2)).vectors)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s: byol_job(s, momentum=1.0), "momentum must be in"),
        (lambda s: vae_job(s, beta=-1.0), "beta must be"),
        (lambda s: vae_job(s, beta=float("nan")), "beta must be"),
        (lambda s: autoencoder_job(s, augment="yes"), "augment must be True or False"),
        (lambda s: autoencoder_job(s, beta=0.1), "no option beta"),
        (lambda s: byol_job(s, temperature=0.1), "no option temperature"),
        (lambda s: byol_job(s, train_rows=[0, 99]), r"lie in \[0, 8\)"),
        (lambda s: byol_job(s, train_rows=[3]), "at least 2 rows"),
        (lambda s: byol_job(s, train_rows=[[0, 1]]), "1-d sequence"),
        (lambda s: autoencoder_job(s, width=0), "width must be positive"),
        (lambda s: supervised_cnn_job(s, ["a"] * 7, [0, 1]), "one label per cutout"),
        (lambda s: supervised_cnn_job(s, ["a", ""] + ["b"] * 6, [0, 1, 2]), "1 of the 3 training rows"),
        (lambda s: supervised_cnn_job(s, [1.0, np.nan] + [2.0] * 6, [1, 2]), "have no label"),
        (lambda s: supervised_cnn_job(s, ["a"] * 8, [0, 1]), "at least 2 classes"),
        (lambda s: random_encoder_job(s, width=0), "width must be positive"),
        (lambda s: random_encoder_job(s, input_size=8), "too small"),
        (lambda s: random_encoder_job(ArrayImageSource(np.zeros((1, 3, 32, 32), np.float32))),
         "at least 2 cutouts"),
    ],
)
def test_invalid_input_is_a_user_error_at_once(call, match):
    with pytest.raises(UserError, match=match):
        call(ArrayImageSource(np.zeros((8, 3, 32, 32), np.float32)))
