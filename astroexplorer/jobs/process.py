"""Run a job in a child process, so GIL-holding work never stalls the caller and
Cancel is immediate (the process is terminated).

A *warm* worker is a child started ahead of time that has already paid a start-up
cost (importing umap and compiling its numba code takes ~25 s): ``prewarm(key,
warmup)`` starts one in the background, and ``run_in_process(..., warm=(key,
warmup))`` uses it if one is idle (else starts one). A worker that finished its job
is kept for the next; a cancelled one is terminated, and the caller may prewarm
another.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import multiprocessing.util  # noqa: F401 - its exit handler is registered before ours
import os
import queue
import signal
import threading
import traceback
from collections.abc import Callable
from typing import Any

from ..core.errors import UserError
from .base import Job, Progress

__all__ = ["run_in_process", "ProcessJobError", "prewarm", "shutdown_warm_workers"]

#: Seconds between checks of the child; also how often a cancel is noticed.
POLL_S = 0.1


class ProcessJobError(RuntimeError):
    """The job failed inside its child process; the message carries its traceback."""


def _child_main(out: Any, func: Callable[..., Job], args: tuple, kwargs: dict) -> None:
    """Run one job, sending ("progress" | "result" | "user_error" | "error", payload)."""
    job = None
    try:
        job = func(*args, **kwargs)
        while True:
            try:
                progress = next(job)
            except StopIteration as stop:
                out.put(("result", stop.value))
                return
            out.put(("progress", progress))
    except UserError as exc:
        out.put(("user_error", str(exc)))
    except SystemExit:
        # Terminated by the parent (nobody is listening any more); if that happened
        # between two steps, the job still gets to run its ``finally`` blocks.
        if job is not None and hasattr(job, "close"):
            job.close()
        raise
    except BaseException:  # noqa: BLE001 - everything must reach the parent
        out.put(("error", traceback.format_exc()))


_IN_JOB = False


def _exit_on_terminate(_signum: int, _frame: object) -> None:
    """SIGTERM in a worker: during a job, unwind it like an exception, so its
    ``finally`` blocks and context managers run (a half-written temporary file is
    removed); while idle, leave at once."""
    if not _IN_JOB:
        os._exit(0)
    raise SystemExit(1)


def _worker_main(tasks: Any, out: Any, warmup: Callable[[], None] | None) -> None:
    """A reusable worker: warm up once, say "ready", then run jobs until told to stop."""
    global _IN_JOB
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    # Nobody reads what is still buffered once the parent terminates us: never
    # wait for it at exit.
    out.cancel_join_thread()
    if warmup is not None:
        try:
            warmup()
        except BaseException:  # noqa: BLE001 - a failed warm-up only loses the head start
            out.put(("warmup_error", traceback.format_exc()))
    out.put(("ready", None))
    while True:
        task = tasks.get()
        if task is None:
            return
        _IN_JOB = True
        try:
            _child_main(out, *task)
        finally:
            _IN_JOB = False


class _Worker:
    """A worker process with its task and message queues."""

    def __init__(self, warmup: Callable[[], None] | None) -> None:
        ctx = mp.get_context("spawn")
        self.tasks = ctx.Queue()
        self.messages = ctx.Queue()
        self.ready = warmup is None
        self.proc = ctx.Process(target=_worker_main, args=(self.tasks, self.messages, warmup),
                                daemon=True)
        self.proc.start()

    def stop(self) -> None:
        """Terminate the process: SIGTERM lets Python clean up (``finally`` blocks);
        code that does not return to the interpreter soon (numba, C) is killed."""
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=1)
            if self.proc.is_alive():
                self.proc.kill()
        self.proc.join(timeout=5)
        self.tasks.close()
        self.messages.close()


#: Idle warm workers by key (at most one each), guarded by _LOCK.
_IDLE: dict[str, _Worker] = {}
_LOCK = threading.Lock()


def prewarm(key: str, warmup: Callable[[], None]) -> None:
    """Start a worker that runs ``warmup`` (importable by name) now, in the
    background, unless one for ``key`` is already idle or warming up."""
    with _LOCK:
        worker = _IDLE.get(key)
        if worker is not None and worker.proc.is_alive():
            return
        _IDLE[key] = _Worker(warmup)


def _take(key: str, warmup: Callable[[], None]) -> _Worker:
    with _LOCK:
        worker = _IDLE.pop(key, None)
    if worker is not None and worker.proc.is_alive():
        return worker
    return _Worker(warmup)


def _give_back(key: str, worker: _Worker) -> None:
    with _LOCK:
        if key not in _IDLE and worker.proc.is_alive():
            _IDLE[key] = worker
            return
    worker.stop()


def shutdown_warm_workers() -> None:
    """Stop every idle warm worker (e.g. when the application quits; also run at
    interpreter exit, so a script that used one never waits for it)."""
    with _LOCK:
        workers = list(_IDLE.values())
        _IDLE.clear()
    for worker in workers:
        worker.stop()


atexit.register(shutdown_warm_workers)


def run_in_process(func: Callable[..., Job], *args: Any,
                   warm: tuple[str, Callable[[], None]] | None = None, **kwargs: Any) -> Job:
    """A job that runs ``func(*args, **kwargs)`` (itself a job function, importable
    by name so it can be pickled) in a child ``spawn`` process.

    With ``warm=(key, warmup)``, an idle warm worker for ``key`` runs it (one is
    started, running ``warmup`` first, if none is idle) and is kept for the next job
    if this one ends normally. Without it, a fresh process runs the job and exits.

    Progress from the child is re-yielded; between reports a heartbeat is yielded
    every ``POLL_S`` seconds so a runner can cancel, which terminates the child.
    """
    worker = _take(*warm) if warm is not None else _Worker(None)
    worker.tasks.put((func, args, kwargs))
    finished = False
    last = Progress(0, None, "starting worker process" if worker.ready
                    else "warming up the worker process")
    try:
        yield last
        while True:
            try:
                kind, payload = worker.messages.get(timeout=POLL_S)
            except queue.Empty:
                if not worker.proc.is_alive():
                    raise ProcessJobError(
                        f"the worker process for {func.__name__} died "
                        f"(exit code {worker.proc.exitcode})"
                    ) from None
                yield last
                continue
            if kind in ("ready", "warmup_error"):
                worker.ready = True
                continue
            if kind == "progress":
                last = payload
                yield last
                continue
            finished = True
            if kind == "result":
                return payload
            if kind == "user_error":
                raise UserError(payload)
            raise ProcessJobError(f"{func.__name__} failed in its worker process:\n{payload}")
    finally:
        if warm is not None and finished:
            _give_back(warm[0], worker)
        else:
            worker.stop()
