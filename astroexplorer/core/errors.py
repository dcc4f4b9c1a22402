"""Errors that are the user's to fix, reported as one clear sentence."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["UserError", "AmbiguousColumnsError"]


class UserError(Exception):
    """A problem with the user's input (file, column, selection, option).

    The message is a complete sentence naming the file or option and the problem;
    front ends show it as it is, without a traceback.
    """


class AmbiguousColumnsError(UserError):
    """A reader could not tell which column plays a role (id, ra, dec, time, value,
    error, band, path, lc_path) and needs the user to say.

    The GUI answers with a column-mapping dialog and opens the file again with
    ``OpenOptions(columns={role: name, ...})``; the CLI tells the user to pass
    ``--column ROLE=NAME``.

    Attributes
    ----------
    path : str
        The file whose columns are ambiguous.
    roles : dict[str, list[str]]
        For each undecided role, the candidate column names (best first; may be
        empty when no column looks right and the user must pick any).
    columns : list[str]
        Every column name of the table concerned, for the dialog's choices.
    """

    def __init__(self, path: object, roles: dict[str, Sequence[str]],
                 columns: Sequence[str], detail: str = "") -> None:
        self.path = str(path)
        self.roles = {role: list(c) for role, c in roles.items()}
        self.columns = list(columns)
        which = "; ".join(
            f"{role}: {' or '.join(c) if c else 'no candidate'}" for role, c in self.roles.items()
        )
        hint = " ".join(f"--column {role}=NAME" for role in self.roles)
        super().__init__(
            f"{self.path}: cannot tell which column is which ({which}){detail}; "
            f"say so with {hint}"
        )
