"""Embedding methods: PCA on pixels here, learned ones registered lazily from ``ml``."""

from __future__ import annotations

import numpy as np

from ..core.catalogue import Catalogue, Embedding
from ..core.errors import UserError
from ..core.images import ImageSource
from ..jobs.base import Job, Progress
from ..registry import MethodEntry, Registry
from .embedding_cache import EmbeddingCache, cache_key, fingerprint_images, fingerprint_lightcurves
from .preprocess import fit_band_scales, normalise_cutouts

__all__ = ["EMBEDDING_METHODS", "DEFAULT_EPOCHS", "IMAGE_ENCODER_PARAMETERS", "LEARNED_PARAMETERS",
           "LIGHTCURVE_PARAMETERS", "METHOD_PARAMETERS", "pca_pixels_job", "check_embeddable",
           "embedding_job", "embedding_data", "embedding_cache_key", "cached_embedding_job",
           "cache_lookup", "found_job", "compute_and_store_job",
           "embedding_parameters"]

EMBEDDING_METHODS = Registry("embedding")

#: Training epochs of learned methods when the user does not say (CLI and GUI).
DEFAULT_EPOCHS = 10

#: Options of every learned method: name -> (default, minimum, maximum, help), as
#: PROJECTION_PARAMETERS. The defaults are the jobs' own (a test keeps them equal).
LEARNED_PARAMETERS: dict[str, tuple] = {
    "epochs": (DEFAULT_EPOCHS, 1, 1000, "passes over the training objects"),
    "batch_size": (128, 4, 4096, "objects per training step (more needs more memory)"),
    "dim": (128, 2, 2048, "length of each object's embedding vector"),
    "lr": (1e-3, 1e-6, 1.0, "peak learning rate (cosine decay to 1/100 of it)"),
}
#: Options of the CNN encoder of learned image methods.
IMAGE_ENCODER_PARAMETERS: dict[str, tuple] = {
    "width": (32, 4, 256, "channels of the CNN's first stage (cost grows as width\u00b2)"),
    "depth": (1, 1, 8, "residual blocks per CNN stage"),
    "input_size": (0, 0, 512, "resample cutouts to this many pixels a side (0: as stored)"),
}
#: Options of every learned light-curve method (``dim`` overrides the image default).
LIGHTCURVE_PARAMETERS: dict[str, tuple] = {
    "dim": (64, 2, 2048, "length of each object's embedding vector"),
    "width": (64, 4, 512, "token size of the transformer / input layer of the GRU"),
    "depth": (2, 1, 8, "transformer layers (the GRU has one)"),
    "max_length": (200, 3, 100000, "observations kept per light curve (longer ones are "
                                   "sub-sampled evenly, times kept)"),
}
_PERIODOGRAM_PARAMETERS: dict[str, tuple] = {
    "periodogram": (True, False, True, "the encoder also reads each light curve's "
                                       "periodogram (periods 0.1-1000 d) and summary statistics"),
    "n_freq": (512, 8, 4096, "frequencies of that periodogram (a multiple of 8)"),
    "heads": (4, 1, 16, "attention heads (must divide the width)"),
}
#: Each method's own options (besides the above).
METHOD_PARAMETERS: dict[str, dict[str, tuple]] = {
    "pca": {"dim": (32, 2, 512, "number of principal components kept")},
    "simclr": {"temperature": (0.1, 0.01, 2.0, "NT-Xent temperature: lower weighs hard "
                                                "negatives more")},
    "byol": {"momentum": (0.99, 0.5, 0.99999, "starting EMA rate of the target network "
                                               "(rises to 1 by a cosine)")},
    "autoencoder": {"augment": (True, False, True, "reconstruct a randomly rotated and "
                                                 "flipped view (else the cutout itself)")},
    "vae": {"beta": (1e-4, 0.0, 10.0, "weight of the KL term (lower: sharper "
                                             "embedding, less regular latent space)"),
            "augment": (True, False, True, "reconstruct a randomly rotated and flipped view "
                                           "(else the cutout itself)")},
    "lc_features": {
        "min_period": (0.1, 0.001, 100.0, "shortest period searched, days"),
        "max_period": (1000.0, 1.0, 100000.0, "longest period searched, days"),
        "samples_per_peak": (3.0, 0.5, 20.0, "coarse periodogram grid points per peak "
                                             "width (the best peaks are refined 10x)"),
    },
    "lc_contrastive": {
        "temperature": (0.2, 0.01, 2.0, "NT-Xent temperature"),
        "delete": (0.2, 0.0, 0.95, "fraction of points dropped at random in each view"),
        "min_window": (0.5, 0.05, 1.0, "shortest window of the time span a view keeps"),
        "max_shift": (100.0, 0.0, 10000.0, "largest time shift of a view, days"),
        **_PERIODOGRAM_PARAMETERS,
    },
    "lc_masked": {
        "mask_fraction": (0.3, 0.01, 0.99, "fraction of values hidden and predicted"),
        **_PERIODOGRAM_PARAMETERS,
    },
}


