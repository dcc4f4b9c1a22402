"""Long work as generators that yield progress and can be cancelled at each yield."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["Progress", "CancelToken", "Cancelled", "Job", "run_sync"]

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """One progress report of a job.

    ``step`` of ``total`` (``total`` None when unknown); ``metrics`` carries
    numbers worth plotting live (loss, images/s, ETA in seconds).
    """

    step: int
    total: int | None
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def fraction(self) -> float | None:
        """Completed fraction in [0, 1], or None when the total is unknown."""
        if not self.total:
            return None
        return min(max(self.step / self.total, 0.0), 1.0)


#: A job yields Progress and returns its result; it never mutates the Session.
Job = Generator[Progress, None, T]


class Cancelled(Exception):
    """Raised by a runner when a job was cancelled before it finished."""


class CancelToken:
    """A thread-safe flag a front end sets and a runner checks at each yield."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next yield."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def run_sync(
    job: Job[T],
    on_progress: Callable[[Progress], Any] | None = None,
    token: CancelToken | None = None,
) -> T:
    """Run a job to completion in this thread and return its result.

    The token is checked after every yield; on cancel the generator is closed
    (its ``finally`` blocks run, child processes end) and :class:`Cancelled`
    is raised.
    """
    try:
        while True:
            if token is not None and token.cancelled:
                raise Cancelled()
            progress = next(job)
            if on_progress is not None:
                on_progress(progress)
    except StopIteration as stop:
        return stop.value
    finally:
        job.close()
