import pytest

from astroexplorer.core import RowSet, Selection, SelectionMode, Session


def test_modes_and_signal_carries_source():
    sel = Selection(10)
    seen = []
    sel.changed.connect(lambda old, new, src: seen.append((set(old), set(new), src)))
    sel.select(RowSet([1, 2, 3]), source="scatter")
    sel.select(RowSet([3, 4]), SelectionMode.ADD, source="table")
    sel.select(RowSet([1, 4, 9]), SelectionMode.INTERSECT)
    sel.select(RowSet([4]), SelectionMode.SUBTRACT)
    sel.select(RowSet([1, 2]), SelectionMode.XOR)
    assert set(sel.rows) == {2}
    assert seen[0] == (set(), {1, 2, 3}, "scatter")
    assert seen[1][1] == {1, 2, 3, 4} and seen[1][2] == "table"
    assert len(seen) == 5


def test_no_signal_when_unchanged_and_range_checked():
    sel = Selection(5)
    calls = []
    sel.changed.connect(lambda *a: calls.append(a))
    sel.select(RowSet([1]))
    sel.select(RowSet([1]))
    assert len(calls) == 1
    with pytest.raises(IndexError):
        sel.select(RowSet([5]))
    with pytest.raises(IndexError):
        sel.set_focus(7)


def test_focus_signal():
    sel = Selection(5)
    seen = []
    sel.focus_changed.connect(lambda row, src: seen.append(row))
    sel.set_focus(2)
    sel.set_focus(2)
    sel.set_focus(None)
    assert seen == [2, None]


def test_session_rejects_misaligned_arrays(small_catalogue):
    import numpy as np

    from astroexplorer.core import Embedding, Projection

    session = Session()
    with pytest.raises(ValueError, match="no catalogue"):
        session.set_embedding(Embedding(np.zeros((3, 2)), "x"))
    session.set_catalogue(small_catalogue)
    n = len(small_catalogue)
    with pytest.raises(ValueError, match="rows"):
        session.set_projection(Projection(np.zeros((n + 1, 2)), "pca"))
    session.selection.select(RowSet([0, 1]))
    session.set_catalogue(small_catalogue)
    assert not session.selection.rows and session.selection.n_rows == n


def test_session_adds_derived_columns(small_catalogue):
    import numpy as np

    session = Session()
    session.set_catalogue(small_catalogue)
    added = []
    session.column_added.connect(added.append)
    n = len(small_catalogue)
    session.add_column("anomaly_lof", np.arange(n, dtype=float), "LOF score", {"method": "lof"})
    assert added == ["anomaly_lof"]
    table = session.catalogue.table
    assert table["anomaly_lof"].description == "LOF score"
    assert table.meta["derived"]["anomaly_lof"] == {"method": "lof"}
    with pytest.raises(ValueError, match="rows"):
        session.add_column("bad", np.zeros(n + 1))


# -- undo / redo ------------------------------------------------------------------------
def _history(sel):
    seen = []
    sel.changed.connect(lambda old, new, src: seen.append((set(old), set(new), src)))
    return seen


def test_undo_redo_walks_replace_add_xor():
    sel = Selection(10)
    seen = _history(sel)
    avail = []
    sel.history_changed.connect(lambda u, r: avail.append((u, r)))
    assert not sel.can_undo and not sel.can_redo and not sel.undo() and not sel.redo()
    sel.select(RowSet([1, 2]), description="box on the map")
    sel.select(RowSet([5]), SelectionMode.ADD)
    sel.select(RowSet([2, 7]), SelectionMode.XOR)
    assert set(sel.rows) == {1, 5, 7}
    assert sel.undo_label() == "selection (xor)"
    assert sel.undo() and set(sel.rows) == {1, 2, 5}
    assert seen[-1] == ({1, 5, 7}, {1, 2, 5}, "undo")
    assert sel.undo() and set(sel.rows) == {1, 2}
    assert sel.description == "box on the map"
    assert sel.undo() and set(sel.rows) == set()
    assert not sel.can_undo and sel.can_redo and not sel.undo()
    assert sel.redo() and set(sel.rows) == {1, 2} and seen[-1][2] == "redo"
    assert sel.redo() and set(sel.rows) == {1, 2, 5}
    # A new change drops what could be redone.
    sel.select(RowSet([0]), SelectionMode.INTERSECT)
    assert set(sel.rows) == set() and not sel.can_redo
    assert sel.undo() and set(sel.rows) == {1, 2, 5}
    assert avail[0] == (True, False) and (False, True) in avail


