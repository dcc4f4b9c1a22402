"""Faithful exports: FITS provenance, null values and layouts; VOTable, ECSV, CSV."""

import datetime as dt
import json
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.io.votable import parse
from astropy.table import Column, MaskedColumn, Table
from astropy.wcs import WCS

from astroexplorer import __version__
from astroexplorer.cli import main
from astroexplorer.core import ArrayImageSource, Catalogue, Embedding, Projection, RowSet
from astroexplorer.core.errors import UserError
from astroexplorer.io import OpenOptions, export_selection, read_catalogue, write_catalogue_fits
from astroexplorer.io.table_writer import flatten_array_columns, format_for
from tests.helpers import fitsverify_errors, make_small_catalogue

N = 8
LONG_DESCRIPTION = ("right ascension of the object, ICRS, epoch J2000, as measured on the "
                    "co-added r-band image of the survey")
INT32_MIN = np.iinfo(np.int32).min


def rich_catalogue(seed: int = 3) -> Catalogue:
    """N rows with masked int / float / str / bool columns, units, descriptions, a
    signed-byte column and a (N, 3) array column; no cutouts or light curves."""
    rng = np.random.default_rng(seed)
    t = Table()
    t["object_id"] = Column(np.arange(500, 500 + N, dtype=np.int64), description="identifier")
    t["ra"] = Column(rng.uniform(150, 151, N), unit=u.deg, description=LONG_DESCRIPTION)
    # The int32 minimum is a real value here: the null chosen must be another.
    nobs = np.array([3, INT32_MIN, 999999, 7, 0, 12, 5, 1], dtype=np.int32)
    t["nobs"] = MaskedColumn(nobs, mask=[0, 0, 0, 1, 0, 1, 0, 0], unit=u.ct,
                             description="number of epochs")
    t["flag"] = Column(np.array([-3, 0, 5, 127, -128, 1, 2, -1], dtype=np.int8))
    mag = rng.uniform(17, 21, N)
    t["mag"] = MaskedColumn(mag, mask=[0, 1, 0, 0, 0, 0, 1, 0], unit=u.mag,
                            description="r-band magnitude")
    t["name"] = MaskedColumn([f"obj-{i}" for i in range(N)], mask=[0, 0, 1, 0, 0, 0, 0, 1])
    t["good"] = MaskedColumn([True, False, True, True, False, False, True, True],
                             mask=[0, 0, 0, 1, 0, 1, 0, 0], description="passes cuts")
    flux = rng.uniform(0, 10, (N, 3)).astype(np.float32)
    t["flux"] = MaskedColumn(flux, unit=u.mJy, description="g, r, i flux",
                             mask=np.zeros((N, 3), bool) | (np.arange(N) == 4)[:, None])
    t.meta["SURVEY"] = "test survey"
    return Catalogue(t, name="rich")


def masked(col) -> np.ndarray:
    return np.ma.getmaskarray(col)


ROWS = [0, 1, 2, 3, 4, 5, 6, 7]


