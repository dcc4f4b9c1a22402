"""Active labelling as in Astronomaly: rate objects while browsing, then let a model on
the embedding re-rank the rest by predicted interest (see ``analysis.labelling``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..analysis.labelling import KEY_SCORES, InterestLabels, rank_interest_job
from ..core.catalogue import Catalogue
from ..core.rowset import RowSet
from ..core.selection import SelectionMode
from ..core.session import Session
from ..jobs.process import run_in_process
from .binding import connect_weakly
from .jobs_panel import JobsPanel
from .widgets import status_label

__all__ = ["LabellingGroup", "LABEL_COLUMN", "PREDICTED_COLUMN", "RANK_JOB_KIND"]

#: The column holding the user's scores (float32, 0-5, NaN = not rated).
LABEL_COLUMN = "interest"
#: The column holding the model's predicted interest.
PREDICTED_COLUMN = "interest_predicted"
RANK_JOB_KIND = "interest"


class LabellingGroup(QGroupBox):
    """Rate the focused object 0-5 (keys 0-5, I = interesting, N = not, Delete =
    clear), optionally moving on to the next object of the gallery; "Rank by
    interest" trains a model on the ratings (and the anomaly score, if any) and
    shows the most promising unrated objects.

    Signals
    -------
    results_ready(rows: ndarray, title: str, values: ndarray, value_name: str)
        The top unrated objects by predicted interest, for the gallery.
    colour_by_requested(column: str)
    """

    results_ready = Signal(object, str, object, str)
    colour_by_requested = Signal(str)

    def __init__(self, session: Session, jobs_panel: JobsPanel,
                 anomaly_column: Callable[[], str | None] = lambda: None,
                 next_row: Callable[[int], int | None] = lambda row: None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Interest (active labelling)", parent)
        self.session = session
        self.jobs_panel = jobs_panel
        self._anomaly_column = anomaly_column
        self._next_row = next_row
        self.labels: InterestLabels | None = None
        form = QFormLayout(self)
        buttons = QHBoxLayout()
        buttons.setSpacing(2)
        self.score_buttons: dict[float, QPushButton] = {}
        for score in range(6):
            button = QPushButton(str(score))
            button.setMaximumWidth(30)
            button.setToolTip(f"Rate the focused object {score} (key {score}; "
                              "5 = interesting, 0 = not)")
            button.clicked.connect(lambda _c=False, s=score: self.rate(float(s)))
            buttons.addWidget(button)
            self.score_buttons[float(score)] = button
        self.advance_check = QCheckBox("then show the next object")
        self.advance_check.setChecked(True)
        self.advance_check.setToolTip("After rating, focus the next object of the gallery")
        self.top_spin = QSpinBox(minimum=1, maximum=100_000, value=100)
        self.top_spin.setToolTip("How many unrated objects to show, most promising first")
        self.rank_button = QPushButton("Rank by interest")
        self.rank_button.setToolTip("Learn from your ratings (and the anomaly score, if "
                                    "computed) and show the most promising unrated objects")
        self.rank_button.clicked.connect(lambda: self.rank())
        self.status = status_label()
        form.addRow(buttons)
        form.addRow(self.advance_check)
        form.addRow("Show", self.top_spin)
        form.addRow(self.rank_button)
        form.addRow(self.status)
        connect_weakly(session.catalogue_changed, self, LabellingGroup._on_catalogue_changed)
        connect_weakly(session.embedding_changed, self, LabellingGroup._update_state)
        connect_weakly(session.selection.focus_changed, self, LabellingGroup._update_state)
        self._update_state()

    def set_next_row(self, next_row: Callable[[int], int | None]) -> None:
        """``next_row(row)`` gives the object to show after rating ``row`` (or None)."""
        self._next_row = next_row

    def install_shortcuts(self, window: QWidget) -> list[QShortcut]:
        """Keys 0-5, I, N and Delete in ``window`` rate the focused object (text
        fields keep their keys: Qt gives them first refusal)."""
        shortcuts = []
        keys = {**{k.upper(): v for k, v in KEY_SCORES.items()}, "Delete": None}
        for key, score in keys.items():
            shortcut = QShortcut(QKeySequence(key), window)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda s=score: self.rate(s))
            shortcuts.append(shortcut)
        return shortcuts

    # -- rating -------------------------------------------------------------------------
    def rate(self, score: float | None, row: int | None = None) -> bool:
        """Give ``row`` (the focused object by default) ``score`` (None clears it);
        the ratings are the column ``interest``. Returns whether a row was rated."""
        catalogue = self.session.catalogue
        row = self.session.selection.focus if row is None else row
        if catalogue is None or row is None:
            self.status.setText("Focus an object (click it) to rate it.")
            return False
        labels = self._labels(catalogue)
        if score is None:
            labels.clear(row)
        else:
            labels.set(row, score)
        self.session.add_column(LABEL_COLUMN, labels.as_column(),
                                description="your interest score, 0 (not) to 5 "
                                            "(interesting); NaN: not rated",
                                meta={"method": "user ratings"})
        n = labels.labelled_rows().size
        what = "cleared" if score is None else f"rated {score:g}"
        self.status.setText(f"{catalogue.object_label(row)} {what}; {n} rated.")
        if score is not None and self.advance_check.isChecked():
            following = self._next_row(row)
            if following is not None:
                self.session.selection.set_focus(following, source=self)
        self._update_state()
        return True

    def _labels(self, catalogue: Catalogue) -> InterestLabels:
        if self.labels is None or len(self.labels) != len(catalogue):
            if LABEL_COLUMN in catalogue.table.colnames:  # e.g. restored with a session
                values = np.ma.filled(np.ma.asarray(catalogue.table[LABEL_COLUMN],
                                                    dtype=np.float64), np.nan)
                self.labels = InterestLabels.from_column(values)
            else:
                self.labels = InterestLabels(len(catalogue))
        return self.labels

    # -- ranking ------------------------------------------------------------------------
    def rank(self):
        """Start ranking the unrated objects (a job in a worker process); the result
        is the column ``interest_predicted`` and the top ones fill the gallery."""
        session = self.session
        catalogue, embedding = session.catalogue, session.embedding
        if catalogue is None or embedding is None:
            return None
        labels = self._labels(catalogue)
        column = self._anomaly_column()
        anomaly = None
        if column is not None and column in catalogue.table.colnames:
            anomaly = np.ma.filled(np.ma.asarray(catalogue.table[column], dtype=np.float64),
                                   np.nan)
        vectors, ratings = embedding.vectors, labels.as_column()

        def apply(predicted: np.ndarray) -> None:
            if session.catalogue is not catalogue or session.embedding is not embedding:
                self.status.setText("Ranking dropped: the embedding changed.")
                return
            self._apply_ranking(predicted, ratings, column if anomaly is not None else None)

        worker = self.jobs_panel.start(
            RANK_JOB_KIND, "Ranking by interest",
            lambda: run_in_process(rank_interest_job, vectors, ratings, anomaly), apply)
        if worker is not None:
            worker.done.connect(self._update_state)
            self.status.setText("Ranking\u2026")
        self._update_state()
        return worker

    def _apply_ranking(self, predicted: np.ndarray, ratings: np.ndarray,
                       anomaly_column: str | None) -> None:
        basis = f" and {anomaly_column}" if anomaly_column else ""
        self.session.add_column(
            PREDICTED_COLUMN, np.asarray(predicted, dtype=np.float32),
            description=f"predicted interest (0-5) from your ratings{basis}",
            meta={"method": "random forest on the embedding (Lochner & Bassett 2021)",
                  "n_rated": int(np.isfinite(ratings).sum())})
        unrated = np.flatnonzero(~np.isfinite(ratings) & np.isfinite(predicted))
        top = unrated[np.argsort(-predicted[unrated], kind="stable")[:self.top_spin.value()]]
        self.colour_by_requested.emit(PREDICTED_COLUMN)
        if top.size:
            title = f"{top.size} most promising unrated objects"
            self.session.selection.select(RowSet(top), SelectionMode.REPLACE, source=self,
                                          description=title)
            self.session.selection.set_focus(int(top[0]), source=self)
            self.results_ready.emit(top, title, predicted[top], PREDICTED_COLUMN)
        self.status.setText(f"Ranked {unrated.size:,} unrated objects from "
                            f"{int(np.isfinite(ratings).sum())} ratings{basis}.")

    # -- state ----------------------------------------------------------------------------
    def _on_catalogue_changed(self, _catalogue: Catalogue) -> None:
        self.labels = None
        self.status.setText("")
        self._update_state()

    def _update_state(self, *_args: object) -> None:
        session = self.session
        has_focus = session.catalogue is not None and session.selection.focus is not None
        for button in self.score_buttons.values():
            button.setEnabled(has_focus)
        self.rank_button.setEnabled(session.catalogue is not None
                                    and session.embedding is not None
                                    and not self.jobs_panel.is_running(RANK_JOB_KIND))
