"""Run generator jobs in a QThread with progress, cancel and clean shutdown."""

from __future__ import annotations

import atexit
import logging
import time
import warnings
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from ..core.errors import UserError
from ..jobs.base import Cancelled, CancelToken, Job, Progress, run_sync

__all__ = ["JobWorker", "short_error", "wait_for_all_workers"]

log = logging.getLogger(__name__)

#: Workers whose thread is still running, kept alive here so that garbage
#: collection never destroys a QThread whose ``run`` has not returned.
_LIVE_WORKERS: set[JobWorker] = set()


def short_error(exc: BaseException, limit: int = 300) -> str:
    """One line for a message box: the exception's first line, at most ``limit`` chars."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    message = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return message if len(message) <= limit else message[: limit - 1] + "\u2026"


#: Shortest interval between two progress reports forwarded to the GUI thread (s).
PROGRESS_INTERVAL_S = 0.03


class _JobThread(QThread):
    """Runs one job with :func:`run_sync` and keeps its outcome for the GUI thread."""

    progress = Signal(object)

    def __init__(self, job: Job | Callable[[], Job], token: CancelToken, name: str) -> None:
        super().__init__()
        self._job: Job | Callable[[], Job] | None = job
        self._token = token
        self.outcome: tuple[str, Any] = ("failed", f"the job {name} ended without a result")
        self.setObjectName(f"job:{name}")

    def _throttled_emit(self, progress: Any) -> None:
        """Forward at most one report per ``PROGRESS_INTERVAL_S`` (the GUI only
        repaints that often): a job that yields in a tight loop must not flood the
        event loop with queued signals."""
        now = time.monotonic()
        if now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit = now
            self._held = None
            self.progress.emit(progress)
        else:
            self._held = progress  # forwarded at the end if nothing follows

    def run(self) -> None:  # runs in the worker thread
        self._last_emit = -1.0
        self._held: Any = None
        try:
            job = self._job() if callable(self._job) else self._job
            result = run_sync(job, self._throttled_emit, self._token)
        except Cancelled:
            self.outcome = ("cancelled", None)
        except UserError as exc:
            self.outcome = ("failed", str(exc))
        except Exception as exc:  # noqa: BLE001 - a job failure must never kill the app
            log.exception("job %s failed", self.objectName())
            self.outcome = ("failed", short_error(exc))
        else:
            self.outcome = ("cancelled", None) if self._token.cancelled else ("finished", result)
        finally:
            self._job = None  # drop the generator (and its frames) in this thread
            if self._held is not None:  # the last report always arrives
                self.progress.emit(self._held)
                self._held = None


class JobWorker(QObject):
    """A job (a generator yielding :class:`Progress`) run in its own QThread.

    Parameters
    ----------
    job : generator or callable returning one
        A callable is called in the worker thread, so that building the job
        (importing torch, checking inputs) never blocks the GUI; a
        :class:`UserError` it raises is reported through :attr:`failed`.
    name : str
        A short name for logs and the thread.

    Signals
    -------
    progress(Progress)
        Each report of the job, delivered on the GUI thread.
    finished(object)
        The job's result.
    failed(str)
        A message to show the user (a :class:`UserError`'s text as it is).
    cancelled()
        The job stopped at a yield after :meth:`cancel`.
    done()
        Emitted after any of the three outcomes, once the thread has ended.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, job: Job | Callable[[], Job], name: str = "job",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self.last_progress: Progress | None = None
        self._thread: _JobThread | None = _JobThread(job, self.token, name)
        # Bound methods of this QObject (GUI thread) get queued connections.
        self._thread.progress.connect(self._on_progress)
        self._thread.finished.connect(self._on_thread_finished)
        self._started = False

    def start(self) -> None:
        """Start the job in its thread (once)."""
        if self._started:
            raise RuntimeError(f"the job {self.name} was already started")
        self._started = True
        _LIVE_WORKERS.add(self)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop at its next yield; :attr:`cancelled` follows."""
        self.token.cancel()

    def is_running(self) -> bool:
        """True from :meth:`start` until the outcome signal has been emitted."""
        return self._started and self._thread is not None

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until the thread ends (for shutdown); True if it did."""
        if self._thread is None:
            return True
        return self._thread.wait(timeout_ms)

    def _on_progress(self, progress: Progress) -> None:
        self.last_progress = progress
        if not self.token.cancelled:
            self.progress.emit(progress)

    def _on_thread_finished(self) -> None:
        # Outcomes are emitted once the thread has really ended, so that a slot
        # that starts the next job (or the app quitting) never finds it running.
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.wait()
        kind, payload = thread.outcome
        # No deleteLater: Python owns the thread and frees it with the last reference;
        # a deferred delete as well would destroy it twice.
        _LIVE_WORKERS.discard(self)
        if kind == "finished":
            self.finished.emit(payload)
        elif kind == "failed":
            self.failed.emit(payload)
        else:
            self.cancelled.emit()
        self.done.emit()
        self.release()

    def release(self) -> None:
        """Disconnect every slot of this worker's signals.

        Handlers often close over their window; released here, at a safe time,
        they can never drop a window's last reference while Qt is destroying it.
        """
        for signal in (self.progress, self.finished, self.failed, self.cancelled, self.done):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError, SystemError):
                    pass  # nothing was connected


def wait_for_all_workers(timeout_ms: int = 10_000) -> bool:
    """Cancel every running job and wait for its thread (at exit); True if all ended."""
    ok = True
    for worker in list(_LIVE_WORKERS):
        worker.cancel()
        ok = worker.wait(timeout_ms) and ok
        worker.release()
    return ok


# A QThread destroyed while it runs aborts the process: at interpreter exit (module
# globals cleared), wait for the threads still running.
atexit.register(wait_for_all_workers, 5_000)