def test_fits_table_keeps_units_descriptions_nulls_and_arrays(tmp_path):
    cat = rich_catalogue()
    emb = Embedding(np.random.default_rng(0).normal(size=(N, 5)), "simclr", {"epochs": 3})
    out = export_selection(cat, RowSet(ROWS), tmp_path / "sel.fits", emb,
                           description="all rows")
    assert fitsverify_errors(out) == 0
    src = cat.table
    header = fits.getheader(out, "CATALOGUE")
    names = [header[f"TTYPE{i}"] for i in range(1, header["TFIELDS"] + 1)]
    col = {name: i + 1 for i, name in enumerate(names)}
    assert header[f"TFORM{col['good']}"] == "L"  # booleans stay logical
    assert header[f"TFORM{col['flag']}"] == "I"  # int8 widened, never written as logical
    assert header[f"TFORM{col['flux']}"] == "3E"
    assert header[f"TFORM{col['embedding']}"] == "5E"
    assert header[f"TNULL{col['nobs']}"] == np.iinfo(np.int32).max
    assert header[f"TCOMM{col['ra']}"] == LONG_DESCRIPTION and header["LONGSTRN"]

    # astropy reads TNULL, NaN and empty strings as masked (and logical nulls as
    # False, with a warning).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = Table.read(out, hdu="CATALOGUE", character_as_bytes=False)
    assert back["ra"].unit == u.deg and back["nobs"].unit == u.ct and back["flux"].unit == u.mJy
    for name in ("nobs", "mag", "name"):
        assert (masked(back[name]) | (np.asarray(back[name]) == "")).tolist() \
            == masked(src[name]).tolist(), name
        keep = ~masked(src[name])
        assert np.asarray(back[name])[keep].tolist() == np.asarray(src[name])[keep].tolist()
    assert back["nobs"].dtype.newbyteorder("=") == np.int32 and INT32_MIN in back["nobs"].tolist()
    assert back["flag"].tolist() == src["flag"].tolist()
    assert back["flux"].dtype.newbyteorder("=") == np.float32 and back["flux"].shape == (N, 3)
    np.testing.assert_array_equal(back["flux"].filled(np.nan),
                                  np.asarray(src["flux"].filled(np.nan)))
    np.testing.assert_array_equal(back["embedding"], emb.vectors)
    assert back["embedding"].dtype.newbyteorder("=") == np.float32
    # Masked booleans are FITS logical nulls (byte 0), neither T nor F.
    with fits.open(out, logical_as_bytes=True) as hdul:
        raw = hdul["CATALOGUE"].data["good"]
    expected = [b"" if m else (b"T" if v else b"F") for v, m in
                zip(np.asarray(src["good"]), masked(src["good"]))]
    assert raw.tolist() == expected

    # Our reader: units, descriptions (TCOMMn, continued) and values as FITS holds them.
    ours = read_catalogue(out).table
    for name in src.colnames:
        assert ours[name].unit == src[name].unit, name
        assert ours[name].description == src[name].description, name
    assert masked(ours["nobs"]).tolist() == masked(src["nobs"]).tolist()
    # Masked floats come back NaN (or masked), masked strings empty (or masked).
    mag = np.ma.filled(ours["mag"], np.nan)
    assert np.isnan(mag).tolist() == masked(src["mag"]).tolist()
    assert [v for v, m in zip(np.ma.filled(ours["name"], ""), masked(src["name"])) if m] \
        == ["", ""]
    np.testing.assert_array_equal(np.asarray(ours["good"])[~masked(src["good"])],
                                  np.asarray(src["good"])[~masked(src["good"])])
    assert ours.meta["SURVEY"] == "test survey"


def test_fits_header_records_provenance(tmp_path):
    base = make_small_catalogue()
    cat_path = tmp_path / "cat.fits"
    write_catalogue_fits(cat_path, base.table)
    cube_path = tmp_path / ("cutouts-kept-in-a-folder-with-a-rather-long-name-" * 2 + ".npy")
    np.save(cube_path, base.images.get_many(np.arange(len(base))))
    lc_path = tmp_path / "lightcurves.csv"
    base.lightcurves.table.write(lc_path)
    cat = Catalogue(base.table, name="small", path=cat_path, images=base.images,
                    lightcurves=base.lightcurves,
                    open_options=OpenOptions(cutouts=cube_path, lightcurves=lc_path))
    emb = Embedding(np.ones((len(cat), 4)), "pca", {"n_components": 4})
    proj = Projection(np.zeros((len(cat), 2)), "umap", {"n_neighbors": 15})
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    out = export_selection(cat, RowSet([4, 6]), tmp_path / "sel.fits", emb, proj,
                           description="lasso on the UMAP map")
    assert fitsverify_errors(out) == 0
    h = fits.getheader(out, 0)
    assert h["CREATOR"] == f"AstroExplorer {__version__}"
    written = dt.datetime.fromisoformat(h["DATE"])
    assert before <= written <= dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert h["SRCFILE"] == str(cat_path)
    assert h["SRCCUTS"] == str(cube_path) and len(str(cube_path)) > 68  # CONTINUE cards
    assert h["LONGSTRN"].startswith("OGIP")
    assert h["SRCLC"] == str(lc_path)
    assert h["NSELECT"] == 2 and h["SELECTN"] == "lasso on the UMAP map"
    assert h["EMBMETH"] == "pca" and h["EMBDIM"] == 4
    assert json.loads(h["EMBCONF"]) == {"n_components": 4}
    assert h["PROJMETH"] == "umap" and json.loads(h["PROJCONF"]) == {"n_neighbors": 15}
    # The separate cutout and light-curve files are inputs too: never written over.
    for src in (cube_path, lc_path, cat_path):
        size = src.stat().st_size
        with pytest.raises(UserError, match="input"):
            export_selection(cat, RowSet([1]), src, overwrite=True,
                             format="csv" if src.suffix != ".fits" else None, table_only=True)
        assert src.stat().st_size == size


