import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astroexplorer.core import Embedding, Projection, RowSet
from astroexplorer.core.errors import UserError
from astroexplorer.io import export_selection, read_catalogue, write_catalogue_fits
from tests.helpers import fitsverify_errors, make_small_catalogue


def write_bundle(path, cat):
    return write_catalogue_fits(path, cat.table, cat.images.get_many(np.arange(len(cat))),
                                cat.images.bands, lightcurves=cat.lightcurves.table)


def test_bundle_round_trip(tmp_path):
    cat = make_small_catalogue()
    path = write_bundle(tmp_path / "cat.fits", cat)
    assert fitsverify_errors(path) == 0
    back = read_catalogue(path)
    assert len(back) == len(cat) and back.id_column == "object_id"
    assert back.table["ra"].unit == "deg" and back.table["ra"].description == "right ascension"
    assert back.images.bands == ("g", "r", "i")
    np.testing.assert_array_equal(back.images.get(7), cat.images.get(7))
    lc_a, lc_b = back.lightcurves.get(9), cat.lightcurves.get(9)
    np.testing.assert_allclose(lc_a.time, lc_b.time)
    np.testing.assert_allclose(lc_a.value, lc_b.value)
    assert lc_a.band.tolist() == lc_b.band.tolist()


def test_export_selection_everything_aligned(tmp_path):
    cat = make_small_catalogue()
    rng = np.random.default_rng(1)
    emb = Embedding(rng.normal(size=(len(cat), 8)), "pca")
    proj = Projection(rng.normal(size=(len(cat), 2)), "umap")
    rows = RowSet([3, 5, 11])
    out = export_selection(cat, rows, tmp_path / "sel.fits", emb, proj, description="test box")
    assert fitsverify_errors(out) == 0
    with fits.open(out) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "CATALOGUE", "CUTOUTS", "LIGHTCURVES"]
        assert hdul[0].header["NSELECT"] == 3 and hdul[0].header["SELECTN"] == "test box"
        assert hdul["CUTOUTS"].data.shape == (3, 3, 16, 16)
        assert hdul["CUTOUTS"].header["BAND2"] == "r"
        np.testing.assert_array_equal(hdul["CUTOUTS"].data[1], cat.images.get(5))
    table = Table.read(out, hdu="CATALOGUE")
    assert table["row_index"].tolist() == [3, 5, 11]
    assert table["ra"].unit == "deg" and table["mag_r"].unit == "mag"
    np.testing.assert_allclose(table["embedding"], emb.vectors[[3, 5, 11]])
    np.testing.assert_allclose(table["proj_x"], proj.xy[[3, 5, 11], 0])
    lcs = Table.read(out, hdu="LIGHTCURVES")
    # Row 3 has no light curve; rows 5 and 11 have 5 + i % 4 points each.
    assert sorted(set(lcs["row_index"])) == [5, 11]
    assert len(lcs) == (5 + 5 % 4) + (5 + 11 % 4)
    assert lcs["mjd"].unit == "d" and lcs["mag"].unit == "mag"


def test_export_refuses_bad_requests_and_leaves_disk_untouched(tmp_path):
    cat = make_small_catalogue()
    out = tmp_path / "sel.fits"
    with pytest.raises(UserError, match="empty"):
        export_selection(cat, RowSet(), out)
    with pytest.raises(UserError, match="embedding has"):
        export_selection(cat, RowSet([1]), out, Embedding(np.zeros((5, 2)), "pca"))
    assert list(tmp_path.iterdir()) == []
    out.write_bytes(b"precious")
    with pytest.raises(UserError, match="already exists"):
        export_selection(cat, RowSet([1]), out)
    assert out.read_bytes() == b"precious"
    export_selection(cat, RowSet([1]), out, overwrite=True)
    assert fits.getheader(out, 0)["NSELECT"] == 1


def test_never_writes_over_an_input(tmp_path):
    cat = make_small_catalogue()
    path = write_bundle(tmp_path / "cat.fits", cat)
    back = read_catalogue(path)
    before = path.read_bytes()
    with pytest.raises(UserError, match="input"):
        export_selection(back, RowSet([1]), path, overwrite=True)
    assert path.read_bytes() == before


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    cat = make_small_catalogue()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fits.HDUList, "writeto", boom)
    with pytest.raises(OSError):
        export_selection(cat, RowSet([1]), tmp_path / "x.fits")
    assert list(tmp_path.iterdir()) == []


def test_long_source_path_is_kept_whole(tmp_path):
    cat = make_small_catalogue()
    deep = tmp_path / ("a-very-long-folder-name-for-a-survey-" * 3)
    deep.mkdir()
    src = write_bundle(deep / "catalogue.fits", cat)
    out = export_selection(read_catalogue(src), RowSet([0]), tmp_path / "sel.fits")
    assert fits.getheader(out, 0)["SRCFILE"] == str(src)
    assert fitsverify_errors(out) == 0


def test_gzipped_fits_reads(tmp_path):
    import gzip

    cat = make_small_catalogue()
    path = write_bundle(tmp_path / "cat.fits", cat)
    gz = tmp_path / "cat.fits.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    back = read_catalogue(gz)
    assert len(back) == len(cat) and back.lightcurves is not None
    np.testing.assert_array_equal(back.images.get(3), cat.images.get(3))
