"""The thumbnail gallery: virtual model, following the selection, lists, sorting, linking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPixmap

from astroexplorer.core import ArrayImageSource, Catalogue, Embedding, RowSet, Session
from astroexplorer.core.selection import SelectionMode
from astroexplorer.gui.gallery import (
    AS_LISTED,
    FOCUS_ROLE,
    GalleryModel,
    GalleryPanel,
    render_thumbnail,
)

from .conftest import make_catalogue


@pytest.fixture
def panel(qtbot, session: Session) -> GalleryPanel:
    widget = GalleryPanel(session)
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def select(session: Session, rows, source: object = "test") -> None:
    session.selection.select(RowSet(np.asarray(rows)), SelectionMode.REPLACE, source=source)


def click(qtbot, panel: GalleryPanel, position: int,
          modifier=Qt.KeyboardModifier.NoModifier) -> None:
    rect = panel.view.visualRect(panel.model.index(position))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_model_holds_an_int_array_and_labels(qtbot, catalogue: Catalogue) -> None:
    model = GalleryModel()
    model.set_catalogue(catalogue)
    model.set_rows(np.array([5, 2, 9]), np.array([0.5, np.nan, 2.25]), "distance")
    assert model.rowCount() == 3 and model.rowCount(model.index(0)) == 0
    assert model.rows.dtype == np.int64 and model.rows.tolist() == [5, 2, 9]
    assert not model.rows.flags.writeable
    assert model.data(model.index(0)) == "object_id=105\ndistance 0.5"
    assert model.data(model.index(1)) == "object_id=102\ndistance \u2014"
    assert model.data(model.index(2), Qt.ItemDataRole.UserRole) == 9
    assert model.data(model.index(3)) is None and model.data(QModelIndex()) is None
    # Nothing rendered until a view asks for a decoration; then only that row.
    assert model.render_count == 0
    pixmap = model.data(model.index(1), Qt.ItemDataRole.DecorationRole)
    assert isinstance(pixmap, QPixmap) and pixmap.width() == model.thumbnail_size
    assert model.render_count == 1
    model.data(model.index(1), Qt.ItemDataRole.DecorationRole)  # cached
    assert model.render_count == 1
    with pytest.raises(ValueError, match="2 values for 3 rows"):
        model.set_rows(np.array([1, 2, 3]), np.array([1.0, 2.0]))


def test_render_thumbnail_matches_the_cutout_view_orientation() -> None:
    rng = np.random.default_rng(3)
    cutout = rng.normal(0, 1, size=(3, 16, 16)).astype(np.float32)
    cutout[:, 0, 0] += 500.0  # a bright pixel at FITS (0, 0): lower left on screen
    rgb = render_thumbnail(cutout, ("g", "r", "z"))
    assert rgb.shape == (16, 16, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    brightness = rgb.astype(int).sum(axis=2)
    assert brightness[-1, 0] >= 750 and brightness[0, 0] < 300
    grey = render_thumbnail(cutout[:1], ("r",))
    assert grey.shape == (16, 16, 3) and grey[-1, 0, 0] == 255
    assert (grey[..., 0] == grey[..., 2]).all()
    with pytest.raises(ValueError, match="shape"):
        render_thumbnail(cutout[0], ("r",))


def test_follows_the_selection(panel: GalleryPanel, session: Session) -> None:
    assert panel.following and panel.shown_rows.size == 0
    assert "select objects" in panel.status_label.text()
    select(session, [30, 4, 17])
    assert panel.shown_rows.tolist() == [4, 17, 30]
    assert panel.title == "Selection: 3 objects"
    assert panel.status_label.text() == ""
    assert not panel.follow_button.isEnabled()
    session.selection.clear(source="test")
    assert panel.shown_rows.size == 0


def test_show_rows_keeps_order_and_values_until_the_selection_changes(
        panel: GalleryPanel, session: Session) -> None:
    select(session, [1, 2])
    panel.show_rows([40, 3, 22], "3 most similar", values=[0.0, 1.5, 2.5],
                    value_name="distance")
    assert not panel.following and panel.follow_button.isEnabled()
    assert panel.shown_rows.tolist() == [40, 3, 22]
    assert panel.shown_values.tolist() == [0.0, 1.5, 2.5]
    assert panel.title_label.text() == "3 most similar"
    assert panel.model.data(panel.model.index(1)) == "object_id=103\ndistance 1.5"
    panel.follow_button.click()
    assert panel.following and panel.shown_rows.tolist() == [1, 2]
    panel.show_rows([40, 3], "two")
    select(session, [7])
    assert panel.following and panel.shown_rows.tolist() == [7]
    with pytest.raises(IndexError):
        panel.show_rows([60], "outside")
    with pytest.raises(ValueError, match="1 values for 2 rows"):
        panel.show_rows([1, 2], "bad", values=[1.0])


def test_sort_by_column_both_directions_nan_last(panel: GalleryPanel, session: Session,
                                                 catalogue: Catalogue) -> None:
    rows = np.arange(0, 30)
    select(session, rows)
    mag = np.asarray(catalogue.table["mag"], dtype=float)
    assert panel.sort_combo.itemText(0) == AS_LISTED
    assert panel.sort_combo.findData("mag") > 0 and panel.sort_combo.findData("kind") < 0
    panel.set_sort("mag")
    shown = panel.shown_rows
    finite = np.isfinite(mag[rows])
    n_finite = int(finite.sum())
    assert n_finite < rows.size  # the fixture has NaN magnitudes
    assert np.all(np.diff(mag[shown[:n_finite]]) >= 0)
    assert np.isnan(mag[shown[n_finite:]]).all()
    assert np.array_equal(panel.shown_values[:n_finite], mag[shown[:n_finite]])
    assert "mag" in panel.model.data(panel.model.index(0))
    panel.order_button.click()  # descending, NaN still last
    shown = panel.shown_rows
    assert panel.descending and np.all(np.diff(mag[shown[:n_finite]]) <= 0)
    assert np.isnan(mag[shown[n_finite:]]).all()
    # A given list is sorted too; "as listed" descending reverses it.
    panel.show_rows([0, 1, 2, 3], "four", values=[4.0, 3.0, 2.0, 1.0], value_name="score")
    assert np.isnan(mag[panel.shown_rows[-1]]) and panel.shown_rows[-1] == 0
    panel.set_sort(None, descending=False)
    assert panel.shown_rows.tolist() == [0, 1, 2, 3]
    assert panel.shown_values.tolist() == [4.0, 3.0, 2.0, 1.0]
    panel.set_sort(None, descending=True)
    assert panel.shown_rows.tolist() == [3, 2, 1, 0]
    with pytest.raises(ValueError, match="numeric column"):
        panel.set_sort("kind")
    # A new derived column can be sorted by at once.
    session.add_column("score", np.arange(len(catalogue), dtype=float)[::-1])
    panel.set_sort("score")
    assert panel.shown_rows.tolist() == [3, 2, 1, 0]


def test_click_focuses_and_focus_is_highlighted(qtbot, panel: GalleryPanel,
                                                session: Session) -> None:
    select(session, [10, 11, 12, 13])
    click(qtbot, panel, 2)
    assert session.selection.focus == 12
    model = panel.model
    assert model.data(model.index(2), FOCUS_ROLE) is True
    assert model.data(model.index(0), FOCUS_ROLE) is False
    session.selection.set_focus(10, source="test")
    assert model.data(model.index(0), FOCUS_ROLE) is True
    assert model.data(model.index(2), FOCUS_ROLE) is False
    # Enter on the current thumbnail focuses it too.
    panel.view.setCurrentIndex(model.index(3))
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    assert session.selection.focus == 13


def test_select_these_replaces_the_selection(qtbot, panel: GalleryPanel,
                                             session: Session) -> None:
    panel.show_rows([50, 8, 33, 21], "list")
    click(qtbot, panel, 0)
    click(qtbot, panel, 2, Qt.KeyboardModifier.ControlModifier)
    assert panel.highlighted_rows().tolist() == [50, 33]
    panel.select_button.click()
    assert session.selection.rows.rows.tolist() == [33, 50]
    assert "gallery" in session.selection.description
    assert panel.following and panel.shown_rows.tolist() == [33, 50]
    # Shift-click extends a range.
    select(session, np.arange(20, 30))
    click(qtbot, panel, 1)
    click(qtbot, panel, 4, Qt.KeyboardModifier.ShiftModifier)
    assert panel.highlighted_rows().tolist() == [21, 22, 23, 24]
    assert panel.select_these().rows.tolist() == [21, 22, 23, 24]
    panel.show_rows([9, 5, 7], "three")
    panel.highlight_positions([0, 2])
    assert panel.highlighted_rows().tolist() == [9, 7]
    panel.view.clearSelection()  # nothing highlighted: all shown rows
    assert panel.select_these().rows.tolist() == [5, 7, 9]


def test_catalogue_without_cutouts_shows_labels(qtbot) -> None:
    table = Table({"name": np.array(["a", "b", "c"]), "flux": [1.0, 3.0, 2.0]})
    session = Session()
    session.set_catalogue(Catalogue(table, name="plain"))
    widget = GalleryPanel(session)
    qtbot.addWidget(widget)
    widget.show()
    select(session, [0, 1, 2])
    assert "no cutouts" in widget.status_label.text()
    model = widget.model
    assert model.data(model.index(0), Qt.ItemDataRole.DecorationRole) is None
    assert model.data(model.index(1)) == "name=b"
    widget.set_sort("flux", descending=True)
    assert widget.shown_rows.tolist() == [1, 2, 0]
    assert model.data(model.index(0)) == "name=b\nflux 3"
    widget.view.viewport().grab()  # paints without a thumbnail
    assert model.render_count == 0


def big_catalogue(n: int) -> Catalogue:
    rng = np.random.default_rng(5)
    table = Table({"object_id": np.arange(n), "x": rng.normal(size=n)})
    cube = rng.normal(size=(n, 3, 16, 16)).astype(np.float32)
    return Catalogue(table, name="big", images=ArrayImageSource(cube, ("g", "r", "z")))


def test_only_visible_thumbnails_are_rendered(qtbot) -> None:
    session = Session()
    session.set_catalogue(big_catalogue(10_000))
    widget = GalleryPanel(session)
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_thumbnail_size(64)
    select(session, np.arange(10_000))
    model = widget.model
    qtbot.waitUntil(lambda: model.render_count > 0)  # laid out and painted
    timer = widget._prefetch_timer
    qtbot.waitUntil(lambda: not timer.isActive())  # idle prefetch of the next page done
    assert model.rowCount() == 10_000
    first, stop = widget.visible_positions()
    span = stop - first
    assert first == 0 and 0 < span < 200
    rendered = model.render_count
    # What is on screen, and the next page ahead of scrolling: nothing more.
    assert span <= rendered <= 2 * span
    assert int(model.rows[2 * span - 1]) in model._images
    assert int(model.rows[2 * span + 1]) not in model._images
    # Scrolling to the end renders the last rows, and not the ones in between.
    widget.view.scrollToBottom()
    qtbot.waitUntil(lambda: 9_999 in model._images)
    qtbot.waitUntil(lambda: not timer.isActive())
    first, stop = widget.visible_positions()
    assert stop >= 10_000
    assert model.render_count - rendered <= 3 * span
    assert 5_000 not in model._images


def test_thumbnail_size_slider(panel: GalleryPanel, session: Session) -> None:
    select(session, [1, 2, 3])
    panel.view.viewport().repaint()
    renders = panel.model.render_count
    panel.size_slider.setValue(140)
    assert panel.model.thumbnail_size == 140
    assert panel.view.gridSize().width() == 152
    pixmap = panel.model.data(panel.model.index(0), Qt.ItemDataRole.DecorationRole)
    assert pixmap.width() == 140
    assert panel.model.render_count == renders  # rescaled, not read again
    panel.set_thumbnail_size(10)
    assert panel.model.thumbnail_size == 48 and panel.size_slider.value() == 48


def test_discovery_results_fill_the_gallery(window, survey_path: Path) -> None:
    assert window.open_path(survey_path)
    session = window.session
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(len(session.catalogue), 8)).astype(np.float32)
    session.set_embedding(Embedding(vectors, "random"))
    gallery = window.gallery_panel
    assert window.docks["gallery"].widget() is gallery
    session.selection.set_focus(12, source="test")
    assert gallery.visibleRegion().isEmpty()  # behind the Catalogue tab
    new = window.discovery_panel.select_similar(k=6, metric="euclidean")
    assert len(new) == 7 and not gallery.following
    assert not gallery.visibleRegion().isEmpty()  # its tab was raised
    shown = gallery.shown_rows
    dist = np.linalg.norm(vectors.astype(np.float64) - vectors[12], axis=1)
    assert shown[0] == 12 and np.isnan(gallery.shown_values[0])
    assert shown[1:].tolist() == np.argsort(dist)[1:7].tolist()
    assert np.allclose(gallery.shown_values[1:], np.sort(dist)[1:7], rtol=1e-5)
    assert gallery.model.value_name == "distance"
    # Top anomalies arrive ordered by score.
    scores = rng.uniform(size=len(session.catalogue))
    session.add_column("anomaly_test", scores)
    window.discovery_panel.score_column = "anomaly_test"
    window.discovery_panel.select_top_anomalies(5)
    assert gallery.shown_rows.tolist() == np.argsort(-scores)[:5].tolist()
    assert np.allclose(gallery.shown_values, np.sort(scores)[::-1][:5])
    assert "anomaly_test" in gallery.title


def test_behind_the_table_tab_it_follows_the_selection_once_shown(qtbot, window,
                                                                  survey_path: Path) -> None:
    assert window.open_path(survey_path)
    gallery = window.gallery_panel
    assert gallery.visibleRegion().isEmpty()  # behind the Catalogue tab
    select(window.session, np.arange(10, 30))
    # Nothing laid out or rendered for nobody (a 100k-row selection takes ~200 ms)...
    assert gallery.stale and gallery.model.rows.size != 20
    # ... but it is up to date as soon as it is looked at: its tab chosen,
    window.docks["gallery"].raise_()
    qtbot.waitUntil(lambda: not gallery.visibleRegion().isEmpty())
    assert not gallery.stale and gallery.model.rows.tolist() == list(range(10, 30))
    assert gallery.title.startswith("Selection: 20")
    # or asked what it shows.
    window.docks["table"].raise_()
    qtbot.waitUntil(lambda: gallery.visibleRegion().isEmpty())
    select(window.session, [3, 4])
    assert gallery.stale and gallery.shown_rows.tolist() == [3, 4] and not gallery.stale


def test_other_catalogue_resets(panel: GalleryPanel, session: Session) -> None:
    select(session, [1, 2])
    panel.set_sort("mag")
    session.set_catalogue(make_catalogue(10, seed=2))
    assert panel.following and panel.shown_rows.size == 0
    assert panel.sort_column == "mag"
    assert panel.model.render_count == 0 or not panel.model._images


class _UnreadableRow(ArrayImageSource):
    """Cutouts whose row ``bad`` cannot be read (as a damaged file would fail)."""

    bad = 3

    def get_many(self, rows):
        if self.bad in np.asarray(rows).tolist():
            raise OSError("read error")
        return super().get_many(rows)


def test_unreadable_and_nan_cutouts_leave_a_blank_stamp(qtbot, catalogue: Catalogue) -> None:
    cube = np.random.default_rng(0).normal(size=(6, 2, 8, 8)).astype(np.float32)
    cube[4] = np.nan
    table = catalogue.table[:6]
    model = GalleryModel()
    model.set_catalogue(Catalogue(table, images=_UnreadableRow(cube, ("g", "r"))))
    model.set_rows(np.arange(6))
    model.visible_positions = lambda: (0, 6)  # one batch for all six, with the bad row
    assert model.data(model.index(3), Qt.ItemDataRole.DecorationRole) is None
    nan_stamp = model.data(model.index(4), Qt.ItemDataRole.DecorationRole)
    assert isinstance(nan_stamp, QPixmap) and not nan_stamp.isNull()
    assert isinstance(model.data(model.index(0), Qt.ItemDataRole.DecorationRole), QPixmap)
    assert model.render_count == 5  # the five readable rows, read again one by one
