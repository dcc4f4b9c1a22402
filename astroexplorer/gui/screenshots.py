"""Save screenshots of the main window and each view on the demo survey.

Run offscreen (``QT_QPA_PLATFORM=offscreen``) or under ``xvfb-run``::

    python -c "from pathlib import Path; \\
               from astroexplorer.gui.screenshots import save_screenshots; \\
               print(save_screenshots(Path('screenshots')))"
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

from ..analysis import embedding_job, projection_job
from ..core.rowset import RowSet
from ..core.selection import SelectionMode
from ..io import read_catalogue
from ..jobs.base import run_sync
from .app import ensure_application

__all__ = ["save_screenshots"]


def _settle(app: QApplication, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()


def _wait_for(app: QApplication, done, timeout_s: float = 20.0) -> None:
    """Process events until ``done()`` (a worker thread's result arrived) or timeout."""
    end = time.monotonic() + timeout_s
    while not done() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    _settle(app)


def save_screenshots(out_dir: Path, size: tuple[int, int] = (1280, 800),
                     catalogue_path: Path | None = None, projection: str = "umap",
                     colour_by: str = "morphology") -> list[Path]:
    """Open the simulated survey, embed (PCA), map, colour, select, focus and make a
    subset, open a second scatter view (colour against magnitude), then save ``main_window.png``
    and one PNG per view in ``out_dir``: ``scatter``, ``scatter_view``, ``table``,
    ``image``, ``lightcurve`` (with its periodogram computed), ``controls``,
    ``embeddings``, ``discovery``, ``subsets`` and ``gallery``.

    Parameters
    ----------
    out_dir : Path
        Created if needed; existing PNGs of the same names are replaced.
    size : (int, int)
        Window size in pixels.
    catalogue_path : Path, optional
        A catalogue to use instead of the simulated survey demo (built if needed).
    projection : str
        Projection method of the map (``"umap"``, or ``"pca"`` for speed).
    colour_by : str
        Column to colour the map by (ignored if the catalogue lacks it).

    Returns
    -------
    list of Path
        The files written.
    """
    from .main_window import MainWindow

    app = ensure_application()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if catalogue_path is None:
        from ..demo import demo_paths

        catalogue_path = demo_paths()["simulated_survey"]
    catalogue = read_catalogue(catalogue_path)

    window = MainWindow()
    window.resize(*size)
    window.show()
    _settle(app)
    window.set_catalogue(catalogue)
    session = window.session
    embedding = run_sync(embedding_job("pca", catalogue))
    session.set_embedding(embedding)
    session.set_projection(run_sync(projection_job(projection, embedding.vectors)))
    if colour_by in catalogue.table.colnames:
        window.analysis_panel.set_colour_by(colour_by)
    _settle(app)

    # A box around the densest part of the map, a quarter of its size on a side.
    scatter = window.scatter_panel
    xy = scatter.plotted_xy
    lo, hi = np.percentile(xy, [5, 95], axis=0)
    centre = _densest_point(xy, lo, hi)
    half = (hi - lo) / 8
    rows = scatter.select_box(*(centre - half), *(centre + half), SelectionMode.REPLACE)
    if not len(rows):
        rows = RowSet(scatter.plotted_rows[:20])
        session.selection.select(rows, SelectionMode.REPLACE, source=None)
    session.selection.set_focus(_showcase_row(catalogue, rows.rows), source=None)
    # A named subset: half the box, outlined on the map and listed in its panel.
    session.selection.subsets.add("box, first half", RowSet(rows.rows[: len(rows) // 2]))
    _settle(app, 10)
    _wait_for(app, lambda: not window.lightcurve_panel.computing)

    views: dict[str, QWidget] = {
        "main_window": window,
        "scatter": window.scatter_panel,
        "table": window.table_panel,
        "image": window.image_panel,
        "lightcurve": window.lightcurve_panel,
        "controls": window.analysis_panel,
        "embeddings": window.embeddings_panel,
        "discovery": window.discovery_panel,
        "subsets": window.subsets_panel,
        "gallery": window.gallery_panel,
        "scatter_view": None,  # opened last: it takes room from the table
    }
    written = []
    for name, widget in views.items():
        if name in ("embeddings", "discovery", "subsets", "gallery"):  # tabbed
            window.docks[name].raise_()
            _settle(app)
        if name == "scatter_view":
            widget = _second_scatter_view(window, catalogue)
            _settle(app, 10)
        path = out_dir / f"{name}.png"
        if not widget.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        written.append(path)
    window.close()
    _settle(app)
    return written


def _showcase_row(catalogue, rows: np.ndarray) -> int:
    """The selected row to focus: a spiral where the catalogue says which are (the
    cutout view should show what a galaxy looks like), else the middle one."""
    if "morphology" in catalogue.table.colnames:
        kinds = np.asarray(catalogue.table["morphology"]).astype(str)[rows]
        spirals = rows[np.char.find(kinds, "spiral") >= 0]
        if spirals.size:
            return int(spirals[len(spirals) // 2])
    return int(rows[len(rows) // 2])


def _second_scatter_view(window, catalogue) -> QWidget:
    """A second linked scatter view: colour against magnitude where the catalogue
    has them (the simulated survey's g-r and r), else two of its numeric columns."""
    from .scatter import open_scatter_view

    dock: QDockWidget = open_scatter_view(window, window.session)
    panel = dock.widget()
    pair = ("true_g_minus_r", "true_mag_r")
    if not set(pair) <= set(catalogue.table.colnames):
        numeric = [n for n in catalogue.numeric_columns()
                   if n not in ("object_id", "ra", "dec", "is_star")]
        pair = tuple(numeric[:2]) if len(numeric) >= 2 else ("ra", "dec")
    panel.set_axis_columns(*pair)
    panel.reset_view()
    return panel


def _densest_point(xy: np.ndarray, lo: np.ndarray, hi: np.ndarray, bins: int = 12) -> np.ndarray:
    """Centre of the most populated cell of a ``bins`` x ``bins`` grid over [lo, hi]."""
    counts, xe, ye = np.histogram2d(xy[:, 0], xy[:, 1], bins=bins,
                                    range=[(lo[0], hi[0]), (lo[1], hi[1])])
    i, j = np.unravel_index(np.argmax(counts), counts.shape)
    return np.array([(xe[i] + xe[i + 1]) / 2, (ye[j] + ye[j + 1]) / 2])