def test_unchanged_selection_and_focus_are_not_recorded():
    sel = Selection(5)
    sel.select(RowSet([1]))
    sel.select(RowSet([1]))
    sel.set_focus(3)
    sel.undo()
    assert not sel.can_undo and set(sel.rows) == set() and sel.focus == 3


def test_history_is_bounded_and_reset_clears_it():
    from astroexplorer.core.selection import HISTORY_LENGTH

    sel = Selection(HISTORY_LENGTH + 50)
    for i in range(HISTORY_LENGTH + 20):
        sel.select(RowSet([i]))
    undone = 0
    while sel.undo():
        undone += 1
    assert undone == HISTORY_LENGTH
    assert set(sel.rows) == {19}  # the 20 oldest steps were forgotten
    avail = []
    sel.history_changed.connect(lambda u, r: avail.append((u, r)))
    sel.reset(3)
    assert not sel.can_undo and not sel.can_redo and avail == [(False, False)]
    assert not sel.redo() and len(sel.rows) == 0


def test_subset_changes_are_undone_with_the_selection():
    sel = Selection(10)
    subsets = sel.subsets
    names = []
    subsets.changed.connect(names.append)
    sel.select(RowSet([1, 2, 3]))
    subsets.add("spirals", RowSet([1, 2, 3]))
    assert sel.undo_label() == "new subset 'spirals'"
    subsets.update("spirals", colour="#112233")
    assert sel.undo_label() == "colour of subset 'spirals'"
    subsets.update("spirals", new_name="discs")
    assert sel.undo_label() == "rename subset 'spirals'"
    subsets.remove("discs")
    assert sel.undo_label() == "delete subset 'discs'"
    assert sel.undo() and subsets.names() == ["discs"]
    assert sel.undo() and subsets.names() == ["spirals"]
    assert subsets["spirals"].colour == "#112233"
    assert sel.undo() and subsets["spirals"].colour != "#112233"
    assert sel.undo() and len(subsets) == 0 and set(sel.rows) == {1, 2, 3}
    assert names[-1] is None  # a restore announces the whole collection
    assert sel.redo() and sel.redo() and subsets["spirals"].colour == "#112233"
    # The colour sequence is restored too: the next new subset gets the same colour.
    subsets.add("stars", RowSet([4]))
    colour = subsets["stars"].colour
    sel.undo()
    subsets.add("stars", RowSet([4]))
    assert subsets["stars"].colour == colour


def test_history_group_is_one_step():
    sel = Selection(10)
    sel.subsets.add("cluster 0", RowSet([0, 1]))
    with sel.history_group("HDBSCAN clusters"):
        sel.subsets.remove("cluster 0")
        sel.subsets.add("cluster 0", RowSet([2, 3]))
        with sel.history_group("inner"):
            sel.subsets.add("cluster 1", RowSet([4]))
            sel.select(RowSet([4]))
        assert not sel.undo()  # not in the middle of a group
    assert sel.undo_label() == "HDBSCAN clusters"
    assert sel.undo()
    assert sel.subsets.names() == ["cluster 0"] and sel.subsets["cluster 0"].rows == RowSet([0, 1])
    assert len(sel.rows) == 0
    assert sel.redo() and sel.subsets.names() == ["cluster 0", "cluster 1"]
    with sel.history_group("nothing"):
        pass
    assert sel.undo_label() == "HDBSCAN clusters"


def test_history_forgets_old_big_selections(monkeypatch):
    import astroexplorer.core.selection as selection_module

    monkeypatch.setattr(selection_module, "HISTORY_MAX_ROWS", 250)
    sel = Selection(200)
    for start in range(4):
        sel.select(RowSet(range(start, start + 100)))  # 100 rows per step
    undone = 0
    while sel.undo():
        undone += 1
    assert undone == 2  # 400 rows held > 250: the two oldest steps went
    assert sel.rows == RowSet(range(1, 101))
    monkeypatch.setattr(selection_module, "HISTORY_MAX_ROWS", 50)
    sel.select(RowSet(range(150)))  # one step over the limit alone is still kept
    assert sel.undo() and sel.rows == RowSet(range(1, 101)) and not sel.can_undo
