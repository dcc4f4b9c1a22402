"""Session files (``.aexsession``): save and restore what a user has open, exactly.

A session file is one zip archive holding ``session.json`` (format version, the
catalogue's path and open options, names, descriptions, colours, view state) and
``.npy`` members for every array (embedding vectors, map coordinates, derived
columns, selected rows, subsets' rows). The catalogue itself is referenced by path,
never copied: loading reads it again and checks that it is the same file (row
count, size and a hash of its first and last MiB). Nothing is pickled: arrays are
read with ``allow_pickle=False`` and the fitted projection model is not saved.

No Qt here: the GUI collects its view state (a JSON-able dict) and applies a
:class:`SessionData` itself (``gui/session_actions.py``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from astropy import units as u
from astropy.table import Column, MaskedColumn

from . import __version__
from .core.catalogue import Catalogue, Embedding, Projection
from .core.errors import UserError
from .core.session import Session
from .io.fits_writer import atomic_write_path, check_output_path
from .io.registry import OpenOptions, read_catalogue

__all__ = ["FORMAT_VERSION", "SESSION_SUFFIX", "SessionData", "DerivedColumn", "SubsetState",
           "CatalogueMissingError", "save_session", "load_session", "catalogue_fingerprint",
           "autosave_dir", "options_to_json", "options_from_json", "is_session_file"]

#: Version of the layout of ``session.json``; files of a later version are refused.
FORMAT_VERSION = 1
#: File name suffix of session files.
SESSION_SUFFIX = ".aexsession"
_MAGIC = "astroexplorer-session"
_CHUNK = 1 << 20  # bytes hashed at each end of the catalogue file


class CatalogueMissingError(UserError):
    """The catalogue a session refers to is not where it was (nor beside the session).

    Attributes
    ----------
    session_path : Path
        The session file.
    catalogue_path : Path
        Where the catalogue was when the session was saved.
    """

    def __init__(self, session_path: Path, catalogue_path: Path) -> None:
        self.session_path = Path(session_path)
        self.catalogue_path = Path(catalogue_path)
        super().__init__(f"{session_path}: its catalogue {catalogue_path} is missing "
                         "(moved or deleted); locate it to open the session")


@dataclass
class DerivedColumn:
    """A column computed in the session (a score, cluster ids, labels).

    ``values`` has shape (N,) or (N, ...); ``mask`` the same shape (or None).
    """

    name: str
    values: np.ndarray
    mask: np.ndarray | None = None
    description: str = ""
    unit: str | None = None
    meta: dict = field(default_factory=dict)

    def to_column(self) -> Column:
        """The astropy column (masked where ``mask`` is true), with unit and description."""
        unit = u.Unit(self.unit, parse_strict="silent") if self.unit else None
        if self.mask is not None:
            return MaskedColumn(self.values, name=self.name, mask=self.mask,
                                description=self.description, unit=unit)
        return Column(self.values, name=self.name, description=self.description, unit=unit)


@dataclass
class SubsetState:
    """A named subset as saved: ``rows`` (n,) int64 row indices."""

    name: str
    rows: np.ndarray
    colour: str
    visible: bool = True
    description: str = ""


@dataclass
class SessionData:
    """Everything a session file holds, checked and ready to apply.

    Attributes
    ----------
    path : Path
        The session file.
    catalogue_path : Path
        The catalogue file found (saved path, else the one beside the session).
    catalogue : Catalogue or None
        The catalogue read again (None when loaded with ``read=False``).
    n_rows : int
        Rows of the catalogue when the session was saved.
    embedding, projection : Embedding, Projection or None
        Vectors (N, D) and map (N, 2), float32; the projection has no ``model``.
    derived : list of DerivedColumn
        Columns to add to the catalogue's table, in order.
    selection_rows : ndarray, shape (n,), int64
    selection_description : str
    focus : int or None
    subsets : list of SubsetState
    view : dict
        What the GUI saved about its views (colouring, axes, window layout).
    origin : Path or None
        For an autosave, the user's session file it stands in for.
    """

    path: Path
    catalogue_path: Path
    open_options: OpenOptions
    n_rows: int
    catalogue: Catalogue | None = None
    embedding: Embedding | None = None
    projection: Projection | None = None
    derived: list[DerivedColumn] = field(default_factory=list)
    selection_rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    selection_description: str = ""
    focus: int | None = None
    subsets: list[SubsetState] = field(default_factory=list)
    view: dict = field(default_factory=dict)
    app_version: str = ""
    format_version: int = FORMAT_VERSION
    #: For an autosave, the user's session file it stands in for (else None).
    origin: Path | None = None


def is_session_file(path: str | Path) -> bool:
    """True if ``path`` is named like a session file (``.aexsession``)."""
    return str(path).lower().endswith(SESSION_SUFFIX)


def autosave_dir() -> Path:
    """Folder of autosaved sessions: ``$ASTROEXPLORER_AUTOSAVE_DIR`` if set, else
    ``<user cache>/astroexplorer/autosave``."""
    import os

    from platformdirs import user_cache_dir

    override = os.environ.get("ASTROEXPLORER_AUTOSAVE_DIR")
    if override:
        return Path(override)
    return Path(user_cache_dir("astroexplorer")) / "autosave"


def catalogue_fingerprint(path: str | Path) -> dict:
    """A cheap identity of a file: its size in bytes and the SHA-256 of its first
    and last MiB (so a moved or copied file matches, an edited one does not)."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        digest.update(fh.read(_CHUNK))
        if size > _CHUNK:
            fh.seek(max(_CHUNK, size - _CHUNK))
            digest.update(fh.read(_CHUNK))
    return {"size": int(size), "sha256_ends": digest.hexdigest()}


