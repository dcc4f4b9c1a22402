"""SimCLR self-supervised training of a cutout encoder, as a job returning an Embedding."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, closing, nullcontext

import numpy as np
import torch

from ..analysis.preprocess import fit_band_scales, normalise_cutouts
from ..core.catalogue import Embedding
from ..core.errors import UserError
from ..core.images import ImageSource
from ..jobs.base import Job, Progress
from .augment import SkyAugment
from .device import configure_cpu_threads, describe_device, select_device
from .encoders import MIN_IMAGE_SIZE, ProjectionHead, SmallCNNEncoder
from .losses import nt_xent_loss

__all__ = ["simclr_job"]

#: Projection head sizes relative to the representation: hidden = 2 * dim, output 64.
_HEAD_OUT = 64
#: Inference batches are this many times the training batch (no views, no gradients).
_INFER_BATCH_FACTOR = 2
#: Rough cost of embedding one image relative to one training image (2 views, fwd+bwd).
_INFER_COST = 1.0 / 6.0
_WEIGHT_DECAY = 1e-4


def _validate(images: ImageSource, epochs: int, batch_size: int, dim: int, width: int,
              lr: float, temperature: float, max_train: int | None) -> None:
    n = len(images)
    if n < 2:
        raise UserError(f"SimCLR needs at least 2 cutouts, but the image source has {n}.")
    _, h, w = images.shape
    if min(h, w) < MIN_IMAGE_SIZE:
        raise UserError(
            f"The cutouts are {h}x{w} pixels, too small for the CNN encoder, which needs "
            f"at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE}."
        )
    checks = [("epochs", epochs, epochs >= 1), ("batch size", batch_size, batch_size >= 2),
              ("dim", dim, dim >= 1), ("width", width, width >= 1), ("learning rate", lr, lr > 0),
              ("temperature", temperature, temperature > 0),
              ("max_train", max_train, max_train is None or max_train >= 2)]
    for name, value, ok in checks:
        if not ok:
            minimum = "at least 2" if name in ("batch size", "max_train") else "positive"
            raise UserError(f"The SimCLR {name} must be {minimum}, not {value}.")


def _read_batches(images: ImageSource, chunks: Sequence[np.ndarray], scales: np.ndarray,
                  pin: bool, prefetch: bool) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """Yield ``(rows, normalised cutouts (b, C, H, W) float32 tensor)`` per chunk of rows.

    With ``prefetch`` the next chunk is read and normalised in a thread while the
    device computes (numpy and file reads release the GIL); on CPU it would only
    compete with torch's own threads.
    """
    def load(rows: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(normalise_cutouts(images.get_many(rows), scales))
        return x.pin_memory() if pin else x

    if not prefetch:
        for rows in chunks:
            yield rows, load(rows)
        return
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simclr-read")
    try:
        pending = pool.submit(load, chunks[0]) if chunks else None
        for i, rows in enumerate(chunks):
            x = pending.result()
            pending = pool.submit(load, chunks[i + 1]) if i + 1 < len(chunks) else None
            yield rows, x
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def simclr_job(
    images: ImageSource, epochs: int = 10, batch_size: int = 128, dim: int = 128, width: int = 32,
    lr: float = 1e-3, temperature: float = 0.2, device: str = "auto", seed: int = 0,
    max_train: int | None = None,
) -> Job[Embedding]:
    """Train a SimCLR encoder on the cutouts and embed every row with it.

    Two augmented views (:class:`SkyAugment`) of each cutout of a batch are encoded
    by a :class:`SmallCNNEncoder` and a :class:`ProjectionHead`; NT-Xent on the
    projections is minimised with AdamW and a cosine learning-rate decay. Then all
    rows are embedded with the encoder in eval mode (the representation *before*
    the head, which transfers better).

    Pixels are normalised with :func:`normalise_cutouts` using band scales fitted
    once on the source; augmentations act on ``sinh`` of that (flux in units of the
    softened sky noise), so blur, noise and flux scaling are physical, and the
    network always sees arcsinh-normalised pixels, in training as in inference.

    Parameters
    ----------
    images : ImageSource
        ``N`` cutouts of shape ``(C, H, W)``, ``H, W >= 16``; read in batches, so a
        memory-mapped cube stays on disk.
    epochs, batch_size : int
        Passes over the training rows, and objects per batch (2 views each).
    dim, width : int
        Representation size ``D`` and encoder width (see :class:`SmallCNNEncoder`).
    lr, temperature : float
        Peak learning rate; NT-Xent temperature.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"mps"`` (see :func:`select_device`).
        On CUDA: mixed precision (bf16, or fp16 with loss scaling), pinned host
        memory, asynchronous copies and a one-batch read-ahead; channels-last memory
        on CUDA and CPU.
    seed : int
        Seeds initialisation, shuffling and augmentations; on CPU the result is
        reproducible bit for bit.
    max_train : int, optional
        Train on a random subset of at most this many rows; all rows are embedded.

    Yields
    ------
    Progress
        One per training batch (``"epoch e/E, loss L"``; metrics ``epoch``,
        ``loss``, ``images_per_s``, ``eta_s``) and per inference batch.

    Returns
    -------
    Embedding
        ``vectors`` of shape ``(N, dim)`` float32, row ``i`` for cutout ``i``;
        ``method="simclr"``; ``config`` with every option, the device, band scales,
        augmentation settings and per-epoch mean losses.

    Raises
    ------
    UserError
        Fewer than 2 cutouts, cutouts under 16 px, an invalid option, an unavailable
        device, or a diverged (non-finite) loss.
    """
    _validate(images, epochs, batch_size, dim, width, lr, temperature, max_train)
    dev = select_device(device)
    opts = {
        "epochs": int(epochs), "batch_size": int(batch_size), "dim": int(dim), "width": int(width),
        "lr": float(lr), "temperature": float(temperature), "device_requested": str(device),
        "seed": int(seed), "max_train": None if max_train is None else int(max_train),
    }
    return _simclr(images, dev, opts)


def _simclr(images: ImageSource, dev: torch.device, opts: dict) -> Job[Embedding]:
    epochs, bs, dim, seed = opts["epochs"], opts["batch_size"], opts["dim"], opts["seed"]
    n = len(images)
    c, _, _ = images.shape
    on_cuda = dev.type == "cuda"
    if dev.type == "cpu":
        configure_cpu_threads()
    rng = np.random.default_rng(seed)
    train_rows = np.arange(n)
    if opts["max_train"] is not None and opts["max_train"] < n:
        train_rows = np.sort(rng.choice(n, size=opts["max_train"], replace=False))
    n_train = train_rows.size
    # A last batch of one object has no negatives (and breaks BatchNorm): skip it.
    steps_per_epoch = n_train // bs + (1 if n_train % bs >= 2 else 0)
    train_steps = epochs * steps_per_epoch
    infer_bs = bs * _INFER_BATCH_FACTOR
    infer_chunks = [np.arange(i, min(i + infer_bs, n)) for i in range(0, n, infer_bs)]
    total = train_steps + len(infer_chunks)

    yield Progress(0, total, "fitting band scales")
    scales = fit_band_scales(images, seed=seed)

    with torch.random.fork_rng(devices=[]):  # seed the initialisation without touching global state
        torch.manual_seed(seed)
        encoder = SmallCNNEncoder(c, dim=dim, width=opts["width"])
        head = ProjectionHead(dim, 2 * dim, _HEAD_OUT)
    # Channels-last suits cuDNN tensor cores and oneDNN on CPU alike (about 2x faster
    # training measured on a 2-core CPU); MPS support for it is uneven.
    memory_format = torch.channels_last if dev.type in ("cpu", "cuda") else torch.contiguous_format
    encoder.to(dev, memory_format=memory_format)
    head.to(dev)
    augment = SkyAugment()
    gen = torch.Generator(device=dev if dev.type in ("cpu", "cuda") else "cpu")
    gen.manual_seed(seed)

    amp_dtype = None
    if on_cuda:
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None

    def autocast() -> AbstractContextManager:
        return torch.autocast(dev.type, dtype=amp_dtype) if amp_dtype else nullcontext()

    params = list(encoder.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=opts["lr"], weight_decay=_WEIGHT_DECAY)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(train_steps, 1),
                                                       eta_min=opts["lr"] * 0.01)

    def train_step(x: torch.Tensor) -> float:
        x = torch.sinh(x.to(dev, non_blocking=True))  # back to (softened) linear flux
        b = x.shape[0]
        views = torch.asinh(torch.cat([augment(x, gen), augment(x, gen)]))
        views = views.contiguous(memory_format=memory_format)
        with autocast():
            z = head(encoder(views))
        loss = nt_xent_loss(z[:b], z[b:], opts["temperature"])
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        sched.step()
        return float(loss.detach())

    step, epoch_losses, t_train = 0, [], time.perf_counter()
    pin, prefetch = on_cuda, dev.type != "cpu"
    for epoch in range(epochs):
        encoder.train()
        head.train()
        perm = rng.permutation(train_rows)
        chunks = [np.sort(perm[i:i + bs]) for i in range(0, n_train, bs)]
        chunks = [ch for ch in chunks if ch.size >= 2]
        seen, loss_sum, t0 = 0, 0.0, time.perf_counter()
        with closing(_read_batches(images, chunks, scales, pin, prefetch)) as batches:
            for rows, x in batches:
                loss = train_step(x)
                if not math.isfinite(loss):
                    raise UserError(
                        f"SimCLR training diverged (loss {loss}) in epoch {epoch + 1}; "
                        "try a lower learning rate."
                    )
                now = time.perf_counter()
                step += 1
                seen += rows.size
                loss_sum += loss
                per_step = (now - t_train) / step  # reads included
                eta = (train_steps - step) * per_step + n * _INFER_COST * per_step / bs
                metrics = {"epoch": float(epoch + 1), "loss": loss,
                           "images_per_s": seen / max(now - t0, 1e-9), "eta_s": eta}
                yield Progress(step, total, f"epoch {epoch + 1}/{epochs}, loss {loss:.3f}", metrics)
        epoch_losses.append(loss_sum / max(len(chunks), 1))

    train_time = time.perf_counter() - t_train
    encoder.eval()
    vectors = np.empty((n, dim), dtype=np.float32)
    done, t0 = 0, time.perf_counter()
    with closing(_read_batches(images, infer_chunks, scales, pin, prefetch)) as batches:
        for k, (rows, x) in enumerate(batches):
            # Enter the modes per batch: a thread-local mode must not leak to the
            # caller's code across a yield.
            with torch.inference_mode(), autocast():
                h = encoder(x.to(dev, non_blocking=True).contiguous(memory_format=memory_format))
                vectors[rows] = h.float().cpu().numpy()
            done += rows.size
            rate = done / max(time.perf_counter() - t0, 1e-9)
            metrics = {"epoch": float(epochs), "loss": epoch_losses[-1] if epoch_losses else math.nan,
                       "images_per_s": rate, "eta_s": (n - done) / rate}
            yield Progress(train_steps + k + 1, total, f"embedding {done}/{n} cutouts", metrics)

    config = {
        **opts, "device": describe_device(dev), "amp": {None: "none", torch.bfloat16: "bf16",
                                                        torch.float16: "fp16"}[amp_dtype],
        "n_objects": n, "n_train": int(n_train), "image_shape": list(images.shape),
        "bands": list(images.bands), "band_scales": [float(s) for s in scales],
        "encoder": "SmallCNNEncoder", "projection": {"hidden": 2 * dim, "out": _HEAD_OUT},
        "optimizer": "AdamW", "weight_decay": _WEIGHT_DECAY, "schedule": "cosine",
        "augment": augment.config(), "epoch_losses": epoch_losses, "train_seconds": train_time,
    }
    return Embedding(vectors=vectors, method="simclr", config=config)