class WcsCube(ArrayImageSource):
    """Cutouts with a celestial TAN WCS per row (none for row 5), centred on the
    row's RA/Dec: what survey cutout sources give."""

    def __init__(self, data, bands, ra, dec):
        super().__init__(data, bands, origin="wcs cube")
        self.ra, self.dec = ra, dec

    def wcs(self, row):
        if row == 5:
            return None
        w = WCS(naxis=2)
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.crval = [self.ra[row], self.dec[row]]
        w.wcs.crpix = [8.5, 8.5]
        w.wcs.cdelt = [-0.2 / 3600, 0.2 / 3600]
        w.wcs.cunit = ["deg", "deg"]
        return w


def test_per_object_layout_writes_one_hdu_per_object_with_wcs(tmp_path):
    base = make_small_catalogue()
    cube = base.images.get_many(np.arange(len(base)))
    images = WcsCube(cube, ("g", "r", "i"), np.asarray(base.table["ra"]),
                     np.asarray(base.table["dec"]))
    cat = Catalogue(base.table, name="small", images=images, lightcurves=base.lightcurves)
    rows = [2, 5, 9, 30]
    out = export_selection(cat, RowSet(rows), tmp_path / "sel.fits",
                           cutout_layout="per-object", description="four")
    assert fitsverify_errors(out) == 0
    with fits.open(out) as hdul:
        names = [h.name for h in hdul]
        assert names == ["PRIMARY", "CATALOGUE", "CUTOUT_2", "CUTOUT_5", "CUTOUT_9",
                         "CUTOUT_30", "LIGHTCURVES"]
        assert hdul[0].header["CUTLAYT"] == "per_object"
        for row in rows:
            hdu = hdul[f"CUTOUT_{row}"]
            assert hdu.header["ROW"] == row and hdu.header["OBJID"] == 100 + row
            assert [hdu.header[f"BAND{i}"] for i in (1, 2, 3)] == ["g", "r", "i"]
            assert hdu.data.shape == (3, 16, 16) and hdu.data.dtype.kind == "f"
            np.testing.assert_array_equal(hdu.data, cube[row])
            if row == 5:
                assert "CTYPE1" not in hdu.header
                continue
            w = WCS(hdu.header).celestial
            for x, y in ((0, 0), (7.5, 7.5), (15, 3)):
                a = w.pixel_to_world(x, y)
                b = images.wcs(row).pixel_to_world(x, y)
                assert a.separation(b).arcsec < 1e-6
            centre = w.pixel_to_world(7.5, 7.5)
            assert abs(centre.ra.deg - base.table["ra"][row]) < 1e-9
        lcs = Table.read(hdul["LIGHTCURVES"])
        assert lcs["mjd"].unit == u.d and lcs["mag"].unit == u.mag
        assert sorted(set(lcs["row_index"])) == [2, 5, 9, 30]


@pytest.mark.parametrize("rows", [[2, 5, 9, 30], [1, 4, 7]])  # 3 objects of 3 bands too
def test_per_object_export_reads_back_with_cutouts_and_wcs(tmp_path, rows):
    base = make_small_catalogue()
    cube = base.images.get_many(np.arange(len(base)))
    images = WcsCube(cube, ("g", "r", "i"), np.asarray(base.table["ra"]),
                     np.asarray(base.table["dec"]))
    cat = Catalogue(base.table, name="small", images=images, lightcurves=base.lightcurves)
    out = export_selection(cat, RowSet(rows), tmp_path / "sel.fits", cutout_layout="per-object")
    back = read_catalogue(out)
    assert back.images is not None and len(back.images) == len(rows)
    assert back.images.bands == ("g", "r", "i") and back.images.shape == (3, 16, 16)
    order = [2, 0, 1]  # any order, as asked
    np.testing.assert_array_equal(back.images.get_many(order), cube[np.asarray(rows)[order]])
    for k, row in enumerate(rows):
        got, want = back.images.wcs(k), images.wcs(row)
        assert (got is None) == (want is None)
        if got is not None:
            assert got.pixel_to_world(7.5, 7.5).separation(
                want.pixel_to_world(7.5, 7.5)).arcsec < 1e-6


