"""Malformed inputs give one clear UserError naming the file, never a crash."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astroexplorer.core.errors import UserError
from astroexplorer.io import read_catalogue, write_catalogue_fits
from tests.helpers import make_small_catalogue


def good_fits(tmp_path):
    cat = make_small_catalogue()
    return write_catalogue_fits(tmp_path / "good.fits", cat.table,
                                cat.images.get_many(np.arange(len(cat))), cat.images.bands,
                                lightcurves=cat.lightcurves.table)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_catalogue(tmp_path / "nope.fits")
    with pytest.raises(UserError, match="is a directory"):
        read_catalogue(tmp_path)


def test_unknown_format(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(UserError, match="notes.txt.*not in a catalogue format"):
        read_catalogue(p)


def test_truncated_fits(tmp_path):
    path = good_fits(tmp_path)
    data = path.read_bytes()
    bad = tmp_path / "truncated.fits"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(UserError, match="truncated.fits"):
        cat = read_catalogue(bad)
        cat.images.get_many(np.arange(len(cat)))


def test_cube_count_mismatch(tmp_path):
    cat = make_small_catalogue()
    hdus = fits.HDUList([
        fits.PrimaryHDU(),
        fits.table_to_hdu(cat.table),
        fits.ImageHDU(np.zeros((len(cat) - 1, 3, 8, 8), np.float32), name="CUTOUTS"),
    ])
    hdus[1].name = "CATALOGUE"
    p = tmp_path / "mismatch.fits"
    hdus.writeto(p)
    with pytest.raises(UserError, match=f"mismatch.fits.*{len(cat) - 1} cutouts for a catalogue of {len(cat)}"):
        read_catalogue(p)


def test_empty_table(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("a,b\n")
    with pytest.raises(UserError, match="empty.csv.*no rows"):
        read_catalogue(p)
    q = tmp_path / "empty.fits"
    Table({"a": np.zeros(0)}).write(q)
    with pytest.raises(UserError, match="empty.fits.*no rows"):
        read_catalogue(q)


def test_non_utf8_csv(tmp_path):
    p = tmp_path / "latin1.csv"
    p.write_bytes("name,mag\nB\xe9ta,1.0\n".encode("latin-1"))
    try:
        cat = read_catalogue(p)
    except UserError as exc:
        assert "latin1.csv" in str(exc)
    else:  # astropy may decode it; then the value must survive, not crash
        assert len(cat) == 1


def test_csv_reads_with_columns(tmp_path):
    p = tmp_path / "ok.csv"
    p.write_text("id,ra,dec\n1,10.0,-2.0\n2,10.1,-2.1\n")
    cat = read_catalogue(p)
    assert len(cat) == 2 and cat.id_column == "id" and cat.images is None
