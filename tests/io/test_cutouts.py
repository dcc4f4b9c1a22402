"""Cutouts in every layout: cubes beside the table, Galaxy10 HDF5, columns of per-object
image files (PNG/JPEG/TIFF/FITS), with resampling, missing files and WCS."""

import pickle

import astropy.units as u
import h5py
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from PIL import Image

from astroexplorer.cli import main
from astroexplorer.core.errors import AmbiguousColumnsError, UserError
from astroexplorer.io import OpenOptions, read_catalogue
from astroexplorer.io.cutouts import rescale_wcs

RNG_SEED = 3


def write_csv(out, n, **columns):
    table = Table({"object_id": np.arange(n), "mag": np.linspace(18, 20, n), **columns})
    table.write(out, format="ascii.csv")
    return out


def write_png(path, array):
    """``array`` (H, W) or (H, W, 3) uint8."""
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)


def tan_header(ra, dec, size, scale_arcsec, crpix=None):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = crpix or [(size + 1) / 2, (size + 1) / 2]
    w.wcs.cdelt = [-scale_arcsec / 3600, scale_arcsec / 3600]
    return w.to_header()


# ------------------------------------------------------------------------- cubes


def test_npy_cube_given_channels_last_lazy_and_in_order(tmp_path):
    rng = np.random.default_rng(RNG_SEED)
    cat = write_csv(tmp_path / "cat.csv", 20)
    cube = rng.integers(0, 255, (20, 16, 16, 3)).astype(np.uint8)  # (N, H, W, C)
    np.save(tmp_path / "stamps.npy", cube)
    c = read_catalogue(cat, OpenOptions(cutouts=tmp_path / "stamps.npy"))
    assert c.images.shape == (3, 16, 16)
    rows = [5, 1, 19, 1]
    got = c.images.get_many(rows)
    assert got.dtype == np.float32 and got.shape == (4, 3, 16, 16)
    np.testing.assert_array_equal(got, np.moveaxis(cube[rows], 3, 1))
    # Kept on disk: the source's array is a view of the memory map, not a copy.
    assert isinstance(c.images._data.base, np.memmap) or isinstance(c.images._data, np.memmap)
    assert any("stamps.npy (given)" in n and "20 of 16x16 px" in n for n in c.notes)


def test_npy_and_fits_sidecars_found_beside_the_catalogue(tmp_path):
    rng = np.random.default_rng(RNG_SEED)
    cat = write_csv(tmp_path / "survey.csv", 12)
    grey = rng.normal(size=(12, 16, 16)).astype(np.float32)  # (N, H, W): one band
    np.save(tmp_path / "survey_cutouts.npy", grey)
    c = read_catalogue(cat)
    assert c.images.shape == (1, 16, 16)
    np.testing.assert_array_equal(c.images.get(4)[0], grey[4])
    assert any("survey_cutouts.npy (found beside the catalogue)" in n for n in c.notes)

    cat2 = write_csv(tmp_path / "deep.csv", 12)
    cube = rng.normal(size=(12, 2, 16, 16)).astype(np.float32)
    hdu = fits.ImageHDU(cube, name="CUTOUTS")
    hdu.header["BAND1"], hdu.header["BAND2"] = "g", "i"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp_path / "deep_cutouts.fits")
    c2 = read_catalogue(cat2)
    assert c2.images.bands == ("g", "i")
    np.testing.assert_array_equal(c2.images.get_many([7, 0]), cube[[7, 0]])


def test_cube_count_mismatch_names_both_files(tmp_path):
    cat = write_csv(tmp_path / "cat.csv", 10)
    np.save(tmp_path / "cat_cutouts.npy", np.zeros((9, 16, 16), np.float32))
    with pytest.raises(UserError, match=r"cat_cutouts.npy holds 9 cutouts but .*cat.csv has 10 rows"):
        read_catalogue(cat)