def test_cube_layout_is_the_default_and_unknown_layouts_are_refused(tmp_path):
    cat = make_small_catalogue()
    out = export_selection(cat, RowSet([1, 2]), tmp_path / "cube.fits")
    with fits.open(out) as hdul:
        assert hdul["CUTOUTS"].data.shape == (2, 3, 16, 16)
        assert hdul[0].header["CUTLAYT"] == "cube"
    with pytest.raises(UserError, match="layout"):
        export_selection(cat, RowSet([1]), tmp_path / "x.fits", cutout_layout="mosaic")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cube.fits"]


@pytest.mark.parametrize("suffix", [".vot", ".xml", ".votable"])
def test_votable_keeps_units_descriptions_nulls_arrays_and_provenance(tmp_path, suffix):
    cat = rich_catalogue()
    emb = Embedding(np.random.default_rng(1).normal(size=(N, 4)), "pca")
    out = export_selection(cat, RowSet(ROWS), tmp_path / f"sel{suffix}", emb,
                           description="all rows")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vot = parse(str(out))
        back = vot.get_first_table().to_table()
    src = cat.table
    info = {i.name: i.value for i in vot.resources[0].infos}
    assert info["CREATOR"] == f"AstroExplorer {__version__}" and info["SELECTN"] == "all rows"
    assert info["NSELECT"] == str(N) and info["EMBMETH"] == "pca"
    dt.datetime.fromisoformat(info["DATE"])
    fields = {f.name: f for f in vot.get_first_table().fields}
    assert fields["good"].datatype == "boolean"
    assert fields["flux"].arraysize == "3" and fields["embedding"].arraysize == "4"
    for name in ("ra", "nobs", "mag", "flux"):
        assert back[name].unit == src[name].unit, name
    assert " ".join(back["ra"].description.split()) == LONG_DESCRIPTION  # XML wraps it
    for name in ("nobs", "mag", "good"):
        assert masked(back[name]).tolist() == masked(src[name]).tolist(), name
        keep = ~masked(src[name])
        assert np.asarray(back[name])[keep].tolist() == np.asarray(src[name])[keep].tolist()
    assert INT32_MIN in back["nobs"].tolist() and back["flag"].tolist() == src["flag"].tolist()
    assert [str(v) if not m else "" for v, m in zip(src["name"], masked(src["name"]))] \
        == [str(v) for v in back["name"].filled("")]
    np.testing.assert_array_equal(back["embedding"], emb.vectors)
    np.testing.assert_array_equal(back["flux"].filled(np.nan), src["flux"].filled(np.nan))


def test_ecsv_keeps_everything(tmp_path):
    cat = rich_catalogue()
    proj = Projection(np.random.default_rng(2).normal(size=(N, 2)), "tsne")
    out = export_selection(cat, RowSet([1, 3, 6]), tmp_path / "sel.ecsv", projection=proj,
                           description="three")
    back = Table.read(out, format="ascii.ecsv")
    src = cat.table[[1, 3, 6]]
    assert back.meta["SELECTN"] == "three" and back.meta["NSELECT"] == 3
    assert back.meta["CREATOR"] == f"AstroExplorer {__version__}"
    assert back.meta["SRCFILE"] == "rich" and back.meta["SURVEY"] == "test survey"
    assert back["row_index"].tolist() == [1, 3, 6]
    for name in src.colnames:
        assert back[name].unit == src[name].unit, name
        assert back[name].description == src[name].description, name
        assert back[name].dtype == src[name].dtype, name
        assert masked(back[name]).tolist() == masked(src[name]).tolist(), name
        keep = ~masked(src[name])
        assert np.asarray(back[name])[keep].tolist() == np.asarray(src[name])[keep].tolist()
    np.testing.assert_array_equal(back["proj_y"], proj.xy[[1, 3, 6], 1])