# -- JSON helpers ------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    """``value`` made of JSON types (numpy scalars as numbers, tuples as lists,
    anything else as its ``str``)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray) and value.size <= 1000:
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _path_entry(path: Path | None, base: Path) -> dict | None:
    if path is None:
        return None
    absolute = Path(os.path.abspath(path))
    try:
        relative = os.path.relpath(absolute, base)
    except ValueError:  # another drive (Windows)
        relative = None
    return {"path": str(absolute), "relative": relative}


def _resolve_entry(entry: dict | None, base: Path) -> Path | None:
    """The saved absolute path if it exists, else the relative one (from ``base``)
    if that exists, else the saved absolute path (to report it missing)."""
    if entry is None:
        return None
    absolute = Path(entry["path"])
    if absolute.exists():
        return absolute
    relative = entry.get("relative")
    if relative:
        candidate = Path(os.path.normpath(base / relative))
        if candidate.exists():
            return candidate
    return absolute


def options_to_json(options: OpenOptions | None, base: Path | None = None) -> dict:
    """``OpenOptions`` as JSON: paths absolute (and relative to ``base``, if given)."""
    options = options or OpenOptions()
    base = base or Path.cwd()
    return {"cutouts": _path_entry(options.cutouts, base),
            "lightcurves": _path_entry(options.lightcurves, base),
            "columns": dict(options.columns)}


def options_from_json(data: dict, base: Path | None = None) -> OpenOptions:
    """The ``OpenOptions`` saved by :func:`options_to_json` (paths found again, from
    ``base`` when moved with it)."""
    base = base or Path.cwd()
    return OpenOptions(cutouts=_resolve_entry(data.get("cutouts"), base),
                       lightcurves=_resolve_entry(data.get("lightcurves"), base),
                       columns=dict(data.get("columns") or {}))


