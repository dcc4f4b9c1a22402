"""How fluid the linked views are with a large catalogue open (issue 4).

Builds an in-memory catalogue of N rows (a 10-component Gaussian-mixture 2-D map,
ra/dec, a float column with 2% NaN, a 10-category string column, a few more columns,
8x8 two-band cutouts (one shared stamp, broadcast) and two light-curve points per
object), opens it in an offscreen MainWindow at 1280x800 with the map shown, and
prints one JSON object per figure:
  open_map_s                 setting the catalogue and its projection in the window
  scatter_pan_frame_ms       one pan (2% of the view) or zoom (3%) step: the range set,
                             the level-of-detail update run at once (not throttled)
                             and the events processed until the plot has painted
                             (a synchronous repaint if the events did not paint it); median and p95 of 40
                             frames; field "view": overview (density raster) or zoomed
                             (about 20k points in view: point items), "detail" says
                             which was drawn
  lod_settle_rebuild_ms      the rebuild (raster or point set) run once the view has
                             stopped 150 ms after a zoom, with its repaint
  recolour_by_column_ms      colour by a float column, then by the string column, through
                             the Analysis panel's combo, repaint included (field column)
  lasso_select_ms            a 64-vertex lasso around one mixture component (~10% of the
                             rows) on the map, every linked view updated and repainted
  selection_propagation_ms   a selection of 10% of the rows made through the Session,
                             until the map, a second scatter view, the table, the cutout
                             and the light-curve panels show it (the gallery, behind the
                             Catalogue tab, catches up when its tab is chosen)
  table_sort_ms              sorting the table by the float column (header click path)
  lasso_select_ms, selection_propagation_ms with views="2 scatter views, no window":
                             the same with only two linked scatter views on the Session
Targets at 1M (issue 4): frame <= 40 ms, recolour <= 150 ms, lasso <= 150 ms,
propagation <= 100 ms. Offscreen Qt, fixed seed, 2-core CPU here.

Usage: python benchmarks/bench_views.py [--quick]      (--quick: 100k only)
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from astropy import units as u  # noqa: E402
from astropy.table import Column, Table  # noqa: E402
from PySide6.QtCore import QEvent, QObject, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from astroexplorer.core import (  # noqa: E402
    ArrayImageSource,
    Catalogue,
    Projection,
    RowSet,
    TableLightCurveSource,
)
from astroexplorer.gui.app import configure_pyqtgraph, ensure_application  # noqa: E402
from astroexplorer.gui.main_window import MainWindow  # noqa: E402
from astroexplorer.gui.scatter import open_scatter_view  # noqa: E402

SEED = 20261126
N_COMPONENTS = 10


def emit(figure: str, value: float, unit: str, n: int, **extra) -> None:
    print(json.dumps({"figure": figure, "value": round(float(value), 2), "unit": unit, "n": n,
                      **extra}), flush=True)


def make_catalogue(n: int) -> tuple[Catalogue, np.ndarray, np.ndarray, np.ndarray]:
    """The catalogue, its (n, 2) map, the component of each row and the centres."""
    rng = np.random.default_rng(SEED)
    centres = rng.uniform(-20, 20, size=(N_COMPONENTS, 2))
    component = rng.integers(0, N_COMPONENTS, n)
    xy = centres[component] + rng.normal(scale=1.5, size=(n, 2))
    table = Table()
    table["object_id"] = np.arange(n, dtype=np.int64) + 1_000_000
    table["ra"] = Column(rng.uniform(149.0, 151.0, n), unit=u.deg)
    table["dec"] = Column(rng.uniform(1.0, 3.0, n), unit=u.deg)
    mag = rng.normal(21.0, 1.2, n) + 0.1 * component
    mag[rng.random(n) < 0.02] = np.nan
    table["mag"] = Column(mag, unit=u.mag)
    table["colour_gr"] = Column(rng.normal(0.6, 0.3, n), unit=u.mag)
    table["redshift"] = rng.gamma(2.0, 0.3, n)
    names = np.array([f"class_{i}" for i in range(10)])
    table["kind"] = names[(component + rng.integers(0, 2, n)) % 10]
    stamp = rng.normal(size=(1, 2, 8, 8)).astype(np.float32)
    images = ArrayImageSource(np.broadcast_to(stamp, (n, 2, 8, 8)), ("g", "r"))
    obs = Table()
    obs["object_id"] = np.repeat(table["object_id"], 2)
    obs["mjd"] = np.tile([59000.0, 59010.0], n)
    obs["mag"] = Column(np.repeat(mag, 2), unit=u.mag)
    obs["mag_err"] = Column(np.full(2 * n, 0.05), unit=u.mag)
    obs["band"] = np.tile(["g", "r"], n)
    lightcurves = TableLightCurveSource(obs, np.asarray(table["object_id"]), "object_id", "mjd",
                                        "mag", "mag_err", "band")
    catalogue = Catalogue(table, name=f"bench_{n}", images=images, lightcurves=lightcurves)
    return catalogue, xy, component, centres


def process(app: QApplication) -> None:
    app.processEvents()
    app.processEvents()


def receivers_ms(signal, *args) -> dict[str, float]:
    """Call each receiver of a core signal in turn (as ``emit`` does), timing each:
    which view costs what. Keyed by the receiving method's qualified name."""
    out: dict[str, float] = {}
    for slot in list(signal._slots):
        target = slot
        for cell in getattr(slot, "__closure__", None) or ():
            if callable(cell.cell_contents) and hasattr(cell.cell_contents, "__qualname__"):
                target = cell.cell_contents
        name = getattr(target, "__qualname__", repr(target))
        t0 = time.perf_counter()
        slot(*args)
        out[name] = round(out.get(name, 0.0) + (time.perf_counter() - t0) * 1000, 1)
    return out


