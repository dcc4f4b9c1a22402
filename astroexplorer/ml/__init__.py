"""Deep learning on cutouts and light curves (the only package that imports torch).

Encoders, sky augmentations, contrastive losses and self-supervised training jobs
that return :class:`~astroexplorer.core.catalogue.Embedding` objects.
"""

from .augment import SkyAugment
from .device import (
    available_cpus,
    configure_cpu_threads,
    describe_device,
    select_device,
)
from .encoders import MIN_IMAGE_SIZE, ConvDecoder, ProjectionHead, SmallCNNEncoder
from .image_ssl import autoencoder_job, byol_job, simclr_job, vae_job
from .lightcurve_ssl import lc_contrastive_job, lc_masked_job, lc_next_step_job
from .losses import nt_xent_loss

__all__ = [
    "MIN_IMAGE_SIZE", "ConvDecoder", "ProjectionHead", "SkyAugment", "SmallCNNEncoder",
    "autoencoder_job", "available_cpus", "byol_job", "configure_cpu_threads", "describe_device",
    "lc_contrastive_job", "lc_masked_job", "lc_next_step_job", "nt_xent_loss", "select_device",
    "simclr_job", "vae_job",
]