def test_bad_cutout_files(tmp_path):
    cat = write_csv(tmp_path / "cat.csv", 10)
    with pytest.raises(UserError, match="nope.npy: no such cutout file"):
        read_catalogue(cat, OpenOptions(cutouts=tmp_path / "nope.npy"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="notes.txt is not a cutout file"):
        read_catalogue(cat, OpenOptions(cutouts=tmp_path / "notes.txt"))
    np.save(tmp_path / "flat.npy", np.zeros((10, 4)))
    with pytest.raises(UserError, match=r"flat.npy holds .* not a cutout cube|shape \(10, 4\)"):
        read_catalogue(cat, OpenOptions(cutouts=tmp_path / "flat.npy"))


def test_directory_where_a_cutout_file_is_expected(tmp_path):
    cat = write_csv(tmp_path / "cat.csv", 5)
    folder = tmp_path / "stamps"
    folder.mkdir()
    with pytest.raises(UserError, match="stamps is a directory, but .*cat.csv has no column of image"):
        read_catalogue(cat, OpenOptions(cutouts=folder))
    with pytest.raises(UserError, match="is a directory"):
        read_catalogue(folder)


# ---------------------------------------------------------------------- Galaxy10


def write_galaxy10(path, n=30, seed=RNG_SEED):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 16, 16, 3)).astype(np.uint8)
    with h5py.File(path, "w") as f:
        f["images"] = images
        f["ans"] = rng.integers(0, 10, n).astype(np.uint8)
        f["ra"] = rng.uniform(0, 360, n)
        f["dec"] = rng.uniform(-30, 30, n)
        f["redshift"] = rng.uniform(0, 0.2, n)
        f["pxscale"] = np.full(n, 0.262)
    return images


def test_galaxy10_hdf5_opened_directly(tmp_path):
    images = write_galaxy10(tmp_path / "Galaxy10_DECals.h5")
    c = read_catalogue(tmp_path / "Galaxy10_DECals.h5")
    assert c.notes[0].startswith("read as Galaxy10")
    assert set(c.table.colnames) == {"ans", "ra", "dec", "redshift", "pxscale"}
    assert c.table["ra"].unit == u.deg and c.table["dec"].unit == u.deg
    assert c.images.bands == ("g", "r", "z") and c.images.shape == (3, 16, 16)
    rows = [7, 2, 29, 2, 0]  # unsorted, repeated: h5py needs increasing indices
    np.testing.assert_array_equal(c.images.get_many(rows), np.moveaxis(images[rows], 3, 1))
    sparse = [25, 0]  # far apart: read by fancy indexing, not one slice
    np.testing.assert_array_equal(c.images.get_many(sparse), np.moveaxis(images[sparse], 3, 1))
    assert any("display-stretched 8-bit RGB" in n for n in c.notes)
    # A worker process gets a copy that opens the file again.
    copy = pickle.loads(pickle.dumps(c.images))
    np.testing.assert_array_equal(copy.get(3), np.moveaxis(images[3], 2, 0))


def test_galaxy10_images_attached_to_another_table(tmp_path):
    images = write_galaxy10(tmp_path / "g10.h5", n=30)
    cat = write_csv(tmp_path / "mine.csv", 30)
    c = read_catalogue(cat, OpenOptions(cutouts=tmp_path / "g10.h5"))
    assert c.table.colnames == ["object_id", "mag"]  # only the images are attached
    np.testing.assert_array_equal(c.images.get(11), np.moveaxis(images[11], 2, 0))
    short = write_csv(tmp_path / "short.csv", 29)
    with pytest.raises(UserError, match=r"g10.h5 holds 30 cutouts but .*short.csv has 29 rows"):
        read_catalogue(short, OpenOptions(cutouts=tmp_path / "g10.h5"))


# ------------------------------------------------------------- path columns


def make_png_catalogue(tmp_path, n=12, big=(3, 8), missing=(), name="cat.csv"):
    """PNG files: 16x16 RGB (value = 10 * row in every pixel), 32x32 for rows in ``big``."""
    (tmp_path / "img").mkdir(exist_ok=True)
    files = []
    for i in range(n):
        size = 32 if i in big else 16
        rel = f"img/obj{i}.PNG" if i == 0 else f"img/obj{i}.png"  # suffix case ignored
        if i not in missing:
            write_png(tmp_path / rel, np.full((size, size, 3), 10 * i))
        files.append(rel)
    return write_csv(tmp_path / name, n, file=files)


