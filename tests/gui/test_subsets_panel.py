"""The Subsets panel, the Edit menu's undo / redo and HDBSCAN clusters as subsets."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog

from astroexplorer.core import Embedding, RowSet, SelectionMode
from astroexplorer.gui.subsets_panel import CLUSTER_COLUMN, SubsetsPanel
from tests.gui.conftest import make_catalogue

NAME, COLOUR, VISIBLE = 2, 1, 0


@pytest.fixture
def panel(qtbot, session):
    widget = SubsetsPanel(session)
    qtbot.addWidget(widget)
    widget.resize(320, 480)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def click_cell(qtbot, panel: SubsetsPanel, row: int, column: int) -> None:
    rect = panel.table.visualItemRect(panel.table.item(row, column))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_new_from_selection_rename_and_delete(panel, session, qtbot) -> None:
    selection, subsets = session.selection, session.selection.subsets
    assert not panel.new_button.isEnabled()
    assert panel.new_from_selection() is None and panel.error_label.isVisible()
    selection.select(RowSet([1, 2, 3]), description="box on the map")
    assert panel.new_button.isEnabled()
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    selection.select(RowSet([3, 4]))
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    assert panel.names() == ["subset 1", "subset 2"] == subsets.names()
    assert subsets["subset 1"].rows == RowSet([1, 2, 3])
    assert panel.table.item(0, 3).text() == "3"
    assert panel.table.item(0, NAME).toolTip() == "box on the map"
    assert panel.chosen() == ["subset 2"]  # the new one is chosen

    # Rename by editing the name cell; a taken name is refused in red and reverted.
    panel.table.item(0, NAME).setText("spirals")
    assert subsets.names() == ["spirals", "subset 2"] and not panel.error_label.isVisible()
    panel.table.item(1, NAME).setText("spirals")
    assert subsets.names() == ["spirals", "subset 2"]
    assert panel.error_label.isVisible() and "exists already" in panel.error_label.text()
    assert panel.table.item(1, NAME).text() == "subset 2"

    panel.choose(["spirals", "subset 2"])
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert len(subsets) == 0 and panel.table.rowCount() == 0
    assert not panel.delete_button.isEnabled()
    assert selection.undo_label() == "delete 2 subsets"
    assert selection.undo() and panel.names() == ["spirals", "subset 2"]


def test_colour_and_visibility(panel, session, qtbot, monkeypatch) -> None:
    subsets = session.selection.subsets
    subsets.add("stars", RowSet([0, 3, 6]))
    subsets.add("galaxies", RowSet([1, 4]))
    asked = []

    def get_color(initial, _parent, title):
        asked.append((initial.name(), title))
        return QColor("#123456")

    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(get_color))
    old = subsets["galaxies"].colour
    click_cell(qtbot, panel, 1, COLOUR)
    assert asked == [(old.lower(), "Colour of galaxies")]
    assert subsets["galaxies"].colour == "#123456"
    swatch = panel.table.item(1, COLOUR).icon().pixmap(16).toImage()
    assert swatch.pixelColor(8, 8).name() == "#123456"
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *_a: QColor()))
    assert not panel.choose_colour("galaxies")  # cancelled: unchanged
    assert subsets["galaxies"].colour == "#123456"

    panel.table.item(0, VISIBLE).setCheckState(Qt.CheckState.Unchecked)
    assert not subsets["stars"].visible
    membership = subsets.membership()
    assert membership[0] == -1 and membership[1] == 1
    assert panel.table.item(0, NAME).foreground().color().name() == "#888888"
    panel.set_visible("stars", True)
    assert panel.table.item(0, VISIBLE).checkState() == Qt.CheckState.Checked
    assert panel.table.item(0, NAME).data(Qt.ItemDataRole.ForegroundRole) is None


def test_select_subsets_with_modes(panel, session, qtbot) -> None:
    selection, subsets = session.selection, session.selection.subsets
    subsets.add("a", RowSet([0, 1, 2]))
    subsets.add("b", RowSet([2, 5]))
    assert not panel.select_button.isEnabled()
    panel.choose(["a"])
    qtbot.mouseClick(panel.select_button, Qt.MouseButton.LeftButton)
    assert selection.rows == RowSet([0, 1, 2])
    panel.select_subsets(["b"], SelectionMode.ADD)
    assert selection.rows == RowSet([0, 1, 2, 5])
    panel.select_subsets(["a"], SelectionMode.SUBTRACT)
    assert selection.rows == RowSet([5])
    panel.choose(["a", "b"])
    panel.select_subsets()
    assert selection.rows == RowSet([0, 1, 2, 5]) and selection.description == "a | b"


def test_expression_select_save_and_errors(panel, session, qtbot) -> None:
    selection, subsets = session.selection, session.selection.subsets
    n = len(session.catalogue)
    assert not panel.expression_edit.isEnabled()
    subsets.add("spirals", RowSet(range(0, 20)))
    subsets.add("cluster 1", RowSet(range(10, 30)))
    assert panel.expression_edit.isEnabled()
    panel.expression_edit.setText('spirals & ~"cluster 1"')
    qtbot.mouseClick(panel.expression_select_button, Qt.MouseButton.LeftButton)
    assert selection.rows == RowSet(range(0, 10))
    assert selection.description == 'spirals & ~"cluster 1"'
    qtbot.mouseClick(panel.expression_save_button, Qt.MouseButton.LeftButton)
    assert subsets.names()[-1] == "subset 1"
    assert subsets["subset 1"].rows == RowSet(range(0, 10))
    assert subsets["subset 1"].description == '= spirals & ~"cluster 1"'

    panel.expression_edit.setText("spirals | galaxies")
    before_rows, before_names = selection.rows, subsets.names()
    qtbot.mouseClick(panel.expression_select_button, Qt.MouseButton.LeftButton)
    assert panel.error_label.isVisible() and "galaxies" in panel.error_label.text()
    assert "#c0392b" in panel.error_label.styleSheet()
    qtbot.mouseClick(panel.expression_save_button, Qt.MouseButton.LeftButton)
    assert selection.rows == before_rows and subsets.names() == before_names
    panel.expression_edit.setText("~spirals")  # typing clears the error
    assert not panel.error_label.isVisible()
    assert panel.select_expression() == RowSet(range(20, n))
    assert panel.select_expression("(spirals") is None
    assert "parenthesis" in panel.error_label.text()


def test_edit_menu_undo_redo(window, qtbot) -> None:
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    undo, redo = window.edit_actions.undo_action, window.edit_actions.redo_action
    assert edit.actions() == [undo, redo]
    assert undo.shortcut().toString() == "Ctrl+Z"
    assert [s.toString() for s in redo.shortcuts()] == ["Ctrl+Shift+Z", "Ctrl+Y"]
    assert not undo.isEnabled() and not redo.isEnabled()
    window.set_catalogue(make_catalogue(40))
    selection = window.session.selection
    selection.select(RowSet([1, 2]), description="lasso on the map")
    selection.select(RowSet([7]), SelectionMode.ADD)
    assert undo.isEnabled() and not redo.isEnabled()
    assert undo.text() == "&Undo selection (add)"
    undo.trigger()
    assert selection.rows == RowSet([1, 2]) and redo.isEnabled()
    assert redo.text() == "&Redo selection (add)"
    assert window.windowTitle().startswith("synthetic") and "2 selected" in window.windowTitle()
    undo.trigger()
    assert len(selection.rows) == 0 and not undo.isEnabled()
    redo.trigger()
    assert selection.rows == RowSet([1, 2])
    window.scatter_panel.setFocus()
    qtbot.keyClick(window.scatter_panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(selection.rows) == 0
    qtbot.keyClick(window.scatter_panel, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert selection.rows == RowSet([1, 2])
    window.subsets_panel.new_from_selection()
    assert undo.text() == "&Undo new subset 'subset 1'"
    window.set_catalogue(make_catalogue(30))  # a new catalogue forgets the history
    assert not undo.isEnabled() and not redo.isEnabled()
    assert window.subsets_panel.table.rowCount() == 0


def test_subsets_dock_is_tabbed_with_discovery(window) -> None:
    dock = window.docks["subsets"]
    assert dock.widget().widget() is window.subsets_panel  # inside a scroll area
    assert dock in window.tabifiedDockWidgets(window.docks["discovery"])
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert dock.toggleViewAction() in view_menu.actions()


def blobs(seed: int = 3) -> tuple[np.ndarray, list[set[int]]]:
    """Three well-separated Gaussian blobs of 30 rows each in 4-D, rows shuffled;
    returns the (90, 4) vectors and each blob's rows."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 0], [20, 0, 0, 0], [0, 20, 0, 0]], dtype=float)
    which = rng.permutation(np.repeat(np.arange(3), 30))
    vectors = centres[which] + rng.normal(scale=0.5, size=(90, 4))
    return vectors.astype(np.float32), [set(np.flatnonzero(which == k).tolist())
                                        for k in range(3)]