def embedding_parameters(method: str) -> dict[str, tuple]:
    """Every option of ``method`` the GUI offers: name -> (default, minimum, maximum, help).

    Learned methods get :data:`LEARNED_PARAMETERS`, then their modality's
    (:data:`IMAGE_ENCODER_PARAMETERS` or :data:`LIGHTCURVE_PARAMETERS`, whose ``dim``
    default is 64), then their own (:data:`METHOD_PARAMETERS`).
    """
    entry = EMBEDDING_METHODS[method]
    params: dict[str, tuple] = {}
    if entry.needs == "torch":
        params.update(LEARNED_PARAMETERS)
        params.update(LIGHTCURVE_PARAMETERS if entry.modality == "lightcurve"
                      else IMAGE_ENCODER_PARAMETERS)
    params.update(METHOD_PARAMETERS.get(method, {}))
    return params


def pca_pixels_job(
    images: ImageSource, dim: int = 32, batch_size: int = 512, seed: int = 0
) -> Job[Embedding]:
    """Principal components of arcsinh-normalised pixels: the baseline embedding.

    Returns an Embedding of shape (N, min(dim, N, C*H*W)) float32 holding the
    projections on the leading components (largest variance first).
    """
    from sklearn.decomposition import PCA

    n = len(images)
    if n < 2:
        raise UserError("PCA needs at least two cutouts")
    scales = fit_band_scales(images, seed=seed)
    flat = np.empty((n, int(np.prod(images.shape))), dtype=np.float32)
    total = n // batch_size + 2
    for step, (rows, cut) in enumerate(images.iter_batches(batch_size)):
        flat[rows] = normalise_cutouts(cut, scales).reshape(len(rows), -1)
        yield Progress(step + 1, total, f"reading cutouts {rows[-1] + 1}/{n}")
    k = int(min(dim, n, flat.shape[1]))
    pca = PCA(n_components=k, svd_solver="randomized", random_state=seed)
    vectors = pca.fit_transform(flat)
    yield Progress(total, total, "PCA done")
    return Embedding(vectors, "pca", {
        "dim": k, "seed": seed, "explained_variance_ratio": float(pca.explained_variance_ratio_.sum()),
    })


EMBEDDING_METHODS.register(MethodEntry(
    "pca", "PCA on pixels", pca_pixels_job,
    "principal components of arcsinh-normalised pixels (baseline)",
))
EMBEDDING_METHODS.register(MethodEntry(
    "simclr", "SimCLR", "astroexplorer.ml.image_ssl:simclr_job",
    "self-supervised contrastive CNN trained on augmented cutout pairs", needs="torch",
))
EMBEDDING_METHODS.register(MethodEntry(
    "lc_features", "Light curves: classical features", "astroexplorer.analysis.lc_features:lc_features_job",
    "Lomb-Scargle period and power, amplitude, moments, percentiles, colours (baseline)",
    modality="lightcurve",
))
EMBEDDING_METHODS.register(MethodEntry(
    "lc_contrastive", "Light curves: contrastive",
    "astroexplorer.ml.lightcurve_ssl:lc_contrastive_job",
    "transformer over observations trained with NT-Xent on augmented light-curve pairs",
    needs="torch", modality="lightcurve",
))
EMBEDDING_METHODS.register(MethodEntry(
    "lc_masked", "Light curves: masked", "astroexplorer.ml.lightcurve_ssl:lc_masked_job",
    "transformer over observations trained to predict masked values", needs="torch",
    modality="lightcurve",
))
EMBEDDING_METHODS.register(MethodEntry(
    "lc_next_step", "Light curves: next step", "astroexplorer.ml.lightcurve_ssl:lc_next_step_job",
    "GRU trained to predict the next observation; its final state is the embedding",
    needs="torch", modality="lightcurve",
))
EMBEDDING_METHODS.register(MethodEntry(
    "byol", "BYOL", "astroexplorer.ml.image_ssl:byol_job",
    "self-supervised CNN predicting a momentum target's view of the cutout (no negatives)",
    needs="torch",
))
EMBEDDING_METHODS.register(MethodEntry(
    "autoencoder", "Autoencoder", "astroexplorer.ml.image_ssl:autoencoder_job",
    "CNN encoder trained to reconstruct the cutouts through a bottleneck", needs="torch",
))
EMBEDDING_METHODS.register(MethodEntry(
    "vae", "Variational autoencoder", "astroexplorer.ml.image_ssl:vae_job",
    "CNN encoder of a variational autoencoder (latent means)", needs="torch",
))


