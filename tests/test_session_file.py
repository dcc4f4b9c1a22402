"""Session files: exact round trip, catalogue checks, and refusal of bad files."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Column, Table

from astroexplorer.core.catalogue import Embedding, Projection
from astroexplorer.core.errors import UserError
from astroexplorer.core.rowset import RowSet
from astroexplorer.core.session import Session
from astroexplorer.io import OpenOptions, read_catalogue
from astroexplorer.session_file import (
    FORMAT_VERSION,
    CatalogueMissingError,
    load_session,
    options_from_json,
    options_to_json,
    save_session,
)

N = 50


def write_catalogue(path: Path, n: int = N, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    table = Table()
    table["object_id"] = np.arange(1000, 1000 + n)
    table["ra"] = Column(rng.uniform(150, 151, n), unit=u.deg)
    table["dec"] = Column(rng.uniform(2, 3, n), unit=u.deg)
    table["mag"] = Column(rng.normal(20, 1, n), unit=u.mag)
    table["kind"] = np.array(["star", "galaxy"])[np.arange(n) % 2]
    table.write(path, overwrite=True)
    return path


def make_session(cat_path: Path, seed: int = 1) -> Session:
    session = Session()
    session.set_catalogue(read_catalogue(cat_path))
    return populate(session, seed)


def populate(session: Session, seed: int = 1) -> Session:
    """Give a session with a catalogue of N rows an embedding, a map, derived
    columns, subsets, a selection and a focus."""
    rng = np.random.default_rng(seed)
    session.set_embedding(Embedding(rng.normal(size=(N, 8)), "pca",
                                    {"n_components": 8, "scale": np.float32(0.5)}))
    session.set_projection(Projection(rng.normal(size=(N, 2)), "umap",
                                      {"n_neighbors": 15, "trustworthiness": 0.93},
                                      model=b"\x80\x04 pickled model"))
    scores = rng.normal(size=N)
    scores[3] = np.nan
    session.add_column("anomaly_iforest", scores, "isolation forest score",
                       {"method": "iforest", "embedding": "pca"})
    session.add_column("cluster", (np.arange(N) % 4).astype(np.int32), "HDBSCAN cluster",
                       {"min_cluster_size": 5})
    session.add_column("interest", np.where(np.arange(N) % 5 == 0, "yes", "no"),
                       "interest label", {"source": "user"})
    subsets = session.selection.subsets
    subsets.add("bright", RowSet([1, 2, 3, 40]), description="mag < 19")
    subsets.add("odd", RowSet(np.arange(1, N, 2)), colour="#123456")
    subsets.update("odd", visible=False)
    session.selection.select(RowSet([4, 9, 16, 25, 36, 49]), description="squares")
    session.selection.set_focus(16)
    return session


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Path, Session]:
    cat = write_catalogue(tmp_path / "cat.fits")
    session = make_session(cat)
    out = save_session(tmp_path / "s.aexsession", session, {"colour_by": "cluster",
                                                           "window_state": "AAAA"})
    return out, cat, session


def test_round_trip_is_exact(saved: tuple[Path, Path, Session]) -> None:
    out, cat, session = saved
    data = load_session(out)
    assert data.catalogue_path == cat
    assert len(data.catalogue) == N and data.n_rows == N
    assert np.array_equal(data.embedding.vectors, session.embedding.vectors)
    assert data.embedding.vectors.dtype == np.float32
    assert data.embedding.method == "pca"
    assert data.embedding.config == {"n_components": 8, "scale": 0.5}
    assert np.array_equal(data.projection.xy, session.projection.xy)
    assert data.projection.config == session.projection.config
    assert data.projection.model is None  # the fitted model is never saved
    table = session.catalogue.table
    assert [d.name for d in data.derived] == ["anomaly_iforest", "cluster", "interest"]
    for d in data.derived:
        col = d.to_column()
        assert np.array_equal(np.asarray(col), np.asarray(table[d.name]), equal_nan=True) \
            if col.dtype.kind == "f" else np.array_equal(np.asarray(col), np.asarray(table[d.name]))
        assert col.dtype == table[d.name].dtype
        assert col.description == table[d.name].description
        assert d.meta == table.meta["derived"][d.name]
    assert np.array_equal(data.selection_rows, session.selection.rows.rows)
    assert data.selection_description == "squares"
    assert data.focus == 16
    saved_subsets = list(session.selection.subsets)
    assert [(s.name, s.colour, s.visible, s.description) for s in data.subsets] == \
        [(s.name, s.colour, s.visible, s.description) for s in saved_subsets]
    for got, want in zip(data.subsets, saved_subsets):
        assert np.array_equal(got.rows, want.rows.rows)
    assert data.view == {"colour_by": "cluster", "window_state": "AAAA"}
    assert data.format_version == FORMAT_VERSION


def test_no_pickle_and_catalogue_not_copied(saved: tuple[Path, Path, Session]) -> None:
    out, cat, _ = saved
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        for name in names:
            if name.endswith(".npy"):
                with zf.open(name) as fh:
                    np.load(fh, allow_pickle=False)  # raises for any pickled array
        doc = json.loads(zf.read("session.json"))
    assert "session.json" in names and "embedding.npy" in names
    assert not any("model" in n for n in names)
    # Referenced by path; far smaller than a copy would need.
    assert doc["catalogue"]["path"] == str(cat)
    assert doc["catalogue"]["relative"] == "cat.fits"
    assert sum(zipfile.ZipFile(out).getinfo(n).file_size for n in names) < cat.stat().st_size


def test_masked_derived_column_kept(tmp_path: Path) -> None:
    cat = write_catalogue(tmp_path / "cat.fits")
    session = make_session(cat)
    from astropy.table import MaskedColumn

    table = session.catalogue.table
    table["label"] = MaskedColumn(np.arange(N), mask=np.arange(N) % 3 == 0, unit=u.mag,
                                  description="masked")
    table.meta["derived"]["label"] = {"k": [1, 2]}
    out = save_session(tmp_path / "s.aexsession", session)
    data = load_session(out)
    column = next(d for d in data.derived if d.name == "label").to_column()
    assert np.array_equal(column.mask, table["label"].mask)
    assert np.array_equal(column.data.data, table["label"].data.data)
    assert column.unit == u.mag


def test_moved_folder_found_by_relative_path(saved: tuple[Path, Path, Session],
                                             tmp_path: Path) -> None:
    out, _cat, session = saved
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for name in ("s.aexsession", "cat.fits"):
        shutil.move(tmp_path / name, moved / name)
    data = load_session(moved / "s.aexsession")
    assert data.catalogue_path == moved / "cat.fits"
    assert np.array_equal(data.embedding.vectors, session.embedding.vectors)


def test_missing_catalogue_then_located(saved: tuple[Path, Path, Session],
                                        tmp_path: Path) -> None:
    out, cat, _ = saved
    other = tmp_path / "sub"
    other.mkdir()
    shutil.move(cat, other / "renamed.fits")
    with pytest.raises(CatalogueMissingError, match="cat.fits") as info:
        load_session(out)
    assert info.value.catalogue_path == cat
    data = load_session(out, catalogue_path=other / "renamed.fits")
    assert len(data.catalogue) == N


def test_changed_catalogue_refused(saved: tuple[Path, Path, Session]) -> None:
    out, cat, _ = saved
    write_catalogue(cat, seed=7)  # same rows and size, other values
    with pytest.raises(UserError, match="has changed since the session was saved"):
        load_session(out)
    # A catalogue that is not the saved one, even when the user points at it.
    fewer = write_catalogue(cat.parent / "fewer.fits", n=N - 1)
    with pytest.raises(UserError, match="changed"):
        load_session(out, catalogue_path=fewer)


def test_row_count_checked_without_fingerprint(saved: tuple[Path, Path, Session]) -> None:
    out, cat, _ = saved
    doc = _doc(out)
    del doc["catalogue"]["fingerprint"]
    doc["catalogue"]["n_rows"] = N
    _rewrite(out, doc)
    write_catalogue(cat, n=N + 1)
    with pytest.raises(UserError, match=f"now has {N + 1} rows"):
        # The arrays are of N rows, so the session file itself is consistent.
        load_session(out)


def _doc(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("session.json"))


def _rewrite(path: Path, doc: dict | None = None, drop: str | None = None,
             replace: dict[str, np.ndarray] | None = None, pickled: str | None = None) -> None:
    """Rewrite the session at ``path`` with another JSON, a member dropped or replaced."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if doc is not None:
        members["session.json"] = json.dumps(doc).encode()
    if drop:
        del members[drop]
    for name, array in (replace or {}).items():
        import io

        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=pickled == name)
        members[name] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)