def test_csv_holds_values_with_arrays_split(tmp_path):
    cat = rich_catalogue()
    emb = Embedding(np.random.default_rng(1).normal(size=(N, 2)), "pca")
    out = export_selection(cat, RowSet(ROWS), tmp_path / "sel.csv", emb)
    lines = out.read_text().splitlines()
    assert lines[0].split(",") == ["row_index", "object_id", "ra", "nobs", "flag", "mag", "name",
                                   "good", "flux_0", "flux_1", "flux_2", "embedding_0",
                                   "embedding_1"]
    assert len(lines) == N + 1
    back = Table.read(out, format="ascii.csv")
    src = flatten_array_columns(cat.table)
    for name in ("nobs", "mag", "name", "flux_1"):
        assert masked(back[name]).tolist() == masked(src[name]).tolist(), name
    np.testing.assert_array_equal(back["ra"], src["ra"])  # repr: exact
    np.testing.assert_array_equal(back["flux_2"].astype(np.float32).filled(np.nan),
                                  src["flux_2"].filled(np.nan))
    np.testing.assert_array_equal(back["embedding_0"].astype(np.float32), emb.vectors[:, 0])
    assert back["nobs"][1] == INT32_MIN
    row = lines[1 + 4].split(",")  # flux of row 4 is masked: empty fields
    assert row[8:11] == ["", "", ""]


def test_csv_writes_nan_as_nan(tmp_path):
    t = Table({"x": [1.5, np.nan, -np.inf], "y": np.array([0.1, np.nan, 2], np.float32)})
    out = export_selection(Catalogue(t), RowSet([0, 1, 2]), tmp_path / "n.csv")
    assert out.read_text().splitlines()[1:] == ["0,1.5,0.1", "1,NaN,NaN", "2,-Infinity,2.0"]


def test_table_formats_refuse_cutouts_and_light_curves_unless_table_only(tmp_path):
    cat = make_small_catalogue()
    for name in ("a.csv", "a.vot", "a.ecsv"):
        with pytest.raises(UserError, match="holds only the table.*cutouts and light curves"):
            export_selection(cat, RowSet([1, 2]), tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    out = export_selection(cat, RowSet([1, 2]), tmp_path / "a.vot", table_only=True)
    assert len(Table.read(out)) == 2
    # table_only also leaves them out of FITS.
    out = export_selection(cat, RowSet([1, 2]), tmp_path / "t.fits", table_only=True)
    with fits.open(out) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "CATALOGUE"]


def test_format_from_suffix_or_explicit(tmp_path):
    assert format_for(tmp_path / "x.FITS") == "fits"
    assert format_for(tmp_path / "x.xml") == "votable"
    assert format_for(tmp_path / "x.txt", "ECSV") == "ecsv"
    with pytest.raises(UserError, match="suffix .txt"):
        format_for(tmp_path / "x.txt")
    with pytest.raises(UserError, match="format 'parquet' is unknown"):
        format_for(tmp_path / "x.fits", "parquet")
    cat = rich_catalogue()
    out = export_selection(cat, RowSet([0]), tmp_path / "sel.dat", format="ecsv")
    assert out.read_text().startswith("# %ECSV")
    with pytest.raises(UserError, match="suffix .dat"):
        export_selection(cat, RowSet([0]), tmp_path / "other.dat")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sel.dat"]


@pytest.mark.parametrize("name", ["sel.csv", "sel.ecsv", "sel.vot"])
def test_table_formats_never_overwrite_without_consent_nor_write_inputs(tmp_path, name):
    cat = rich_catalogue()
    out = tmp_path / name
    out.write_bytes(b"precious")
    with pytest.raises(UserError, match="already exists"):
        export_selection(cat, RowSet([1]), out)
    assert out.read_bytes() == b"precious"
    export_selection(cat, RowSet([1, 2]), out, overwrite=True)
    assert len(Table.read(out, format="ascii.ecsv" if name.endswith("ecsv") else None)) == 2
    # A catalogue read from that very file is never written over, even with consent.
    src = read_catalogue(out)
    before = out.read_bytes()
    with pytest.raises(UserError, match="input"):
        export_selection(src, RowSet([0]), out, overwrite=True)
    assert out.read_bytes() == before
    with pytest.raises(UserError, match="directory"):
        export_selection(cat, RowSet([1]), tmp_path, format="csv")
    with pytest.raises(UserError, match="does not exist"):
        export_selection(cat, RowSet([1]), tmp_path / "no" / name)


