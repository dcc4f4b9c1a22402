"""Registry of catalogue readers, chosen by content (identify) and priority."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.catalogue import Catalogue
from ..core.errors import UserError

__all__ = ["Reader", "READERS", "register_reader", "read_catalogue", "find_reader",
           "OpenOptions", "Attacher", "ATTACHERS", "register_attacher", "COLUMN_ROLES"]

#: Roles a column can play, for ``OpenOptions.columns`` and the mapping dialog.
COLUMN_ROLES = ("id", "ra", "dec", "time", "value", "error", "band", "path", "lc_path")


@dataclass(frozen=True)
class OpenOptions:
    """How to open a catalogue, beyond what is detected in the file itself.

    Attributes
    ----------
    cutouts : Path or None
        A separate file (``.npy`` / FITS cube, Galaxy10-style HDF5) or a directory
        of per-object files holding the rows' cutouts.
    lightcurves : Path or None
        A separate long-format light-curve table (CSV, FITS, Parquet...) matched
        by id, or a directory of per-object Kepler/TESS light-curve FITS files.
    columns : mapping of str to str
        Role (one of :data:`COLUMN_ROLES`) -> column name, overriding detection.
    """

    cutouts: Path | None = None
    lightcurves: Path | None = None
    columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.columns) - set(COLUMN_ROLES)
        if unknown:
            raise UserError(f"unknown column role(s) {', '.join(sorted(unknown))}: "
                            f"use {', '.join(COLUMN_ROLES)}")
        for name in ("cutouts", "lightcurves"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        object.__setattr__(self, "columns", dict(self.columns))


@dataclass(frozen=True)
class Reader:
    """A way to read a catalogue.

    ``identify(path)`` says cheaply (a few bytes, the extension) whether the file
    looks like this format; the highest ``priority`` reader that identifies a file
    reads it.
    """

    label: str
    identify: Callable[[Path], bool]
    read: Callable[[Path], Catalogue]
    priority: int = 0


READERS: list[Reader] = []


@dataclass(frozen=True)
class Attacher:
    """A step run after a reader, which may attach cutouts or light curves.

    ``attach(catalogue, options)`` looks at the catalogue (its path, columns,
    files beside it) and ``options``; it attaches what it finds with
    ``catalogue.attach_images`` / ``attach_lightcurves`` (adding a note saying
    what it detected) or does nothing. It raises :class:`UserError` naming the
    file and the problem when what it found is unusable. Attachers run in
    descending ``priority``; each should do nothing when the modality it
    provides is already attached, unless ``options`` names its file.
    """

    label: str
    attach: Callable[[Catalogue, OpenOptions], None]
    priority: int = 0


ATTACHERS: list[Attacher] = []


def register_attacher(attacher: Attacher) -> Attacher:
    """Add an attacher (kept sorted by descending priority)."""
    ATTACHERS.append(attacher)
    ATTACHERS.sort(key=lambda a: -a.priority)
    return attacher


def register_reader(reader: Reader) -> Reader:
    """Add a reader to the registry (kept sorted by descending priority)."""
    READERS.append(reader)
    READERS.sort(key=lambda r: -r.priority)
    return reader


def find_reader(path: Path) -> Reader:
    """The reader for ``path``; raises :class:`UserError` naming the file if none fits."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a catalogue file")
    for reader in READERS:
        try:
            if reader.identify(path):
                return reader
        except OSError as exc:
            raise UserError(f"{path} cannot be read: {exc.strerror or exc}") from None
    raise UserError(
        f"{path} is not in a catalogue format AstroExplorer reads "
        f"({', '.join(r.label for r in READERS)})"
    )


def read_catalogue(path: str | Path, options: OpenOptions | None = None) -> Catalogue:
    """Read a catalogue (table plus any cutouts and light curves it carries or
    that ``options`` and the attachers find beside it).

    Raises
    ------
    UserError
        With one sentence naming the file and the problem, for anything wrong with
        the file itself (missing, unreadable, malformed, inconsistent).
    """
    path = Path(path)
    options = options or OpenOptions()
    reader = find_reader(path)
    try:
        catalogue = reader.read(path)
    except UserError:
        raise
    except (OSError, ValueError, TypeError, KeyError, IndexError, EOFError, SyntaxError) as exc:
        # SyntaxError: malformed XML (VOTable); EOFError: cut-off compressed or HDF5 data.
        raise UserError(f"{path} could not be read as {reader.label}: {exc}") from None
    catalogue.notes.insert(0, f"read as {reader.label}")
    catalogue.open_options = options
    if "id" in options.columns:
        if options.columns["id"] not in catalogue.table.colnames:
            raise UserError(f"{path} has no column {options.columns['id']!r} to use as id")
        catalogue.id_column = options.columns["id"]
    for attacher in ATTACHERS:
        try:
            attacher.attach(catalogue, options)
        except UserError:
            raise
        except (OSError, ValueError, TypeError, KeyError, IndexError, EOFError) as exc:
            raise UserError(f"{path}: {attacher.label} failed: {exc}") from None
    return catalogue
