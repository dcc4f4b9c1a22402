"""ScatterPanel: drawing, box / lasso / polygon / click selection (methods and mouse),
colours, sizes, hidden categories, subsets, hover, level of detail, linked views."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from astropy.table import Table
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from astroexplorer.core import Catalogue, Embedding, Projection, RowSet, SelectionMode, Session
from astroexplorer.core.regions import points_in_box, points_in_polygon
from astroexplorer.gui.colours import category_codes, colour_limits
from astroexplorer.gui.scatter import (
    LOD_THRESHOLD,
    ScatterPanel,
    ToolMode,
    default_axis_columns,
    density_raster,
    mode_from_modifiers,
    size_scale,
)

from .conftest import make_catalogue


@pytest.fixture
def panel(qtbot, session: Session) -> ScatterPanel:
    panel = ScatterPanel(session)
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    qtbot.waitExposed(panel)
    panel.reset_view()
    return panel


@pytest.fixture
def no_mouse_rate_limit():
    """pyqtgraph drops mouse moves closer in (real) time than its rate limit, and
    simulated moves come microseconds apart: lift the limit while a test drags."""
    old = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", -1)
    yield
    pg.setConfigOption("mouseRateLimit", old)


def drag(qtbot, panel: ScatterPanel, points: list[tuple[float, float]],
         modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press at the first plot position, move through the others, release at the last."""
    viewport = panel.plot_widget.viewport()
    pixels = [panel.view_to_widget(x, y) for x, y in points]
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, modifier, pixels[0])
    for a, b in zip(pixels, pixels[1:]):
        for t in np.linspace(0.25, 1.0, 4):  # small steps, as a hand would
            QTest.mouseMove(viewport, QPoint(int(a.x() + t * (b.x() - a.x())),
                                             int(a.y() + t * (b.y() - a.y()))))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier, pixels[-1])


def active(qtbot, panel: ScatterPanel) -> None:
    """Make the panel's window active and focus the plot, so its shortcuts work."""
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=1000)
    panel.plot_widget.setFocus()


def xy_of(panel: ScatterPanel, rows) -> np.ndarray:
    index = {int(r): i for i, r in enumerate(panel.plotted_rows)}
    return panel.plotted_xy[[index[int(r)] for r in rows]]


def expected_box(panel: ScatterPanel, x0, y0, x1, y1) -> set[int]:
    return set(panel.plotted_rows[points_in_box(panel.plotted_xy, x0, y0, x1, y1)].tolist())


# -- geometry -------------------------------------------------------------------------
def test_mode_from_modifiers() -> None:
    m = Qt.KeyboardModifier
    assert mode_from_modifiers(m.NoModifier) is SelectionMode.REPLACE
    assert mode_from_modifiers(m.ShiftModifier) is SelectionMode.ADD
    assert mode_from_modifiers(m.ControlModifier) is SelectionMode.SUBTRACT
    assert mode_from_modifiers(m.ControlModifier | m.ShiftModifier) is SelectionMode.INTERSECT
    assert mode_from_modifiers(m.AltModifier) is SelectionMode.INTERSECT
    assert mode_from_modifiers(m.ControlModifier | m.AltModifier) is SelectionMode.XOR


def test_default_axis_columns() -> None:
    catalogue = make_catalogue()
    assert default_axis_columns(catalogue) == ("ra", "dec")
    catalogue.table.rename_column("ra", "alpha")
    assert default_axis_columns(catalogue) == ("alpha", "dec")


# -- drawing --------------------------------------------------------------------------
def test_shows_ra_dec_before_a_projection(panel: ScatterPanel, session: Session) -> None:
    assert not panel.showing_projection
    assert (panel.x_column, panel.y_column) == ("ra", "dec")
    assert panel.plotted_rows.size == len(session.catalogue)
    assert panel.view_box.xInverted()  # RA grows to the east, on the left
    assert panel.plot_item.getAxis("bottom").labelText == "ra [deg]"


