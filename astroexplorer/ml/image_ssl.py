"""Self-supervised training of cutout encoders, as jobs returning an Embedding.

One driver (:func:`train_image_embedding`) runs every image method: it checks the
options, fits the band scales, builds the method's networks around a
:class:`SmallCNNEncoder`, trains them with a :class:`~.training.Trainer` (AdamW,
cosine schedule, mixed precision on CUDA, checkpoints) and embeds every row with
the encoder in eval mode. A method only says which networks it trains and what its
loss is on a batch; see :class:`ImageMethod`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from contextlib import closing

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..analysis.embedding_cache import fingerprint_images
from ..analysis.preprocess import fit_band_scales
from ..core.catalogue import Embedding
from ..core.errors import UserError
from ..core.images import ImageSource
from ..jobs.base import Job, Progress
from .augment import SkyAugment
from .device import configure_cpu_threads, select_device
from .encoders import MIN_IMAGE_SIZE, ConvDecoder, ProjectionHead, SmallCNNEncoder
from .image_data import ImageBatches
from .losses import nt_xent_loss
from .training import (
    Trainer,
    check_train_rows,
    embed_in_batches,
    fit_batch_size,
    memory_trial,
    plan_epochs,
    recorded_options,
    resolve_options,
    run_generator,
)

__all__ = ["BYOL", "COMMON_IMAGE_OPTIONS", "Autoencoder", "ImageMethod", "SimCLR", "autoencoder_job",
           "byol_job", "simclr_job", "train_image_embedding", "vae_job"]

#: Options every image method takes, with their defaults.
COMMON_IMAGE_OPTIONS: dict = {
    "epochs": 10, "batch_size": 128, "dim": 128, "width": 32, "depth": 1, "input_size": None,
    "lr": 1e-3, "device": "auto", "seed": 0, "max_train": None, "train_rows": None,
    "checkpoint": None, "resume": False,
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
    #: Set by the driver before training: the run's generator (on the device), for
    #: randomness besides the views (a VAE's sampling); checkpointed with the run.
    generator: torch.Generator | None = None
    #: Set by the driver before each :meth:`loss`: the catalogue rows of the batch
    #: (sorted int64), for methods that look up per-row targets (supervised training).
    batch_rows: np.ndarray | None = None

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

    def augmentation(self, opts: dict) -> SkyAugment:
        """The augmentations behind ``augment`` in :meth:`loss` (default: SkyAugment())."""
        return SkyAugment()

    def config(self, opts: dict) -> dict:
        """Method facts for the Embedding's config (architecture of the heads...);
        part of a checkpoint's identity."""
        return {}


class SimCLR(ImageMethod):
    """SimCLR (Chen et al. 2020): NT-Xent between projections of two views."""

    name = "simclr"
    label = "SimCLR"
    options = {"temperature": 0.1}
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


