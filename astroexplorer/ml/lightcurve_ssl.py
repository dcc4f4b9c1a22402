"""Self-supervised training of light-curve encoders, as jobs returning an Embedding.

One driver (:func:`train_lightcurve_embedding`) runs every light-curve method: it
checks the options, reads and normalises the training light curves once
(:func:`~.lightcurve_data.read_lightcurves`), builds the method's networks, trains
them with a :class:`~.training.Trainer` and embeds every row in eval mode. Three
methods (review section 7.2):

- :class:`LightCurveContrastive`: NT-Xent between two augmented views (noise within
  the errors, time shift, random deletion, a random window of epochs) through a
  :class:`LightCurveTransformerEncoder` and a projection head;
- :class:`LightCurveMasked`: masked-value prediction with the transformer;
- :class:`LightCurveNextStep`: next-observation prediction with a GRU whose final
  hidden state is the embedding.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import numpy as np
import torch
from torch import nn

from ..analysis.embedding_cache import fingerprint_lightcurves
from ..core.catalogue import Embedding
from ..core.errors import UserError
from ..core.lightcurves import LightCurveSource
from ..jobs.base import Job, Progress
from .device import configure_cpu_threads, select_device
from .encoders import ProjectionHead
from .lightcurve_data import (
    MIN_POINTS,
    LightCurveBatch,
    RaggedLightCurves,
    band_index_of,
    check_lightcurves,
    read_lightcurves,
)
from .lightcurve_encoders import LightCurveGRUNet, LightCurveTransformerEncoder
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

__all__ = ["COMMON_LIGHTCURVE_OPTIONS", "LightCurveContrastive", "LightCurveMasked",
           "LightCurveMethod", "LightCurveNextStep", "augment_lightcurves", "lc_contrastive_job",
           "lc_masked_job", "lc_next_step_job", "train_lightcurve_embedding"]

#: Options every light-curve method takes, with their defaults.
COMMON_LIGHTCURVE_OPTIONS: dict = {
    "epochs": 10, "batch_size": 128, "dim": 64, "width": 64, "depth": 2, "lr": 1e-3,
    "device": "auto", "seed": 0, "max_train": None, "train_rows": None, "max_length": 200,
    "checkpoint": None, "resume": False,
}
#: Light curves read from the source per chunk (training set and inference).
_READ_CHUNK = 2048
_INFER_BATCH_FACTOR = 2


def gaussian_nll(mu: torch.Tensor, log_sigma: torch.Tensor, target: torch.Tensor,
                 error: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """Mean Gaussian negative log-likelihood of ``target`` over ``where`` (all (B, L)),
    with variance ``error**2 + exp(2 log_sigma)``: the known error plus a learned
    scatter, so points without an error (0) still have a finite likelihood."""
    var = error.float() ** 2 + torch.exp(2 * log_sigma.float().clamp(-7, 5))
    nll = 0.5 * (torch.log(var) + (target.float() - mu.float()) ** 2 / var)
    w = where.float()
    return (nll * w).sum() / w.sum().clamp_min(1.0)


def augment_lightcurves(batch: LightCurveBatch, gen: torch.Generator, noise: float = 1.0,
                        max_shift: float = 100.0, delete: float = 0.2,
                        min_window: float = 0.5) -> LightCurveBatch:
    """One random view of each light curve of ``batch`` (same shapes).

    - a window of epochs: only points within a random window covering
      ``min_window`` to all of the object's time span are kept;
    - random deletion: each remaining point is dropped with probability ``delete``;
    - noise within the errors: ``value += noise * error * N(0, 1)``;
    - time shift: every time of an object moves by the same ``U(0, max_shift)`` days.

    An object left with no point keeps its original points (shifted and noisy). The
    kept points are moved to the front, in time order, as in a read batch.
    """
    t, mask = batch.time, batch.mask
    dev, b = t.device, t.shape[0]

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=gen, device=dev)

    span = torch.where(mask, t, torch.zeros_like(t)).amax(1)
    frac = min_window + (1 - min_window) * uniform(b)
    start = (span * (1 - frac) * uniform(b))[:, None]
    keep = mask & (t >= start) & (t <= start + (span * frac)[:, None])
    keep &= uniform(*t.shape) >= delete
    keep = torch.where(keep.any(1, keepdim=True), keep, mask)
    value = batch.value + noise * batch.error * torch.randn(t.shape, generator=gen, device=dev)
    time = (t + max_shift * uniform(b)[:, None]) * keep
    order = torch.sort((~keep).to(torch.int8), dim=1, stable=True).indices
    fields = [time, value * keep, batch.error * keep, batch.band * keep, keep,
              batch.level * keep]
    return LightCurveBatch(*(torch.gather(f, 1, order) for f in fields), batch.log_scale)


class LightCurveMethod:
    """What distinguishes one self-supervised light-curve method from another.

    Subclasses set ``name``, ``label`` and ``options`` (their own options with
    defaults) and implement :meth:`build`, :meth:`loss` and :meth:`embed`.
    """

    name = ""
    label = ""
    options: dict = {}

    def validate(self, opts: dict) -> None:
        """Raise :class:`UserError` for an invalid method option."""

    def build(self, n_bands: int, opts: dict) -> dict[str, nn.Module]:
        """The networks, ``"encoder"`` among them."""
        raise NotImplementedError

    def loss(self, modules: dict[str, nn.Module], batch: LightCurveBatch,
             gen: torch.Generator, opts: dict) -> torch.Tensor:
        """The loss of a training batch (on the device)."""
        raise NotImplementedError

    def embed(self, modules: dict[str, nn.Module], batch: LightCurveBatch) -> torch.Tensor:
        """Representations ``(B, dim)`` of a batch."""
        return modules["encoder"](batch)

    def config(self, opts: dict) -> dict:
        """Method facts for the Embedding's config."""
        return {}


