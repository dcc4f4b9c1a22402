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


# -- filter --------------------------------------------------------------------------


def type_filter(qtbot, panel: TablePanel, text: str) -> None:
    """Type ``text`` over the filter line's text and press Enter, as a user would."""
    panel.filter_edit.selectAll()
    qtbot.keyClicks(panel.filter_edit, text)
    qtbot.keyClick(panel.filter_edit, Qt.Key.Key_Return)


def shown_rows(panel: TablePanel) -> np.ndarray:
    return panel.model.catalogue_rows(np.arange(panel.model.rowCount()))


def test_filter_numeric_string_and_logic(qtbot, panel: TablePanel, session: Session) -> None:
    table = session.catalogue.table
    mag = np.asarray(table["mag"])  # unit mag: compared as plain numbers
    kind = np.asarray(table["kind"])
    assert panel.count_label.text() == "60 rows"
    type_filter(qtbot, panel, "mag < 20")
    expected = np.flatnonzero(mag < 20)  # NaN compares false
    assert np.array_equal(shown_rows(panel), expected)
    assert panel.count_label.text() == f"{expected.size} of 60 rows"
    assert panel.filter_error == "" and panel.filter_text == "mag < 20"
    type_filter(qtbot, panel, "mag < 20 & kind == 'star'")
    assert np.array_equal(shown_rows(panel), np.flatnonzero((mag < 20) & (kind == "star")))
    type_filter(qtbot, panel, 'kind == "qso" | mag > 21')
    assert np.array_equal(shown_rows(panel), np.flatnonzero((kind == "qso") | (mag > 21)))
    type_filter(qtbot, panel, "~flag & ra > 150.35")
    flag, ra = np.asarray(table["flag"]), np.asarray(table["ra"])
    assert np.array_equal(shown_rows(panel), np.flatnonzero(~flag & (ra > 150.35)))
    # The cells shown are those of the matching rows.
    assert cell(panel.model, 0, "object_id") == str(100 + shown_rows(panel)[0])
    assert panel.model.headerData(0, Qt.Orientation.Vertical) == str(shown_rows(panel)[0])
    type_filter(qtbot, panel, "10-12, 40")
    assert list(shown_rows(panel)) == [10, 11, 12, 40]


def test_filter_errors_are_inline_and_leave_the_table(qtbot, panel: TablePanel) -> None:
    type_filter(qtbot, panel, "mag < 19.5")
    before = shown_rows(panel).copy()
    type_filter(qtbot, panel, "gmag < 20")
    assert "'gmag', which is not a column" in panel.filter_error
    assert panel.filter_error_label.isVisible()
    assert len(panel.filter_error_label.text()) <= 160  # short; all of it in the tooltip
    assert panel.filter_error_label.toolTip() == panel.filter_error
    assert np.array_equal(shown_rows(panel), before)
    assert panel.filter_text == "mag < 19.5"
    type_filter(qtbot, panel, "mag < (2")
    assert "is not valid" in panel.filter_error
    type_filter(qtbot, panel, "mag + 1")
    assert "true/false" in panel.filter_error
    assert np.array_equal(shown_rows(panel), before)
    # Clearing the line shows every row again and the error goes.
    panel.filter_edit.clear()
    assert panel.model.rowCount() == 60 and panel.model.order is None
    assert panel.filter_error == "" and not panel.filter_error_label.isVisible()
    assert panel.count_label.text() == "60 rows"


def test_select_matching(qtbot, panel: TablePanel, session: Session) -> None:
    assert not panel.select_matching_button.isEnabled()
    session.selection.select(RowSet([0, 1]), source="elsewhere")
    type_filter(qtbot, panel, "kind == 'galaxy'")
    assert panel.select_matching_button.isEnabled()
    qtbot.mouseClick(panel.select_matching_button, Qt.MouseButton.LeftButton)
    expected = np.flatnonzero(np.asarray(session.catalogue.table["kind"]) == "galaxy")
    assert np.array_equal(session.selection.rows.rows, expected)
    assert np.array_equal(panel.selected_catalogue_rows(), expected)
    # Typed but not yet applied: Select matching applies it first.
    panel.filter_edit.setText("object_id < 103")
    panel.select_matching()
    assert list(session.selection.rows) == [0, 1, 2]
    assert panel.filter_text == "object_id < 103"


