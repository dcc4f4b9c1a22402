"""Science on arrays: embeddings baselines, projections, preprocessing (no Qt, no torch)."""

from .embedding import EMBEDDING_METHODS, embedding_job
from .projection import PROJECTION_METHODS, projection_job

__all__ = ["EMBEDDING_METHODS", "PROJECTION_METHODS", "embedding_job", "projection_job"]