def _transformer(n_bands: int, opts: dict) -> LightCurveTransformerEncoder:
    return LightCurveTransformerEncoder(n_bands, opts["dim"], opts["width"], opts["depth"],
                                        opts["heads"], bool(opts["periodogram"]),
                                        int(opts["n_freq"]))


def _validate_periodogram(opts: dict) -> None:
    if opts["periodogram"] not in (0, 1):  # True, False, or 1 / 0 from a form
        raise UserError(f"periodogram must be True or False, not {opts['periodogram']!r}.")
    opts["periodogram"] = bool(opts["periodogram"])
    if not opts["n_freq"] >= 8 or opts["n_freq"] % 8:
        raise UserError(f"n_freq must be a positive multiple of 8, not {opts['n_freq']}.")


def _periodogram_config(opts: dict) -> dict:
    if not opts["periodogram"]:
        return {"periodogram": False}
    return {"periodogram": {"n_freq": int(opts["n_freq"]), "periods_days": [0.1, 1000.0],
                            "grid": "log, max-pooled from 1 / (2 span) steps",
                            "power": "weighted Schuster, about the weighted mean"}}


class LightCurveContrastive(LightCurveMethod):
    """NT-Xent between projections of two augmented views (:func:`augment_lightcurves`)."""

    name = "lc_contrastive"
    label = "Light curves: contrastive"
    options = {"temperature": 0.2, "heads": 4, "delete": 0.2, "min_window": 0.5,
               "max_shift": 100.0, "periodogram": True, "n_freq": 512}
    head_out = 64

    def validate(self, opts: dict) -> None:
        if not opts["temperature"] > 0:
            raise UserError(f"The temperature must be positive, not {opts['temperature']}.")
        if not 0 <= opts["delete"] < 1 or not 0 < opts["min_window"] <= 1:
            raise UserError("delete must be in [0, 1) and min_window in (0, 1].")
        _validate_periodogram(opts)

    def build(self, n_bands, opts):
        return {"encoder": _transformer(n_bands, opts),
                "head": ProjectionHead(opts["dim"], 2 * opts["dim"], self.head_out)}

    def loss(self, modules, batch, gen, opts):
        b = len(batch)
        views = [augment_lightcurves(batch, gen, max_shift=opts["max_shift"],
                                     delete=opts["delete"], min_window=opts["min_window"])
                 for _ in range(2)]
        both = LightCurveBatch(*(torch.cat([getattr(v, f) for v in views])
                                 for f in LightCurveBatch.FIELDS))
        z = modules["head"](modules["encoder"](both))
        return nt_xent_loss(z[:b], z[b:], opts["temperature"])

    def config(self, opts):
        return {"encoder": "LightCurveTransformerEncoder",
                "projection": {"hidden": 2 * opts["dim"], "out": self.head_out},
                "augment": {"noise": "1 x error", "max_shift_days": opts["max_shift"],
                            "delete": opts["delete"], "min_window": opts["min_window"]},
                **_periodogram_config(opts)}