def check_embeddable(method: str, catalogue: Catalogue) -> MethodEntry:
    """The registry entry of ``method``, after checking ``catalogue`` has the data it
    embeds (cutouts for image methods, light curves for light-curve methods).

    Raises
    ------
    UserError
        If the method is unknown or the catalogue lacks that data.
    """
    entry = EMBEDDING_METHODS[method]
    if entry.modality == "lightcurve":
        if catalogue.lightcurves is None:
            raise UserError(f"the catalogue {catalogue.name} has no light curves to embed "
                            f"with {entry.label}")
    elif catalogue.images is None:
        raise UserError(f"the catalogue {catalogue.name} has no cutouts to embed")
    return entry


def embedding_data(entry: MethodEntry, catalogue: Catalogue):
    """What ``entry``'s job embeds: the catalogue's ImageSource or LightCurveSource."""
    return catalogue.lightcurves if entry.modality == "lightcurve" else catalogue.images


def embedding_cache_key(method: str, catalogue: Catalogue, options: dict) -> str:
    """The cache key of ``method`` with ``options`` on ``catalogue``'s data (see
    :func:`~.embedding_cache.cache_key`); reads 64 rows to fingerprint the data."""
    entry = check_embeddable(method, catalogue)
    data = embedding_data(entry, catalogue)
    fingerprint = (fingerprint_lightcurves(data) if entry.modality == "lightcurve"
                   else fingerprint_images(data))
    return cache_key(fingerprint, entry.name, options)


def cache_lookup(method: str, catalogue: Catalogue, cache: EmbeddingCache,
                 options: dict) -> tuple[str, Embedding | None]:
    """The cache key of ``method`` with ``options`` on ``catalogue``, and the stored
    embedding (or None)."""
    key = embedding_cache_key(method, catalogue, options)
    return key, cache.get(key)


def found_job(embedding: Embedding) -> Job[Embedding]:
    """A job returning an embedding found in the cache at once."""
    yield Progress(1, 1, "embedding found in the cache")
    return embedding


def compute_and_store_job(method: str, catalogue: Catalogue, cache: EmbeddingCache, key: str,
                          options: dict) -> Job[Embedding]:
    """:func:`embedding_job`, then the result stored in ``cache`` under ``key``.

    A learned method's training checkpoint goes next to the cache entry (unless
    ``options`` name one) and resumes automatically, so a cancelled run restarts
    from the batch after the last it trained. The returned config carries ``cache_key``.
    """
    entry = EMBEDDING_METHODS[method]
    if entry.needs == "torch" and options.get("checkpoint") is None:
        options = {**options, "checkpoint": str(cache.checkpoint_path(key)), "resume": True}
    embedding = yield from embedding_job(method, catalogue, **options)
    embedding.config["cache_key"] = key
    cache.put(key, embedding)
    return embedding


def cached_embedding_job(method: str, catalogue: Catalogue, cache: EmbeddingCache,
                         **options) -> Job[Embedding]:
    """:func:`embedding_job` through ``cache``: the stored embedding when the data and
    options were seen before, else computed, then stored (:func:`compute_and_store_job`)."""
    key, hit = cache_lookup(method, catalogue, cache, options)
    if hit is not None:
        return found_job(hit)
    return compute_and_store_job(method, catalogue, cache, key, options)


def embedding_job(method: str, catalogue: Catalogue, **options) -> Job[Embedding]:
    """The job computing ``method``'s embedding of a catalogue's cutouts or light
    curves (:class:`UserError` as in :func:`check_embeddable`)."""
    entry = check_embeddable(method, catalogue)
    return entry.load()(embedding_data(entry, catalogue), **options)
