"""ScatterPanel: drawing, box / lasso / click selection (methods and mouse), colours."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from astroexplorer.core import Embedding, Projection, RowSet, SelectionMode, Session
from astroexplorer.core.regions import points_in_box
from astroexplorer.gui.scatter import (
    ScatterPanel,
    ToolMode,
    default_axis_columns,
    mode_from_modifiers,
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

