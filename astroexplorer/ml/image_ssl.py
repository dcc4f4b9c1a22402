"""Self-supervised training of cutout encoders, as jobs returning an Embedding.

One driver (:func:`train_image_embedding`) runs every image method: it checks the
options, fits the band scales, builds the method's networks around a
:class:`SmallCNNEncoder`, trains them with a :class:`~.training.Trainer` (AdamW,
cosine schedule, mixed precision on CUDA, checkpoints) and embeds every row with
the encoder in eval mode. A method only says which networks it trains and what its
loss is on a batch; see :class:`ImageMethod`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing

import numpy as np
import torch
from torch import nn

from ..analysis.embedding_cache import fingerprint_images
from ..analysis.preprocess import fit_band_scales
from ..core.catalogue import Embedding
from ..core.errors import UserError
from ..core.images import ImageSource
from ..jobs.base import Job, Progress
from .augment import SkyAugment
from .device import configure_cpu_threads, select_device
from .encoders import MIN_IMAGE_SIZE, ProjectionHead, SmallCNNEncoder
from .image_data import read_image_batches
from .losses import nt_xent_loss
from .training import Trainer, embed_in_batches

__all__ = ["COMMON_IMAGE_OPTIONS", "ImageMethod", "simclr_job", "train_image_embedding"]

#: Options every image method takes, with their defaults.
COMMON_IMAGE_OPTIONS: dict = {
    "epochs": 10, "batch_size": 128, "dim": 128, "width": 32, "depth": 1, "input_size": None,
    "lr": 1e-3, "device": "auto", "seed": 0, "max_train": None, "checkpoint": None,
    "resume": False,
}
#: Inference batches are this many times the training batch (no views, no gradients).
_INFER_BATCH_FACTOR = 2


class ImageMethod:
    """What distinguishes one self-supervised image method from another.

    Subclasses set ``name`` and ``options`` (their own options with defaults) and
    implement :meth:`build` and :meth:`loss`; :meth:`after_step` is a hook run after
    every optimiser step (BYOL's momentum update).
    """

    name = ""
    label = ""
    options: dict = {}

    def validate(self, opts: dict) -> None:
        """Raise :class:`UserError` for an invalid method option."""

    def build(self, channels: int, size: int, opts: dict) -> dict[str, nn.Module]:
        """The networks, ``"encoder"`` (a :class:`SmallCNNEncoder`) among them."""
        raise NotImplementedError

    def trainable(self, modules: dict[str, nn.Module]) -> list[nn.Parameter]:
        """The parameters the optimiser updates (default: all of every module)."""
        return [p for m in modules.values() for p in m.parameters()]

    def loss(self, modules: dict[str, nn.Module], x: torch.Tensor,
             augment: Callable[[torch.Tensor], torch.Tensor], opts: dict) -> torch.Tensor:
        """The loss of a batch ``x`` of normalised cutouts ``(B, C, S, S)``.

        ``augment(x)`` returns one random augmented view of ``x``, normalised
        like ``x`` (augmentations act on linear flux internally).
        """
        raise NotImplementedError

    def after_step(self, modules: dict[str, nn.Module], progress: float, opts: dict) -> None:
        """Called after each optimiser step; ``progress`` in [0, 1] through the run."""

    def config(self, opts: dict) -> dict:
        """Method facts for the Embedding's config (architecture of the heads...)."""
        return {}


class SimCLR(ImageMethod):
    """SimCLR (Chen et al. 2020): NT-Xent between projections of two views."""

    name = "simclr"
    label = "SimCLR"
    options = {"temperature": 0.2}
    head_out = 64

    def validate(self, opts: dict) -> None:
        if not opts["temperature"] > 0:
            raise UserError(f"The SimCLR temperature must be positive, not {opts['temperature']}.")

    def build(self, channels: int, size: int, opts: dict) -> dict[str, nn.Module]:
        dim = opts["dim"]
        return {"encoder": SmallCNNEncoder(channels, dim, opts["width"], opts["depth"]),
                "head": ProjectionHead(dim, 2 * dim, self.head_out)}

    def loss(self, modules, x, augment, opts):
        b = x.shape[0]
        z = modules["head"](modules["encoder"](torch.cat([augment(x), augment(x)])))
        return nt_xent_loss(z[:b], z[b:], opts["temperature"])

    def config(self, opts: dict) -> dict:
        return {"projection": {"hidden": 2 * opts["dim"], "out": self.head_out}}


def _validate(images: ImageSource, method: ImageMethod, opts: dict) -> None:
    n = len(images)
    if n < 2:
        raise UserError(f"{method.label} needs at least 2 cutouts, but the image source has {n}.")
    _, h, w = images.shape
    size = opts["input_size"] or min(h, w)
    if min(h, w) < MIN_IMAGE_SIZE or size < MIN_IMAGE_SIZE:
        shown = f"{h}x{w}" if opts["input_size"] is None else f"resampled to {size}x{size}"
        raise UserError(
            f"The cutouts are {shown} pixels, too small for the CNN encoder, which needs "
            f"at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE}.")
    checks = [("epochs", opts["epochs"] >= 1, "at least 1"),
              ("batch size", opts["batch_size"] >= 2, "at least 2"),
              ("dim", opts["dim"] >= 1, "positive"), ("width", opts["width"] >= 1, "positive"),
              ("depth", opts["depth"] >= 1, "positive"), ("learning rate", opts["lr"] > 0, "positive"),
              ("max_train", opts["max_train"] is None or opts["max_train"] >= 2, "at least 2")]
    for name, ok, rule in checks:
        if not ok:
            value = opts[{"batch size": "batch_size", "learning rate": "lr"}.get(name, name)]
            raise UserError(f"The {method.label} {name} must be {rule}, not {value}.")
    method.validate(opts)


def train_image_embedding(images: ImageSource, method: ImageMethod, **options) -> Job[Embedding]:
    """Train ``method``'s encoder on the cutouts and embed every row with it.

    Options are :data:`COMMON_IMAGE_OPTIONS` plus ``method.options``:

    - ``epochs``, ``batch_size``: passes over the training rows, objects per batch.
    - ``dim``, ``width``, ``depth``: the representation size ``D`` and the
      :class:`SmallCNNEncoder`'s width and blocks per stage.
    - ``input_size``: side (pixels) cutouts are resampled to; None keeps their size.
    - ``lr``: peak learning rate; ``seed``: initialisation, shuffling and
      augmentations (on CPU the result is reproducible bit for bit, resumed or not).
    - ``device``: ``"auto"``, ``"cpu"``, ``"cuda[:N]"`` or ``"mps"``. On CUDA: mixed
      precision (bf16, or fp16 with loss scaling), pinned memory, asynchronous copies
      and a one-batch read-ahead; channels-last memory on CUDA and CPU.
    - ``max_train``: train on a random subset of at most this many rows; all rows
      are embedded.
    - ``checkpoint``: a ``.safetensors`` path written after every epoch;
      ``resume``: continue from it when it exists (same data and options).

    Pixels are normalised with arcsinh per band (scales fitted once on the source);
    augmentations (:class:`SkyAugment`) act on ``sinh`` of that, i.e. on flux in
    units of the softened sky noise, so blur, noise and flux scaling are physical.

    Yields
    ------
    Progress
        One to start, one per training batch (``"epoch e/E, loss L"``; metrics
        ``epoch``, ``loss``, ``images_per_s``, ``objects_per_s``, ``eta_s``) and one
        per inference batch.

    Returns
    -------
    Embedding
        ``vectors`` ``(N, dim)`` float32, row ``i`` for cutout ``i``; ``method`` the
        method's name; ``config`` with every option, the device, band scales,
        augmentation settings and per-epoch mean losses.

    Raises
    ------
    UserError
        Fewer than 2 cutouts, cutouts under 16 px, an invalid option, an unavailable
        device, a checkpoint of another run, or a diverged (non-finite) loss.
    """
    unknown = set(options) - set(COMMON_IMAGE_OPTIONS) - set(method.options)
    if unknown:
        raise UserError(f"{method.label} has no option {', '.join(sorted(unknown))}.")
    opts = {**COMMON_IMAGE_OPTIONS, **method.options, **options}
    _validate(images, method, opts)
    dev = select_device(opts["device"])
    return _train(images, method, opts, dev)


def _train(images: ImageSource, method: ImageMethod, opts: dict, dev: torch.device) -> Job[Embedding]:
    epochs, bs, seed = int(opts["epochs"]), int(opts["batch_size"]), int(opts["seed"])
    n = len(images)
    c, h, w = images.shape
    size = opts["input_size"] or None
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
        modules = method.build(c, size or min(h, w), opts)
    # Channels-last suits cuDNN tensor cores and oneDNN on CPU alike (about 2x faster
    # training measured on a 2-core CPU); MPS support for it is uneven.
    memory_format = torch.channels_last if dev.type in ("cpu", "cuda") else torch.contiguous_format
    for module in modules.values():
        module.to(dev, memory_format=memory_format)
    augment = SkyAugment()
    gen = torch.Generator(device=dev if dev.type in ("cpu", "cuda") else "cpu")
    gen.manual_seed(seed)
    run_opts = {k: v for k, v in opts.items() if k not in ("device", "checkpoint", "resume")}
    trainer = Trainer(
        modules, method.trainable(modules), dev, lr=float(opts["lr"]), total_steps=train_steps,
        identity={"method": method.name, "options": run_opts,
                  "data": fingerprint_images(images)},
        rng=rng, torch_generator=gen, checkpoint=opts["checkpoint"], resume=bool(opts["resume"]))

    def views(x: torch.Tensor) -> torch.Tensor:
        out = torch.asinh(augment(torch.sinh(x), gen))
        return out.contiguous(memory_format=memory_format)

    def step(x: torch.Tensor) -> float:
        x = x.to(dev, non_blocking=True).contiguous(memory_format=memory_format)
        with trainer.autocast():
            loss = method.loss(modules, x, views, opts)
        value = trainer.step(loss)
        method.after_step(modules, trainer.scheduler.last_epoch / max(train_steps, 1), opts)
        return value

    pin, prefetch = dev.type == "cuda", dev.type != "cpu"

    def batches(epoch: int) -> Iterator[tuple[int, torch.Tensor]]:
        perm = rng.permutation(train_rows)
        chunks = [np.sort(perm[i:i + bs]) for i in range(0, n_train, bs)]
        chunks = [ch for ch in chunks if ch.size >= 2]
        with closing(read_image_batches(images, chunks, scales, pin, prefetch, size)) as it:
            for rows, x in it:
                yield rows.size, x

    yield from trainer.fit(epochs, batches, step, steps_per_epoch, total, what="cutouts",
                           method=method.label, infer_objects=n)

    encoder = modules["encoder"]
    encoder.eval()

    def encode(x: torch.Tensor) -> torch.Tensor:
        with trainer.autocast():
            return encoder(x.to(dev, non_blocking=True).contiguous(memory_format=memory_format))

    last_loss = trainer.epoch_losses[-1] if trainer.epoch_losses else float("nan")
    with closing(read_image_batches(images, infer_chunks, scales, pin, prefetch, size)) as it:
        vectors = yield from embed_in_batches(encode, it, n, int(opts["dim"]), train_steps, total,
                                              "cutouts", {"epoch": float(epochs), "loss": last_loss})
    config = {
        **run_opts, "device_requested": str(opts["device"]), **trainer.summary(),
        "n_objects": n, "n_train": int(n_train), "image_shape": list(images.shape),
        "bands": list(images.bands), "band_scales": [float(s) for s in scales],
        "encoder": {"name": "SmallCNNEncoder", "width": opts["width"], "depth": opts["depth"],
                    "input_size": size or [h, w]},
        "augment": augment.config(), **method.config(opts),
    }
    return Embedding(vectors=vectors, method=method.name, config=config)


def simclr_job(images: ImageSource, **options) -> Job[Embedding]:
    """SimCLR embedding of the cutouts: :func:`train_image_embedding` with
    :class:`SimCLR` (option ``temperature``, default 0.2, besides the common ones)."""
    return train_image_embedding(images, SimCLR(), **options)