def test_switches_to_the_projection_and_back(panel: ScatterPanel, session: Session) -> None:
    n = len(session.catalogue)
    session.set_embedding(Embedding(np.random.default_rng(0).normal(size=(n, 3)), "pca"))
    xy = np.column_stack([np.arange(n), np.arange(n) % 5]).astype(np.float32)
    session.set_projection(Projection(xy, "pca"))
    assert panel.showing_projection
    assert np.allclose(panel.plotted_xy, xy)
    assert not panel.view_box.xInverted()
    assert "PCA map" in panel.caption.text()
    panel.set_axis_columns("mag", "dec")
    assert not panel.showing_projection
    # NaN magnitudes are not drawn (and cannot be selected).
    assert panel.plotted_rows.size == int(np.isfinite(session.catalogue.table["mag"]).sum())
    assert "hidden" in panel.caption.text()


# -- selection by method -----------------------------------------------------------------
def test_select_box_combines_by_mode(panel: ScatterPanel, session: Session) -> None:
    a = expected_box(panel, 150.0, 2.0, 150.35, 2.35)
    b = expected_box(panel, 150.25, 2.25, 150.6, 2.6)
    panel.select_box(150.0, 2.0, 150.35, 2.35)
    assert set(session.selection.rows) == a and a
    panel.select_box(150.25, 2.25, 150.6, 2.6, SelectionMode.ADD)
    assert set(session.selection.rows) == a | b
    panel.select_box(150.25, 2.25, 150.6, 2.6, SelectionMode.SUBTRACT)
    assert set(session.selection.rows) == a - b
    panel.select_box(150.0, 2.0, 150.35, 2.35)
    panel.select_box(150.25, 2.25, 150.6, 2.6, SelectionMode.INTERSECT)
    assert set(session.selection.rows) == a & b and a & b


def test_select_lasso(panel: ScatterPanel, session: Session) -> None:
    triangle = [(149.95, 1.95), (150.85, 1.95), (149.95, 2.85)]
    rows = panel.select_lasso(triangle)
    xy = xy_of(panel, rows)
    assert len(rows) > 5
    # Every selected point is under the hypotenuse; every other point is outside.
    assert np.all((xy[:, 0] - 149.95) + (xy[:, 1] - 1.95) <= 0.9 + 1e-9)
    others = np.setdiff1d(panel.plotted_rows, rows.rows)
    oxy = xy_of(panel, others)
    assert np.all((oxy[:, 0] - 149.95) + (oxy[:, 1] - 1.95) >= 0.9 - 1e-9)
    assert session.selection.rows == rows
    panel.select_lasso([(149.9, 1.9), (150.05, 1.9), (150.05, 2.05), (149.9, 2.05)],
                       SelectionMode.SUBTRACT)
    assert 0 not in session.selection.rows


def test_selection_overlay_and_focus_marker(panel: ScatterPanel, session: Session) -> None:
    panel.select_box(150.0, 2.0, 150.25, 2.25)
    assert len(panel.selected_item.data) == len(session.selection.rows)
    session.selection.set_focus(3)
    assert len(panel.focus_item.data) == 1
    assert np.allclose([panel.focus_item.data["x"][0], panel.focus_item.data["y"][0]],
                       xy_of(panel, [3])[0])


def test_focus_at_picks_the_nearest_point_within_tolerance(panel: ScatterPanel,
                                                           session: Session) -> None:
    x, y = xy_of(panel, [10])[0]
    assert panel.focus_at(x + 0.001, y) == 10
    assert session.selection.focus == 10
    assert panel.focus_at(x + 0.05, y + 0.05) is None  # half-way between grid points
    assert session.selection.focus == 10


# -- selection with the mouse -------------------------------------------------------------
@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_mouse_box_drag_selects(qtbot, panel: ScatterPanel, session: Session) -> None:
    panel.set_tool(ToolMode.BOX)
    drag(qtbot, panel, [(150.02, 2.02), (150.38, 2.38)])
    expected = expected_box(panel, 150.02, 2.02, 150.38, 2.38)
    assert expected and set(session.selection.rows) == expected
    # Shift adds a second box; Ctrl takes a box away.
    drag(qtbot, panel, [(150.42, 2.42), (150.58, 2.58)], Qt.KeyboardModifier.ShiftModifier)
    second = expected_box(panel, 150.42, 2.42, 150.58, 2.58)
    assert second and set(session.selection.rows) == expected | second
    drag(qtbot, panel, [(150.02, 2.02), (150.18, 2.18)], Qt.KeyboardModifier.ControlModifier)
    third = expected_box(panel, 150.02, 2.02, 150.18, 2.18)
    assert set(session.selection.rows) == (expected | second) - third


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_mouse_lasso_drag_selects(qtbot, panel: ScatterPanel, session: Session) -> None:
    panel.set_tool(ToolMode.LASSO)
    drag(qtbot, panel, [(150.02, 2.02), (150.48, 2.02), (150.48, 2.48), (150.02, 2.48)])
    rows = set(session.selection.rows)
    assert rows == expected_box(panel, 150.02, 2.02, 150.48, 2.48)


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_mouse_drag_in_pan_mode_pans(qtbot, panel: ScatterPanel, session: Session) -> None:
    before = panel.view_box.viewRange()
    drag(qtbot, panel, [(150.2, 2.2), (150.4, 2.4)])
    assert not session.selection.rows
    assert panel.view_box.viewRange() != before


