import numpy as np
import pytest

from astroexplorer.core.errors import UserError
from astroexplorer.core.expr import parse_rows
from tests.helpers import make_small_catalogue


@pytest.fixture
def table():
    return make_small_catalogue().table


def test_index_lists_and_ranges(table):
    assert parse_rows("0, 3,10-12", table).rows.tolist() == [0, 3, 10, 11, 12]
    assert len(parse_rows("all", table)) == len(table)
    with pytest.raises(UserError, match="outside"):
        parse_rows("0,400", table)


def test_expressions(table):
    rows = parse_rows('mag_r < 19 & label == "spiral"', table)
    mag = np.asarray(table["mag_r"])
    expected = np.flatnonzero((mag < 19) & (np.asarray(table["label"]) == "spiral"))
    assert rows.rows.tolist() == expected.tolist()
    # NaN compares false, so row 2 (NaN magnitude) is never selected.
    assert 2 not in parse_rows("mag_r > 0", table)
    assert 2 in parse_rows("isnan(mag_r)", table)
    assert len(parse_rows("not (ra > 0)", table)) == 0


@pytest.mark.parametrize("text, match", [
    ("nosuch > 1", "not a column"),
    ("__import__('os').system('true')", "not allowed"),
    ("ra >", "not valid"),
    ("ra + 1", "true/false"),
])
def test_bad_expressions_are_user_errors(table, text, match):
    with pytest.raises(UserError, match=match):
        parse_rows(text, table)


def test_logical_operators_bind_looser_than_comparisons(table):
    a = parse_rows('ra > 10.5 & label == "spiral" | dec < -0.5', table)
    b = parse_rows('(ra > 10.5 and label == "spiral") or dec < -0.5', table)
    c = parse_rows('ra > 10.5 && label == "spiral" || dec < -0.5', table)
    assert a == b == c and len(a) > 0
    assert parse_rows('~(ra > 10.5)', table) == parse_rows("ra <= 10.5", table)
    # An ampersand inside a string literal is data, not an operator.
    assert len(parse_rows('label == "a & b"', table)) == 0
