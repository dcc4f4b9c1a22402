"""SAMP against a real hub on loopback, with its own lockfile in tmp_path, and a peer
client that records what it receives (as TOPCAT, DS9 or Aladin would)."""

from __future__ import annotations

import queue
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.samp import SAMP_STATUS_ERROR, SAMP_STATUS_OK, SAMPHubServer, SAMPIntegratedClient
from astropy.samp import conf as samp_conf
from astropy.table import Column, Table
from astropy.wcs import WCS

from astroexplorer.core import ArrayImageSource, Catalogue
from astroexplorer.core.errors import UserError
from astroexplorer.io.samp import NO_HUB_MESSAGE, SampConnection, find_radec_columns, sky_position

TIMEOUT = 5.0
PEER_MTYPES = ("table.load.fits", "table.select.rowList", "image.load.fits", "coord.pointAt.sky")


class TanImages(ArrayImageSource):
    """Cutouts with a TAN WCS centred on each row's position, 0.2 arcsec pixels."""

    def __init__(self, data: np.ndarray, ra: np.ndarray, dec: np.ndarray, bands) -> None:
        super().__init__(data, bands)
        self.ra, self.dec = ra, dec

    def wcs(self, row: int) -> WCS:
        _c, h, w = self.shape
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        wcs.wcs.crval = [self.ra[row], self.dec[row]]
        wcs.wcs.crpix = [(w + 1) / 2, (h + 1) / 2]
        wcs.wcs.cdelt = [-0.2 / 3600, 0.2 / 3600]
        wcs.wcs.cunit = ["deg", "deg"]
        return wcs


def make_catalogue(n: int = 20, path: Path | None = None, wcs: bool = True) -> Catalogue:
    rng = np.random.default_rng(3)
    table = Table()
    table["object_id"] = np.arange(1000, 1000 + n)
    table["RAJ2000"] = Column(150 + rng.uniform(0, 1, n), unit=u.deg)
    table["DEJ2000"] = Column(2 + rng.uniform(0, 1, n), unit=u.deg)
    table["mag"] = Column(rng.normal(20, 1, n), unit=u.mag)
    table["kind"] = np.array(["star", "galaxy"])[np.arange(n) % 2]
    cube = rng.normal(size=(n, 2, 6, 5)).astype(np.float32)
    ra, dec = np.asarray(table["RAJ2000"]), np.asarray(table["DEJ2000"])
    images = TanImages(cube, ra, dec, ("g", "r")) if wcs else ArrayImageSource(cube, ("g", "r"))
    return Catalogue(table, name="field 7", path=path, images=images)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A hub whose lockfile is in tmp_path; HOME moved too, so that astropy's clean-up
    of stale lockfiles never looks at the user's ~/.samp."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'samp-lock').as_uri()}")
    with samp_conf.set_temp("use_internet", False):
        server = SAMPHubServer(web_profile=False, mode="single", addr="127.0.0.1", pool_size=2)
        server.start(wait=False)
        yield server
        server.stop()


class Peer:
    """A second client, standing in for TOPCAT / DS9: records (mtype, params)."""

    def __init__(self, hub: SAMPHubServer) -> None:
        self.client = SAMPIntegratedClient(name="Peer", addr="127.0.0.1")
        self.client.connect(hub=hub, pool_size=1)
        self.received: queue.Queue = queue.Queue()
        for mtype in PEER_MTYPES:
            self.client.bind_receive_message(mtype, self._receive, declare=False)
        self.client.declare_subscriptions()

    def _receive(self, _key, _sender, msg_id, mtype, params, _extra) -> None:
        if msg_id is not None:  # a call: say it was done, as TOPCAT does
            self.client.reply(msg_id, {"samp.status": SAMP_STATUS_OK, "samp.result": {}})
        self.received.put((mtype, params))

    def wait_for(self, mtype: str) -> dict:
        while True:
            got, params = self.received.get(timeout=TIMEOUT)
            if got == mtype:
                return params

    @property
    def id(self) -> str:
        return self.client.get_public_id()


