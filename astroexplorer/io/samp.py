"""SAMP: exchange tables, cutouts, positions and selections with TOPCAT, DS9 and Aladin.

:class:`SampConnection` wraps astropy's :class:`~astropy.samp.SAMPIntegratedClient`.
It finds the running hub through the standard lockfile (``~/.samp``, or the
``SAMP_HUB`` environment variable), sends

* the selected rows of a catalogue as a FITS table (``table.load.fits``), then the
  rows to select in it (``table.select.rowList``) once the recipient has loaded it;
* one object's cutout as a FITS image with its WCS (``image.load.fits``);
* a sky position (``coord.pointAt.sky``);

and maps incoming ``table.select.rowList`` / ``table.highlight.row`` messages about a
table it sent (or about the catalogue's own file) back to catalogue rows.

Threading: astropy receives messages on its own threads. The callbacks
``on_select``, ``on_highlight``, ``on_clients_changed``, ``on_hub_shutdown`` and
``on_error`` are called on those threads, never on the caller's: a GUI must hand
them over to its main thread (``gui/samp_bridge.py`` does so with queued Qt signals).

No Qt here.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.table import Column
from astropy.utils.exceptions import AstropyDeprecationWarning

from .. import __version__
from ..core.catalogue import Catalogue
from ..core.errors import UserError
from ..core.rowset import RowSet
from .export import ROW_INDEX
from .fits_writer import write_catalogue_fits

with warnings.catch_warnings():
    # astropy 8 deprecates astropy.samp in favour of pyvo.samp (not a dependency
    # here); it works as before, so do not warn at every start-up.
    warnings.simplefilter("ignore", AstropyDeprecationWarning)
    from astropy.samp import (
        SAMP_STATUS_ERROR,
        SAMP_STATUS_OK,
        SAMP_STATUS_WARNING,
        SAMPIntegratedClient,
    )
    from astropy.samp import conf as samp_conf

__all__ = ["SampConnection", "NO_HUB_MESSAGE", "find_radec_columns", "sky_position"]

log = logging.getLogger(__name__)

#: The error shown when no hub can be found.
NO_HUB_MESSAGE = "no SAMP hub is running: start TOPCAT or DS9 first"

#: Column-name pairs recognised as right ascension / declination (lower case, in order).
RADEC_NAMES = (
    ("ra", "dec"), ("ra_deg", "dec_deg"), ("raj2000", "dej2000"), ("raj2000", "decj2000"),
    ("ra_icrs", "de_icrs"), ("ra_icrs", "dec_icrs"), ("alpha_j2000", "delta_j2000"),
    ("ra2000", "dec2000"), ("radeg", "decdeg"), ("_raj2000", "_dej2000"), ("ra_j2000", "dec_j2000"),
    ("right_ascension", "declination"),
)

MTYPE_LOAD_TABLE = "table.load.fits"
MTYPE_SELECT_ROWS = "table.select.rowList"
MTYPE_HIGHLIGHT_ROW = "table.highlight.row"
MTYPE_LOAD_IMAGE = "image.load.fits"
MTYPE_POINT_AT = "coord.pointAt.sky"


def find_radec_columns(catalogue: Catalogue) -> tuple[str, str] | None:
    """The (ra, dec) column names of a catalogue, or None.

    Columns given as roles ``ra`` / ``dec`` in the catalogue's open options win;
    otherwise conventional names are matched case-insensitively (ra/dec, ra_deg,
    RAJ2000/DEJ2000, RA_ICRS, ALPHA_J2000, ...).
    """
    colnames = catalogue.table.colnames
    roles = getattr(catalogue.open_options, "columns", None) or {}
    if roles.get("ra") in colnames and roles.get("dec") in colnames:
        return roles["ra"], roles["dec"]
    lower = {c.lower(): c for c in colnames}
    for ra, dec in RADEC_NAMES:
        if ra in lower and dec in lower:
            return lower[ra], lower[dec]
    return None


def sky_position(catalogue: Catalogue, row: int) -> tuple[float, float]:
    """ICRS-like (ra, dec) of one row in degrees, from its ra/dec columns.

    Units are honoured (degrees, radians, hour angle for RA); a column without a
    unit is taken to be in degrees.

    Raises
    ------
    UserError
        No ra/dec columns, a row out of range, or a non-finite position.
    """
    names = find_radec_columns(catalogue)
    where = catalogue.path or catalogue.name
    if names is None:
        raise UserError(f"{where} has no right ascension / declination columns "
                        "(ra/dec, ra_deg/dec_deg, RAJ2000/DEJ2000...) to point at")
    if not 0 <= int(row) < len(catalogue):
        raise UserError(f"row {row} is outside the catalogue {catalogue.name} of "
                        f"{len(catalogue)} rows")
    values = []
    for name in names:
        column = catalogue.table[name]
        value = column[int(row)]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UserError(f"{where}: column {name} is not numeric, so the position of "
                            f"row {row} is unknown") from None
        if np.ma.is_masked(value) or not np.isfinite(number):
            raise UserError(f"{where}: row {row} has no position ({name} is missing)")
        unit = getattr(column, "unit", None)
        if unit is not None and unit != u.dimensionless_unscaled:
            try:
                number = (number * u.Unit(unit)).to_value(u.deg)
            except u.UnitConversionError:
                raise UserError(f"{where}: column {name} is in {unit}, not an angle") from None
        values.append(number)
    ra, dec = values
    if not -90.0 <= dec <= 90.0:
        raise UserError(f"{where}: row {row} has declination {dec} deg, outside -90..90")
    return ra % 360.0, dec


@dataclass
class _SentTable:
    catalogue: Catalogue
    rows: np.ndarray  # catalogue row of each row of the sent table, shape (n,), int64
    url: str


def _url_path(url: str) -> Path | None:
    """The local path of a ``file:`` URL, or None."""
    parsed = urlparse(str(url))
    if parsed.scheme not in ("file", "") or parsed.netloc not in ("", "localhost"):
        return None
    try:
        return Path(url2pathname(unquote(parsed.path))).resolve()
    except (OSError, ValueError):
        return None


class SampConnection:
    """AstroExplorer as a SAMP client.

    Parameters
    ----------
    on_select : callable(rows: ndarray), optional
        Called with the catalogue rows (sorted int64, shape (n,)) a peer selected in
        a table we sent or in the catalogue's own file.
    on_highlight : callable(row: int), optional
        Called with the catalogue row a peer highlighted.
    on_clients_changed : callable(), optional
        Called when a client registers, leaves or changes its metadata.
    on_hub_shutdown : callable(), optional
        Called when the hub announces it is stopping; call :meth:`disconnect` then.
    on_error : callable(message: str), optional
        Called when a peer answers one of our messages with an error.

    All callbacks run on astropy's receiver threads (see the module docstring).

    Attributes
    ----------
    catalogue : Catalogue or None
        The catalogue incoming selections refer to; messages about tables sent from
        another catalogue are ignored. :meth:`send_selection` sets it.
    """

    def __init__(
        self,
        on_select: Callable[[np.ndarray], None] | None = None,
        on_highlight: Callable[[int], None] | None = None,
        on_clients_changed: Callable[[], None] | None = None,
        on_hub_shutdown: Callable[[], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.on_select = on_select
        self.on_highlight = on_highlight
        self.on_clients_changed = on_clients_changed
        self.on_hub_shutdown = on_hub_shutdown
        self.on_error = on_error
        self.catalogue: Catalogue | None = None
        self._client: SAMPIntegratedClient | None = None
        self._tmpdir: Path | None = None
        self._sent: dict[str, _SentTable] = {}
        self._lock = threading.Lock()
        self._counter = 0

    # -- connection --------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        """Whether we are registered with a hub."""
        return self._client is not None and self._client.is_connected

    def connect(self, hub=None) -> None:
        """Register with a hub: ``hub`` (an :class:`~astropy.samp.SAMPHubServer`) or the
        one the standard lockfile names.

        Raises
        ------
        UserError
            No hub is running (:data:`NO_HUB_MESSAGE`).
        """
        if self.is_connected:
            return
        metadata = {
            "samp.name": "AstroExplorer",
            "samp.description.text": "Explore survey catalogues through learned "
                                     "embeddings of their cutouts",
            "astroexplorer.version": __version__,
        }
        # The receiver listens on loopback: hubs found through a lockfile are local,
        # and astropy would otherwise probe the internet to choose a host name.
        with samp_conf.set_temp("use_internet", False):
            client = SAMPIntegratedClient(metadata=metadata, addr="127.0.0.1")
        try:
            client.connect(hub=hub, pool_size=4)
        except Exception as exc:  # noqa: BLE001 - SAMPHubError, KeyError, OSError...
            log.info("SAMP connection failed: %s", exc)
            raise UserError(NO_HUB_MESSAGE) from None
        for mtype, handler in ((MTYPE_SELECT_ROWS, self._receive_select),
                               (MTYPE_HIGHLIGHT_ROW, self._receive_highlight)):
            client.bind_receive_message(mtype, handler, declare=False)
        for mtype in ("samp.hub.event.register", "samp.hub.event.unregister",
                      "samp.hub.event.metadata"):
            client.bind_receive_notification(mtype, self._receive_client_event, declare=False)
        client.bind_receive_notification("samp.hub.event.shutdown", self._receive_shutdown,
                                         declare=False)
        client.declare_subscriptions()
        self._client = client
        self._tmpdir = Path(tempfile.mkdtemp(prefix="astroexplorer-samp-"))

    def disconnect(self) -> None:
        """Unregister from the hub (if it is still there) and delete the files sent."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.disconnect()
            except Exception as exc:  # noqa: BLE001 - the hub may have gone already
                log.info("SAMP disconnect: %s", exc)  # astropy has stopped the client
        with self._lock:
            self._sent.clear()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _require(self) -> SAMPIntegratedClient:
        if not self.is_connected:
            raise UserError("AstroExplorer is not connected to a SAMP hub: "
                            "connect first (SAMP menu)")
        return self._client

    @property
    def public_id(self) -> str | None:
        """Our public id on the hub, or None when not connected."""
        return self._client.get_public_id() if self.is_connected else None

    def clients(self, mtype: str | None = None) -> dict[str, str]:
        """The other clients (public id -> samp.name), the hub itself left out;
        only those subscribed to ``mtype`` if given."""
        client = self._require()
        hub_id = getattr(client.client, "_hub_id", None)
        ids = (client.get_subscribed_clients(mtype) if mtype is not None
               else client.get_registered_clients())
        out = {}
        for cid in ids:
            if cid == hub_id:
                continue
            try:
                name = client.get_metadata(cid).get("samp.name", cid)
            except Exception:  # noqa: BLE001 - it may leave meanwhile
                continue
            out[str(cid)] = str(name)
        return out

    def _recipients(self, mtype: str, recipient: str | None, what: str) -> list[str]:
        subscribed = self.clients(mtype)
        if recipient is not None:
            if recipient not in subscribed:
                raise UserError(f"SAMP client {recipient} does not accept {what} ({mtype})")
            return [recipient]
        if not subscribed:
            raise UserError(f"no SAMP client accepts {what} ({mtype}): "
                            "start TOPCAT, DS9 or Aladin first")
        return list(subscribed)

    def _temp_path(self, stem: str) -> Path:
        assert self._tmpdir is not None
        self._counter += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("_") or "astroexplorer"
        return self._tmpdir / f"{safe}_{self._counter}.fits"

    # -- sending -----------------------------------------------------------------------
    def send_selection(
        self,
        catalogue: Catalogue,
        rows: RowSet | Sequence[int] | np.ndarray,
        description: str = "",
        recipient: str | None = None,
    ) -> str:
        """Send the selected rows as a FITS table, then ask to select them in it.

        The table holds every column of the rows (units kept) and ``row_index`` (the
        row in ``catalogue``); it stays in a temporary folder until
        :meth:`disconnect`. ``table.load.fits`` is sent as a call to ``recipient``
        (or every client accepting tables); each recipient that answers it loaded
        the table is then sent ``table.select.rowList`` with all its rows.

        Returns
        -------
        str
            The table-id, under which incoming selections are mapped back.

        Raises
        ------
        UserError
            Not connected, empty selection, rows out of range, no recipient, or a
            table that cannot be written as FITS.
        """
        client = self._require()
        idx = RowSet(rows).rows
        if not len(idx):
            raise UserError("the selection is empty: select some objects before sending them")
        if idx[0] < 0 or idx[-1] >= len(catalogue):
            raise UserError(f"row {idx[-1]} is outside the catalogue {catalogue.name} "
                            f"of {len(catalogue)} rows")
        recipients = self._recipients(MTYPE_LOAD_TABLE, recipient, "tables")
        table = catalogue.table[idx]
        table.meta = dict(catalogue.table.meta)
        table.add_column(Column(idx, name=ROW_INDEX, description="row in the source catalogue"),
                         index=0)
        out = self._temp_path(f"{catalogue.name}_selection")
        try:
            write_catalogue_fits(out, table, provenance={
                "SRCFILE": str(catalogue.path) if catalogue.path else catalogue.name,
                "NSELECT": (len(idx), "number of rows sent"),
                "SELECTN": (description or "interactive selection", "how the rows were selected"),
            }, inputs=[catalogue.path])
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 - odd column types
            raise UserError(f"the selection of {catalogue.name} cannot be written as a FITS "
                            f"table to send over SAMP: {exc}") from None
        table_id = f"astroexplorer-{uuid.uuid4().hex[:12]}"
        url = out.resolve().as_uri()
        with self._lock:
            self.catalogue = catalogue
            self._sent[table_id] = _SentTable(catalogue, np.array(idx, dtype=np.int64), url)
        name = f"{catalogue.name}: {description or 'selection'} ({len(idx)} rows)"
        row_list = [str(i) for i in range(len(idx))]
        tag = f"load-{table_id}"

        def loaded(_private_key, responder_id, _msg_tag, response) -> None:
            status = response.get("samp.status")
            if status not in (SAMP_STATUS_OK, SAMP_STATUS_WARNING):
                self._report(f"{self._name_of(responder_id)} could not load the table {name}: "
                             f"{response.get('samp.error', {}).get('samp.errortxt', status)}")
                return
            try:
                if not self.is_connected or responder_id not in self.clients(MTYPE_SELECT_ROWS):
                    return
                self._client.enotify(responder_id, MTYPE_SELECT_ROWS, **{
                    "table-id": table_id, "url": url, "row-list": row_list})
            except Exception as exc:  # noqa: BLE001
                self._report(f"could not select the rows in {self._name_of(responder_id)}: {exc}")

        client.bind_receive_response(tag, loaded)
        params = {"url": url, "table-id": table_id, "name": name}
        for rid in recipients:
            client.ecall(rid, tag, MTYPE_LOAD_TABLE, **params)
        return table_id

    def send_cutout(
        self,
        catalogue: Catalogue,
        row: int,
        recipient: str | None = None,
        band: int | str | None = None,
    ) -> Path:
        """Send one row's cutout as a FITS image (``image.load.fits``).

        The primary HDU holds the ``(H, W)`` image of one band (``band``, or the only
        one) or the ``(C, H, W)`` cube of all bands, float32, with ``BANDn`` keywords
        and the celestial WCS from ``catalogue.images.wcs(row)`` when known.

        Returns
        -------
        Path
            The temporary file sent (deleted at :meth:`disconnect`).

        Raises
        ------
        UserError
            Not connected, no cutouts, a row or band out of range, or no recipient.
        """
        client = self._require()
        images = catalogue.images
        if images is None:
            raise UserError(f"{catalogue.path or catalogue.name} has no cutouts to send")
        row = int(row)
        if not 0 <= row < len(catalogue):
            raise UserError(f"row {row} is outside the catalogue {catalogue.name} "
                            f"of {len(catalogue)} rows")
        recipients = self._recipients(MTYPE_LOAD_IMAGE, recipient, "images")
        cube = images.get(row)
        bands = list(images.bands) or [f"band{i}" for i in range(cube.shape[0])]
        if band is not None:
            channel = bands.index(band) if isinstance(band, str) and band in bands else band
            if not isinstance(channel, (int, np.integer)) or not 0 <= channel < cube.shape[0]:
                raise UserError(f"{catalogue.name} has no band {band!r} (bands: "
                                f"{', '.join(bands)})")
            cube, bands = cube[channel : channel + 1], [bands[channel]]
        data = cube[0] if cube.shape[0] == 1 else cube
        hdu = fits.PrimaryHDU(np.ascontiguousarray(data, dtype=np.float32))
        wcs = images.wcs(row)
        if wcs is not None:
            celestial = wcs.celestial if wcs.naxis > 2 else wcs
            header_wcs = celestial.sub([1, 2, 0]) if data.ndim == 3 else celestial
            hdu.header.update(header_wcs.to_header())
        label = catalogue.object_label(row)
        hdu.header["OBJECT"] = (label[:68], "catalogue object")
        hdu.header["ROWINDEX"] = (row, "row in the source catalogue")
        hdu.header["CREATOR"] = (f"AstroExplorer {__version__}", "software that wrote this file")
        for i, name in enumerate(bands):
            hdu.header[f"BAND{i + 1}"] = (str(name), f"band of channel {i}")
        out = self._temp_path(f"{catalogue.name}_{label}")
        hdu.writeto(out)
        params = {"url": out.resolve().as_uri(), "image-id": f"astroexplorer-{out.stem}",
                  "name": f"{catalogue.name} {label}"}
        for rid in recipients:
            client.enotify(rid, MTYPE_LOAD_IMAGE, **params)
        return out

    def point_at(self, ra_deg: float, dec_deg: float, recipient: str | None = None) -> None:
        """Ask ``recipient`` (or every client that can) to point at (ra, dec), ICRS
        degrees (``coord.pointAt.sky``).

        Raises
        ------
        UserError
            Not connected, a non-finite or impossible position, or no recipient.
        """
        client = self._require()
        ra, dec = float(ra_deg), float(dec_deg)
        if not (np.isfinite(ra) and np.isfinite(dec) and -90.0 <= dec <= 90.0):
            raise UserError(f"cannot point at ra={ra_deg}, dec={dec_deg}: not a sky position")
        for rid in self._recipients(MTYPE_POINT_AT, recipient, "sky positions"):
            client.enotify(rid, MTYPE_POINT_AT, ra=repr(ra % 360.0), dec=repr(dec))

    # -- receiving (astropy's receiver threads) ---------------------------------------------
    def _name_of(self, client_id: str) -> str:
        try:
            return str(self._client.get_metadata(client_id).get("samp.name", client_id))
        except Exception:  # noqa: BLE001
            return str(client_id)

    def _report(self, message: str) -> None:
        log.warning("SAMP: %s", message)
        if self.on_error is not None:
            self.on_error(message)

    def _resolve(self, params: dict) -> tuple[np.ndarray | None, int]:
        """(catalogue row of each row of the peer's table, or None for the identity on
        the catalogue's own file; number of rows) for a message's table-id / url."""
        table_id, url = str(params.get("table-id", "")), str(params.get("url", ""))
        with self._lock:
            sent = self._sent.get(table_id)
            if sent is None and url:
                sent = next((s for s in self._sent.values() if s.url == url), None)
            current = self.catalogue
        if sent is not None:
            if sent.catalogue is not current:
                raise LookupError(f"table {table_id} was sent from another catalogue")
            return sent.rows, len(sent.rows)
        path = _url_path(url) if url else None
        if current is not None and current.path is not None and path is not None:
            try:
                same = Path(current.path).resolve() == path
            except OSError:
                same = False
            if same:
                return None, len(current)
        raise LookupError(f"unknown table {table_id or url!r}")

    @staticmethod
    def _rows_of(values: Sequence[object], mapping: np.ndarray | None, n: int) -> np.ndarray:
        try:
            peer = np.array([int(str(v)) for v in values], dtype=np.int64)
        except ValueError:
            raise LookupError(f"row indices must be integers, not {list(values)[:5]}") from None
        bad = peer[(peer < 0) | (peer >= n)]
        if bad.size:
            raise LookupError(f"row {bad[0]} is outside the table of {n} rows")
        rows = peer if mapping is None else mapping[peer]
        return np.unique(rows)

    def _answer(self, msg_id: str | None, error: str | None) -> None:
        if msg_id is None or self._client is None:
            return
        try:
            if error is None:
                self._client.reply(msg_id, {"samp.status": SAMP_STATUS_OK, "samp.result": {}})
            else:
                self._client.reply(msg_id, {"samp.status": SAMP_STATUS_ERROR,
                                            "samp.error": {"samp.errortxt": error}})
        except Exception as exc:  # noqa: BLE001 - the sender may have gone
            log.info("SAMP reply failed: %s", exc)

    def _receive_select(self, _private_key, sender_id, msg_id, mtype, params, _extra) -> None:
        try:
            mapping, n = self._resolve(params)
            rows = self._rows_of(params.get("row-list", []), mapping, n)
        except LookupError as exc:
            log.info("SAMP %s from %s ignored: %s", mtype, sender_id, exc)
            self._answer(msg_id, str(exc))
            return
        try:
            if self.on_select is not None:
                self.on_select(rows)
        except Exception as exc:  # noqa: BLE001 - tell the sender, keep receiving
            log.exception("SAMP selection callback failed")
            self._answer(msg_id, f"AstroExplorer could not select the rows: {exc}")
            return
        self._answer(msg_id, None)

    def _receive_highlight(self, _private_key, sender_id, msg_id, mtype, params, _extra) -> None:
        try:
            mapping, n = self._resolve(params)
            row = int(self._rows_of([params.get("row", "")], mapping, n)[0])
        except LookupError as exc:
            log.info("SAMP %s from %s ignored: %s", mtype, sender_id, exc)
            self._answer(msg_id, str(exc))
            return
        try:
            if self.on_highlight is not None:
                self.on_highlight(row)
        except Exception as exc:  # noqa: BLE001
            log.exception("SAMP highlight callback failed")
            self._answer(msg_id, f"AstroExplorer could not highlight the row: {exc}")
            return
        self._answer(msg_id, None)

    def _receive_client_event(self, *_args) -> None:
        if self.on_clients_changed is not None:
            self.on_clients_changed()

    def _receive_shutdown(self, *_args) -> None:
        log.info("SAMP hub is shutting down")
        if self.on_hub_shutdown is not None:
            self.on_hub_shutdown()
