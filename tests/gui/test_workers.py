"""JobWorker and JobsPanel: progress, results, failures, cancel, thread clean-up."""

from __future__ import annotations

import threading

import pytest

from astroexplorer.core import UserError
from astroexplorer.gui.jobs_panel import JobsPanel, format_progress
from astroexplorer.gui.workers import JobWorker, short_error
from astroexplorer.jobs import Progress


def counting_job(n: int = 3):
    for i in range(n):
        yield Progress(i + 1, n, f"step {i + 1}")
    return "done"


def endless_job(started: threading.Event):
    i = 0
    while True:
        started.set()
        i += 1
        yield Progress(i, None, "waiting")
        threading.Event().wait(0.005)  # a little work between yields


def failing_job(exc: Exception):
    yield Progress(0, 1, "about to fail")
    raise exc


def test_worker_reports_progress_and_result(qtbot) -> None:
    worker = JobWorker(counting_job(), "count")
    seen: list[Progress] = []
    worker.progress.connect(seen.append)
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["done"]
    # Reports are forwarded at most every PROGRESS_INTERVAL_S; the first and the
    # last always arrive, in order.
    qtbot.waitUntil(lambda: bool(seen) and seen[-1].step == 3)
    steps = [p.step for p in seen]
    assert steps[0] == 1 and steps == sorted(steps)
    assert not worker.is_running()


def test_worker_builds_callable_job_in_thread(qtbot) -> None:
    threads: list[str] = []

    def factory():
        threads.append(threading.current_thread().name)
        return counting_job(1)

    worker = JobWorker(factory, "factory")
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    assert threads and threads[0] != threading.main_thread().name


def test_user_error_message_is_passed_through(qtbot) -> None:
    worker = JobWorker(failing_job(UserError("the file x.fits has no rows")), "fail")
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["the file x.fits has no rows"]


def test_other_errors_give_a_short_message(qtbot, caplog: pytest.LogCaptureFixture) -> None:
    worker = JobWorker(failing_job(RuntimeError("boom\nlong traceback text")), "fail")
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["RuntimeError: boom"]
    assert "Traceback" in caplog.text


def test_factory_user_error_is_reported(qtbot) -> None:
    def factory():
        raise UserError("no cutouts to embed")

    worker = JobWorker(factory, "factory")
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["no cutouts to embed"]


def test_cancel_stops_at_next_yield(qtbot) -> None:
    started = threading.Event()
    worker = JobWorker(endless_job(started), "endless")
    with qtbot.waitSignal(worker.cancelled, timeout=5000):
        worker.start()
        assert started.wait(5)
        worker.cancel()
    assert not worker.is_running()
    assert worker.wait(1000)


def test_short_error_truncates() -> None:
    message = short_error(ValueError("x" * 1000), limit=50)
    assert len(message) == 50 and message.startswith("ValueError: x")


def test_format_progress_metrics() -> None:
    text = format_progress(Progress(2, 10, "epoch 2/10", {"epoch": 2, "loss": 0.12345, "eta_s": 75,
                                                           "images_per_s": 549.6}))
    assert text == "epoch 2/10 \u00b7 loss 0.1235 \u00b7 ETA 1:15 \u00b7 550 images/s"


def test_format_progress_names_one_rate_and_skips_an_unknown_eta() -> None:
    text = format_progress(Progress(3, 10, "epoch 1/2, loss 0.5", {
        "epoch": 1, "loss": 0.5, "objects_per_s": 1234.4, "images_per_s": 1234.4,
        "eta_s": float("nan")}))
    assert text == "epoch 1/2, loss 0.5 \u00b7 1,234 objects/s"


def test_cancel_stops_the_demo_build_process(qtbot, tmp_path, monkeypatch) -> None:
    """Building the demos runs in a child process; Cancel ends it and writes nothing."""
    from astroexplorer.demo import demo_job

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache, inherited by the child
    worker = JobWorker(lambda: demo_job("hubble_xdf"), "demo")
    seen: list[Progress] = []
    worker.progress.connect(seen.append)
    worker.start()
    qtbot.waitUntil(lambda: any("building" in p.message for p in seen), timeout=60_000)
    with qtbot.waitSignal(worker.cancelled, timeout=10_000):
        worker.cancel()
    assert not list(tmp_path.rglob("*.fits"))


def test_jobs_panel_one_job_per_kind_and_cancel(qtbot) -> None:
    panel = JobsPanel()
    qtbot.addWidget(panel)
    started = threading.Event()
    cancelled: list[tuple[str, str]] = []
    panel.job_cancelled.connect(lambda kind, title: cancelled.append((kind, title)))
    worker = panel.start("train", "Training", endless_job(started))
    assert worker is not None and panel.is_running("train")
    assert panel.start("train", "Training again", counting_job()) is None
    assert started.wait(5)
    with qtbot.waitSignal(panel.job_cancelled, timeout=5000):
        panel._rows["train"].cancel_button.click()
    assert cancelled == [("train", "Training")]
    assert not panel.is_running("train")


def test_jobs_panel_shows_progress_and_calls_result_handler(qtbot) -> None:
    panel = JobsPanel()
    qtbot.addWidget(panel)
    results: list[str] = []
    with qtbot.waitSignal(panel.job_finished, timeout=5000):
        panel.start("count", "Counting", counting_job(), results.append)
    assert results == ["done"]
    assert panel.running_kinds() == []


def test_jobs_panel_busy_indicator_for_unknown_total(qtbot) -> None:
    panel = JobsPanel()
    qtbot.addWidget(panel)
    started = threading.Event()
    panel.start("wait", "Waiting", endless_job(started))
    row = panel._rows["wait"]
    qtbot.waitUntil(lambda: "waiting" in row.label.text())
    assert (row.bar.minimum(), row.bar.maximum()) == (0, 0)
    with qtbot.waitSignal(panel.job_cancelled, timeout=5000):
        panel.cancel("wait")