class LightCurveMasked(LightCurveMethod):
    """Masked-value prediction: a fraction ``mask_fraction`` of each object's values are
    hidden (their times, bands and errors stay visible); a head predicts each hidden
    value from its output token and the pooled representation (Gaussian likelihood
    with the known error)."""

    name = "lc_masked"
    label = "Light curves: masked"
    options = {"mask_fraction": 0.3, "heads": 4, "periodogram": True, "n_freq": 512}

    def validate(self, opts):
        if not 0 < opts["mask_fraction"] < 1:
            raise UserError(f"mask_fraction must be in (0, 1), not {opts['mask_fraction']}.")
        _validate_periodogram(opts)

    def build(self, n_bands, opts):
        w, d = opts["width"], opts["dim"]
        return {"encoder": _transformer(n_bands, opts),
                "head": nn.Sequential(nn.Linear(w + d, w), nn.GELU(), nn.Linear(w, 2))}

    def loss(self, modules, batch, gen, opts):
        encoder = modules["encoder"]
        hidden = batch.mask & (torch.rand(batch.mask.shape, generator=gen,
                                          device=batch.mask.device) < opts["mask_fraction"])
        # Keep at least one value visible per object.
        hidden &= ~(hidden.sum(1, keepdim=True) >= batch.mask.sum(1, keepdim=True))
        tokens = encoder.tokens(batch, hidden)
        z = encoder.pool(tokens, batch, hidden)
        ctx = torch.cat([tokens, z[:, None, :].expand(-1, tokens.shape[1], -1)], -1)
        mu, log_sigma = modules["head"](ctx).unbind(-1)
        return gaussian_nll(mu, log_sigma, batch.value, batch.error, hidden)

    def config(self, opts):
        return {"encoder": "LightCurveTransformerEncoder", "mask_fraction": opts["mask_fraction"],
                **_periodogram_config(opts)}


class LightCurveNextStep(LightCurveMethod):
    """Next-observation prediction with :class:`LightCurveGRUNet` (Gaussian likelihood
    of each next value with its known error); the final hidden state is the embedding."""

    name = "lc_next_step"
    label = "Light curves: next step"
    options: dict = {}

    def build(self, n_bands, opts):
        return {"encoder": LightCurveGRUNet(n_bands, opts["dim"], opts["width"])}

    def loss(self, modules, batch, gen, opts):
        net = modules["encoder"]
        mu, log_sigma = net.predict_next(net.states(batch))
        where = batch.mask[:, :-1] & batch.mask[:, 1:]
        return gaussian_nll(mu[:, :-1], log_sigma[:, :-1], batch.value[:, 1:],
                            batch.error[:, 1:], where)

    def config(self, opts):
        return {"encoder": "LightCurveGRUNet", "representation": "final hidden state"}


def _validate(lightcurves: LightCurveSource, method: LightCurveMethod, opts: dict) -> None:
    check_lightcurves(lightcurves, method.label)
    checks = [("epochs", opts["epochs"] >= 1, "at least 1"),
              ("batch_size", opts["batch_size"] >= 2, "at least 2"),
              ("dim", opts["dim"] >= 1, "positive"), ("width", opts["width"] >= 1, "positive"),
              ("depth", opts["depth"] >= 1, "positive"), ("lr", opts["lr"] > 0, "positive"),
              ("max_length", opts["max_length"] >= MIN_POINTS, f"at least {MIN_POINTS}"),
              ("max_train", opts["max_train"] is None or opts["max_train"] >= 2, "at least 2")]
    if opts["train_rows"] is not None:
        opts["train_rows"] = check_train_rows(opts["train_rows"], len(lightcurves), method.label)
    if "heads" in opts:
        checks.append(("heads", opts["heads"] >= 1 and opts["width"] % opts["heads"] == 0,
                       "positive and divide the width"))
    for name, ok, rule in checks:
        if not ok:
            raise UserError(f"The {method.label} option {name} must be {rule}, not {opts[name]}.")
    method.validate(opts)


