"""Named subsets of a catalogue's rows, each with a colour, combinable as an algebra
(the subsets of glue and the row subsets of TOPCAT)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .errors import UserError
from .events import Signal
from .rowset import RowSet

__all__ = ["Subset", "SubsetCollection", "SUBSET_COLOURS"]

#: Colours given to new subsets in turn (colour-blind-safe, Okabe & Ito 2008 plus two).
SUBSET_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                  "#CC79A7", "#999999", "#882255", "#44AA99")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_TOKEN = re.compile(r"\s*(?:(\()|(\))|([&|^~-])|\"([^\"]*)\"|'([^']*)'|([A-Za-z_][\w .]*\w|[A-Za-z_]))")


@dataclass(frozen=True)
class Subset:
    """A named set of rows.

    Attributes
    ----------
    name : str
        Unique within its collection.
    rows : RowSet
        The rows (indices into the catalogue).
    colour : str
        ``#rrggbb`` used to draw it in every view.
    visible : bool
        Whether views draw it.
    description : str
        How it was made (e.g. "lasso on the UMAP map", "HDBSCAN cluster 3").
    """

    name: str
    rows: RowSet
    colour: str
    visible: bool = True
    description: str = ""


class SubsetCollection:
    """The named subsets of one catalogue, in creation order.

    Signals
    -------
    changed(name: str | None)
        A subset was added, removed or modified (``name`` is its name, or None
        when the whole collection changed, e.g. cleared or reordered).
    """

    def __init__(self, n_rows: int = 0) -> None:
        self.n_rows = int(n_rows)
        self._subsets: dict[str, Subset] = {}
        self._next_colour = 0
        self.changed = Signal()

    # -- reading ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._subsets)

    def __iter__(self) -> Iterator[Subset]:
        return iter(list(self._subsets.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._subsets

    def __getitem__(self, name: str) -> Subset:
        try:
            return self._subsets[name]
        except KeyError:
            raise UserError(f"there is no subset named {name!r}") from None

    def names(self) -> list[str]:
        return list(self._subsets)

    def unique_name(self, base: str) -> str:
        """``base``, or ``base 2``, ``base 3``... whichever is not taken yet."""
        if base not in self._subsets:
            return base
        i = 2
        while f"{base} {i}" in self._subsets:
            i += 1
        return f"{base} {i}"

    # -- changing ---------------------------------------------------------------------
    def add(self, name: str, rows: RowSet, colour: str | None = None,
            description: str = "", replace: bool = False) -> Subset:
        """Add a subset (``replace`` an existing one of that name, else refuse)."""
        name = name.strip()
        if not name:
            raise UserError("a subset needs a name")
        if name in self._subsets and not replace:
            raise UserError(f"a subset named {name!r} exists already")
        self._check_rows(rows)
        if colour is None:
            colour = SUBSET_COLOURS[self._next_colour % len(SUBSET_COLOURS)]
            self._next_colour += 1
        subset = Subset(name, rows, _check_colour(colour), True, description)
        self._subsets[name] = subset
        self.changed.emit(name)
        return subset

    def remove(self, name: str) -> None:
        self[name]  # noqa: B018 - raises for an unknown name
        del self._subsets[name]
        self.changed.emit(name)

    def update(self, name: str, *, rows: RowSet | None = None, colour: str | None = None,
               visible: bool | None = None, description: str | None = None,
               new_name: str | None = None) -> Subset:
        """Change a subset's rows, colour, visibility, description or name."""
        old = self[name]
        if rows is not None:
            self._check_rows(rows)
        if new_name is not None:
            new_name = new_name.strip()
            if not new_name:
                raise UserError("a subset needs a name")
            if new_name != name and new_name in self._subsets:
                raise UserError(f"a subset named {new_name!r} exists already")
        subset = Subset(new_name or name, old.rows if rows is None else rows,
                        old.colour if colour is None else _check_colour(colour),
                        old.visible if visible is None else bool(visible),
                        old.description if description is None else description)
        if subset.name != name:
            # Keep the order: rebuild the dict with the renamed entry in place.
            self._subsets = {(subset.name if k == name else k): (subset if k == name else v)
                             for k, v in self._subsets.items()}
            self.changed.emit(None)
        else:
            self._subsets[name] = subset
            self.changed.emit(name)
        return subset

    def clear(self) -> None:
        self._subsets.clear()
        self._next_colour = 0
        self.changed.emit(None)

    def reset(self, n_rows: int) -> None:
        """Forget every subset, for a new catalogue of ``n_rows`` rows (no signal)."""
        self.n_rows = int(n_rows)
        self._subsets.clear()
        self._next_colour = 0

    def snapshot(self) -> tuple:
        """An opaque, immutable copy of the collection (subsets, order, next colour),
        cheap to keep (subsets and their RowSets are shared); see :meth:`restore`."""
        return (tuple(self._subsets.values()), self._next_colour)

    def restore(self, state: tuple) -> None:
        """Return to a :meth:`snapshot` (undo / redo); emits ``changed(None)``."""
        subsets, next_colour = state
        self._subsets = {s.name: s for s in subsets}
        self._next_colour = int(next_colour)
        self.changed.emit(None)

    def _check_rows(self, rows: RowSet) -> None:
        if not isinstance(rows, RowSet):
            raise TypeError(f"subset rows must be a RowSet, not {type(rows).__name__}")
        if len(rows) and rows.rows[-1] >= self.n_rows:
            raise UserError(f"row {int(rows.rows[-1])} is outside a catalogue of "
                            f"{self.n_rows} rows")

    # -- algebra ------------------------------------------------------------------------
    def evaluate(self, expression: str) -> RowSet:
        """The rows given by an expression over subset names.

        Operators: ``|`` union, ``&`` intersection, ``-`` difference, ``^``
        symmetric difference, ``~`` complement (all rows not in it), parentheses;
        ``|`` and ``-`` bind loosest, then ``&`` and ``^``, then ``~``. Names with
        spaces or operators may be quoted: ``"cluster 1" | spirals``; unquoted names
        may contain spaces and dots. ``selection`` is not special: it is a subset
        only if one is named so.

        Raises :class:`UserError` naming the problem for unknown names or syntax.
        """
        tokens = _tokenize(expression)
        if not tokens:
            raise UserError("the subset expression is empty")
        pos = 0

        def peek() -> tuple[str, str] | None:
            return tokens[pos] if pos < len(tokens) else None

        def take() -> tuple[str, str]:
            nonlocal pos
            pos += 1
            return tokens[pos - 1]

        def atom() -> RowSet:
            token = peek()
            if token is None:
                raise UserError(f"the subset expression {expression!r} ends too early")
            kind, value = take()
            if kind == "op" and value == "~":
                return atom().complement(self.n_rows)
            if kind == "(":
                inner = union()
                if peek() is None or peek()[0] != ")":
                    raise UserError(f"a parenthesis is not closed in {expression!r}")
                take()
                return inner
            if kind == "name":
                return self[value].rows
            raise UserError(f"unexpected {value!r} in the subset expression {expression!r}")

        def product() -> RowSet:
            left = atom()
            while peek() is not None and peek() in (("op", "&"), ("op", "^")):
                _, op = take()
                right = atom()
                left = left & right if op == "&" else left ^ right
            return left

        def union() -> RowSet:
            left = product()
            while peek() is not None and peek() in (("op", "|"), ("op", "-")):
                _, op = take()
                right = product()
                left = left | right if op == "|" else left - right
            return left

        result = union()
        if pos != len(tokens):
            raise UserError(f"unexpected {tokens[pos][1]!r} in the subset expression "
                            f"{expression!r}")
        return result

    def membership(self) -> np.ndarray:
        """(N,) int16: for each row, the index (in :meth:`names` order) of the last
        visible subset holding it, or -1. Views draw subsets from this in one pass."""
        out = np.full(self.n_rows, -1, dtype=np.int16)
        for i, subset in enumerate(self._subsets.values()):
            if subset.visible and len(subset.rows):
                out[subset.rows.rows] = i
        return out


def _check_colour(colour: str) -> str:
    if not _COLOUR.match(colour):
        raise UserError(f"colour {colour!r} must be written #rrggbb")
    return colour.upper()


def _tokenize(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise UserError(f"cannot read the subset expression {expression!r} "
                            f"at {text[pos:pos + 10]!r}")
        lparen, rparen, op, dq, sq, bare = match.groups()
        if lparen:
            tokens.append(("(", "("))
        elif rparen:
            tokens.append((")", ")"))
        elif op:
            tokens.append(("op", op))
        else:
            tokens.append(("name", (dq if dq is not None else sq if sq is not None
                                    else bare).strip()))
        pos = match.end()
    return tokens