def test_sort_and_filter_combine(qtbot, panel: TablePanel, session: Session) -> None:
    mag = np.asarray(session.catalogue.table["mag"])
    column = session.catalogue.table.colnames.index("mag")
    panel.view.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    type_filter(qtbot, panel, "kind != 'star'")
    rows = shown_rows(panel)
    assert set(rows) == set(np.flatnonzero(np.asarray(session.catalogue.table["kind"]) != "star"))
    values = mag[rows]
    finite = values[np.isfinite(values)]
    assert np.all(np.diff(finite) <= 0)  # still sorted, descending
    panel.view.sortByColumn(column, Qt.SortOrder.AscendingOrder)
    rows2 = shown_rows(panel)
    assert set(rows2) == set(rows)  # sorting keeps the filter
    finite = mag[rows2][np.isfinite(mag[rows2])]
    assert np.all(np.diff(finite) >= 0)
    assert np.array_equal(panel.model.catalogue_rows(panel.model.view_rows(rows2)), rows2)
    panel.apply_filter("")
    assert panel.model.rowCount() == 60
    assert np.all(np.diff(mag[panel.model.order][:50]) >= 0)  # sort kept


def test_selection_links_through_the_filter(qtbot, panel: TablePanel, session: Session) -> None:
    session.selection.select(RowSet([1, 2, 4, 5]), source="elsewhere")
    session.selection.set_focus(4, source="elsewhere")
    type_filter(qtbot, panel, "kind == 'galaxy'")  # rows 1, 4, 7, ...
    # The view shows the selected rows it has; the Session keeps them all.
    assert list(panel.selected_catalogue_rows()) == [1, 4]
    assert session.selection.rows == RowSet([1, 2, 4, 5])
    assert panel.current_catalogue_row() == 4
    # Picking shown rows replaces the shown part; hidden selected rows stay selected.
    panel.select_rows([7, 10])
    assert session.selection.rows == RowSet([2, 5, 7, 10])
    # A change elsewhere shows its visible rows here; focus on a hidden row is ignored.
    session.selection.select(RowSet([3, 13, 16]), source="elsewhere")
    assert list(panel.selected_catalogue_rows()) == [13, 16]
    session.selection.set_focus(3, source="elsewhere")
    session.selection.set_focus(16, source="elsewhere")
    assert panel.current_catalogue_row() == 16
    # Clicking a shown row focuses it, through the filtered view.
    view_row = int(panel.model.view_rows(np.array([19]))[0])
    panel.view.selectionModel().setCurrentIndex(
        panel.model.index(view_row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    assert session.selection.focus == 19
    assert session.selection.rows == RowSet([3, 19])
    # Clearing the filter shows all the Session's rows selected again.
    panel.apply_filter("")
    assert list(panel.selected_catalogue_rows()) == [3, 19]


def test_new_catalogue_clears_the_filter(qtbot, panel: TablePanel, session: Session) -> None:
    type_filter(qtbot, panel, "mag < 20")
    session.set_catalogue(make_catalogue(12))
    assert panel.filter_text == "" and panel.filter_edit.text() == ""
    assert panel.model.rowCount() == 12 and panel.count_label.text() == "12 rows"


def test_filter_and_sort_a_million_rows(qtbot, session: Session) -> None:
    import time

    from astropy.table import Table

    from astroexplorer.core import Catalogue

    rng = np.random.default_rng(0)
    n = 1_000_000
    table = Table({"gmag": rng.normal(21, 1.5, n),
                   "label": np.array(["spiral", "elliptical", "star"])[rng.integers(0, 3, n)]})
    session.set_catalogue(Catalogue(table, name="big"))
    panel = TablePanel(session)
    qtbot.addWidget(panel)
    panel.resize(600, 300)
    panel.show()
    start = time.perf_counter()
    assert panel.apply_filter('gmag < 20 & label == "spiral"')
    filtered = time.perf_counter() - start
    expected = np.flatnonzero((table["gmag"] < 20) & (table["label"] == "spiral"))
    assert panel.model.rowCount() == expected.size
    assert panel.count_label.text() == f"{expected.size:,} of 1,000,000 rows"
    start = time.perf_counter()
    panel.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    sorted_ = time.perf_counter() - start
    assert np.all(np.diff(np.asarray(table["gmag"])[shown_rows(panel)]) >= 0)
    print(f"1M rows: filter {filtered * 1e3:.0f} ms, sort {sorted_ * 1e3:.0f} ms")
    assert filtered < 1.5 and sorted_ < 1.5