def train_lightcurve_embedding(lightcurves: LightCurveSource, method: LightCurveMethod,
                               **options) -> Job[Embedding]:
    """Train ``method``'s encoder on the light curves and embed every row with it.

    Options are :data:`COMMON_LIGHTCURVE_OPTIONS` plus ``method.options``:

    - ``epochs``, ``batch_size``: passes over the training rows, objects per batch.
      On a GPU a batch size whose training step does not fit in its memory is
      halved until one does (the config then records ``batch_size_requested``).
    - ``dim``: the representation size ``D``; ``width``, ``depth``: token / input
      layer size and transformer layers (the GRU has one layer of size ``dim``).
    - ``lr``: peak learning rate (AdamW, cosine); ``seed``: initialisation,
      shuffling, sub-sampling, masks and augmentations (bit-reproducible on CPU,
      resumed or not).
    - ``device``: ``"auto"``, ``"cpu"``, ``"cuda[:N]"`` or ``"mps"`` (mixed
      precision on CUDA).
    - ``train_rows``: row indices (or a boolean mask of length N) to train on, e.g.
      a benchmark's training split; None trains on every row. All rows are embedded.
    - ``max_train``: train on a random subset of at most this many of the training
      rows; all rows are embedded. ``max_length``: observations kept per object (longer light
      curves are sub-sampled evenly at random, times kept).
    - ``checkpoint``: a ``.safetensors`` path written after every epoch;
      ``resume``: continue from it when it exists (same data and options).

    Yields
    ------
    Progress
        One per chunk of light curves read, one per training batch (``"epoch e/E,
        loss L"``), one per inference batch.

    Returns
    -------
    Embedding
        ``vectors`` ``(N, dim)`` float32, row ``i`` for light curve ``i`` (zeros for
        one without usable points); ``config`` with every option, the device, bands,
        per-epoch mean losses and the number of objects with fewer than 3 points.

    Raises
    ------
    UserError
        Fewer than 2 light curves, no observations at all (also: none usable in the
        training rows), an invalid option, an unavailable device, a checkpoint of
        another run, or a diverged loss.
    """
    opts = resolve_options(method.label, COMMON_LIGHTCURVE_OPTIONS, method.options, options)
    _validate(lightcurves, method, opts)
    dev = select_device(opts["device"])
    return _train(lightcurves, method, opts, dev)


