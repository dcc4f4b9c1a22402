"""The SAMP menu of the main window, against a real hub on loopback (lockfile in
tmp_path) and a peer client standing in for TOPCAT / DS9."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from astroexplorer.core.rowset import RowSet
from astroexplorer.io.samp import NO_HUB_MESSAGE
from tests.gui.conftest import make_catalogue
from tests.io.test_samp import Peer, file_of
from tests.io.test_samp import hub as hub  # noqa: F401 - the fixture

WAIT_MS = 5000


@pytest.fixture
def peer(hub):  # noqa: F811
    p = Peer(hub)
    yield p
    if p.client.is_connected:
        try:
            p.client.disconnect()
        except OSError:
            pass


@pytest.fixture
def bridge(window, hub, peer):  # noqa: F811
    """The window's SAMP bridge, connected, with the small synthetic catalogue open."""
    window.set_catalogue(make_catalogue())
    assert window.samp.connect_hub()
    yield window.samp
    window.samp.disconnect_hub()


def test_menu_actions_follow_the_state(window, hub, peer, dialogs):  # noqa: F811
    samp = window.samp
    assert samp.menu.menuAction() in window.menuBar().actions()
    assert samp.connect_action.isEnabled() and not samp.disconnect_action.isEnabled()
    assert not samp.cutout_menu.menuAction().isEnabled()
    assert samp.connect_hub()
    assert samp.status_label.text() == "SAMP: connected (1 client)"
    assert samp.status_label.isVisibleTo(window)
    assert not samp.connect_action.isEnabled() and samp.disconnect_action.isEnabled()
    assert not samp.selection_menu.menuAction().isEnabled()  # no catalogue yet
    window.set_catalogue(make_catalogue())  # focuses row 0
    assert samp.cutout_menu.menuAction().isEnabled()
    assert samp.point_menu.menuAction().isEnabled()
    assert not samp.selection_menu.menuAction().isEnabled()  # nothing selected
    window.session.selection.select(RowSet([1, 2]))
    assert samp.selection_menu.menuAction().isEnabled()
    # The submenu lists the peer by name, after "All ...".
    samp.selection_menu.aboutToShow.emit()
    texts = [a.text() for a in samp.selection_menu.actions() if a.text()]
    assert texts[0].startswith("All applications accepting tables")
    assert texts[1] == f"Peer ({peer.id})"
    # A second client joins: the status line counts it.
    other = Peer(hub)
    try:
        window.samp.update_actions()
        assert samp.status_label.text() == "SAMP: connected (2 clients)"
    finally:
        other.client.disconnect()
    samp.disconnect_hub()
    assert samp.connect_action.isEnabled()
    assert not samp.cutout_menu.menuAction().isEnabled()
    assert not samp.status_label.isVisibleTo(window)
    assert dialogs.calls == []


def test_peer_selection_and_highlight_change_the_session(bridge, window, peer, qtbot):
    session = window.session
    session.selection.select(RowSet([2, 5, 9]), description="three")
    assert bridge.send_selection()
    load = peer.wait_for("table.load.fits")
    assert list(Table.read(file_of(load["url"]), hdu="CATALOGUE")["object_id"]) == [102, 105, 109]
    assert peer.wait_for("table.select.rowList")["row-list"] == ["0", "1", "2"]
    our_id = bridge.connection.public_id
    peer.client.enotify(our_id, "table.select.rowList",
                        **{"table-id": load["table-id"], "url": load["url"], "row-list": ["0", "2"]})
    qtbot.waitUntil(lambda: session.selection.rows == RowSet([2, 9]), timeout=WAIT_MS)
    assert "SAMP" in session.selection.description
    peer.client.enotify(our_id, "table.highlight.row",
                        **{"table-id": load["table-id"], "url": load["url"], "row": "1"})
    qtbot.waitUntil(lambda: session.selection.focus == 5, timeout=WAIT_MS)


def test_selection_of_an_old_catalogue_is_not_applied(bridge, window, peer, qtbot):
    window.session.selection.select(RowSet([2, 5]))
    bridge.send_selection(peer.id)
    load = peer.wait_for("table.load.fits")
    window.set_catalogue(make_catalogue(n=10, seed=1))
    reply = peer.client.ecall_and_wait(
        bridge.connection.public_id, "table.select.rowList", "5",
        **{"table-id": load["table-id"], "url": load["url"], "row-list": ["1"]})
    assert reply["samp.status"] == "samp.error"
    qtbot.wait(50)
    assert len(window.session.selection.rows) == 0


def test_send_cutout_and_point_at_the_focused_object(bridge, window, peer):
    session = window.session
    session.selection.set_focus(4)
    assert bridge.point_at_focus()
    params = peer.wait_for("coord.pointAt.sky")
    assert float(params["ra"]) == pytest.approx(session.catalogue.table["ra"][4])
    assert float(params["dec"]) == pytest.approx(session.catalogue.table["dec"][4])
    assert bridge.send_cutout(peer.id)
    from astropy.io import fits

    with fits.open(file_of(peer.wait_for("image.load.fits")["url"])) as hdul:
        np.testing.assert_array_equal(hdul[0].data, session.catalogue.images.get(4))


def test_errors_are_shown_as_messages(window, tmp_path: Path, monkeypatch, dialogs):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'none').as_uri()}")
    window.samp.connect_action.trigger()
    assert dialogs.calls == [("warning", "Cannot connect to SAMP", NO_HUB_MESSAGE)]
    assert window.samp.status_text() == "SAMP: not connected"
    assert window.samp.connect_action.isEnabled()


def test_point_without_coordinates_says_so(bridge, window, dialogs):
    catalogue = make_catalogue()
    catalogue.table.rename_column("ra", "x_pix")
    window.set_catalogue(catalogue)
    assert not bridge.point_menu.menuAction().isEnabled()
    assert not bridge.point_at_focus()
    assert dialogs.kinds() == ["warning"] and "no right ascension" in dialogs.calls[0][2]


def test_hub_stopping_disconnects(bridge, window, hub, qtbot):  # noqa: F811
    hub.stop()
    qtbot.waitUntil(lambda: not bridge.connection.is_connected, timeout=WAIT_MS)
    assert bridge.connect_action.isEnabled()


def test_closing_the_window_leaves_the_hub(bridge, window, peer, qtbot):
    assert bridge.connection.is_connected
    window.close()
    assert not bridge.connection.is_connected
