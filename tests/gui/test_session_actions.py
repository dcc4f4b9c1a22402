"""Sessions in the window: exact save / restore, bad files, autosave and crash
recovery, recent files, drag-and-drop and ``astroexplorer gui --session``."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from astroexplorer.core.rowset import RowSet
from tests.test_session_file import N, populate, write_catalogue


def new_window(qtbot):
    from astroexplorer.gui.main_window import MainWindow

    win = MainWindow()
    win.default_projection = "pca"
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def catalogue_path(tmp_path: Path) -> Path:
    return write_catalogue(tmp_path / "cat.fits")


def fill(window, catalogue_path: Path, use_projection: bool) -> None:
    """Open the catalogue and give the window every kind of state a session keeps."""
    assert window.open_path(catalogue_path)
    populate(window.session)
    window.colour_by("cluster")
    window.analysis_panel.set_axes("mag", "dec")
    if not use_projection:
        window.analysis_panel.plot_combo.setCurrentIndex(1)  # plot columns, not the map
    window.scatter_panel.view_box.setRange(xRange=(-0.5, 0.75), yRange=(0.25, 1.5), padding=0)
    window.docks["lightcurve"].hide()
    window.discovery_panel.score_column = "anomaly_iforest"


def assert_same(win, ref) -> None:
    s, r = win.session, ref.session
    assert s.catalogue.path == r.catalogue.path and len(s.catalogue) == N
    for name in r.catalogue.table.meta["derived"]:
        got, want = s.catalogue.table[name], r.catalogue.table[name]
        assert got.dtype == want.dtype and got.description == want.description
        assert np.array_equal(np.asarray(got), np.asarray(want),
                              equal_nan=got.dtype.kind == "f")
        assert s.catalogue.table.meta["derived"][name] == r.catalogue.table.meta["derived"][name]
    assert np.array_equal(s.embedding.vectors, r.embedding.vectors)
    assert s.embedding.method == r.embedding.method
    assert np.array_equal(s.projection.xy, r.projection.xy)
    assert s.projection.config == r.projection.config and s.projection.model is None
    assert s.selection.rows == r.selection.rows
    assert s.selection.description == r.selection.description
    assert s.selection.focus == r.selection.focus
    assert [(x.name, x.rows, x.colour, x.visible, x.description) for x in s.selection.subsets] \
        == [(x.name, x.rows, x.colour, x.visible, x.description) for x in r.selection.subsets]
    a, b = win.scatter_panel, ref.scatter_panel
    assert (a.colour_column, a.use_projection, a.x_column, a.y_column) == \
        (b.colour_column, b.use_projection, b.x_column, b.y_column)
    assert a.showing_projection == b.showing_projection
    assert win.analysis_panel.colour_combo.currentData() == "cluster"
    assert win.analysis_panel.plot_combo.currentIndex() == \
        ref.analysis_panel.plot_combo.currentIndex()
    assert np.allclose(a.view_box.viewRange(), b.view_box.viewRange(), rtol=1e-9, atol=1e-12)
    assert win.docks["lightcurve"].isHidden()
    assert not win.docks["table"].isHidden()
    assert win.discovery_panel.score_column == "anomaly_iforest"


@pytest.mark.parametrize("use_projection", [True, False])
def test_session_restores_exactly_in_a_fresh_window(qtbot, window, catalogue_path: Path,
                                                    tmp_path: Path, use_projection: bool) -> None:
    fill(window, catalogue_path, use_projection)
    out = tmp_path / "work.aexsession"
    assert window.session_actions.save_to(out)
    assert window.session_actions.session_path == out and not window.session_actions.modified
    fresh = new_window(qtbot)
    assert fresh.session_actions.open_session(out)
    assert_same(fresh, window)
    assert fresh.session_actions.session_path == out
    assert not fresh.session_actions.modified
    assert fresh.session_actions.recent.paths()[0] == out.resolve()


def _break(path: Path, member: str, array: np.ndarray) -> None:
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    members[member] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)


@pytest.mark.parametrize("damage", ["corrupt", "short_subset", "missing_catalogue"])
def test_bad_session_changes_nothing(qtbot, window, dialogs, catalogue_path: Path,
                                     tmp_path: Path, damage: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fill(window, catalogue_path, True)
    out = tmp_path / "work.aexsession"
    assert window.session_actions.save_to(out)
    other = write_catalogue(tmp_path / "other.fits", n=20, seed=3)
    assert window.open_path(other)
    before = window.session.catalogue
    if damage == "corrupt":
        out.write_bytes(out.read_bytes()[:300])
    elif damage == "short_subset":
        _break(out, "subsets/1.npy", np.array([0, N + 5]))
    else:
        catalogue_path.unlink()
        asked = []
        monkeypatch.setattr(window.session_actions, "locate_catalogue",
                            lambda missing: asked.append(missing))  # the user cancels
    assert not window.session_actions.open_session(out)
    assert window.session.catalogue is before and window.session.embedding is None
    assert len(window.session.selection.subsets) == 0
    assert dialogs.kinds() == ["warning"]
    assert str(out) in dialogs.calls[0][2]
    if damage == "missing_catalogue":
        assert asked == [catalogue_path]


def test_moved_catalogue_is_located(qtbot, window, dialogs, catalogue_path: Path,
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(window, catalogue_path, True)
    out = tmp_path / "work.aexsession"
    assert window.session_actions.save_to(out)
    (tmp_path / "moved").mkdir()
    moved = tmp_path / "moved" / "renamed.fits"
    shutil.move(catalogue_path, moved)
    fresh = new_window(qtbot)
    monkeypatch.setattr(fresh.session_actions, "locate_catalogue", lambda missing: moved)
    assert fresh.session_actions.open_session(out)
    assert fresh.session.catalogue.path == moved
    assert np.array_equal(fresh.session.embedding.vectors, window.session.embedding.vectors)
    assert dialogs.calls == []


def test_autosave_never_touches_the_users_file(window, catalogue_path: Path,
                                               tmp_path: Path) -> None:
    actions = window.session_actions
    autosaves = tmp_path / "autosave"
    actions.start_autosave(autosaves, interval_s=3600)
    fill(window, catalogue_path, True)
    mine = tmp_path / "mine.aexsession"
    assert actions.save_to(mine)
    saved_bytes = mine.read_bytes()
    assert actions.autosave_if_needed() is not None  # the filling was not autosaved yet
    assert actions.autosave_if_needed() is None  # nothing changed since
    window.session.selection.select(RowSet([1, 2]), description="later")
    assert actions.modified
    written = actions.autosave_if_needed()
    assert written is not None and written.parent == autosaves
    assert mine.read_bytes() == saved_bytes and actions.session_path == mine
    window.close()  # a clean quit deletes the autosave
    assert not any(autosaves.glob("*.aexsession")) and not any(autosaves.glob("*.lock"))


def test_autosave_timer_writes_when_something_changed(qtbot, window, catalogue_path: Path,
                                                      tmp_path: Path) -> None:
    actions = window.session_actions
    actions.start_autosave(tmp_path, interval_s=0.05)
    assert window.open_path(catalogue_path)
    qtbot.waitUntil(lambda: actions.autosave_path.exists(), timeout=5000)


def test_crash_recovery_offered_in_a_new_window(qtbot, window, catalogue_path: Path,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    autosaves = tmp_path / "autosave"
    crashed = window.session_actions
    crashed.start_autosave(autosaves, interval_s=3600)
    fill(window, catalogue_path, False)
    assert crashed.autosave_if_needed() is not None
    # While the first window runs, its autosave is its own: nothing is offered.
    fresh = new_window(qtbot)
    asked = []
    monkeypatch.setattr(fresh.session_actions, "ask_recovery",
                        lambda path, others: asked.append(path) or "recover")
    assert not fresh.session_actions.offer_recovery(autosaves)
    assert asked == []
    # A crash: the process ends without deleting its autosave (its lock is left free).
    left = crashed.autosave_path
    crashed._lock.unlock()
    crashed._lock = crashed._autosave_path = None
    assert fresh.session_actions.offer_recovery(autosaves)
    assert asked == [left]
    assert_same(fresh, window)
    assert fresh.session_actions.modified  # recovered work is not saved anywhere yet
    assert fresh.session_actions.session_path is None
    assert not left.exists() and not any(autosaves.iterdir())


def test_discarding_a_recovery_deletes_it(qtbot, window, catalogue_path: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    crashed = window.session_actions
    crashed.start_autosave(tmp_path, interval_s=3600)
    assert window.open_path(catalogue_path)
    left = crashed.autosave_if_needed()
    crashed._lock.unlock()
    crashed._lock = crashed._autosave_path = None
    fresh = new_window(qtbot)
    monkeypatch.setattr(fresh.session_actions, "ask_recovery", lambda path, others: "later")
    assert not fresh.session_actions.offer_recovery(tmp_path)
    assert left.exists()  # "Later" keeps it for the next start
    monkeypatch.setattr(fresh.session_actions, "ask_recovery", lambda path, others: "discard")
    assert not fresh.session_actions.offer_recovery(tmp_path)
    assert not left.exists() and fresh.session.catalogue is None


def test_recent_files(window, dialogs, catalogue_path: Path, tmp_path: Path) -> None:
    actions = window.session_actions
    actions.recent.clear()
    assert window.open_path(catalogue_path)
    assert actions.recent.paths() == [catalogue_path.resolve()]
    session_file = tmp_path / "s.aexsession"
    assert actions.save_to(session_file)
    assert actions.recent.paths()[:2] == [session_file.resolve(), catalogue_path.resolve()]
    for i in range(12):
        actions.recent.add(write_catalogue(tmp_path / f"c{i}.fits", n=5))
    assert len(actions.recent.paths()) == 10
    assert actions.recent.paths()[0] == (tmp_path / "c11.fits").resolve()
    (tmp_path / "c11.fits").unlink()
    actions.rebuild_recent_menu()
    entries = [a for a in actions.recent_menu.actions() if a.data()]
    assert len(entries) == 10
    assert entries[0].text().endswith("(missing)") and not entries[0].isEnabled()
    assert all(a.isEnabled() for a in entries[1:])
    # Opening a recent file.
    entries[1].trigger()
    assert window.session.catalogue.path == tmp_path / "c10.fits"
    # A file gone since the menu was built: removed from the list, with a message.
    assert not actions.open_recent({"path": str(tmp_path / "c11.fits")})
    assert (tmp_path / "c11.fits").resolve() not in actions.recent.paths()
    assert dialogs.kinds() == ["warning"] and "c11.fits" in dialogs.calls[0][2]


def test_recent_catalogue_reopens_with_its_options(window, tmp_path: Path,
                                                   catalogue_path: Path) -> None:
    from astroexplorer.io import OpenOptions

    cube = np.random.default_rng(0).normal(size=(N, 1, 4, 4)).astype(np.float32)
    np.save(tmp_path / "cube.npy", cube)
    actions = window.session_actions
    actions.recent.clear()
    assert window.open_path(catalogue_path, OpenOptions(cutouts=tmp_path / "cube.npy"))
    assert window.open_path(write_catalogue(tmp_path / "other.fits", n=5))
    assert actions.open_recent(actions.recent.entries()[1])
    assert window.session.catalogue.path == catalogue_path
    assert window.session.catalogue.images is not None


def _drop(window, paths: list[Path], text_only: bool = False) -> tuple[bool, bool]:
    mime = QMimeData()
    if text_only:
        mime.setText("not a file")
    else:
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(40, 40), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter.ignore()
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(QPointF(40, 40), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    drop.ignore()
    QApplication.sendEvent(window, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_drop_a_catalogue_or_a_session(qtbot, window, catalogue_path: Path,
                                       tmp_path: Path) -> None:
    assert window.acceptDrops()
    assert _drop(window, [], text_only=True) == (False, False)
    assert _drop(window, [catalogue_path]) == (True, True)
    qtbot.waitUntil(lambda: window.session.catalogue is not None)
    assert window.session.catalogue.path == catalogue_path
    populate(window.session)
    out = tmp_path / "s.aexsession"
    assert window.session_actions.save_to(out)
    fresh = new_window(qtbot)
    assert _drop(fresh, [out, catalogue_path]) == (True, True)
    qtbot.waitUntil(lambda: fresh.session.embedding is not None)
    assert fresh.session_actions.session_path == out
    assert np.array_equal(fresh.session.embedding.vectors, window.session.embedding.vectors)


def test_file_menu_has_the_session_entries(window) -> None:
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    for text in ("Open &session\u2026", "Open &recent", "&Save session",
                 "Save session &as\u2026"):
        assert text in texts
    assert texts.index("Open &recent") < texts.index("&Save session") < \
        texts.index("&Export selection\u2026")


def test_cli_gui_session(qtbot, window, catalogue_path: Path, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    from astroexplorer.cli import main

    fill(window, catalogue_path, True)
    out = tmp_path / "s.aexsession"
    assert window.session_actions.save_to(out)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ASTROEXPLORER_AUTOSAVE_DIR")  # the default folder, under the cache
    app = QApplication.instance()
    seen = {}

    def fake_exec(_self=None) -> int:
        # The start-up work runs instead of a real event loop (quitting a real loop
        # leaves Qt's zero timers stalled for the tests that follow).
        def ready() -> bool:
            win = getattr(app, "_astroexplorer_window", None)
            return win is not None and win.session.embedding is not None

        qtbot.waitUntil(ready, timeout=30_000)
        win = app._astroexplorer_window
        win.prewarm_workers = False  # no UMAP worker process in a test
        seen["window"] = win
        seen["autosave"] = win.session_actions.autosave_path
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert main(["gui", "--session", str(out)]) == 0
    win = seen["window"]
    del app._astroexplorer_window
    qtbot.addWidget(win)
    assert_same(win, window)
    # Autosave ran in the (redirected) cache folder; quitting deleted it.
    assert seen["autosave"].parent == tmp_path / "cache" / "astroexplorer" / "autosave"
    win.close()
    assert not any((tmp_path / "cache" / "astroexplorer" / "autosave").iterdir())
    assert main(["gui", str(catalogue_path), "--session", str(out)]) == 2


def test_recovery_after_a_real_crash(qtbot, window, catalogue_path: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process autosaves and dies without a clean quit; its lock is stale."""
    import os
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from astroexplorer.core.rowset import RowSet\n"
        "from astroexplorer.gui.app import ensure_application\n"
        "from astroexplorer.gui.main_window import MainWindow\n"
        "app = ensure_application([])\n"
        "w = MainWindow()\n"
        "w.session_actions.start_autosave(Path(sys.argv[1]), 3600)\n"
        "assert w.open_path(Path(sys.argv[2]))\n"
        "w.session.selection.select(RowSet([3, 5]), description='before the crash')\n"
        "assert w.session_actions.autosave_if_needed()\n"
        "os._exit(3)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(catalogue_path)],
                          env=env, timeout=120, capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert len(list(tmp_path.glob("*.lock"))) == 1  # left behind by the crash
    monkeypatch.setattr(window.session_actions, "ask_recovery", lambda path, others: "recover")
    assert window.session_actions.offer_recovery(tmp_path)
    assert window.session.catalogue.path == catalogue_path
    assert window.session.selection.rows == RowSet([3, 5])
    assert window.session.selection.description == "before the crash"
    assert not list(tmp_path.glob("*.aexsession")) and not list(tmp_path.glob("*.lock"))