def _train(source: LightCurveSource, method: LightCurveMethod, opts: dict,
           dev: torch.device) -> Job[Embedding]:
    epochs, bs, seed = int(opts["epochs"]), int(opts["batch_size"]), int(opts["seed"])
    max_length = int(opts["max_length"])
    n = len(source)
    if dev.type == "cpu":
        configure_cpu_threads()
    rng = np.random.default_rng(seed)
    train_rows, steps_per_epoch, train_steps, infer_chunks = plan_epochs(
        n, opts, rng, bs * _INFER_BATCH_FACTOR)
    n_train = train_rows.size
    read_chunks = [train_rows[i:i + _READ_CHUNK] for i in range(0, n_train, _READ_CHUNK)]
    # Reading chunk k reports step k before it is read; training continues from the last.
    step0 = len(read_chunks) - 1
    total = step0 + train_steps + len(infer_chunks)
    bands = band_index_of(source)

    parts: list[RaggedLightCurves] = []
    for k, rows in enumerate(read_chunks):
        yield Progress(k, total, f"reading light curves {rows[0] + 1:,}/{n:,}")
        parts.append(read_lightcurves(source, rows, bands, max_length, seed))
    train = _concat(parts)
    if not (train.lengths > 0).any():
        raise UserError(f"{method.label}: none of the {n_train} training light curves has a "
                        "point with a finite time and value.")

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        modules = method.build(len(bands), opts)
    for module in modules.values():
        module.to(dev)

    def trial(size: int) -> None:  # one step on the first rows, with its own randomness
        batch = train.batch(np.arange(min(size, n_train))).to(dev)
        memory_trial(modules, lambda: method.loss(modules, batch, run_generator(dev, seed), opts),
                     dev)

    fitted = fit_batch_size(bs, dev, trial, method.label, "light curves")
    if fitted != bs:
        yield Progress(step0, total, f"batches of {bs} do not fit in memory: using {fitted}")
        opts = {**opts, "batch_size": fitted, "batch_size_requested": bs}
        bs, rng = fitted, np.random.default_rng(seed)  # plan again, as from the start
        train_rows, steps_per_epoch, train_steps, infer_chunks = plan_epochs(
            n, opts, rng, bs * _INFER_BATCH_FACTOR)
        total = step0 + train_steps + len(infer_chunks)
    gen = run_generator(dev, seed)
    run_opts = recorded_options(opts)
    trainer = Trainer(
        modules, [p for m in modules.values() for p in m.parameters()], dev,
        lr=float(opts["lr"]), total_steps=train_steps,
        identity={"method": method.name, "options": run_opts,
                  "data": fingerprint_lightcurves(source)},
        rng=rng, torch_generator=gen, checkpoint=opts["checkpoint"], resume=bool(opts["resume"]))
    pin = dev.type == "cuda"

    def step(batch: LightCurveBatch) -> float:
        batch = batch.to(dev, non_blocking=pin)
        with trainer.autocast():
            loss = method.loss(modules, batch, gen, opts)
        return trainer.step(loss)

    def batches(epoch: int) -> Iterator[tuple[int, LightCurveBatch]]:
        perm = trainer.epoch_order(np.arange(n_train))
        for i in range(0, n_train, bs):
            index = perm[i:i + bs]
            if index.size >= 2:  # a batch of one has no negatives (and breaks BatchNorm)
                batch = train.batch(index)
                yield index.size, batch.pin_memory() if pin else batch

    # closing(): a Cancel closes this generator, and fit must close with it (and save
    # its mid-epoch checkpoint) now, not whenever it is garbage-collected.
    with closing(trainer.fit(epochs, batches, step, steps_per_epoch, total,
                             method=method.label, infer_objects=n)) as fit:
        for p in fit:  # shift the step numbers past the reading reports
            yield Progress(step0 + p.step, p.total, p.message, p.metrics)
    train = parts = None  # free the training set before inference

    counts = np.zeros(n, dtype=np.int64)

    def infer_batches() -> Iterator[tuple[np.ndarray, LightCurveBatch]]:
        for rows in infer_chunks:
            ragged = read_lightcurves(source, rows, bands, max_length, seed)
            counts[rows] = ragged.lengths
            yield rows, ragged.batch(np.arange(rows.size))

    def encode(batch: LightCurveBatch) -> torch.Tensor:
        with trainer.autocast():
            return method.embed(modules, batch.to(dev, non_blocking=pin))

    last_loss = trainer.epoch_losses[-1] if trainer.epoch_losses else float("nan")
    vectors = yield from embed_in_batches(encode, infer_batches(), n, int(opts["dim"]),
                                          step0 + train_steps, total, "light curves",
                                          {"epoch": float(epochs), "loss": last_loss})
    config = {
        **run_opts, "device_requested": str(opts["device"]), **trainer.summary(),
        "n_objects": n, "n_train": int(n_train), "bands": list(bands),
        "n_empty": int((counts == 0).sum()),
        "n_short": int(((counts > 0) & (counts < MIN_POINTS)).sum()),
        "note": "objects without usable points embed as zero vectors; objects with fewer "
                f"than {MIN_POINTS} points embed from what they have",
        "normalisation": "per object: x = -mag or asinh(flux / median error); value = (x - "
                         "its band's median) / max(1.4826 MAD, median error); band levels "
                         "and log10 scale as inputs",
        **method.config(opts),
    }
    return Embedding(vectors=vectors, method=method.name, config=config)


def _concat(parts: list[RaggedLightCurves]) -> RaggedLightCurves:
    if len(parts) == 1:
        return parts[0]
    offsets = [np.zeros(1, np.int64)]
    base = 0
    for p in parts:
        offsets.append(p.offsets[1:] + base)
        base += int(p.offsets[-1])
    return RaggedLightCurves(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("time", "value", "error",
                                                                  "band", "level")),
        np.concatenate(offsets), np.concatenate([p.centre for p in parts]),
        np.concatenate([p.scale for p in parts]))


def lc_contrastive_job(lightcurves: LightCurveSource, **options) -> Job[Embedding]:
    """Contrastive light-curve embedding: :func:`train_lightcurve_embedding` with
    :class:`LightCurveContrastive` (options ``temperature`` 0.2, ``heads`` 4,
    ``delete`` 0.2, ``min_window`` 0.5, ``max_shift`` 100 d, besides the common ones)."""
    return train_lightcurve_embedding(lightcurves, LightCurveContrastive(), **options)


def lc_masked_job(lightcurves: LightCurveSource, **options) -> Job[Embedding]:
    """Masked-value light-curve embedding: :func:`train_lightcurve_embedding` with
    :class:`LightCurveMasked` (options ``mask_fraction`` 0.3, ``heads`` 4)."""
    return train_lightcurve_embedding(lightcurves, LightCurveMasked(), **options)


def lc_next_step_job(lightcurves: LightCurveSource, **options) -> Job[Embedding]:
    """Next-observation light-curve embedding: :func:`train_lightcurve_embedding` with
    :class:`LightCurveNextStep` (no options besides the common ones)."""
    return train_lightcurve_embedding(lightcurves, LightCurveNextStep(), **options)
