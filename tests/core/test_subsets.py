"""Named subsets: colours, renaming, visibility and the algebra of expressions."""

import numpy as np
import pytest

from astroexplorer.core import RowSet
from astroexplorer.core.errors import UserError
from astroexplorer.core.selection import Selection
from astroexplorer.core.subsets import SUBSET_COLOURS, SubsetCollection


@pytest.fixture
def subsets() -> SubsetCollection:
    s = SubsetCollection(10)
    s.add("spirals", RowSet([0, 1, 2, 3]))
    s.add("cluster 1", RowSet([2, 3, 4, 5]), colour="#112233")
    s.add("bright.stars", RowSet([5, 9]))
    return s


def test_add_colours_rename_and_signals(subsets):
    seen = []
    subsets.changed.connect(seen.append)
    assert subsets.names() == ["spirals", "cluster 1", "bright.stars"]
    assert subsets["spirals"].colour == SUBSET_COLOURS[0]
    assert subsets["cluster 1"].colour == "#112233"
    assert subsets["bright.stars"].colour == SUBSET_COLOURS[1]
    subsets.update("cluster 1", new_name="blob", visible=False)
    assert subsets.names() == ["spirals", "blob", "bright.stars"]  # order kept
    assert not subsets["blob"].visible and subsets["blob"].rows == RowSet([2, 3, 4, 5])
    subsets.remove("spirals")
    assert seen == [None, "spirals"] and "spirals" not in subsets
    assert subsets.unique_name("blob") == "blob 2"


@pytest.mark.parametrize("expression, rows", [
    ("spirals | 'cluster 1'", [0, 1, 2, 3, 4, 5]),
    ("spirals & cluster 1", [2, 3]),
    ('spirals - "cluster 1"', [0, 1]),
    ("spirals ^ cluster 1", [0, 1, 4, 5]),
    ("~spirals", [4, 5, 6, 7, 8, 9]),
    ("~(spirals | cluster 1) - bright.stars", [6, 7, 8]),
    ("spirals | cluster 1 & bright.stars", [0, 1, 2, 3, 5]),  # & binds tighter
])
def test_algebra(subsets, expression, rows):
    assert subsets.evaluate(expression) == RowSet(rows)


@pytest.mark.parametrize("expression, message", [
    ("spirals | ellipticals", "no subset named 'ellipticals'"),
    ("(spirals | cluster 1", "not closed"),
    ("spirals |", "ends too early"),
    ("spirals ) | cluster 1", "unexpected"),
    ("", "empty"),
    ("spirals $ x", "cannot read"),
])
def test_bad_expressions_are_user_errors(subsets, expression, message):
    with pytest.raises(UserError, match=message):
        subsets.evaluate(expression)


def test_bad_subsets_are_refused(subsets):
    with pytest.raises(UserError, match="exists already"):
        subsets.add("spirals", RowSet([1]))
    with pytest.raises(UserError, match="outside a catalogue of 10 rows"):
        subsets.add("far", RowSet([10]))
    with pytest.raises(UserError, match="#rrggbb"):
        subsets.add("red", RowSet([1]), colour="red")
    with pytest.raises(UserError, match="needs a name"):
        subsets.add("  ", RowSet([1]))


def test_membership_draws_the_last_visible_subset(subsets):
    member = subsets.membership()
    assert member.tolist() == [0, 0, 1, 1, 1, 2, -1, -1, -1, 2]
    subsets.update("bright.stars", visible=False)
    assert subsets.membership()[[5, 9]].tolist() == [1, -1]


def test_selection_owns_subsets_and_resets_them():
    selection = Selection(10)
    selection.subsets.add("a", RowSet([1, 2]))
    selection.reset(5)
    assert len(selection.subsets) == 0 and selection.subsets.n_rows == 5
    assert isinstance(selection.subsets.membership(), np.ndarray)