@pytest.mark.parametrize("name, column", [
    ("bad.vot", Column(np.array(["2020-01-01", "2021-06-01"], dtype="datetime64[D]"))),
    ("bad.fits", Column(np.array(["2020-01-01", "2021-06-01"], dtype="datetime64[D]"))),
    ("bad.fits", Column(["café", "naïve"])),  # FITS strings are ASCII
    ("bad.csv", Column([{"a": 1}, {"b": 2}], dtype=object)),
])
def test_a_column_the_format_cannot_hold_is_refused_and_nothing_written(tmp_path, name, column):
    t = Table({"id": [1, 2]})
    t["bad"] = column
    with pytest.raises(UserError, match=f"cannot write {tmp_path / name}"):
        export_selection(Catalogue(t), RowSet([0, 1]), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_re_export_keeps_the_earlier_row_index(tmp_path):
    cat = make_small_catalogue()
    first = export_selection(cat, RowSet([5, 9, 11, 20]), tmp_path / "first.fits")
    again = read_catalogue(first)
    for name in ("second.fits", "second.ecsv"):
        out = export_selection(again, RowSet([1, 3]), tmp_path / name, table_only=True)
        back = Table.read(out, format="ascii.ecsv" if name.endswith("ecsv") else None,
                          hdu="CATALOGUE" if name.endswith("fits") else None) \
            if name.endswith("fits") else Table.read(out, format="ascii.ecsv")
        assert back["row_index"].tolist() == [9, 20] and back["row_index_2"].tolist() == [1, 3]
    out = export_selection(again, RowSet([1]), tmp_path / "third.fits")
    assert set(Table.read(out, hdu="LIGHTCURVES")["row_index_2"]) == {1}


def test_cli_export_format_layout_and_description(tmp_path, capsys):
    cat = make_small_catalogue()
    src = write_catalogue_fits(tmp_path / "cat.fits", cat.table,
                               cat.images.get_many(np.arange(len(cat))), cat.images.bands,
                               lightcurves=cat.lightcurves.table)
    out = tmp_path / "sel.fits"
    assert main(["export", str(src), "--rows", "mag_r > 19", "--cutout-layout", "per-object",
                 "--description", "faint ones", "--out", str(out)]) == 0
    with fits.open(out) as hdul:
        assert hdul[0].header["SELECTN"] == "faint ones (rows: mag_r > 19)"
        n = hdul[0].header["NSELECT"]
        assert n == int(np.sum(np.nan_to_num(np.asarray(cat.table["mag_r"])) > 19))
        assert sum(h.name.startswith("CUTOUT_") for h in hdul) == n
    assert fitsverify_errors(out) == 0
    # A table-only format: refused without --table-only, written with it.
    assert main(["export", str(src), "--rows", "0-4", "--format", "votable",
                 "--out", str(tmp_path / "t.txt")]) == 2
    assert "VOTable holds only the table" in capsys.readouterr().err
    assert not (tmp_path / "t.txt").exists()
    assert main(["export", str(src), "--rows", "0-4", "--format", "votable", "--table-only",
                 "--out", str(tmp_path / "t.txt")]) == 0
    assert "5 rows (table only)" in capsys.readouterr().out
    back = Table.read(tmp_path / "t.txt", format="votable")
    assert back["row_index"].tolist() == [0, 1, 2, 3, 4] and back["ra"].unit == u.deg
    # The embedding given is an input too: never written over, even with --overwrite.
    emb = tmp_path / "emb.npy"
    np.save(emb, np.zeros((len(cat), 3), np.float32))
    before = emb.read_bytes()
    assert main(["export", str(src), "--rows", "0", "--embedding", str(emb), "--format", "fits",
                 "--overwrite", "--out", str(emb)]) == 2
    assert "input file" in capsys.readouterr().err and emb.read_bytes() == before
