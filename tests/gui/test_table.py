"""The catalogue table model and its two-way link with the Session's selection."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from astroexplorer.core import RowSet, SelectionMode, Session
from astroexplorer.gui.table import (
    CatalogueTableModel,
    TablePanel,
    column_float_format,
    format_value,
)

from .conftest import make_catalogue


@pytest.fixture
def panel(qtbot, session: Session) -> TablePanel:
    panel = TablePanel(session)
    qtbot.addWidget(panel)
    panel.resize(800, 300)
    panel.show()
    return panel


def cell(model: CatalogueTableModel, row: int, column: str) -> str:
    names = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    col = next(i for i, n in enumerate(names) if n == column or n.startswith(column + " ["))
    return model.data(model.index(row, col))


def test_format_value() -> None:
    assert format_value(np.float64(150.123456789)) == "150.1235"
    assert format_value(0.000012345) == "1.2345e-05"
    assert format_value(np.float32(np.nan)) == "nan"
    assert format_value(np.int64(7)) == "7"
    assert format_value(np.bool_(True)) == "true"
    assert format_value(np.arange(5.0)) == "[5] 0, 1, 2, \u2026"
    assert format_value(np.ma.masked) == "\u2014"


def test_float_columns_share_their_decimals() -> None:
    assert column_float_format(np.array([150.25, 149.5])) == ".4f"
    assert column_float_format(np.array([2.1, -1.9, np.nan])) == ".6f"
    assert column_float_format(np.array([1e-7, 3e-7])) == ".4e"
    assert column_float_format(np.array([1.0, 2.0]), "%.2f") == ".2f"
    assert column_float_format(np.array([1, 2])) is None


def test_model_headers_units_and_cells() -> None:
    catalogue = make_catalogue()
    model = CatalogueTableModel(catalogue)
    assert model.rowCount() == len(catalogue)
    assert model.columnCount() == len(catalogue.table.colnames)
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]
    assert headers[:5] == ["object_id", "ra [deg]", "dec [deg]", "kind", "mag [mag]"]
    tooltip = model.headerData(4, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert tooltip == "r magnitude"
    assert cell(model, 0, "kind") == "star"
    assert cell(model, 1, "ra") == "150.1000"
    assert cell(model, 0, "mag") == "nan"
    assert cell(model, 0, "vec").startswith("[4] ")
    assert cell(model, 1, "flag") == "false"
    align = model.data(model.index(0, 1), Qt.ItemDataRole.TextAlignmentRole)
    assert align & int(Qt.AlignmentFlag.AlignRight)


def test_model_sort_is_a_permutation() -> None:
    catalogue = make_catalogue()
    model = CatalogueTableModel(catalogue)
    mag_col = catalogue.table.colnames.index("mag")
    model.sort(mag_col, Qt.SortOrder.AscendingOrder)
    mags = np.asarray(catalogue.table["mag"])[model.order]
    finite = mags[np.isfinite(mags)]
    assert np.all(np.diff(finite) >= 0) and np.isnan(mags[-1])  # NaN last
    rows = np.array([5, 17, 33])
    assert np.array_equal(model.catalogue_rows(model.view_rows(rows)), rows)
    # The row header shows the catalogue row, which stays with its object.
    first = int(model.order[0])
    assert model.headerData(0, Qt.Orientation.Vertical) == str(first)


def test_table_selection_selects_in_session(panel: TablePanel, session: Session) -> None:
    changes = []
    session.selection.changed.connect(lambda old, new, source: changes.append(source))
    panel.select_rows([3, 4, 5, 20])
    assert list(session.selection.rows) == [3, 4, 5, 20]
    assert changes and all(source is panel for source in changes)
    panel.select_rows([40], SelectionMode.ADD)
    assert list(session.selection.rows) == [3, 4, 5, 20, 40]


def test_session_selection_selects_in_table(panel: TablePanel, session: Session) -> None:
    session.selection.select(RowSet([2, 3, 10, 50]), source="elsewhere")
    assert list(panel.selected_catalogue_rows()) == [2, 3, 10, 50]
    # The table did not echo the change back.
    assert session.selection.rows == RowSet([2, 3, 10, 50])
    session.selection.select(RowSet(), source="elsewhere")
    assert panel.selected_catalogue_rows().size == 0


def test_session_selection_scrolls_to_the_focused_row(qtbot, session: Session) -> None:
    big = make_catalogue(2000)
    session.set_catalogue(big)
    panel = TablePanel(session)
    qtbot.addWidget(panel)
    panel.resize(600, 200)
    panel.show()
    qtbot.waitExposed(panel)
    session.selection.select(RowSet([1500, 1501]), source="elsewhere")
    middle = panel.view.viewport().height() // 2
    qtbot.waitUntil(lambda: panel.view.rowAt(middle) in range(1450, 1550))
    session.selection.set_focus(10, source="elsewhere")
    assert panel.current_catalogue_row() == 10
    qtbot.waitUntil(lambda: panel.view.rowAt(middle) < 50)


def test_clicking_a_row_focuses_it(panel: TablePanel, session: Session) -> None:
    index = panel.model.index(7, 0)
    panel.view.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        | QItemSelectionModel.SelectionFlag.Rows)
    assert session.selection.focus == 7
    assert list(session.selection.rows) == [7]


def test_selection_survives_sorting(panel: TablePanel, session: Session) -> None:
    session.selection.select(RowSet([1, 8, 30]), source="elsewhere")
    mag = session.catalogue.table.colnames.index("mag")
    panel.view.sortByColumn(mag, Qt.SortOrder.DescendingOrder)
    assert list(panel.selected_catalogue_rows()) == [1, 8, 30]
    assert session.selection.rows == RowSet([1, 8, 30])


def test_new_catalogue_resets_the_model(panel: TablePanel, session: Session) -> None:
    session.set_catalogue(make_catalogue(12))
    assert panel.model.rowCount() == 12
    assert panel.model.order is None