def test_png_column_mixed_sizes_resampled_in_requested_order(tmp_path):
    cat = make_png_catalogue(tmp_path)
    c = read_catalogue(cat)
    assert c.images.shape == (3, 16, 16) and c.images.bands == ("R", "G", "B")
    got = c.images.get_many([8, 0, 5])
    assert got.shape == (3, 3, 16, 16) and got.dtype == np.float32
    np.testing.assert_allclose(got[0], 80, atol=1e-3)  # 32x32 resampled, values kept
    np.testing.assert_allclose(got[1], 0)
    np.testing.assert_allclose(got[2], 50)
    note = next(n for n in c.notes if n.startswith("cutouts: column 'file'"))
    assert "12 PNG files, resampled to 16x16 (sizes seen: 16x16, 32x32)" in note
    assert c.images.wcs(2) is None  # PNG: no WCS


def test_grey_jpeg_and_tiff_are_one_band(tmp_path):
    rng = np.random.default_rng(RNG_SEED)
    files = []
    for i in range(6):
        suffix = ".jpg" if i % 2 else ".TIFF"
        img = rng.integers(0, 255, (16, 16)).astype(np.uint8)
        Image.fromarray(img).save(tmp_path / f"o{i}{suffix}")
        files.append(f"o{i}{suffix}")
        if i == 2:
            tiff = img
    c = read_catalogue(write_csv(tmp_path / "cat.csv", 6, path=files))
    assert c.images.shape == (1, 16, 16) and c.images.bands == ("grey",)
    np.testing.assert_array_equal(c.images.get(2)[0], tiff)  # TIFF is lossless
    assert any("JPEG and TIFF files" in n or "TIFF and JPEG files" in n for n in c.notes)


def test_some_files_missing_give_nan_and_a_note(tmp_path):
    cat = make_png_catalogue(tmp_path, missing=(4, 9))
    c = read_catalogue(cat)
    got = c.images.get_many([4, 5, 9])
    assert np.isnan(got[0]).all() and np.isnan(got[2]).all() and np.isfinite(got[1]).all()
    note = next(n for n in c.notes if n.startswith("cutouts:"))
    assert "2 missing (first: " in note and "obj4.png" in note


def test_all_files_missing_is_an_error_naming_the_first_and_the_column(tmp_path):
    cat = make_png_catalogue(tmp_path, missing=tuple(range(12)))
    with pytest.raises(UserError, match=r"none of the 12 files of column 'file' exists "
                                        r"\(the first is .*obj0.PNG\)"):
        read_catalogue(cat)


def test_corrupt_image_file_is_a_user_error(tmp_path):
    cat = make_png_catalogue(tmp_path, n=4, big=())
    (tmp_path / "img" / "obj0.PNG").write_bytes(b"not a png")
    with pytest.raises(UserError, match="obj0.PNG .*cannot be read as an image"):
        read_catalogue(cat)


def test_two_path_columns_are_ambiguous_until_named(tmp_path):
    for i in range(5):
        write_png(tmp_path / f"a{i}.png", np.full((16, 16), i))
        write_png(tmp_path / f"b{i}.png", np.full((16, 16), 100 + i))
    cat = write_csv(tmp_path / "cat.csv", 5, thumb=[f"a{i}.png" for i in range(5)],
                    stamp=[f"b{i}.png" for i in range(5)])
    with pytest.raises(AmbiguousColumnsError) as err:
        read_catalogue(cat)
    assert err.value.roles == {"path": ["thumb", "stamp"]}
    assert "thumb" in err.value.columns and str(cat) == err.value.path
    c = read_catalogue(cat, OpenOptions(columns={"path": "stamp"}))
    np.testing.assert_array_equal(c.images.get(3), np.full((1, 16, 16), 103))
    with pytest.raises(UserError, match="no column 'nope' to use as cutout paths"):
        read_catalogue(cat, OpenOptions(columns={"path": "nope"}))
    with pytest.raises(UserError, match="column 'mag' holds float64 values, not file names"):
        read_catalogue(cat, OpenOptions(columns={"path": "mag"}))


