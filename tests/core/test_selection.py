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