def test_mouse_click_focuses(qtbot, panel: ScatterPanel, session: Session) -> None:
    x, y = xy_of(panel, [12])[0]
    QTest.mouseClick(panel.plot_widget.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, panel.view_to_widget(x, y))
    qtbot.waitUntil(lambda: session.selection.focus == 12)


def test_click_on_empty_space_in_box_mode_clears(qtbot, panel: ScatterPanel,
                                                 session: Session) -> None:
    session.selection.select(RowSet([1, 2]))
    panel.set_tool("box")
    QTest.mouseClick(panel.plot_widget.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, panel.view_to_widget(150.05, 2.05))
    qtbot.waitUntil(lambda: not session.selection.rows)


# -- colour ---------------------------------------------------------------------------
def test_colour_by_string_column(panel: ScatterPanel) -> None:
    panel.set_colour_by("kind")
    scheme = panel.colour_scheme
    assert scheme is not None and scheme.is_categorical
    labels = [label for label, _brush in scheme.categories]
    assert labels == ["galaxy (20)", "qso (20)", "star (20)"]
    assert not panel.legend.isHidden() and not panel._colour_bar_shown
    assert panel.legend_entries == labels and "star (20)" in panel.legend.text()
    brushes = panel.scatter.data["brush"]
    kinds = np.asarray(panel.session.catalogue.table["kind"])[panel.plotted_rows]
    # One shared brush per category.
    for kind in ("star", "galaxy", "qso"):
        assert len({id(b) for b in brushes[kinds == kind]}) == 1
    assert brushes[kinds == "star"][0] is not brushes[kinds == "qso"][0]


def test_colour_by_numeric_column_with_nan(panel: ScatterPanel) -> None:
    panel.set_colour_by("mag")
    scheme = panel.colour_scheme
    assert scheme is not None and not scheme.is_categorical
    assert panel._colour_bar_shown and panel.legend.isHidden()
    # Tick labels are the table's values, never rescaled by an SI prefix.
    assert not panel.colour_bar.axis.autoSIPrefix
    mag = np.asarray(panel.session.catalogue.table["mag"])[panel.plotted_rows]
    brushes = panel.scatter.data["brush"]
    grey = {b.color().name() for b in brushes[np.isnan(mag)]}
    assert grey == {"#b4b4b4"}
    finite = brushes[np.isfinite(mag)]
    assert "#b4b4b4" not in {b.color().name() for b in finite}
    lo, hi = scheme.levels
    assert lo < hi
    # The brightest (smallest) and faintest values get the two ends of the map.
    order = np.argsort(mag[np.isfinite(mag)])
    assert finite[order[0]].color().name() != finite[order[-1]].color().name()
    panel.set_colour_by("")
    assert panel.colour_scheme is None and not panel._colour_bar_shown


def test_colour_by_unknown_column_raises(panel: ScatterPanel) -> None:
    with pytest.raises(KeyError):
        panel.set_colour_by("nope")


def test_new_catalogue_resets_the_view(panel: ScatterPanel, session: Session) -> None:
    panel.set_colour_by("kind")
    panel.select_box(150.0, 2.0, 150.3, 2.3)
    session.set_catalogue(make_catalogue(30, seed=3))
    assert panel.plotted_rows.size == 30
    assert panel.colour_scheme is None
    assert len(panel.selected_item.data) == 0



