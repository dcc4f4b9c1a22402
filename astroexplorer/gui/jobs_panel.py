"""A status-bar strip showing running jobs: message, progress bar and Cancel."""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from ..jobs.base import Job, Progress
from .workers import JobWorker

__all__ = ["JobsPanel", "format_progress"]


def format_progress(progress: Progress) -> str:
    """The message of a progress report with the metrics it does not already name:
    ``eta_s`` as ``ETA m:ss``, ``objects_per_s`` (else ``images_per_s``) as a rate,
    others as ``name value``."""
    message = progress.message or "working"
    parts = [message]
    metrics = progress.metrics
    for key, value in metrics.items():
        name = key.lower()
        if name in ("eta", "eta_s"):
            if not math.isfinite(value):
                continue
            seconds = max(int(value), 0)
            parts.append(f"ETA {seconds // 60}:{seconds % 60:02d}")
        elif name == "objects_per_s":
            parts.append(f"{value:,.0f} objects/s")
        elif name == "images_per_s":
            if "objects_per_s" not in metrics:  # the same rate, named for cutouts
                parts.append(f"{value:.0f} images/s")
        elif name not in message.lower():
            parts.append(f"{key} {value:.4g}")
    return " \u00b7 ".join(parts)


class _JobRow(QWidget):
    """One running job: label, progress bar and Cancel button."""

    def __init__(self, kind: str, title: str, worker: JobWorker, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = kind
        self.title = title
        self.worker = worker
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(6)
        self.label = QLabel(f"{title}: starting\u2026")
        self.label.setMinimumWidth(120)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(140)
        self.bar.setMaximumHeight(16)
        self.bar.setRange(0, 0)  # busy until a report gives a total
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip(f"Stop {title.lower()}")
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        worker.progress.connect(self.show_progress)

    def show_progress(self, progress: Progress) -> None:
        """Show one report: determinate bar when the total is known, else busy."""
        text = f"{self.title}: {format_progress(progress)}"
        metrics = self.label.fontMetrics()
        self.label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, 420))
        self.label.setToolTip(text)
        if progress.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * (progress.fraction or 0.0)))
        else:
            self.bar.setRange(0, 0)

    def cancel(self) -> None:
        """Ask the job to stop; the row goes when the worker reports back."""
        self.worker.cancel()
        self.cancel_button.setEnabled(False)
        self.label.setText(f"{self.title}: cancelling\u2026")


class JobsPanel(QWidget):
    """Runs jobs in worker threads, at most one of each kind, and shows them.

    Signals
    -------
    job_failed(kind: str, title: str, message: str)
    job_cancelled(kind: str, title: str)
    job_finished(kind: str, title: str)
    """

    job_failed = Signal(str, str, str)
    job_cancelled = Signal(str, str)
    job_finished = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[str, _JobRow] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(12)
        self.setVisible(False)

    def is_running(self, kind: str) -> bool:
        """True while a job of ``kind`` runs."""
        return kind in self._rows

    def worker(self, kind: str) -> JobWorker | None:
        """The running worker of ``kind``, if any."""
        row = self._rows.get(kind)
        return row.worker if row is not None else None

    def running_kinds(self) -> list[str]:
        """Kinds of the jobs running now, oldest first."""
        return list(self._rows)

    def start(
        self,
        kind: str,
        title: str,
        job: Job | Callable[[], Job],
        on_result: Callable[[Any], None] | None = None,
    ) -> JobWorker | None:
        """Run ``job`` unless one of the same ``kind`` is running (then return None).

        ``on_result`` is called on the GUI thread with the job's result; failures
        and cancels are announced through this panel's signals.
        """
        if kind in self._rows:
            return None
        # Parented, so Qt owns it: freeing Python references (the row's) never
        # destroys it in the middle of the row's own destruction.
        worker = JobWorker(job, name=kind, parent=self)
        row = _JobRow(kind, title, worker)
        self._rows[kind] = row
        self._layout.addWidget(row)
        self.setVisible(True)

        # The row goes first, so that a result handler may start the same kind again.
        # The handlers hold the panel weakly and the worker by id: no reference cycles.
        key = id(worker)
        panel_ref = weakref.ref(self)

        def finished(result: Any) -> None:
            panel = panel_ref()
            if panel is not None:
                panel._remove(kind, key)
            if on_result is not None:
                on_result(result)
            if panel is not None:
                panel.job_finished.emit(kind, title)

        def failed(message: str) -> None:
            panel = panel_ref()
            if panel is not None:
                panel._remove(kind, key)
                panel.job_failed.emit(kind, title, message)

        def cancelled() -> None:
            panel = panel_ref()
            if panel is not None:
                panel._remove(kind, key)
                panel.job_cancelled.emit(kind, title)

        worker.finished.connect(finished)
        worker.failed.connect(failed)
        worker.cancelled.connect(cancelled)
        worker.start()
        return worker

    def cancel(self, kind: str) -> None:
        """Cancel the running job of ``kind`` (no-op if none)."""
        row = self._rows.get(kind)
        if row is not None:
            row.cancel()

    def cancel_all(self) -> None:
        """Cancel every running job."""
        for kind in list(self._rows):
            self.cancel(kind)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel every job, wait for the threads and drop their handlers (at exit);
        True if every thread ended."""
        ok = True
        for row in list(self._rows.values()):
            row.worker.cancel()
        for row in list(self._rows.values()):
            ok = row.worker.wait(timeout_ms) and ok
            row.worker.release()
        return ok

    def _remove(self, kind: str, key: int) -> None:
        row = self._rows.get(kind)
        if row is None or id(row.worker) != key:
            return
        del self._rows[kind]
        # Not removeWidget: in PySide that hands the row back to Python, which would
        # delete it a second time after deleteLater. Deleting it leaves the layout.
        row.hide()
        row.deleteLater()
        row.worker.deleteLater()
        self.setVisible(bool(self._rows))