def _cosine_loss(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``2 - 2 cos(p, z)`` per row, ``(B,)``; in [0, 4]."""
    return 2.0 - 2.0 * F.cosine_similarity(p.float(), z.float(), dim=-1)


class BYOL(ImageMethod):
    """BYOL (Grill et al. 2020): predict a momentum target's projection of another view.

    Online networks: encoder, projector and predictor (MLPs ``Linear -> BatchNorm ->
    ReLU -> Linear``, hidden ``2 * dim``, output 64). Target networks: copies of the
    encoder and projector, never given gradients, moved after every step by an
    exponential moving average ``t <- tau t + (1 - tau) o`` whose ``tau`` rises from
    ``momentum`` to 1 by a cosine over the run; their BatchNorm buffers are copied
    from the online networks. The loss is the symmetric ``2 - 2 cos`` between the
    online prediction of one view and the target projection of the other, averaged
    over both directions (so in [0, 4], not the paper's sum in [0, 8]).
    """

    name = "byol"
    label = "BYOL"
    options = {"momentum": 0.99}
    head_out = 64

    def validate(self, opts: dict) -> None:
        if not 0.0 <= opts["momentum"] < 1.0:
            raise UserError(f"The BYOL momentum must be in [0, 1), not {opts['momentum']}.")

    def build(self, channels: int, size: int, opts: dict) -> dict[str, nn.Module]:
        dim = opts["dim"]
        modules = {"encoder": SmallCNNEncoder(channels, dim, opts["width"], opts["depth"]),
                   "projector": ProjectionHead(dim, 2 * dim, self.head_out),
                   "predictor": ProjectionHead(self.head_out, 2 * dim, self.head_out)}
        for name in ("encoder", "projector"):
            target = copy.deepcopy(modules[name])
            target.requires_grad_(False)
            modules[f"target_{name}"] = target
        return modules

    def trainable(self, modules: dict[str, nn.Module]) -> list[nn.Parameter]:
        return [p for name in ("encoder", "projector", "predictor") for p in modules[name].parameters()]

    def loss(self, modules, x, augment, opts):
        b = x.shape[0]
        views = torch.cat([augment(x), augment(x)])
        p = modules["predictor"](modules["projector"](modules["encoder"](views)))
        with torch.no_grad():
            z = modules["target_projector"](modules["target_encoder"](views))
        # Prediction of view 1 against the target of view 2, and the other way round.
        z = torch.cat([z[b:], z[:b]])
        return _cosine_loss(p, z).mean()

    def after_step(self, modules, progress, opts):
        tau = 1.0 - (1.0 - opts["momentum"]) * (math.cos(math.pi * min(progress, 1.0)) + 1.0) / 2.0
        with torch.no_grad():
            for name in ("encoder", "projector"):
                online, target = modules[name], modules[f"target_{name}"]
                t_params, o_params = list(target.parameters()), list(online.parameters())
                torch._foreach_mul_(t_params, tau)
                torch._foreach_add_(t_params, o_params, alpha=1.0 - tau)
                for t_buf, o_buf in zip(target.buffers(), online.buffers(), strict=True):
                    t_buf.copy_(o_buf)

    def config(self, opts: dict) -> dict:
        return {"projection": {"hidden": 2 * opts["dim"], "out": self.head_out},
                "prediction": {"hidden": 2 * opts["dim"], "out": self.head_out},
                "momentum_schedule": "cosine to 1"}


class _VAEHead(nn.Module):
    """Log-variance of the latent Gaussian from the encoder's pooled features."""

    def __init__(self, features: int, dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(features, dim)
        # Start at a small variance, so early training is close to a plain autoencoder.
        nn.init.zeros_(self.fc.weight)
        nn.init.constant_(self.fc.bias, -4.0)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.fc(pooled)


def _encode_pooled(encoder: SmallCNNEncoder, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoder's output ``(B, D)`` and its pooled features ``(B, 4 * width)``."""
    pooled = torch.flatten(encoder.pool(encoder.stages(encoder.stem(x))), 1)
    return encoder.fc(pooled), pooled


class Autoencoder(ImageMethod):
    """A convolutional (variational) autoencoder; its encoder gives the embedding.

    The :class:`SmallCNNEncoder` maps a cutout to ``dim`` numbers (the embedding;
    for the VAE, the mean of the latent Gaussian, whose log-variance comes from a
    linear head on the pooled features), and a :class:`ConvDecoder` maps them (a
    sample, for the VAE) back to the normalised pixels.

    Loss: per-pixel mean squared error of the reconstruction (in arcsinh-normalised
    units, averaged over bands and pixels), plus for the VAE ``beta`` times the KL
    divergence to N(0, I) summed over the ``dim`` latents and averaged over the
    batch. With per-pixel MSE, ``beta = (C H W)^-1`` would be the ELBO of a
    Gaussian decoder of variance 1/2; the default 1e-4 weighs the KL about 0.3x that
    at 3 x 32 x 32 and 0.8x at 3 x 64 x 64. A heavier KL term blurs the embedding: on
    the demo survey (32 px) the kNN accuracy of morphology was 0.666 at 1e-4, 0.602
    at 1e-3 and 0.518 at 1e-2.

    What is reconstructed: a view rotated by a random angle and randomly mirrored,
    and the encoder sees that same view (option ``augment``, default True). The
    symmetries of the sky multiply the few thousand training cutouts without
    changing what they show; shifts, blur, noise and flux scaling are left out,
    since an autoencoder cannot tell them from the object and would spend capacity
    reproducing them. ``augment=False`` reconstructs the cutouts as read.

    After each batch, ``last_terms`` holds the loss terms as floats: ``mse``, and
    ``kl`` for the VAE.
    """

    last_terms: dict[str, float]

    name = "autoencoder"
    label = "Autoencoder"

    def __init__(self, variational: bool = False) -> None:
        self.variational = variational
        if variational:
            self.name, self.label = "vae", "Variational autoencoder"
        self.options = {"augment": True, **({"beta": 1e-4} if variational else {})}

    def validate(self, opts: dict) -> None:
        if self.variational and not (np.isfinite(opts["beta"]) and opts["beta"] >= 0):
            raise UserError(f"The {self.label} beta must be a finite number >= 0, not {opts['beta']}.")
        if not isinstance(opts["augment"], bool):
            raise UserError(f"The {self.label} option augment must be True or False, "
                            f"not {opts['augment']!r}.")

    def augmentation(self, opts: dict) -> SkyAugment:
        on = bool(opts["augment"])
        return SkyAugment(rotate=on, flip=on, max_shift=0.0, zoom=(1.0, 1.0), blur_p=0.0,
                          noise_std=(0.0, 0.0), flux_scale=0.0)

    def build(self, channels: int, size: int, opts: dict) -> dict[str, nn.Module]:
        dim, width = opts["dim"], opts["width"]
        modules = {"encoder": SmallCNNEncoder(channels, dim, width, opts["depth"]),
                   "decoder": ConvDecoder(dim, channels, width, size)}
        if self.variational:
            modules["logvar"] = _VAEHead(4 * width, dim)
        return modules

    def loss(self, modules, x, augment, opts):
        view = augment(x) if opts["augment"] else x
        mean, pooled = _encode_pooled(modules["encoder"], view)
        kl = None
        if self.variational:
            logvar = modules["logvar"](pooled).float().clamp(-20.0, 10.0)
            mean = mean.float()
            assert self.generator is not None, "the driver sets the generator"
            eps = torch.randn(mean.shape, generator=self.generator, device=self.generator.device)
            z = mean + eps.to(mean.device) * torch.exp(0.5 * logvar)
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()
        else:
            z = mean
        recon = modules["decoder"](z, tuple(view.shape[-2:]))
        mse = F.mse_loss(recon.float(), view.float())
        self.last_terms = {"mse": float(mse.detach())}
        if kl is None:
            return mse
        self.last_terms["kl"] = float(kl.detach())
        return mse + opts["beta"] * kl

    def config(self, opts: dict) -> dict:
        return {"decoder": {"name": "ConvDecoder", "width": opts["width"]},
                "loss": "per-pixel MSE" + (" + beta * KL (sum over latents)" if self.variational else ""),
                "reconstructs": "rotated/flipped view" if opts["augment"] else "input"}


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
    if opts["train_rows"] is not None:
        opts["train_rows"] = check_train_rows(opts["train_rows"], n, method.label)
    method.validate(opts)


def train_image_embedding(images: ImageSource, method: ImageMethod, **options) -> Job[Embedding]:
    """Train ``method``'s encoder on the cutouts and embed every row with it.

    Options are :data:`COMMON_IMAGE_OPTIONS` plus ``method.options``:

    - ``epochs``, ``batch_size``: passes over the training rows, objects per batch.
      On a GPU a batch size whose training step does not fit in its memory is
      halved until one does (the config then records ``batch_size_requested``).
    - ``dim``, ``width``, ``depth``: the representation size ``D`` and the
      :class:`SmallCNNEncoder`'s width and blocks per stage.
    - ``input_size``: side (pixels) cutouts are resampled to; None keeps their size.
    - ``lr``: peak learning rate; ``seed``: initialisation, shuffling and
      augmentations (on CPU the result is reproducible bit for bit, resumed or not).
    - ``device``: ``"auto"``, ``"cpu"``, ``"cuda[:N]"`` or ``"mps"``. On CUDA: mixed
      precision (bf16, or fp16 with loss scaling), pinned memory, asynchronous copies
      and a one-batch read-ahead; channels-last memory on CUDA and CPU.
    - ``train_rows``: row indices (or a boolean mask of length N) to train on, e.g.
      a benchmark's training split; None trains on every row. All rows are embedded.
    - ``max_train``: train on a random subset of at most this many of the training
      rows; all rows are embedded.
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
    opts = resolve_options(method.label, COMMON_IMAGE_OPTIONS, method.options, options)
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
    train_rows, steps_per_epoch, train_steps, infer_chunks = plan_epochs(
        n, opts, rng, bs * _INFER_BATCH_FACTOR)
    n_train = train_rows.size
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
    augment = method.augmentation(opts)
    # Reads (in threads on a GPU), moves, normalises and resizes on the device.
    loader = ImageBatches(images, scales, dev, size, memory_format)

    def views_from(gen: torch.Generator) -> Callable[[torch.Tensor], torch.Tensor]:
        def views(x: torch.Tensor) -> torch.Tensor:
            out = torch.asinh(augment(torch.sinh(x), gen))
            return out.contiguous(memory_format=memory_format)
        return views

    def trial(size: int) -> None:  # one step on the first rows, with its own randomness
        method.generator = probe = run_generator(dev, seed)
        with closing(loader([np.arange(min(size, n))])) as it:
            method.batch_rows, x = next(it)
        memory_trial(modules, lambda: method.loss(modules, x, views_from(probe), opts), dev)

    fitted = fit_batch_size(bs, dev, trial, method.label, "cutouts")
    if fitted != bs:
        yield Progress(0, total, f"batches of {bs} do not fit in memory: using {fitted}")
        opts = {**opts, "batch_size": fitted, "batch_size_requested": bs}
        bs, rng = fitted, np.random.default_rng(seed)  # plan again, as from the start
        train_rows, steps_per_epoch, train_steps, infer_chunks = plan_epochs(
            n, opts, rng, bs * _INFER_BATCH_FACTOR)
        total = train_steps + len(infer_chunks)
    gen = run_generator(dev, seed)
    method.generator = gen
    views = views_from(gen)
    run_opts = recorded_options(opts)
    trainer = Trainer(
        modules, method.trainable(modules), dev, lr=float(opts["lr"]), total_steps=train_steps,
        identity={"method": method.name, "options": run_opts, "method_config": method.config(opts),
                  "data": fingerprint_images(images)},
        rng=rng, torch_generator=gen, checkpoint=opts["checkpoint"], resume=bool(opts["resume"]))

    def step(batch: tuple[np.ndarray, torch.Tensor]) -> float:
        method.batch_rows, x = batch
        with trainer.autocast():
            loss = method.loss(modules, x, views, opts)
        value = trainer.step(loss)
        method.after_step(modules, trainer.scheduler.last_epoch / max(train_steps, 1), opts)
        return value

    def batches(epoch: int) -> Iterator[tuple[int, torch.Tensor]]:
        perm = trainer.epoch_order(train_rows)
        chunks = [np.sort(perm[i:i + bs]) for i in range(0, n_train, bs)]
        chunks = [ch for ch in chunks if ch.size >= 2]
        with closing(loader(chunks)) as it:
            for rows, x in it:
                yield rows.size, (rows, x)

    yield from trainer.fit(epochs, batches, step, steps_per_epoch, total,
                           method=method.label, infer_objects=n)

    encoder = modules["encoder"]
    encoder.eval()

    def encode(x: torch.Tensor) -> torch.Tensor:
        with trainer.autocast():
            return encoder(x)

    last_loss = trainer.epoch_losses[-1] if trainer.epoch_losses else float("nan")
    with closing(loader(infer_chunks)) as it:
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
    :class:`SimCLR` (option ``temperature``, default 0.1, besides the common ones)."""
    return train_image_embedding(images, SimCLR(), **options)


def byol_job(images: ImageSource, **options) -> Job[Embedding]:
    """BYOL embedding of the cutouts: :func:`train_image_embedding` with :class:`BYOL`
    (option ``momentum``, default 0.99: the target's starting EMA rate)."""
    return train_image_embedding(images, BYOL(), **options)


def autoencoder_job(images: ImageSource, **options) -> Job[Embedding]:
    """Autoencoder embedding of the cutouts: :func:`train_image_embedding` with
    :class:`Autoencoder` (option ``augment``, default True: reconstruct rotated and
    mirrored views)."""
    return train_image_embedding(images, Autoencoder(), **options)


def vae_job(images: ImageSource, **options) -> Job[Embedding]:
    """Variational-autoencoder embedding (the latent means): :func:`train_image_embedding`
    with ``Autoencoder(variational=True)`` (options ``beta``, default 1e-4, and ``augment``)."""
    return train_image_embedding(images, Autoencoder(variational=True), **options)
