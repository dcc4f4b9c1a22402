"""Row selections typed by users: index lists and expressions over columns."""

from __future__ import annotations

import ast
import io
import re
import tokenize

import numpy as np
from astropy.table import Table

from .errors import UserError
from .rowset import RowSet

__all__ = ["parse_rows", "evaluate_expression"]

_RANGE_LIST = re.compile(r"^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$")

_FUNCTIONS = {
    "abs": np.abs, "log10": np.log10, "log": np.log, "sqrt": np.sqrt, "exp": np.exp,
    "isnan": np.isnan, "isfinite": np.isfinite,
}
_BINOPS = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
    ast.Pow: np.power, ast.Mod: np.mod, ast.BitXor: np.logical_xor,
}
_COMPARE = {
    ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater,
    ast.GtE: np.greater_equal, ast.Eq: np.equal, ast.NotEq: np.not_equal,
}


def parse_rows(text: str, table: Table) -> RowSet:
    """Rows named by ``text``: ``"all"``, an index list such as ``"0,3,10-20"``
    (inclusive ranges), or a boolean expression over columns such as
    ``'mag_r < 20 & morphology == "spiral"'``.

    Raises
    ------
    UserError
        If the text is neither, names an unknown column, or is out of range.
    """
    n = len(table)
    if text.strip().lower() == "all":
        return RowSet(np.arange(n))
    if _RANGE_LIST.match(text):
        rows: list[int] = []
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            start = int(lo)
            stop = int(hi) if hi.strip() else start
            if stop < start:
                raise UserError(f"the row range {part.strip()} runs backwards")
            rows.extend(range(start, stop + 1))
        if rows and max(rows) >= n:
            raise UserError(f"row {max(rows)} is outside the catalogue of {n} rows")
        return RowSet(rows)
    return RowSet.from_mask(evaluate_expression(text, table))


_LOGICAL = {"&": "and", "&&": "and", "|": "or", "||": "or", "~": "not"}


def _logical_operators_to_words(text: str) -> str:
    """Rewrite ``& | ~`` (and ``&& ||``) as ``and or not``, outside string literals.

    In Python ``&`` binds tighter than ``<``, so ``a < 1 & b == 2`` would parse as
    ``a < (1 & b) == 2``; astronomers (and TOPCAT, pandas' query) mean
    ``(a < 1) and (b == 2)``.
    """
    out = []
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    for tok in tokens:
        if tok.type == tokenize.OP and tok.string in _LOGICAL:
            if out and out[-1][1] == _LOGICAL[tok.string] and tok.string in "&|":
                continue  # the second character of && or ||
            out.append((tokenize.NAME, _LOGICAL[tok.string]))
        else:
            out.append((tok.type, tok.string))
    return tokenize.untokenize(out)


def evaluate_expression(text: str, table: Table) -> np.ndarray:
    """Evaluate a boolean expression over ``table``'s columns, shape (N,) bool.

    Only column names, numbers, strings, arithmetic, comparisons, ``& | ~``
    (``and or not``, with lower precedence than comparisons) and a few numpy
    functions are allowed: nothing else is executed. Masked or NaN values compare
    false.
    """
    try:
        tree = ast.parse(_logical_operators_to_words(text.strip()), mode="eval")
    except (SyntaxError, tokenize.TokenError) as exc:
        raise UserError(f"the expression {text!r} is not valid: {exc.args[0]}") from None
    with np.errstate(all="ignore"):
        value = _eval(tree.body, table, text)
    value = np.asarray(value)
    if value.shape != (len(table),) or value.dtype != bool:
        raise UserError(f"the expression {text!r} does not give one true/false value per row")
    return value


def _column(table: Table, name: str, text: str) -> np.ndarray:
    if name not in table.colnames:
        lower = {c.lower(): c for c in table.colnames}
        if name.lower() not in lower:
            raise UserError(
                f"the expression {text!r} names {name!r}, which is not a column "
                f"(columns: {', '.join(table.colnames[:20])})"
            )
        name = lower[name.lower()]
    col = table[name]
    if hasattr(col, "mask") and np.any(col.mask):
        fill = np.nan if col.dtype.kind == "f" else (0 if col.dtype.kind in "iub" else "")
        return np.asarray(col.filled(fill))
    data = np.asarray(col)
    if data.dtype.kind == "S":
        data = data.astype(str)
    return data


def _eval(node: ast.AST, table: Table, text: str):
    if isinstance(node, ast.Name):
        return _column(table, node.id, text)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_eval(node.left, table, text), _eval(node.right, table, text))
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, table, text)
        if isinstance(node.op, ast.Not):
            return np.logical_not(operand)
        if isinstance(node.op, ast.USub):
            return np.negative(operand)
        if isinstance(node.op, ast.UAdd):
            return operand
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, table, text) for v in node.values]
        func = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = values[0]
        for v in values[1:]:
            out = func(out, v)
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, table, text)
        out = True
        for op, comparator in zip(node.ops, node.comparators):
            if type(op) not in _COMPARE:
                break
            right = _eval(comparator, table, text)
            out = np.logical_and(out, _COMPARE[type(op)](left, right))
            left = right
        else:
            return out
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](_eval(node.args[0], table, text))
    snippet = ast.unparse(node)
    raise UserError(f"the expression {text!r} uses {snippet!r}, which is not allowed")
