"""The Discovery panel: similar objects and anomaly scores, driven through the window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from astroexplorer.core import Embedding, RowSet, SelectionMode


def planted_vectors(n: int, seed: int = 1) -> np.ndarray:
    """Random 8-D vectors with a tight cluster of 15 rows planted at rows 10..24, shape (n, 8)."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    vectors[10:25] = 5.0 + 0.05 * rng.normal(size=(15, 8))
    vectors[-3:] = 40.0 * rng.normal(size=(3, 8))  # a few far outliers
    return vectors


@pytest.fixture
def opened(window, survey_path: Path):
    """The window with the survey demo open and a planted random embedding."""
    assert window.open_path(survey_path)
    vectors = planted_vectors(len(window.session.catalogue))
    window.session.set_embedding(Embedding(vectors, "random"))
    return window


def nearest(vectors: np.ndarray, query: np.ndarray, k: int) -> set[int]:
    """The k rows nearest the mean of ``query`` rows (euclidean), query rows left out."""
    q = vectors[query].astype(np.float64).mean(axis=0)
    dist = np.linalg.norm(vectors.astype(np.float64) - q, axis=1)
    dist[query] = np.inf
    return set(np.argsort(dist)[:k].tolist())


def test_buttons_need_an_embedding(window, survey_path: Path) -> None:
    panel = window.discovery_panel
    assert not panel.similar_button.isEnabled() and not panel.score_button.isEnabled()
    assert window.open_path(survey_path)
    assert window.session.selection.focus == 0  # focused, but still no embedding
    assert not panel.similar_button.isEnabled() and not panel.score_button.isEnabled()
    assert not panel.top_button.isEnabled()
    assert panel.select_similar() is None and panel.compute_anomaly() is None
    window.session.set_embedding(Embedding(planted_vectors(200), "random"))
    assert panel.similar_button.isEnabled() and panel.score_button.isEnabled()
    assert not panel.top_button.isEnabled()  # nothing scored yet


def test_the_panel_is_docked_and_in_the_view_menu(window) -> None:
    dock = window.docks["discovery"]
    assert dock.widget().widget() is window.discovery_panel  # inside a scroll area
    assert window.discovery_panel.k_spin.value() == 20
    assert window.discovery_panel.top_spin.value() == 50
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert dock.toggleViewAction() in view_menu.actions()


def test_select_similar_to_the_focused_object(opened) -> None:
    window, panel = opened, opened.discovery_panel
    selection = window.session.selection
    vectors = window.session.embedding.vectors
    selection.set_focus(12, source="test")
    assert panel.similar_button.isEnabled()
    panel.k_spin.setValue(10)
    panel.similar_button.click()
    rows = set(selection.rows.rows.tolist())
    assert len(rows) == 11 and 12 in rows
    assert rows - {12} == nearest(vectors, np.array([12]), 10)
    assert rows <= set(range(10, 25))  # the planted cluster
    assert selection.focus == 12
    assert "10 most similar to object_id=" in selection.description
    assert "(euclidean)" in selection.description
    # The other views follow the selection.
    assert set(window.table_panel.selected_catalogue_rows().tolist()) == rows


def test_select_similar_from_a_selection_and_cached_index(opened) -> None:
    window, panel = opened, opened.discovery_panel
    selection = window.session.selection
    vectors = window.session.embedding.vectors
    query = np.array([40, 41, 90])
    selection.select(RowSet(query), SelectionMode.REPLACE, source="test")
    new = panel.select_similar(k=5, metric="euclidean")
    assert new == selection.rows and len(new) == 8
    assert set(new.rows.tolist()) - set(query.tolist()) == nearest(vectors, query, 5)
    assert selection.focus in set(query.tolist())
    assert "3 selected objects" in selection.description
    index = panel.neighbour_index(window.session.embedding, "euclidean")
    assert panel.neighbour_index(window.session.embedding, "euclidean") is index
    # Cosine works too and a new embedding drops the cached indexes.
    selection.clear(source="test")
    selection.set_focus(15, source="test")
    new = panel.select_similar(k=3, metric="cosine")
    assert len(new) == 4 and 15 in new and "(cosine)" in selection.description
    window.session.set_embedding(Embedding(vectors.copy(), "random"))
    assert panel.neighbour_index(window.session.embedding, "euclidean") is not index


def test_anomaly_score_becomes_a_coloured_column(opened, qtbot) -> None:
    window, panel = opened, opened.discovery_panel
    model = window.table_panel.model
    columns_before = model.columnCount()
    panel.anomaly_combo.setCurrentIndex(panel.anomaly_combo.findData("isolation_forest"))
    with qtbot.waitSignal(panel.anomaly_ready, timeout=60_000) as blocker:
        panel.score_button.click()
        assert window.jobs_panel.is_running("anomaly")
        assert not panel.score_button.isEnabled()
    name = "anomaly_isolation_forest"
    assert blocker.args == [name]
    table = window.session.catalogue.table
    assert name in table.colnames
    assert table.meta["derived"][name] == {"method": "isolation_forest", "embedding": "random"}
    assert model.columnCount() == columns_before + 1
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    assert name in headers
    assert window.analysis_panel.colour_combo.findData(name) >= 0
    assert window.analysis_panel.colour_combo.currentData() == name
    assert window.scatter_panel.colour_column == name
    assert window.scatter_panel.colour_scheme is not None
    assert panel.score_button.isEnabled() and panel.top_button.isEnabled()
    # The planted outliers score highest; select the top N.
    scores = np.asarray(table[name], dtype=float)
    top = panel.select_top_anomalies(5)
    selection = window.session.selection
    assert top == selection.rows and len(top) == 5
    assert set(top.rows.tolist()) == set(np.argsort(-scores)[:5].tolist())
    assert {197, 198, 199} <= set(top.rows.tolist())
    assert selection.focus == int(np.argmax(scores))
    assert name in selection.description
    # Scoring again replaces the column (same name, no new table column).
    with qtbot.waitSignal(panel.anomaly_ready, timeout=60_000):
        assert panel.compute_anomaly("isolation_forest") is not None
    assert model.columnCount() == columns_before + 1


def test_select_top_leaves_out_nan_scores(opened) -> None:
    window, panel = opened, opened.discovery_panel
    scores = np.arange(200, dtype=float)
    scores[-5:] = np.nan
    window.session.add_column("anomaly_test", scores)
    panel.score_column = "anomaly_test"
    top = panel.select_top_anomalies(3)
    assert top.rows.tolist() == [192, 193, 194]
    assert window.session.selection.focus == 194
    assert len(panel.select_top_anomalies(1000)) == 195
