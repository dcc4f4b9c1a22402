"""Registry of catalogue readers, chosen by content (identify) and priority."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.catalogue import Catalogue
from ..core.errors import UserError

__all__ = ["Reader", "READERS", "register_reader", "read_catalogue", "find_reader"]


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


def read_catalogue(path: str | Path) -> Catalogue:
    """Read a catalogue (table plus any cutouts and light curves it carries).

    Raises
    ------
    UserError
        With one sentence naming the file and the problem, for anything wrong with
        the file itself (missing, unreadable, malformed, inconsistent).
    """
    path = Path(path)
    reader = find_reader(path)
    try:
        return reader.read(path)
    except UserError:
        raise
    except (OSError, ValueError, TypeError, KeyError, IndexError, EOFError, SyntaxError) as exc:
        # SyntaxError: malformed XML (VOTable); EOFError: cut-off compressed or HDF5 data.
        raise UserError(f"{path} could not be read as {reader.label}: {exc}") from None