@pytest.mark.parametrize("case, message", [
    ("not_zip", "not a zip archive"),
    ("truncated", "damaged or not a zip archive"),
    ("future", "newer AstroExplorer"),
    ("no_json", "has no session.json"),
    ("bad_json", "not valid JSON"),
    ("missing_member", "member embedding.npy \\(the embedding\\) is missing"),
    ("short_projection", r"the map \(projection\) \(projection.npy\) has shape \(49, 2\)"),
    ("short_column", r"the column 'cluster' \(derived/1.npy\) has shape \(10,\)"),
    ("pickled", "not a readable array"),
    ("rows_out_of_range", "the subset 'bright' names rows outside a catalogue of 50 rows"),
    ("float_rows", "the selection \\(selection.npy\\) holds float64, not integers"),
    ("focus", "focused row 99"),
    ("other_json", "session.json is of another kind"),
])
def test_bad_files_refused(saved: tuple[Path, Path, Session], case: str, message: str) -> None:
    out, _, _ = saved
    doc = _doc(out)
    if case == "not_zip":
        out.write_text("hello")
    elif case == "truncated":
        data = out.read_bytes()
        out.write_bytes(data[: len(data) // 2])
    elif case == "future":
        doc["format_version"] = FORMAT_VERSION + 1
        _rewrite(out, doc)
    elif case == "no_json":
        _rewrite(out, drop="session.json")
    elif case == "bad_json":
        with zipfile.ZipFile(out) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        members["session.json"] = b"{not json"
        with zipfile.ZipFile(out, "w") as zf:
            for name, content in members.items():
                zf.writestr(name, content)
    elif case == "missing_member":
        _rewrite(out, drop="embedding.npy")
    elif case == "short_projection":
        _rewrite(out, replace={"projection.npy": np.zeros((N - 1, 2), np.float32)})
    elif case == "short_column":
        _rewrite(out, replace={"derived/1.npy": np.zeros(10, np.int32)})
    elif case == "pickled":
        _rewrite(out, replace={"selection.npy": np.array([{"a": 1}], dtype=object)},
                 pickled="selection.npy")
    elif case == "rows_out_of_range":
        _rewrite(out, replace={"subsets/0.npy": np.array([1, N])})
    elif case == "float_rows":
        _rewrite(out, replace={"selection.npy": np.array([1.0, 2.0])})
    elif case == "focus":
        doc["selection"]["focus"] = 99
        _rewrite(out, doc)
    elif case == "other_json":
        doc["format"] = "something-else"
        _rewrite(out, doc)
    with pytest.raises(UserError, match=message) as info:
        load_session(out)
    assert str(out) in str(info.value)


def test_save_refuses_inputs_and_overwrite(saved: tuple[Path, Path, Session],
                                           tmp_path: Path) -> None:
    out, cat, session = saved
    before = out.read_bytes()
    with pytest.raises(UserError, match="already exists"):
        save_session(out, session)
    assert out.read_bytes() == before
    cat_bytes = cat.read_bytes()
    with pytest.raises(UserError, match="input file"):
        save_session(cat, session, overwrite=True)
    assert cat.read_bytes() == cat_bytes
    with pytest.raises(UserError, match="does not exist"):
        save_session(tmp_path / "nowhere" / "s.aexsession", session)
    save_session(out, session, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.fits", "s.aexsession"]


def test_save_needs_a_catalogue_file(tmp_path: Path) -> None:
    from tests.helpers import make_small_catalogue

    with pytest.raises(UserError, match="no catalogue is open"):
        save_session(tmp_path / "a.aexsession", Session())
    session = Session()
    session.set_catalogue(make_small_catalogue())  # built in memory, no path
    with pytest.raises(UserError, match="not read from a file"):
        save_session(tmp_path / "a.aexsession", session)
    assert not list(tmp_path.iterdir())


def test_open_options_kept(tmp_path: Path) -> None:
    cat = write_catalogue(tmp_path / "cat.fits")
    cube = np.random.default_rng(0).normal(size=(N, 1, 4, 4)).astype(np.float32)
    np.save(tmp_path / "cube.npy", cube)
    options = OpenOptions(cutouts=tmp_path / "cube.npy", columns={"id": "object_id"})
    session = Session()
    session.set_catalogue(read_catalogue(cat, options))
    out = save_session(tmp_path / "s.aexsession", session)
    data = load_session(out)
    assert data.open_options == options
    assert data.catalogue.images is not None and len(data.catalogue.images) == N
    back = options_from_json(options_to_json(options, tmp_path), tmp_path)
    assert back == options