# -- polygon tool and combine modes ------------------------------------------------------
def click_polygon(qtbot, panel: ScatterPanel, corners: list[tuple[float, float]],
                  modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Click each corner, then double-click the last to close the polygon."""
    viewport = panel.plot_widget.viewport()
    for x, y in corners:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, modifier, panel.view_to_widget(x, y))
    # A double-click as a mouse sends it: press, release, double-click, release
    # (QTest's mouseDClick sends the double-click event alone).
    last = panel.view_to_widget(*corners[-1])
    QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, modifier, last)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier, last)


def square(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def test_polygon_tool_with_each_modifier(qtbot, panel: ScatterPanel, session: Session) -> None:
    panel.set_tool(ToolMode.POLYGON)
    m = Qt.KeyboardModifier
    a = expected_box(panel, 150.02, 2.02, 150.38, 2.38)
    b = expected_box(panel, 150.22, 2.22, 150.58, 2.58)
    assert a and b and a & b and a - b
    click_polygon(qtbot, panel, square(150.02, 2.02, 150.38, 2.38))
    assert set(session.selection.rows) == a
    assert not panel.polygon_vertices  # closed
    click_polygon(qtbot, panel, square(150.22, 2.22, 150.58, 2.58), m.ShiftModifier)
    assert set(session.selection.rows) == a | b
    click_polygon(qtbot, panel, square(150.22, 2.22, 150.58, 2.58), m.ControlModifier)
    assert set(session.selection.rows) == a - b
    click_polygon(qtbot, panel, square(150.02, 2.02, 150.38, 2.38))
    click_polygon(qtbot, panel, square(150.22, 2.22, 150.58, 2.58),
                  m.ControlModifier | m.ShiftModifier)
    assert set(session.selection.rows) == a & b
    click_polygon(qtbot, panel, square(150.02, 2.02, 150.38, 2.38))
    click_polygon(qtbot, panel, square(150.22, 2.22, 150.58, 2.58),
                  m.ControlModifier | m.AltModifier)
    assert set(session.selection.rows) == a ^ b
    assert "polygon" in session.selection.description


def test_polygon_is_a_true_polygon_not_its_box(panel: ScatterPanel, session: Session) -> None:
    triangle = [(149.95, 1.95), (150.85, 1.95), (149.95, 2.85)]
    rows = panel.select_polygon(triangle)
    expected = panel.plotted_rows[points_in_polygon(panel.plotted_xy, np.array(triangle))]
    assert set(rows) == set(expected.tolist()) and len(rows) > 5
    assert len(rows) < len(expected_box(panel, 149.95, 1.95, 150.85, 2.85))


def test_polygon_enter_closes_and_escape_cancels(qtbot, panel: ScatterPanel,
                                                 session: Session) -> None:
    panel.set_tool("polygon")
    active(qtbot, panel)
    session.selection.select(RowSet([0]))
    for x, y in square(150.02, 2.02, 150.28, 2.28)[:3]:
        panel.add_polygon_vertex(x, y)
    QTest.keyClick(panel.plot_widget, Qt.Key.Key_Escape)
    assert not panel.polygon_vertices
    assert set(session.selection.rows) == {0}  # Esc cancelled the polygon, kept the selection
    for x, y in square(150.02, 2.02, 150.28, 2.28):
        panel.add_polygon_vertex(x, y)
    assert len(panel.polygon_vertices) == 4
    QTest.keyClick(panel.plot_widget, Qt.Key.Key_Return)
    assert set(session.selection.rows) == expected_box(panel, 150.02, 2.02, 150.28, 2.28)
    # Two corners are no polygon: closing cancels and selects nothing new.
    panel.add_polygon_vertex(150.0, 2.0)
    panel.add_polygon_vertex(150.5, 2.5)
    assert panel.finish_polygon() is None and not panel.polygon_vertices


@pytest.mark.usefixtures("no_mouse_rate_limit")
def test_toolbar_combine_mode_xor(qtbot, panel: ScatterPanel, session: Session) -> None:
    panel.set_tool(ToolMode.BOX)
    a = expected_box(panel, 150.02, 2.02, 150.38, 2.38)
    b = expected_box(panel, 150.22, 2.22, 150.58, 2.58)
    drag(qtbot, panel, [(150.02, 2.02), (150.38, 2.38)])
    panel.combine_combo.setCurrentIndex(panel.combine_combo.findData(SelectionMode.XOR))
    assert panel.combine_mode is SelectionMode.XOR
    drag(qtbot, panel, [(150.22, 2.22), (150.58, 2.58)])  # no modifier: the toolbar's mode
    assert set(session.selection.rows) == a ^ b
    drag(qtbot, panel, [(150.22, 2.22), (150.58, 2.58)], Qt.KeyboardModifier.ShiftModifier)
    assert set(session.selection.rows) == a | b  # a modifier wins over the toolbar


# -- categories, sizes, colour limits -------------------------------------------------------
def test_hidden_categories_are_not_drawn_nor_selectable(panel: ScatterPanel,
                                                        session: Session) -> None:
    panel.set_colour_by("kind")
    kinds = np.asarray(session.catalogue.table["kind"])
    panel.set_category_visible("star", False)
    assert panel.hidden_categories == ["star (20)"]
    assert "<s>star (20)</s>" in panel.legend.text()
    drawn = panel.scatter.data["data"].astype(int)
    assert len(drawn) == 40 and not np.any(kinds[drawn] == "star")
    rows = panel.select_box(149.0, 1.0, 152.0, 3.0)
    assert len(rows) == 40 and not np.any(kinds[rows.rows] == "star")
    star = int(np.flatnonzero(kinds == "star")[5])
    assert panel.focus_at(*xy_of(panel, [star])[0]) is None
    # A click on the legend entry shows the category again.
    panel.legend.linkActivated.emit(str(panel.legend_entries.index("star (20)")))
    assert panel.hidden_categories == [] and len(panel.scatter.data) == 60
    assert panel.focus_at(*xy_of(panel, [star])[0]) == star


def test_size_by_column(panel: ScatterPanel, session: Session) -> None:
    panel.set_size_by("mag")
    mag = np.asarray(session.catalogue.table["mag"])[panel.plotted_rows]
    sizes = panel.scatter.data["size"]
    assert sizes.min() == 2 and sizes.max() == 12
    assert np.all(sizes[np.isnan(mag)] == 2)
    finite = np.isfinite(mag)
    assert sizes[finite][np.argmax(mag[finite])] == 12
    assert np.all(np.diff(sizes[finite][np.argsort(mag[finite])]) >= 0)
    panel.set_size_by("")
    assert panel.point_sizes is None
    with pytest.raises(KeyError):
        panel.set_size_by("kind")
    assert list(size_scale(np.array([np.nan, 1.0, 3.0]))) == [2.0, 2.0, 12.0]


def test_colour_limits_map_and_missing(panel: ScatterPanel, session: Session) -> None:
    mag = np.asarray(session.catalogue.table["mag"])
    panel.set_colour_by("mag")
    assert panel.colour_scheme.levels == pytest.approx(colour_limits(mag, "1-99 %"))
    assert not panel.colour_row.isHidden()
    assert "missing (9)" in panel.missing_label.text()
    panel.set_colour_limits_preset("min-max")
    assert panel.colour_scheme.levels == pytest.approx((np.nanmin(mag), np.nanmax(mag)))
    panel.low_spin.setValue(19.0)
    panel.high_spin.setValue(21.0)
    assert panel.colour_scheme.levels == (19.0, 21.0)
    assert panel.limits_combo.currentText() == "custom"
    # Values beyond the limits take the end colours.
    brushes = panel.scatter.data["brush"]
    plotted = mag[panel.plotted_rows]
    lo_colour = {b.color().name() for b in brushes[plotted < 19.0]}
    assert len(lo_colour) == 1
    panel.colour_map_combo.setCurrentText("magma")
    assert panel.colour_scheme.colour_map_name == "magma"
    assert panel.colour_scheme.levels == (19.0, 21.0)
    with pytest.raises(ValueError):
        panel.set_colour_limits(3.0, 3.0)
    panel.set_colour_limits_preset("min-max")
    panel.set_colour_by("kind")  # a preset for numbers does not apply to categories
    assert panel.colour_row.isHidden() and panel.colour_scheme.is_categorical


def test_category_codes_match_numpy_unique() -> None:
    rng = np.random.default_rng(1)
    values = np.array(["b", "a", "", "ccc", "a b"], dtype="U4")[rng.integers(0, 5, 30_000)]
    names, inverse, counts = category_codes(values)
    ref_names, ref_inverse, ref_counts = np.unique(values, return_inverse=True,
                                                   return_counts=True)
    assert list(names) == list(ref_names)
    assert np.array_equal(inverse, ref_inverse.ravel()) and np.array_equal(counts, ref_counts)
    values[-1] = "rare"  # a value the sample misses
    names, inverse, counts = category_codes(values)
    assert "rare" in names and counts[list(names).index("rare")] == 1
    assert np.array_equal(names[inverse], values)


# -- subsets ---------------------------------------------------------------------------------
def test_subsets_are_drawn_in_their_colours(panel: ScatterPanel, session: Session) -> None:
    subsets = session.selection.subsets
    subsets.add("red", RowSet([1, 2, 3]), "#ff0000")
    subsets.add("green", RowSet([3, 4]), "#00ff00")
    data = panel.subset_item.data
    colours = {int(r): p.color().name() for r, p in zip(data["data"], data["pen"])}
    assert colours == {1: "#ff0000", 2: "#ff0000", 3: "#00ff00", 4: "#00ff00"}
    assert np.allclose(np.column_stack([data["x"], data["y"]]), xy_of(panel, data["data"]))
    subsets.update("green", visible=False)
    data = panel.subset_item.data
    assert {int(r): p.color().name() for r, p in zip(data["data"], data["pen"])} == \
        {1: "#ff0000", 2: "#ff0000", 3: "#ff0000"}
    subsets.clear()
    assert len(panel.subset_item.data) == 0


# -- hover and zoom ----------------------------------------------------------------------------
def test_hover_tooltip(qtbot, panel: ScatterPanel, session: Session) -> None:
    panel.set_colour_by("mag")
    x, y = xy_of(panel, [10])[0]
    assert panel.hover_at(x + 0.002, y) == 10
    text = panel.hover_text
    mag = session.catalogue.table["mag"][10]
    assert "object_id=110" in text and "ra 150.2" in text and "dec 2.1" in text
    assert f"mag: {float(mag):.6g} mag" in text
    assert panel.hover_tip.isVisible()
    assert not panel.hover_tip.image_label.pixmap().isNull()  # the cutout's thumbnail
    assert panel.hover_at(x + 0.05, y + 0.05) is None and panel.hover_text == ""
    assert not panel.hover_tip.isVisible()
    # The mouse, throttled: the tooltip follows the cursor.
    x, y = xy_of(panel, [12])[0]
    QTest.mouseMove(panel.plot_widget.viewport(), panel.view_to_widget(x, y))
    qtbot.waitUntil(lambda: panel.hover_row == 12, timeout=1000)


def test_zoom_to_selection(qtbot, panel: ScatterPanel, session: Session) -> None:
    assert not panel.zoom_to_selection()
    rows = [11, 12, 19]
    session.selection.select(RowSet(rows))
    before = panel.view_box.viewRange()
    active(qtbot, panel)
    QTest.keyClick(panel.plot_widget, Qt.Key.Key_Z)
    (x0, x1), (y0, y1) = panel.view_box.viewRange()
    xy = xy_of(panel, rows)
    assert min(x0, x1) < xy[:, 0].min() and xy[:, 0].max() < max(x0, x1)
    assert y0 < xy[:, 1].min() and xy[:, 1].max() < y1
    assert abs(x1 - x0) < 0.5 * abs(before[0][1] - before[0][0])


# -- level of detail at a million points -------------------------------------------------------
@pytest.fixture
def big_panel(qtbot) -> ScatterPanel:
    rng = np.random.default_rng(7)
    n = 1_000_000
    table = Table()
    table["x"] = rng.normal(0, 1, n)
    table["y"] = rng.normal(0, 1, n)
    table["kind"] = np.array(["a", "b", "c"])[rng.integers(0, 3, n)]
    session = Session()
    session.set_catalogue(Catalogue(table, name="big"))
    panel = ScatterPanel(session)
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.reset_view()
    return panel


def test_level_of_detail_at_a_million_points(big_panel: ScatterPanel) -> None:
    panel, session = big_panel, big_panel.session
    xy = panel.plotted_xy
    # Overview: a raster, no point items for the million rows.
    assert panel.detail == "raster" and panel.density_item.isVisible()
    assert len(panel.scatter.data) == 0
    image = panel.density_item.image
    assert image.dtype == np.uint8 and image.shape[2] == 4 and (image[..., 3] > 0).sum() > 1000
    # Hit-testing is exact on the coordinates, raster or not.
    rows = panel.select_box(-0.5, -0.2, 0.3, 0.4)
    assert np.array_equal(rows.rows, np.flatnonzero(points_in_box(xy, -0.5, -0.2, 0.3, 0.4)))
    assert len(rows) > 20_000 and panel.overlay_detail == "raster"
    assert panel.selected_raster.isVisible() and len(panel.selected_item.data) == 0
    assert panel.focus_at(*xy[123]) == 123
    # Zoomed in: point items for the points around the view only, same selection and focus.
    panel.view_box.setRange(xRange=(-0.05, 0.05), yRange=(-0.05, 0.05), padding=0)
    panel.update_level_of_detail()
    assert panel.detail == "points" and not panel.density_item.isVisible()
    shown = panel.scatter.data["data"].astype(int)
    in_view = np.flatnonzero(points_in_box(xy, -0.05, -0.05, 0.05, 0.05))
    assert set(in_view) <= set(shown) and len(shown) < LOD_THRESHOLD
    assert panel.overlay_detail == "points"
    sel_shown = np.column_stack([panel.selected_item.data["x"], panel.selected_item.data["y"]])
    assert len(sel_shown) == np.count_nonzero(
        points_in_box(xy[rows.rows], -0.075, -0.075, 0.075, 0.075))
    assert panel.focus_item.data["x"][0] == xy[123, 0]
    assert session.selection.rows == rows and session.selection.focus == 123
    # Back out: the raster again, the selection unchanged.
    panel.reset_view()
    assert panel.detail == "raster" and session.selection.rows == rows
    # Many subset members over the raster: a tint in the subset's colour, not rings.
    session.selection.subsets.add("many", RowSet(np.arange(0, 1_000_000, 200)), "#ff00ff")
    assert panel.subset_raster.isVisible() and len(panel.subset_item.data) == 0
    tint = panel.subset_raster.image
    assert {tuple(c) for c in tint[tint[..., 3] > 0][:, :3]} == {(255, 0, 255)}


def test_raster_kept_while_panning_rebuilt_when_settled(qtbot, big_panel: ScatterPanel) -> None:
    panel = big_panel
    (x0, x1), (y0, y1) = panel.view_box.viewRange()
    built = panel._built
    # A small pan stays inside the raster's margins: nothing is rebuilt.
    dx = 0.05 * (x1 - x0)
    panel.view_box.setRange(xRange=(x0 + dx, x1 + dx), yRange=(y0, y1), padding=0)
    panel.update_level_of_detail()
    assert panel._built is built
    # A 10% zoom keeps it while moving, and rebuilds it sharp once the view settles.
    panel.view_box.setRange(xRange=(x0 + dx, x1 - dx), yRange=(y0, y1), padding=0)
    panel.update_level_of_detail()
    assert panel._built is built
    qtbot.waitUntil(lambda: panel._built is not built, timeout=2000)
    assert panel.detail == "raster"
    assert panel._built[3][0] == pytest.approx(x1 - x0 - 2 * dx)


def test_raster_uses_the_points_colours(big_panel: ScatterPanel) -> None:
    panel = big_panel
    panel.set_colour_by("kind")
    palette = {tuple(c[:3]) for c in panel.colour_scheme.rgba}
    image = panel.density_item.image
    filled = image[..., 3] > 0
    assert {tuple(c) for c in image[filled][:, :3]} <= palette
    panel.set_category_visible("a", False)
    a = panel.legend_entries.index(next(e for e in panel.legend_entries if e.startswith("a ")))
    a_rgb = tuple(panel.colour_scheme.categories[a][1].color().getRgb()[:3])
    image = panel.density_item.image
    assert a_rgb not in {tuple(c) for c in image[image[..., 3] > 0][:, :3]}


def test_density_raster_colours() -> None:
    x = np.array([0.1, 0.2, 0.3, 1.5, 1.6, 1.7, 1.8])
    y = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    palette = np.array([[255, 0, 0, 255], [0, 0, 255, 255], [9, 9, 9, 255]], dtype=np.uint8)
    codes = np.array([0, 0, 1, 1, 1, 0, 1])
    rgba, counts = density_raster(x, y, (0.0, 0.0, 2.0, 1.0), (1, 2), codes, palette)
    assert counts.tolist() == [[3, 4]]
    assert rgba[0, 0, :3].tolist() == [255, 0, 0] and rgba[0, 1, :3].tolist() == [0, 0, 255]
    assert 0 < rgba[0, 0, 3] < rgba[0, 1, 3] <= 210  # denser bins are more opaque
    # Continuous: the mean step; a bin with only missing values is grey (the last colour).
    codes = np.array([0, 1, 1, 2, 2, 2, 2])
    rgba, _ = density_raster(x, y, (0.0, 0.0, 2.0, 1.0), (1, 2), codes, palette, n_levels=2)
    assert rgba[0, 0, :3].tolist() == [0, 0, 255] and rgba[0, 1, :3].tolist() == [9, 9, 9]


# -- several linked views -------------------------------------------------------------------------
def test_second_scatter_view_is_linked(qtbot, window, catalogue) -> None:
    window.set_catalogue(catalogue)
    session = window.session
    window.new_scatter_action.trigger()
    docks = [d for d in window.findChildren(type(window.docks["table"]))
             if d.objectName() == "dock_scatter_view"]
    assert len(docks) == 1
    second: ScatterPanel = docks[0].widget()
    first = window.scatter_panel
    # Its own axes and colour, chosen in its own bar.
    second.x_combo.setCurrentIndex(second.x_combo.findData("mag"))
    second.x_combo.activated.emit(second.x_combo.currentIndex())
    second.colour_combo.setCurrentIndex(second.colour_combo.findData("kind"))
    second.colour_combo.activated.emit(second.colour_combo.currentIndex())
    assert (second.x_column, second.colour_column) == ("mag", "kind")
    assert (first.x_column, first.colour_column) == ("ra", "")
    # Selection and focus made in one show in the other.
    rows = first.select_box(150.0, 2.0, 150.35, 2.35)
    assert len(second.selected_item.data) == len(rows) - len(
        set(rows) - set(second.plotted_rows.tolist()))
    mag = np.asarray(catalogue.table["mag"])
    row = int(np.flatnonzero(np.isfinite(mag))[4])
    assert second.focus_at(*xy_of(second, [row])[0]) == row
    assert first.focus_item.data["x"][0] == xy_of(first, [row])[0][0]
    session.selection.subsets.add("s", RowSet([row]), "#ff00ff")
    assert len(second.subset_item.data) == 1 and len(first.subset_item.data) == 1
    # Closing the dock deletes the view, which then leaves the Session's signals.
    n_slots = len(session.selection.changed._slots)
    docks[0].close()
    QApplication.sendPostedEvents(None, 0)  # deferred deletes
    qtbot.waitUntil(lambda: not [d for d in window.findChildren(type(docks[0]))
                                 if d.objectName() == "dock_scatter_view"])
    session.selection.select(RowSet([0, 1]))
    assert len(session.selection.changed._slots) == n_slots - 1
    assert len(first.selected_item.data) == 2


def test_second_scatter_view_sits_beside_the_table_and_catches_up_when_shown(
        qtbot, window, catalogue) -> None:
    window.set_catalogue(catalogue)
    window.new_scatter_action.trigger()
    dock = window.findChild(type(window.docks["table"]), "dock_scatter_view")
    second: ScatterPanel = dock.widget()
    # Beside the table, not one more tab over it.
    assert not second.visibleRegion().isEmpty()
    assert not window.table_panel.visibleRegion().isEmpty()
    # Tabbed away, it leaves the selection undrawn until its tab is chosen.
    window.tabifyDockWidget(window.docks["table"], dock)
    window.docks["table"].raise_()
    qtbot.waitUntil(lambda: second.visibleRegion().isEmpty())
    rows = window.scatter_panel.select_box(150.0, 2.0, 150.35, 2.35)
    assert len(rows) > 3 and second._overlays_stale
    assert len(second.selected_item.data) != len(rows)
    dock.raise_()
    qtbot.waitUntil(lambda: not second._overlays_stale)
    assert len(second.selected_item.data) == len(rows)


def test_size_combo_of_the_analysis_panel(window, catalogue) -> None:
    window.set_catalogue(catalogue)
    combo = window.analysis_panel.size_combo
    combo.setCurrentIndex(combo.findData("mag"))
    assert window.scatter_panel.size_column == "mag"
    assert window.scatter_panel.scatter.data["size"].max() == 12
    window.session.add_column("score", np.linspace(0, 1, len(catalogue)))
    assert combo.findData("score") >= 0
    combo.setCurrentIndex(0)
    assert window.scatter_panel.size_column == "" and window.scatter_panel.point_sizes is None