# -- saving ------------------------------------------------------------------------------
def save_session(path: str | Path, session: Session, view_state: dict | None = None,
                 overwrite: bool = False, origin: str | Path | None = None) -> Path:
    """Write ``session`` (and the GUI's ``view_state``) to the session file ``path``.

    The catalogue is referenced by its path (absolute, and relative to the session
    file); the embedding (N, D), projection (N, 2), derived columns listed in
    ``table.meta["derived"]``, selection and subsets are stored as ``.npy``
    members. The fitted projection model is not stored. The file is written
    atomically: a failure leaves no file and an existing one untouched.

    Parameters
    ----------
    view_state : dict, optional
        JSON-able view state (colouring, axes, window layout as base64 strings).
    overwrite : bool
        Replace an existing file (never the catalogue or another input).
    origin : path, optional
        The user's session file this one stands in for (autosaves record it).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    UserError
        No catalogue open, a catalogue not read from a file, or ``path`` not writable.
    """
    path = Path(path)
    catalogue = session.catalogue
    if catalogue is None:
        raise UserError(f"cannot save the session to {path}: no catalogue is open")
    if catalogue.path is None:
        raise UserError(f"cannot save the session to {path}: the catalogue {catalogue.name} "
                        "was not read from a file, and a session refers to its catalogue "
                        "by path (export it first)")
    options = catalogue.open_options if isinstance(catalogue.open_options, OpenOptions) \
        else OpenOptions()
    check_output_path(path, overwrite, [catalogue.path, options.cutouts, options.lightcurves])
    base = Path(os.path.abspath(path)).parent
    n = len(catalogue)
    arrays: dict[str, np.ndarray] = {}
    doc: dict[str, Any] = {
        "format": _MAGIC, "format_version": FORMAT_VERSION, "app_version": __version__,
        "saved": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "origin": str(origin) if origin is not None else None,
    }
    try:
        fingerprint = catalogue_fingerprint(catalogue.path)
    except OSError as exc:
        raise UserError(f"cannot save the session to {path}: the catalogue "
                        f"{catalogue.path} cannot be read ({exc.strerror or exc})") from None
    doc["catalogue"] = {**_path_entry(Path(catalogue.path), base), "name": catalogue.name,
                        "n_rows": n, "fingerprint": fingerprint,
                        "open_options": options_to_json(options, base)}
    doc["embedding"] = None
    if session.embedding is not None:
        arrays["embedding.npy"] = session.embedding.vectors
        doc["embedding"] = {"method": session.embedding.method,
                            "config": _jsonable(session.embedding.config),
                            "member": "embedding.npy"}
    doc["projection"] = None
    if session.projection is not None:
        arrays["projection.npy"] = session.projection.xy
        doc["projection"] = {"method": session.projection.method,
                             "config": _jsonable(session.projection.config),
                             "member": "projection.npy"}
    derived = []
    table = catalogue.table
    for i, (name, meta) in enumerate(dict(table.meta.get("derived", {})).items()):
        if name not in table.colnames:
            continue
        column = table[name]
        values = np.asarray(column.data.data if hasattr(column, "mask") else column)
        if values.dtype.kind == "O":
            values = values.astype(str)
        entry = {"name": name, "description": str(column.description or ""),
                 "unit": str(column.unit) if column.unit is not None else None,
                 "meta": _jsonable(meta or {}), "member": f"derived/{i}.npy", "mask": None}
        arrays[entry["member"]] = values
        mask = getattr(column, "mask", None)
        if mask is not None and np.any(mask):
            entry["mask"] = f"derived/{i}_mask.npy"
            arrays[entry["mask"]] = np.asarray(mask, dtype=bool)
        derived.append(entry)
    doc["derived"] = derived
    selection = session.selection
    arrays["selection.npy"] = selection.rows.rows
    doc["selection"] = {"member": "selection.npy", "description": selection.description,
                        "focus": selection.focus}
    subsets = []
    for i, subset in enumerate(selection.subsets):
        member = f"subsets/{i}.npy"
        arrays[member] = subset.rows.rows
        subsets.append({"name": subset.name, "colour": subset.colour,
                        "visible": subset.visible, "description": subset.description,
                        "member": member})
    doc["subsets"] = subsets
    doc["view"] = _jsonable(view_state or {})
    text = json.dumps(doc, indent=1, allow_nan=True)
    try:
        with atomic_write_path(path) as tmp:
            with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
                zf.writestr("session.json", text, compress_type=zipfile.ZIP_DEFLATED)
                for member, array in arrays.items():
                    # Stored, not deflated: large arrays are written and read at disk speed.
                    with zf.open(member, "w", force_zip64=True) as fh:
                        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
    except OSError as exc:
        raise UserError(f"cannot write the session {path}: {exc.strerror or exc}") from None
    return path