def test_paths_relative_to_a_directory_given_as_cutouts(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    for i in range(4):
        write_png(folder / f"s{i}.png", np.full((16, 16), 7 * i))
    cat = write_csv(tmp_path / "cat.csv", 4, name=[f"s{i}.png" for i in range(4)])
    c = read_catalogue(cat, OpenOptions(cutouts=folder))
    np.testing.assert_array_equal(c.images.get_many([3, 1])[:, 0, 0, 0], [21, 7])
    assert "elsewhere" in c.images.origin


def test_lightcurve_fits_column_is_not_taken_for_cutouts(tmp_path):
    for i in range(3):
        lc = fits.BinTableHDU(Table({"TIME": np.arange(5.0), "PDCSAP_FLUX": np.ones(5),
                                     "PDCSAP_FLUX_ERR": np.ones(5), "SAP_FLUX": np.ones(5),
                                     "QUALITY": np.zeros(5, np.int32)}), name="LIGHTCURVE")
        lc.header.update(TELESCOP="Kepler", BJDREFI=2454833, BJDREFF=0.0, TIMESYS="TDB",
                         TIMEUNIT="d")
        primary = fits.PrimaryHDU()
        primary.header.update(TELESCOP="Kepler", KEPLERID=1000 + i, OBJECT=f"KIC {1000 + i}")
        fits.HDUList([primary, lc]).writeto(tmp_path / f"kplr{i}_llc.fits")
    cat = write_csv(tmp_path / "cat.csv", 3, lc_file=[f"kplr{i}_llc.fits" for i in range(3)])
    c = read_catalogue(cat)
    assert c.images is None
    assert not any(n.startswith("cutouts:") for n in c.notes)


# ------------------------------------------------------- multi-band FITS + WCS


def test_fits_one_hdu_per_band_named_by_filter_and_reordered(tmp_path):
    files = []
    for i in range(4):
        order = ["g", "r", "i"] if i != 2 else ["i", "g", "r"]  # row 2 stores bands in another order
        hdus = [fits.PrimaryHDU()]
        for band in order:
            hdu = fits.ImageHDU(np.full((16, 16), 10 * i + "gri".index(band), np.float32))
            hdu.header["FILTER"] = band
            hdus.append(hdu)
        hdus.append(fits.ImageHDU(np.ones((16, 16), np.float32), name="IVAR"))  # not a band
        fits.HDUList(hdus).writeto(tmp_path / f"o{i}.fits")
        files.append(f"o{i}.fits")
    c = read_catalogue(write_csv(tmp_path / "cat.csv", 4, fits_file=files))
    assert c.images.bands == ("g", "r", "i")
    got = c.images.get_many([2, 1])
    np.testing.assert_array_equal(got[0, :, 0, 0], [20, 21, 22])
    np.testing.assert_array_equal(got[1, :, 0, 0], [10, 11, 12])
    assert c.images.wcs(0) is None  # no WCS keywords


def test_fits_cube_per_object_with_band_keywords(tmp_path):
    files = []
    for i in range(3):
        hdu = fits.PrimaryHDU(np.full((2, 16, 16), i, np.float32))
        hdu.header["BAND1"], hdu.header["BAND2"] = "F200W", "F444W"
        hdu.writeto(tmp_path / f"c{i}.fits.gz")
        files.append(f"c{i}.fits.gz")
    c = read_catalogue(write_csv(tmp_path / "cat.csv", 3, cube=files))
    assert c.images.bands == ("F200W", "F444W") and c.images.shape == (2, 16, 16)
    np.testing.assert_array_equal(c.images.get(1), np.ones((2, 16, 16)))


def test_wcs_follows_resampling(tmp_path):
    """A star placed at a known sky position in a 32x32 file, resampled to the common
    16x16, is found by the corrected WCS where it lies on the sky."""
    ra0, dec0 = 150.1, 2.2
    files = []
    for i in range(5):
        size, scale = (32, 0.2) if i == 1 else (16, 0.4)
        header = tan_header(ra0, dec0, size, scale, crpix=[size / 2 + 0.3, size / 2 + 0.9])
        w = WCS(header)
        star = SkyCoord(ra0 * u.deg + 0.5 * u.arcsec, dec0 * u.deg - 0.3 * u.arcsec)
        x0, y0 = w.world_to_pixel(star)
        yy, xx = np.mgrid[:size, :size]
        sigma = 1.5 * (0.4 / scale)  # the same star in arcsec: wider in finer pixels
        data = np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * sigma**2)).astype(np.float32)
        fits.PrimaryHDU(data, header).writeto(tmp_path / f"w{i}.fits")
        files.append(f"w{i}.fits")
    c = read_catalogue(write_csv(tmp_path / "cat.csv", 5, file=files))
    assert c.images.shape == (1, 16, 16)
    assert any("resampled to 16x16 (sizes seen: 16x16, 32x32)" in n for n in c.notes)
    w_small = c.images.wcs(0)
    w_resampled = c.images.wcs(1)
    assert w_small.pixel_scale_matrix[1, 1] * 3600 == pytest.approx(0.4)
    assert w_resampled.pixel_scale_matrix[1, 1] * 3600 == pytest.approx(0.4)
    # The original 32x32 WCS: its pixel (2k + 0.5) is the resampled pixel k.
    original = WCS(fits.getheader(tmp_path / "w1.fits"))
    for k in [(0, 0), (7.0, 3.0), (15, 15)]:
        before = original.pixel_to_world(2 * k[0] + 0.5, 2 * k[1] + 0.5)
        after = w_resampled.pixel_to_world(*k)
        assert before.separation(after).to(u.arcsec).value < 1e-6
    # The star's centroid in the resampled cutout is where the WCS says it is.
    image = c.images.get(1)[0]
    yy, xx = np.mgrid[:16, :16]
    cx, cy = (image * xx).sum() / image.sum(), (image * yy).sum() / image.sum()
    found = w_resampled.pixel_to_world(cx, cy)
    star = SkyCoord(ra0 * u.deg + 0.5 * u.arcsec, dec0 * u.deg - 0.3 * u.arcsec)
    assert found.separation(star).to(u.arcsec).value < 0.05  # pixels are 0.4 arcsec


