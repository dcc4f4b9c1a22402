"""Science on arrays: embeddings baselines, projections, preprocessing (no Qt, no torch)."""

from .clustering import cluster_subsets, hdbscan_job
from .embedding import EMBEDDING_METHODS, embedding_job
from .labelling import InterestLabels, rank_interest, rank_interest_job
from .projection import PROJECTION_METHODS, projection_job

__all__ = ["EMBEDDING_METHODS", "PROJECTION_METHODS", "embedding_job", "projection_job",
           "hdbscan_job", "cluster_subsets", "InterestLabels", "rank_interest",
           "rank_interest_job"]