@pytest.fixture
def peer(hub: SAMPHubServer):
    p = Peer(hub)
    yield p
    if p.client.is_connected:
        try:
            p.client.disconnect()
        except OSError:  # the test stopped the hub
            pass


class Recorder:
    def __init__(self) -> None:
        self.selected: queue.Queue = queue.Queue()
        self.highlighted: queue.Queue = queue.Queue()
        self.shutdown: queue.Queue = queue.Queue()


@pytest.fixture
def conn(hub: SAMPHubServer, peer: Peer):
    rec = Recorder()
    c = SampConnection(on_select=rec.selected.put, on_highlight=rec.highlighted.put,
                       on_hub_shutdown=lambda: rec.shutdown.put(True))
    c.connect()  # through the lockfile named by SAMP_HUB
    c.recorder = rec
    yield c
    c.disconnect()


def file_of(url: str) -> Path:
    assert url.startswith("file://")
    from urllib.parse import unquote, urlparse
    return Path(unquote(urlparse(url).path))


def test_no_hub_gives_a_clear_user_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'nothing').as_uri()}")
    c = SampConnection()
    with pytest.raises(UserError, match="no SAMP hub is running: start TOPCAT or DS9 first"):
        c.connect()
    assert str(NO_HUB_MESSAGE).startswith("no SAMP hub")
    assert not c.is_connected
    with pytest.raises(UserError, match="not connected"):
        c.point_at(10.0, 20.0)
    assert list(tmp_path.iterdir()) == []  # no lockfile, no temporary folder here


def test_clients_names_the_peer_not_the_hub(conn: SampConnection, peer: Peer):
    assert conn.clients() == {peer.id: "Peer"}
    assert conn.clients("image.load.fits") == {peer.id: "Peer"}
    assert conn.clients("spectrum.load.ssa-generic") == {}
    assert conn.public_id not in conn.clients()


def test_send_selection_peer_loads_the_rows_then_selects_them(conn: SampConnection, peer: Peer):
    cat = make_catalogue()
    table_id = conn.send_selection(cat, [11, 3, 7], "bright ones")
    load = peer.wait_for("table.load.fits")
    assert load["table-id"] == table_id
    assert "bright ones" in load["name"]
    sent = Table.read(file_of(load["url"]), hdu="CATALOGUE")
    assert list(sent["row_index"]) == [3, 7, 11]
    assert list(sent["object_id"]) == [1003, 1007, 1011]
    assert sent["RAJ2000"].unit == u.deg
    np.testing.assert_allclose(sent["mag"], cat.table["mag"][[3, 7, 11]])
    select = peer.wait_for("table.select.rowList")  # sent once the peer answered the load
    assert select["table-id"] == table_id and select["url"] == load["url"]
    assert select["row-list"] == ["0", "1", "2"]


def test_peer_selection_and_highlight_reach_callbacks_as_catalogue_rows(conn, peer):
    cat = make_catalogue()
    table_id = conn.send_selection(cat, [3, 7, 11])
    url = peer.wait_for("table.load.fits")["url"]
    rec = conn.recorder
    # A notification, as TOPCAT sends when a subset is chosen.
    peer.client.enotify(conn.public_id, "table.select.rowList",
                        **{"table-id": table_id, "url": url, "row-list": ["2", "0"]})
    np.testing.assert_array_equal(rec.selected.get(timeout=TIMEOUT), [3, 11])
    # A call, answered with samp.status ok.
    reply = peer.client.ecall_and_wait(conn.public_id, "table.highlight.row", str(int(TIMEOUT)),
                                       **{"table-id": table_id, "url": url, "row": "1"})
    assert reply["samp.status"] == SAMP_STATUS_OK
    assert rec.highlighted.get(timeout=TIMEOUT) == 7
    # Known by its url only (a peer that re-labelled the table).
    peer.client.enotify(conn.public_id, "table.select.rowList",
                        **{"table-id": "topcat-t3", "url": url, "row-list": ["1"]})
    np.testing.assert_array_equal(rec.selected.get(timeout=TIMEOUT), [7])


