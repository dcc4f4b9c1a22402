"""Active labelling: keys rate the focused object, the ratings are a column, and a
model on the embedding ranks the unrated objects into the gallery."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from astroexplorer.core import Embedding
from astroexplorer.gui.labelling_panel import LABEL_COLUMN, PREDICTED_COLUMN


def _blobs(n_per: int = 40, seed: int = 0) -> np.ndarray:
    """Three blobs of ``n_per`` rows each in 8-D; blob 2 is the 'interesting' kind."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0] * 8, [6.0] * 8, [0.0, 6.0] * 4])
    return np.concatenate([c + rng.normal(size=(n_per, 8)) for c in centres]).astype(np.float32)


def test_keys_rate_the_focused_object_and_move_on(window, qtbot, catalogue):
    window.set_catalogue(catalogue)
    group = window.discovery_panel.labelling_group
    window.gallery_panel.show_rows(np.array([7, 3, 9]), "three")
    window.session.selection.set_focus(7)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_5)
    labels = np.asarray(catalogue.table[LABEL_COLUMN])
    assert labels[7] == 5.0 and np.isnan(labels[3])
    assert window.session.selection.focus == 3  # the next object of the gallery
    qtbot.keyClick(window, Qt.Key.Key_N)
    assert np.asarray(catalogue.table[LABEL_COLUMN])[3] == 0.0
    qtbot.keyClick(window, Qt.Key.Key_Delete)  # focus is 9 now: nothing to clear
    group.rate(None, row=7)
    labels = np.asarray(catalogue.table[LABEL_COLUMN])
    assert np.isnan(labels[7]) and labels[3] == 0.0
    assert "interest" in catalogue.table.meta["derived"]  # saved with sessions, exported
    assert "1 rated" in group.status.text()


def test_rank_by_interest_fills_the_gallery_with_the_interesting_kind(window, qtbot, catalogue):
    from astropy.table import Table

    from astroexplorer.core import Catalogue

    x = _blobs()
    cat = Catalogue(Table({"object_id": np.arange(len(x))}), name="blobs")
    window.set_catalogue(cat)
    window.session.set_embedding(Embedding(x, "test"))
    group = window.discovery_panel.labelling_group
    group.advance_check.setChecked(False)
    for row in (80, 81, 82, 83, 84):
        group.rate(5.0, row=row)
    for row in (0, 1, 2, 40, 41, 42):
        group.rate(0.0, row=row)
    group.top_spin.setValue(20)
    with qtbot.waitSignal(group.results_ready, timeout=60_000) as blocker:
        assert group.rank() is not None
    rows, _title, values, name = blocker.args
    assert name == PREDICTED_COLUMN and len(rows) == 20
    assert np.mean(rows >= 80) >= 0.9  # the unrated members of the interesting blob
    assert np.all(np.diff(values) <= 0)
    assert list(window.gallery_panel.shown_rows) == list(rows)
    assert PREDICTED_COLUMN in cat.table.colnames
    assert window.session.selection.focus == int(rows[0])
