import numpy as np
import pytest

from astroexplorer.core.rowset import RowSet


def test_sorted_unique_readonly():
    rs = RowSet([5, 1, 5, 3])
    assert rs.rows.tolist() == [1, 3, 5]
    assert len(rs) == 3 and 3 in rs and 2 not in rs
    with pytest.raises(ValueError):
        rs.rows[0] = 7


def test_algebra_matches_python_sets():
    rng = np.random.default_rng(0)
    a_list, b_list = rng.integers(0, 50, 30), rng.integers(0, 50, 30)
    a, b = RowSet(a_list), RowSet(b_list)
    sa, sb = set(a_list.tolist()), set(b_list.tolist())
    assert set(a | b) == sa | sb
    assert set(a & b) == sa & sb
    assert set(a - b) == sa - sb
    assert set(a ^ b) == sa ^ sb
    assert set(a.complement(50)) == set(range(50)) - sa


def test_mask_round_trip_and_bool():
    mask = np.array([True, False, True, True])
    rs = RowSet.from_mask(mask)
    assert np.array_equal(rs.to_mask(4), mask)
    assert RowSet(mask) == rs
    assert not RowSet() and rs


def test_rejects_float_rows():
    with pytest.raises(TypeError):
        RowSet([1.5, 2.0])