def test_unknown_tables_and_bad_rows_are_answered_with_errors(conn, peer):
    cat = make_catalogue()
    table_id = conn.send_selection(cat, [3, 7, 11])
    url = peer.wait_for("table.load.fits")["url"]
    rec = conn.recorder
    reply = peer.client.ecall_and_wait(
        conn.public_id, "table.select.rowList", str(int(TIMEOUT)),
        **{"table-id": "someone-else", "url": "file:///elsewhere.fits", "row-list": ["0"]})
    assert reply["samp.status"] == SAMP_STATUS_ERROR
    assert "unknown table" in reply["samp.error"]["samp.errortxt"]
    reply = peer.client.ecall_and_wait(conn.public_id, "table.highlight.row", str(int(TIMEOUT)),
                                       **{"table-id": table_id, "url": url, "row": "3"})
    assert reply["samp.status"] == SAMP_STATUS_ERROR
    assert "outside the table of 3 rows" in reply["samp.error"]["samp.errortxt"]
    # A table of a catalogue no longer current is not mapped onto the new one.
    conn.catalogue = make_catalogue()
    reply = peer.client.ecall_and_wait(
        conn.public_id, "table.select.rowList", str(int(TIMEOUT)),
        **{"table-id": table_id, "url": url, "row-list": ["0"]})
    assert reply["samp.status"] == SAMP_STATUS_ERROR
    assert rec.selected.empty() and rec.highlighted.empty()


def test_selection_in_the_catalogues_own_file(conn, peer, tmp_path):
    path = tmp_path / "field7.fits"
    cat = make_catalogue(path=path)
    cat.table.write(path)
    conn.catalogue = cat
    reply = peer.client.ecall_and_wait(
        conn.public_id, "table.select.rowList", str(int(TIMEOUT)),
        **{"table-id": "topcat-1", "url": path.as_uri(), "row-list": ["5", "19", "5"]})
    assert reply["samp.status"] == SAMP_STATUS_OK
    np.testing.assert_array_equal(conn.recorder.selected.get(timeout=TIMEOUT), [5, 19])


def test_send_cutout_cube_and_one_band_with_wcs(conn, peer):
    cat = make_catalogue()
    conn.send_cutout(cat, 4, recipient=peer.id)
    params = peer.wait_for("image.load.fits")
    assert "object_id=1004" in params["name"]
    with fits.open(file_of(params["url"])) as hdul:
        data, header = hdul[0].data, hdul[0].header
        np.testing.assert_array_equal(data, cat.images.get(4))
        assert (header["BAND1"], header["BAND2"]) == ("g", "r")
        world = WCS(header).celestial.pixel_to_world(2, 2.5)
    assert world.ra.deg == pytest.approx(cat.table["RAJ2000"][4], abs=1e-9)
    assert world.dec.deg == pytest.approx(cat.table["DEJ2000"][4], abs=1e-9)

    conn.send_cutout(cat, 4, band="r")
    params = peer.wait_for("image.load.fits")
    with fits.open(file_of(params["url"])) as hdul:
        np.testing.assert_array_equal(hdul[0].data, cat.images.get(4)[1])
        ref = cat.images.wcs(4)
        got = WCS(hdul[0].header)
        np.testing.assert_allclose(got.wcs.crval, ref.wcs.crval)
        np.testing.assert_allclose(got.wcs.crpix, ref.wcs.crpix)
        assert hdul[0].header["BAND1"] == "r"


def test_send_cutout_without_wcs(conn, peer):
    cat = make_catalogue(wcs=False)
    conn.send_cutout(cat, 0)
    params = peer.wait_for("image.load.fits")
    with fits.open(file_of(params["url"])) as hdul:
        assert hdul[0].data.shape == (2, 6, 5)
        assert not WCS(hdul[0].header).has_celestial


def test_point_at_sends_the_position(conn, peer):
    cat = make_catalogue()
    ra, dec = sky_position(cat, 6)
    conn.point_at(ra, dec)
    params = peer.wait_for("coord.pointAt.sky")
    assert float(params["ra"]) == pytest.approx(cat.table["RAJ2000"][6], abs=1e-12)
    assert float(params["dec"]) == pytest.approx(cat.table["DEJ2000"][6], abs=1e-12)
    with pytest.raises(UserError, match="not a sky position"):
        conn.point_at(10.0, 95.0)
    with pytest.raises(UserError, match="not a sky position"):
        conn.point_at(float("nan"), 0.0)


