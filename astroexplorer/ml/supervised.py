"""Benchmark baselines around the self-supervised image methods.

- :func:`supervised_cnn_job`: the same encoder trained with the labels (cross-entropy
  through a linear classifier, on the training rows only) - the upper bound an
  embedding quality benchmark compares the self-supervised methods with.
- :func:`random_encoder_job`: the same encoder never trained - what the architecture
  alone gives.

Both return an :class:`~astroexplorer.core.catalogue.Embedding` of every row (the
encoder's ``dim``-vector), like the self-supervised jobs. They are not in the GUI's
registry: they answer "how good is good" for the benchmark, not a user's question.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import closing

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..analysis.preprocess import fit_band_scales
from ..core.catalogue import Embedding
from ..core.errors import UserError
from ..core.images import ImageSource
from ..jobs.base import Job, Progress
from .device import configure_cpu_threads, describe_device, select_device
from .encoders import MIN_IMAGE_SIZE, SmallCNNEncoder
from .image_data import ImageBatches
from .image_ssl import ImageMethod, train_image_embedding
from .training import check_train_rows, embed_in_batches

__all__ = ["SupervisedCNN", "random_encoder_job", "supervised_cnn_job"]


def _missing(labels: np.ndarray) -> np.ndarray:
    """Boolean mask of labels that are absent: masked, None, NaN or empty strings."""
    missing = np.zeros(labels.shape, dtype=bool)
    if np.ma.isMaskedArray(labels):
        missing |= np.ma.getmaskarray(labels)
        labels = np.ma.getdata(labels)
    if labels.dtype.kind == "f":
        missing |= ~np.isfinite(labels)
    elif labels.dtype.kind in "OUS":
        missing |= np.array([v is None or (isinstance(v, float) and not np.isfinite(v))
                             or (isinstance(v, (str, bytes)) and not v.strip()) for v in labels],
                            dtype=bool)
    return missing


class SupervisedCNN(ImageMethod):
    """Cross-entropy of a linear classifier on the encoder's representation.

    Parameters
    ----------
    codes : ndarray, shape (N,), int64
        Class index of every row (-1 where unknown; such rows must not be trained on).
    classes : sequence of str
        Class names, index order.
    """

    name = "supervised_cnn"
    label = "Supervised CNN"

    def __init__(self, codes: np.ndarray, classes: Sequence[str]) -> None:
        self.codes = torch.from_numpy(np.asarray(codes, dtype=np.int64))
        self.classes = [str(c) for c in classes]

    def build(self, channels: int, size: int, opts: dict) -> dict[str, nn.Module]:
        return {"encoder": SmallCNNEncoder(channels, opts["dim"], opts["width"], opts["depth"]),
                "classifier": nn.Linear(opts["dim"], len(self.classes))}

    def loss(self, modules, x, augment, opts):
        assert self.batch_rows is not None, "the driver sets the batch rows"
        target = self.codes[torch.from_numpy(self.batch_rows)].to(x.device)
        logits = modules["classifier"](modules["encoder"](augment(x)))
        return F.cross_entropy(logits.float(), target)

    def config(self, opts: dict) -> dict:
        digest = hashlib.sha1(self.codes.numpy().tobytes()).hexdigest()
        return {"classes": self.classes, "labels_sha1": digest, "loss": "cross-entropy"}


def supervised_cnn_job(
    images: ImageSource, labels: Sequence | np.ndarray, train_rows: Sequence[int] | np.ndarray,
    **options,
) -> Job[Embedding]:
    """Train a :class:`SmallCNNEncoder` with the labels of ``train_rows``; embed every row.

    The encoder, normalisation, augmentations (:class:`~.augment.SkyAugment`),
    optimiser, schedule, checkpoints and options are those of the self-supervised
    methods (:func:`~.image_ssl.train_image_embedding`: ``epochs``, ``batch_size``,
    ``dim``, ``width``, ``depth``, ``input_size``, ``lr``, ``device``, ``seed``,
    ``max_train``, ``checkpoint``, ``resume``); only the loss differs: cross-entropy
    of a linear classifier on the ``dim``-vector.

    Parameters
    ----------
    images : ImageSource
        N cutouts.
    labels : sequence, shape (N,)
        A class per row (strings or integers); only the training rows' are read,
        the others may be anything (e.g. the held-out truth).
    train_rows : sequence of int or boolean mask (N,)
        Rows to train on.

    Returns
    -------
    Job yielding Progress and returning an Embedding ``(N, dim)`` float32 of the
    encoder's representation (the classifier is not applied), method
    ``"supervised_cnn"``; its config lists the classes.

    Raises
    ------
    UserError
        Labels of the wrong length, a training row without a label, fewer than two
        classes among the training rows, or anything the driver refuses.
    """
    n = len(images)
    # Keep arrays (masked ones and astropy columns too) as they are; lists become objects.
    labels_arr = labels if isinstance(labels, np.ndarray) else np.asarray(labels, dtype=object)
    if labels_arr.ndim != 1 or labels_arr.shape[0] != n:
        raise UserError(f"The supervised CNN needs one label per cutout ({n}), "
                        f"not labels of shape {labels_arr.shape}.")
    rows = check_train_rows(train_rows, n, "supervised CNN")
    missing = _missing(labels_arr)[rows]
    if missing.any():
        raise UserError(f"{int(missing.sum())} of the {rows.size} training rows have no label "
                        f"(e.g. row {int(rows[np.argmax(missing)])}).")
    values = np.asarray(np.ma.getdata(labels_arr))
    keys = np.array([str(v) for v in values[rows]])
    classes = np.unique(keys)
    if classes.size < 2:
        raise UserError(f"The supervised CNN needs at least 2 classes among the training rows, "
                        f"found {classes.size}.")
    codes = np.full(n, -1, dtype=np.int64)
    codes[rows] = np.searchsorted(classes, keys)
    return train_image_embedding(images, SupervisedCNN(codes, classes), train_rows=rows, **options)


def random_encoder_job(
    images: ImageSource, dim: int = 128, width: int = 32, depth: int = 1,
    input_size: int | None = None, batch_size: int = 256, device: str = "auto", seed: int = 0,
) -> Job[Embedding]:
    """Embed every row with a randomly initialised, never trained :class:`SmallCNNEncoder`.

    The weights are the encoder's initialisation for ``seed`` (the starting point
    of every trained method). BatchNorm uses statistics from one pass over all the
    cutouts (each layer's mean and variance of the data, averaged over batches, no
    gradients), then runs in eval mode: with the default statistics (mean 0,
    variance 1) activations would keep whatever scale the random weights give them.
    Cutouts are normalised like the trained methods' (arcsinh per band) and
    resampled to ``input_size`` when given.

    Returns
    -------
    Job yielding Progress (one per batch of each pass) and returning an Embedding
    ``(N, dim)`` float32, method ``"random_encoder"``.

    Raises
    ------
    UserError
        Fewer than 2 cutouts, cutouts (or ``input_size``) under 16 px, a non-positive
        size option, or an unavailable device.
    """
    n = len(images)
    if n < 2:
        raise UserError(f"The random encoder needs at least 2 cutouts, but the image source has {n}.")
    c, h, w = images.shape
    size = input_size or min(h, w)
    if min(h, w) < MIN_IMAGE_SIZE or size < MIN_IMAGE_SIZE:
        raise UserError(f"The cutouts are {h}x{w} pixels (input size {size}), too small for the "
                        f"CNN encoder, which needs at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE}.")
    for name, value in (("dim", dim), ("width", width), ("depth", depth), ("batch_size", batch_size)):
        if value < 1:
            raise UserError(f"The random encoder {name} must be positive, not {value}.")
    dev = select_device(device)
    if dev.type == "cpu":
        configure_cpu_threads()
    return _random_embed(images, dim, width, depth, input_size, batch_size, dev, seed)


def _random_embed(images: ImageSource, dim: int, width: int, depth: int, input_size: int | None,
                  batch_size: int, dev: torch.device, seed: int) -> Job[Embedding]:
    n = len(images)
    c, h, w = images.shape
    chunks = [np.arange(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    total = 2 * len(chunks)
    yield Progress(0, total, "fitting band scales")
    scales = fit_band_scales(images, seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = SmallCNNEncoder(c, dim, width, depth)
    encoder.to(dev)
    for m in encoder.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the pass
    encoder.train()
    loader = ImageBatches(images, scales, dev, input_size)
    with closing(loader(chunks)) as it:
        for k, (rows, x) in enumerate(it):
            if rows.size < 2:  # BatchNorm needs two samples; the statistics have plenty
                continue
            with torch.no_grad():
                encoder(x)
            yield Progress(k + 1, total, f"BatchNorm statistics {rows[-1] + 1:,}/{n:,} cutouts")
    encoder.eval()
    with closing(loader(chunks)) as it:
        vectors = yield from embed_in_batches(encoder, it, n,
                                              dim, len(chunks), total, "cutouts")
    config = {"dim": dim, "width": width, "depth": depth, "input_size": input_size,
              "batch_size": batch_size, "seed": seed, "device": describe_device(dev),
              "batchnorm": "statistics of one pass over the data", "band_scales": [float(s) for s in scales],
              "n_objects": n, "image_shape": [c, h, w]}
    return Embedding(vectors=vectors, method="random_encoder", config=config)
