"""Run a job in a child process, so GIL-holding work never stalls the caller and
Cancel is immediate (the process is terminated)."""

from __future__ import annotations

import multiprocessing as mp
import queue
import traceback
from collections.abc import Callable
from typing import Any

from ..core.errors import UserError
from .base import Job, Progress

__all__ = ["run_in_process", "ProcessJobError"]

#: Seconds between checks of the child; also how often a cancel is noticed.
POLL_S = 0.1


class ProcessJobError(RuntimeError):
    """The job failed inside its child process; the message carries its traceback."""


def _child_main(out: Any, func: Callable[..., Job], args: tuple, kwargs: dict) -> None:
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
    except BaseException:  # noqa: BLE001 - everything must reach the parent
        out.put(("error", traceback.format_exc()))


def run_in_process(func: Callable[..., Job], *args: Any, **kwargs: Any) -> Job:
    """A job that runs ``func(*args, **kwargs)`` (itself a job function, importable
    by name so it can be pickled) in a fresh ``spawn`` process.

    Progress from the child is re-yielded; between reports a heartbeat is yielded
    every ``POLL_S`` seconds so a runner can cancel, which terminates the child.
    """
    ctx = mp.get_context("spawn")
    messages = ctx.Queue()
    proc = ctx.Process(target=_child_main, args=(messages, func, args, kwargs), daemon=True)
    proc.start()
    last = Progress(0, None, "starting worker process")
    try:
        yield last
        while True:
            try:
                kind, payload = messages.get(timeout=POLL_S)
            except queue.Empty:
                if not proc.is_alive():
                    raise ProcessJobError(
                        f"the worker process for {func.__name__} died (exit code {proc.exitcode})"
                    ) from None
                yield last
                continue
            if kind == "progress":
                last = payload
                yield last
            elif kind == "result":
                return payload
            elif kind == "user_error":
                raise UserError(payload)
            else:
                raise ProcessJobError(f"{func.__name__} failed in its worker process:\n{payload}")
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(timeout=5)
        messages.close()
