"""Long-running work: generator jobs, progress, cancellation and runners."""

from .base import Cancelled, CancelToken, Job, Progress, run_sync
from .process import ProcessJobError, run_in_process

__all__ = [
    "CancelToken", "Cancelled", "Job", "Progress", "ProcessJobError",
    "run_in_process", "run_sync",
]