def test_clusters_become_a_column_and_subsets(window, qtbot) -> None:
    window.set_catalogue(make_catalogue(90))
    group = window.discovery_panel.clusters_group
    assert not group.run_button.isEnabled()
    vectors, truth = blobs()
    window.session.set_embedding(Embedding(vectors, "random"))
    assert group.run_button.isEnabled()
    selection, subsets = window.session.selection, window.session.selection.subsets
    subsets.add("mine", RowSet([0, 1]))  # a user's subset survives clustering
    group.size_spin.setValue(10)
    with qtbot.waitSignal(group.clusters_ready, timeout=30_000):
        qtbot.mouseClick(group.run_button, Qt.MouseButton.LeftButton)
        assert window.jobs_panel.is_running("clusters") and not group.run_button.isEnabled()
    table = window.session.catalogue.table
    labels = np.asarray(table[CLUSTER_COLUMN])
    assert labels.dtype.kind == "i" and set(labels.tolist()) <= {-1, 0, 1, 2}
    assert "HDBSCAN" in table[CLUSTER_COLUMN].description
    assert "min cluster size 10" in table[CLUSTER_COLUMN].description
    assert table.meta["derived"][CLUSTER_COLUMN]["min_cluster_size"] == 10
    clusters = [n for n in subsets.names() if n.startswith("cluster ")]
    assert clusters == ["cluster 0", "cluster 1", "cluster 2"]
    found = sorted((set(subsets[n].rows) for n in clusters), key=min)
    # Well-separated blobs: every cluster is one blob (at most a few edge rows as noise).
    for cluster, blob in zip(found, sorted(truth, key=min)):
        assert cluster <= blob and len(cluster) >= 27
    if "noise" in subsets:
        assert not subsets["noise"].visible
        assert set(subsets["noise"].rows) == set(np.flatnonzero(labels < 0).tolist())
    assert window.subsets_panel.names() == subsets.names()
    assert window.scatter_panel.colour_column == CLUSTER_COLUMN
    # Subset colours are the map's colours of the cluster ids.
    scheme = window.scatter_panel.colour_scheme
    row = int(subsets["cluster 0"].rows.rows[0])
    assert scheme.brushes[scheme.index[row]].color().name().upper() == subsets["cluster 0"].colour
    assert group.run_button.isEnabled()

    # Running again replaces the cluster subsets (one undo step brings them back).
    before = subsets.snapshot()
    with qtbot.waitSignal(group.clusters_ready, timeout=30_000):
        assert group.compute_clusters(min_cluster_size=60) is not None
    assert "mine" in subsets
    assert not any(n.startswith("cluster ") for n in subsets.names())  # no cluster of 60
    assert set(np.asarray(table[CLUSTER_COLUMN]).tolist()) == {-1}
    assert selection.undo_label() == "HDBSCAN clusters"
    assert selection.undo() and subsets.snapshot() == before


def test_clusters_dropped_when_the_catalogue_changes(window, qtbot) -> None:
    window.set_catalogue(make_catalogue(90))
    vectors, _truth = blobs()
    window.session.set_embedding(Embedding(vectors, "random"))
    group = window.discovery_panel.clusters_group
    worker = group.compute_clusters(min_cluster_size=10)
    assert worker is not None and group.compute_clusters() is None  # one at a time
    with qtbot.waitSignal(worker.done, timeout=30_000):
        window.set_catalogue(make_catalogue(90, seed=1))
    assert CLUSTER_COLUMN not in window.session.catalogue.table.colnames
    assert len(window.session.selection.subsets) == 0
