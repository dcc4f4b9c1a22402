import time

import numpy as np
import pytest

from astroexplorer.core.errors import UserError
from astroexplorer.jobs import (
    Cancelled,
    CancelToken,
    ProcessJobError,
    Progress,
    run_in_process,
    run_sync,
)


def counting_job(n: int, log: list | None = None):
    try:
        for i in range(n):
            yield Progress(i + 1, n, f"step {i + 1}")
        return n * 10
    finally:
        if log is not None:
            log.append("closed")


def slow_child_job(seconds: float):
    yield Progress(0, 1, "sleeping")
    time.sleep(seconds)
    return "woke"


def failing_child_job(user: bool):
    yield Progress(0, 1, "about to fail")
    if user:
        raise UserError("bad.fits has no rows")
    raise ZeroDivisionError("oops")


def array_child_job(n: int):
    yield Progress(1, 2, "half")
    return np.arange(n, dtype=np.float32)


def test_run_sync_returns_result_and_reports_progress():
    seen = []
    assert run_sync(counting_job(3), seen.append) == 30
    assert [p.step for p in seen] == [1, 2, 3] and seen[-1].fraction == 1.0


def test_cancel_stops_at_next_yield_and_runs_finally():
    token, log, seen = CancelToken(), [], []

    def on_progress(p):
        seen.append(p)
        if p.step == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        run_sync(counting_job(100, log), on_progress, token)
    assert len(seen) == 2 and log == ["closed"]


def test_process_job_result_and_progress():
    seen = []
    out = run_sync(run_in_process(array_child_job, 1000), seen.append)
    np.testing.assert_array_equal(out, np.arange(1000, dtype=np.float32))
    assert any(p.message == "half" for p in seen)


def test_process_job_errors_reach_the_parent():
    with pytest.raises(UserError, match="bad.fits"):
        run_sync(run_in_process(failing_child_job, True))
    with pytest.raises(ProcessJobError, match="ZeroDivisionError"):
        run_sync(run_in_process(failing_child_job, False))


def test_process_job_cancel_is_immediate():
    token = CancelToken()
    started = []

    def on_progress(p):
        if p.message == "sleeping":
            started.append(time.perf_counter())
            token.cancel()

    with pytest.raises(Cancelled):
        run_sync(run_in_process(slow_child_job, 60.0), on_progress, token)
    # The child was terminated, not waited for (it would sleep for a minute).
    assert time.perf_counter() - started[0] < 10


def pid_job():
    import os

    yield Progress(0, 1, "asking")
    return os.getpid(), os.environ.get("AE_WARMED")


def warm_env() -> None:
    """A warm-up with a visible effect in the worker (as importing umap would have)."""
    import os

    os.environ["AE_WARMED"] = "yes"


def test_warm_worker_runs_its_warmup_once_and_is_reused():
    from astroexplorer.jobs.process import prewarm, shutdown_warm_workers

    try:
        prewarm("test", warm_env)
        first = run_sync(run_in_process(pid_job, warm=("test", warm_env)))
        second = run_sync(run_in_process(pid_job, warm=("test", warm_env)))
        assert first == second and first[1] == "yes"  # same warmed process
        cold = run_sync(run_in_process(pid_job))
        assert cold[0] != first[0] and cold[1] is None
        # Errors keep the worker; cancelling terminates it and the next job gets a new one.
        with pytest.raises(UserError):
            run_sync(run_in_process(failing_child_job, True, warm=("test", warm_env)))
        assert run_sync(run_in_process(pid_job, warm=("test", warm_env)))[0] == first[0]
        token = CancelToken()
        with pytest.raises(Cancelled):
            run_sync(run_in_process(slow_child_job, 60.0, warm=("test", warm_env)),
                     lambda p: token.cancel() if p.message == "sleeping" else None, token)
        after = run_sync(run_in_process(pid_job, warm=("test", warm_env)))
        assert after[0] != first[0] and after[1] == "yes"
    finally:
        shutdown_warm_workers()


def cleanup_child_job(marker: str):
    from pathlib import Path

    try:
        yield Progress(0, 1, "working")
        time.sleep(60)
        return "done"
    finally:
        Path(marker).write_text("cleaned up")


def test_cancel_runs_the_childs_finally_blocks(tmp_path):
    marker = tmp_path / "marker"
    token = CancelToken()
    with pytest.raises(Cancelled):
        run_sync(run_in_process(cleanup_child_job, str(marker)),
                 lambda p: token.cancel() if p.message == "working" else None, token)
    assert marker.read_text() == "cleaned up"