def frames(app, panel, steps: int, pan: bool) -> tuple[list[float], str]:
    times = []
    counter = PaintCounter()
    panel.plot_widget.viewport().installEventFilter(counter)
    app.processEvents()
    for i in range(steps):
        (x0, x1), (y0, y1) = panel.view_box.viewRange()
        t0 = time.perf_counter()
        if pan:
            dx = 0.02 * (x1 - x0) * (1 if (i // 10) % 2 == 0 else -1)
            panel.view_box.setRange(xRange=(x0 + dx, x1 + dx), yRange=(y0, y1), padding=0)
        else:
            f = 0.97 if (i // 10) % 2 == 0 else 1 / 0.97
            cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, f * (x1 - x0) / 2, f * (y1 - y0) / 2
            panel.view_box.setRange(xRange=(cx - hw, cx + hw), yRange=(cy - hh, cy + hh),
                                    padding=0)
        panel.update_level_of_detail()
        painted = counter.count
        app.processEvents()  # paints what the range change invalidated, as Qt would
        if counter.count == painted:
            panel.plot_widget.viewport().repaint()
        times.append((time.perf_counter() - t0) * 1000)
    panel.plot_widget.viewport().removeEventFilter(counter)
    return times, panel.detail


class PaintCounter(QObject):
    """Counts paint events of a widget (a frame must include one)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def bench(n: int) -> None:
    app = ensure_application([])
    configure_pyqtgraph()
    catalogue, xy, component, centres = make_catalogue(n)
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    process(app)
    t0 = time.perf_counter()
    window.set_catalogue(catalogue)
    window.session.set_projection(Projection(xy.astype(np.float32), "umap"))
    process(app)
    emit("open_map_s", time.perf_counter() - t0, "s", n)
    panel = window.scatter_panel
    panel.plot_widget.viewport().repaint()

    # Pan and zoom: the whole map (density raster at these sizes), then zoomed in.
    for view in ("overview", "zoomed"):
        panel.reset_view()
        if view == "zoomed":
            (x0, x1), (y0, y1) = panel.view_box.viewRange()
            centre = centres[0]
            # A square holding about 20k points of one component.
            frac = min(1.0, 20_000 / max(1, int(np.count_nonzero(component == 0))))
            half = 1.5 * np.sqrt(frac) * 1.8
            panel.view_box.setRange(xRange=(centre[0] - half, centre[0] + half),
                                    yRange=(centre[1] - half, centre[1] + half), padding=0)
            panel.update_level_of_detail()
        for kind, pan in (("pan", True), ("zoom", False)):
            times, detail = frames(app, panel, 40, pan)
            emit("scatter_pan_frame_ms", float(np.median(times)), "ms", n, view=view,
                 step=kind, detail=detail, p95=round(float(np.percentile(times, 95)), 2))
        # Once the view settles, layers built for another zoom are rebuilt sharp.
        (x0, x1), (y0, y1) = panel.view_box.viewRange()
        dx, dy = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
        panel.view_box.setRange(xRange=(x0 + dx, x1 - dx), yRange=(y0 + dy, y1 - dy), padding=0)
        t0 = time.perf_counter()
        panel.update_level_of_detail(exact=True)
        panel.plot_widget.viewport().repaint()
        emit("lod_settle_rebuild_ms", (time.perf_counter() - t0) * 1000, "ms", n, view=view,
             detail=panel.detail)
    panel.reset_view()
    panel.plot_widget.viewport().repaint()

    for column in ("mag", "kind"):
        t0 = time.perf_counter()
        window.analysis_panel.set_colour_by(column)
        panel.plot_widget.viewport().repaint()
        process(app)
        emit("recolour_by_column_ms", (time.perf_counter() - t0) * 1000, "ms", n, column=column,
             detail=panel.detail)

    # A second, linked scatter view (ra/dec) for the propagation figures.
    dock = open_scatter_view(window, window.session)
    second = dock.widget()
    second.set_axis_columns("ra", "dec")
    process(app)

    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    lasso = centres[1] + 3.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    t0 = time.perf_counter()
    rows = panel.select_lasso(lasso)
    for view in (panel, second):
        view.plot_widget.viewport().repaint()
    process(app)
    emit("lasso_select_ms", (time.perf_counter() - t0) * 1000, "ms", n,
         selected=len(rows), fraction=round(len(rows) / n, 3), vertices=len(lasso))

    rng = np.random.default_rng(SEED + 1)
    chosen = RowSet(np.sort(rng.choice(n, n // 10, replace=False)))
    selection = window.session.selection
    t0 = time.perf_counter()
    selection.select(chosen, source=None, description="benchmark")
    for view in (panel, second):
        view.plot_widget.viewport().repaint()
    process(app)
    elapsed = (time.perf_counter() - t0) * 1000
    focus = selection.focus
    updated = (window.image_panel.shown_row == focus and window.lightcurve_panel.shown_row == focus
               and panel._selected_idx.size == len(chosen)
               and second._selected_idx.size == len(chosen)
               and window.table_panel.model.selected_mask is not None
               and bool(window.table_panel.model.selected_mask[focus]))
    emit("selection_propagation_ms", elapsed, "ms", n, selected=len(chosen),
         views="map, second scatter, table, cutout, light curve", all_updated=bool(updated))
    # Where the time goes: the same change delivered to each receiver in turn.
    old, other = chosen, RowSet(np.sort(rng.choice(n, n // 10, replace=False)))
    selection._rows = other  # as Selection.select does before emitting
    emit("selection_propagation_by_receiver_ms", 0.0, "ms", n, selected=len(other),
         receivers=receivers_ms(selection.changed, old, other, None))

    table_panel = window.table_panel
    column = catalogue.table.colnames.index("mag")
    t0 = time.perf_counter()
    table_panel.view.sortByColumn(column, Qt.SortOrder.AscendingOrder)
    table_panel.view.viewport().repaint()
    process(app)
    emit("table_sort_ms", (time.perf_counter() - t0) * 1000, "ms", n, column="mag")
    dock.close()
    window.close()
    process(app)


def bench_scatter_only(n: int) -> None:
    """The lasso and the propagation again with only two linked scatter views on the
    Session (no window, table or cutout panels): the scatter's own share."""
    from astroexplorer.core import Session
    from astroexplorer.gui.scatter import ScatterPanel

    app = ensure_application([])
    catalogue, xy, _component, centres = make_catalogue(n)
    session = Session()
    session.set_catalogue(catalogue)
    session.set_projection(Projection(xy.astype(np.float32), "umap"))
    first, second = ScatterPanel(session), ScatterPanel(session, controls=True)
    first.resize(900, 600)
    second.resize(500, 400)
    for view in (first, second):
        view.show()
    second.set_axis_columns("ra", "dec")
    process(app)
    views = "2 scatter views, no window"
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    lasso = centres[1] + 3.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    t0 = time.perf_counter()
    rows = first.select_lasso(lasso)
    for view in (first, second):
        view.plot_widget.viewport().repaint()
    process(app)
    emit("lasso_select_ms", (time.perf_counter() - t0) * 1000, "ms", n, selected=len(rows),
         fraction=round(len(rows) / n, 3), vertices=len(lasso), views=views)
    rng = np.random.default_rng(SEED + 1)
    chosen = RowSet(np.sort(rng.choice(n, n // 10, replace=False)))
    t0 = time.perf_counter()
    session.selection.select(chosen)
    for view in (first, second):
        view.plot_widget.viewport().repaint()
    process(app)
    emit("selection_propagation_ms", (time.perf_counter() - t0) * 1000, "ms", n,
         selected=len(chosen), views=views)
    for view in (first, second):
        view.close()
        view.deleteLater()
    process(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k rows only")
    args = parser.parse_args()
    for n in (100_000,) if args.quick else (100_000, 1_000_000):
        bench(n)
        bench_scatter_only(n)


if __name__ == "__main__":
    main()