def test_bad_requests_raise_user_errors_and_write_nothing(conn, peer, hub):
    cat = make_catalogue()
    tmpdir = conn._tmpdir
    with pytest.raises(UserError, match="selection is empty"):
        conn.send_selection(cat, [])
    with pytest.raises(UserError, match="row 20 is outside the catalogue field 7"):
        conn.send_selection(cat, [1, 20])
    with pytest.raises(UserError, match="row -1 is outside"):
        conn.send_cutout(cat, -1)
    with pytest.raises(UserError, match="no band 'z'"):
        conn.send_cutout(cat, 0, band="z")
    no_images = Catalogue(cat.table, name="bare")
    with pytest.raises(UserError, match="bare has no cutouts"):
        conn.send_cutout(no_images, 0)
    with pytest.raises(UserError, match="does not accept tables"):
        conn.send_selection(cat, [1], recipient="c99")
    assert list(tmpdir.iterdir()) == []
    # A hub with no client accepting images: say so.
    peer.client.disconnect()
    with pytest.raises(UserError, match="no SAMP client accepts images"):
        conn.send_cutout(cat, 0)


def test_disconnect_deletes_the_files_sent(conn, peer):
    cat = make_catalogue()
    conn.send_selection(cat, [1, 2])
    table_file = file_of(peer.wait_for("table.load.fits")["url"])
    conn.send_cutout(cat, 1)
    image_file = file_of(peer.wait_for("image.load.fits")["url"])
    assert table_file.exists() and image_file.exists()
    conn.disconnect()
    assert not conn.is_connected
    assert not table_file.exists() and not image_file.exists()
    assert not table_file.parent.exists()


def test_hub_shutdown_is_announced(conn, hub):
    hub.stop()
    assert conn.recorder.shutdown.get(timeout=TIMEOUT) is True
    conn.disconnect()  # with the hub gone: no error
    assert not conn.is_connected


def test_radec_columns_and_units():
    table = Table()
    table["Ra_Deg"] = Column([0.5], unit=u.rad)
    table["DEC_DEG"] = Column([-0.25], unit=u.rad)
    cat = Catalogue(table, name="radians")
    assert find_radec_columns(cat) == ("Ra_Deg", "DEC_DEG")
    ra, dec = sky_position(cat, 0)
    assert ra == pytest.approx(np.degrees(0.5)) and dec == pytest.approx(np.degrees(-0.25))
    table["DEC_DEG"][0] = np.nan
    with pytest.raises(UserError, match="row 0 has no position"):
        sky_position(cat, 0)
    bare = Catalogue(Table({"x": [1.0]}), name="bare", path=Path("bare.csv"))
    assert find_radec_columns(bare) is None
    with pytest.raises(UserError, match="bare.csv has no right ascension"):
        sky_position(bare, 0)


def test_a_peer_that_cannot_load_the_table_is_reported(hub, peer):
    errors: queue.Queue = queue.Queue()
    c = SampConnection(on_error=errors.put)
    c.connect(hub)
    try:
        def refuse(_key, _sender, msg_id, mtype, params, _extra) -> None:
            peer.client.reply(msg_id, {"samp.status": SAMP_STATUS_ERROR,
                                       "samp.error": {"samp.errortxt": "disk full"}})
            peer.received.put((mtype, params))

        peer.client.bind_receive_call("table.load.fits", refuse)
        c.send_selection(make_catalogue(), [0, 1], recipient=peer.id)
        message = errors.get(timeout=TIMEOUT)
        assert message.startswith("Peer could not load the table") and "disk full" in message
        peer.wait_for("table.load.fits")
        with pytest.raises(queue.Empty):  # no selection follows a failed load
            peer.received.get(timeout=0.3)
    finally:
        c.disconnect()