def test_rescale_wcs_keeps_sip_distortion():
    header = tan_header(10.0, -5.0, 40, 0.5)
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN-SIP", "DEC--TAN-SIP"
    header["A_ORDER"] = header["B_ORDER"] = 2
    header["A_2_0"], header["A_0_2"], header["B_1_1"] = 2e-4, -1e-4, 3e-4
    w = WCS(header)
    assert w.sip is not None
    for s in (0.5, 1.6):
        new = rescale_wcs(w, s, s)
        for x, y in [(0, 0), (33.0, 5.0), (39, 39)]:
            before = w.pixel_to_world(x, y)
            after = new.pixel_to_world((x + 0.5) * s - 0.5, (y + 0.5) * s - 0.5)
            assert before.separation(after).to(u.arcsec).value < 1e-6


# ----------------------------------------------------------------------- CLI


def test_info_prints_what_was_detected(tmp_path, capsys):
    cat = make_png_catalogue(tmp_path, missing=(6,))
    assert main(["info", str(cat)]) == 0
    out = capsys.readouterr().out
    assert "detected: cutouts: column 'file' of 12 PNG files, resampled to 16x16" in out
    assert "1 missing" in out
    assert "cutouts: 12 of 3 band(s) (R, G, B), 16x16 px, from column 'file' of cat.csv" in out

    write_galaxy10(tmp_path / "g10.h5", n=12)
    assert main(["info", str(cat), "--cutouts", str(tmp_path / "g10.h5")]) == 0
    out = capsys.readouterr().out
    assert "cutouts: 12 of 3 band(s) (g, r, z), 16x16 px, from g10.h5[images]" in out