# -- loading -----------------------------------------------------------------------------
def load_session(path: str | Path, catalogue_path: str | Path | None = None,
                 read: bool = True) -> SessionData:
    """Read and check the session file ``path``, and (with ``read``) its catalogue.

    Everything is read and checked before anything is returned, so a caller that
    applies the result never applies half a session.

    Parameters
    ----------
    catalogue_path : path, optional
        Where the catalogue is now, when it was moved (the user located it).
    read : bool
        Read the catalogue again (``read_catalogue`` with the saved options) and
        check its rows and fingerprint; without, only the session file is checked.

    Raises
    ------
    CatalogueMissingError
        The catalogue is neither where it was nor at the same place relative to
        the session file (the GUI offers to locate it).
    UserError
        A file that is not a session (corrupt zip, no ``session.json``), of a later
        format, with missing members or arrays of the wrong shape, or a catalogue
        that changed since: one sentence naming the file and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a session file")
    try:
        with zipfile.ZipFile(path) as zf:
            return _load(path, zf, catalogue_path, read)
    except zipfile.BadZipFile as exc:
        raise UserError(f"{path} is not a readable AstroExplorer session "
                        f"(damaged or not a zip archive: {exc})") from None
    except OSError as exc:
        raise UserError(f"{path} cannot be read: {exc.strerror or exc}") from None


def _load(path: Path, zf: zipfile.ZipFile, catalogue_path: str | Path | None,
          read: bool) -> SessionData:
    names = set(zf.namelist())
    if "session.json" not in names:
        raise UserError(f"{path} is not an AstroExplorer session: it has no session.json")
    try:
        doc = json.loads(zf.read("session.json").decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: its session.json is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != _MAGIC:
        raise UserError(f"{path} is not an AstroExplorer session (session.json is of "
                        "another kind)")
    version = doc.get("format_version")
    if not isinstance(version, int):
        raise UserError(f"{path}: its session.json has no format version")
    if version > FORMAT_VERSION:
        raise UserError(f"{path} was written by a newer AstroExplorer ({doc.get('app_version')}"
                        f", session format {version}); this version ({__version__}) reads "
                        f"formats up to {FORMAT_VERSION}")
    try:
        return _parse(path, zf, names, doc, catalogue_path, read)
    except (KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path}: its session.json lacks or misstates an entry ({exc})") from None


def _array(path: Path, zf: zipfile.ZipFile, names: set[str], member: str,
           shape: tuple, what: str, kinds: str = "") -> np.ndarray:
    """Member ``member`` as an array of ``shape`` (None = any) and dtype kind in ``kinds``."""
    if member not in names:
        raise UserError(f"{path} is incomplete: the member {member} ({what}) is missing")
    try:
        with zf.open(member) as fh:
            array = np.load(fh, allow_pickle=False)
    except zipfile.BadZipFile:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{path}: the member {member} ({what}) is not a readable array "
                        f"({exc})") from None
    if not _shape_ok(array.shape, shape):
        want = ", ".join("any" if s is None else "..." if s is Ellipsis else str(s) for s in shape)
        raise UserError(f"{path}: {what} ({member}) has shape {array.shape}, expected ({want})")
    if kinds and array.dtype.kind not in kinds:
        raise UserError(f"{path}: {what} ({member}) holds {array.dtype}, not "
                        f"{'integers' if kinds == 'iu' else 'numbers'}")
    return array


def _shape_ok(shape: tuple, want: tuple) -> bool:
    """Whether ``shape`` fits ``want`` (None: any length; a final ``...``: any trailing axes)."""
    fixed = want[:-1] if want and want[-1] is Ellipsis else want
    if len(shape) < len(fixed) or (fixed is want and len(shape) != len(want)):
        return False
    return all(w is None or w == g for w, g in zip(fixed, shape))


def _rows(path: Path, zf: zipfile.ZipFile, names: set[str], member: str, n: int,
          what: str) -> np.ndarray:
    rows = _array(path, zf, names, member, (None,), what, "iu").astype(np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise UserError(f"{path}: {what} names rows outside a catalogue of {n} rows")
    return rows


def _parse(path: Path, zf: zipfile.ZipFile, names: set[str], doc: dict,
           catalogue_path: str | Path | None, read: bool) -> SessionData:
    base = Path(os.path.abspath(path)).parent
    entry = doc["catalogue"]
    n = int(entry["n_rows"])
    options = options_from_json(entry.get("open_options") or {}, base)
    data = SessionData(path=path, catalogue_path=Path(entry["path"]), open_options=options,
                       n_rows=n, app_version=str(doc.get("app_version", "")),
                       format_version=int(doc["format_version"]),
                       origin=Path(doc["origin"]) if doc.get("origin") else None)
    if doc.get("embedding"):
        e = doc["embedding"]
        vectors = _array(path, zf, names, e["member"], (n, None), "the embedding", "f")
        data.embedding = Embedding(vectors, str(e["method"]), dict(e.get("config") or {}))
    if doc.get("projection"):
        p = doc["projection"]
        xy = _array(path, zf, names, p["member"], (n, 2), "the map (projection)", "f")
        data.projection = Projection(xy, str(p["method"]), dict(p.get("config") or {}))
    for d in doc.get("derived") or []:
        what = f"the column {d['name']!r}"
        values = _array(path, zf, names, d["member"], (n, Ellipsis), what)
        mask = None
        if d.get("mask"):
            mask = _array(path, zf, names, d["mask"], values.shape, f"the mask of {what}", "b")
        data.derived.append(DerivedColumn(str(d["name"]), values, mask,
                                          str(d.get("description") or ""), d.get("unit"),
                                          dict(d.get("meta") or {})))
    s = doc["selection"]
    data.selection_rows = _rows(path, zf, names, s["member"], n, "the selection")
    data.selection_description = str(s.get("description") or "")
    focus = s.get("focus")
    if focus is not None:
        focus = int(focus)
        if not 0 <= focus < n:
            raise UserError(f"{path}: the focused row {focus} is outside a catalogue of {n} rows")
    data.focus = focus
    seen = set()
    for sub in doc.get("subsets") or []:
        name = str(sub["name"])
        if name in seen:
            raise UserError(f"{path}: two subsets are named {name!r}")
        seen.add(name)
        rows = _rows(path, zf, names, sub["member"], n, f"the subset {name!r}")
        data.subsets.append(SubsetState(name, rows, str(sub["colour"]),
                                        bool(sub.get("visible", True)),
                                        str(sub.get("description") or "")))
    data.view = dict(doc.get("view") or {})
    if catalogue_path is not None:
        data.catalogue_path = Path(catalogue_path)
    else:
        data.catalogue_path = _resolve_entry(entry, base)
    if read:
        data.catalogue = _read_catalogue(path, data, entry)
    return data


def _read_catalogue(path: Path, data: SessionData, entry: dict) -> Catalogue:
    """Read the session's catalogue again and check it is the one saved."""
    where = data.catalogue_path
    if not where.exists():
        raise CatalogueMissingError(path, where)
    saved = entry.get("fingerprint") or {}
    try:
        now = catalogue_fingerprint(where)
    except OSError as exc:
        raise UserError(f"{path}: its catalogue {where} cannot be read "
                        f"({exc.strerror or exc})") from None
    if saved and now != saved:
        raise UserError(f"{path}: its catalogue {where} has changed since the session was "
                        f"saved ({saved.get('size')} bytes then, {now['size']} now, or other "
                        "content); the saved results would not match its rows")
    catalogue = read_catalogue(where, data.open_options)
    if len(catalogue) != data.n_rows:
        raise UserError(f"{path}: its catalogue {where} now has {len(catalogue)} rows, "
                        f"not the {data.n_rows} the session was saved with")
    return catalogue
