"""Light curves in the formats astronomers bring: PLAsTiCC, ZTF, generic tables,
Kepler/TESS per-object FITS (end to end through read_catalogue)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astroexplorer.core.errors import AmbiguousColumnsError, UserError
from astroexplorer.io import OpenOptions, read_catalogue
from astroexplorer.io.detect import resolve_lightcurve_columns

RNG_SEED = 3


def _plasticc(tmp_path, n_obj=4, name="training_set"):
    rng = np.random.default_rng(RNG_SEED)
    meta = Table({"object_id": np.array([615, 713, 730, 745][:n_obj]),
                  "ra": rng.uniform(0, 360, n_obj), "decl": rng.uniform(-60, 0, n_obj),
                  "target": np.array([92, 88, 42, 90][:n_obj])})
    rows = []
    for k, oid in enumerate(meta["object_id"]):
        m = 6 + k  # object 0: 6 points, one per passband
        mjd = rng.uniform(59580, 59700, m)
        for j in range(m):
            rows.append((int(oid), mjd[j], j % 6, rng.normal(100, 10), 5.0, int(j % 2)))
    obs = Table(rows=rows, names=("object_id", "mjd", "passband", "flux", "flux_err", "detected"))
    obs = obs[rng.permutation(len(obs))]  # unsorted times on disk
    meta.write(tmp_path / f"{name}_metadata.csv")
    obs.write(tmp_path / f"{name}.csv")
    return tmp_path / f"{name}_metadata.csv", tmp_path / f"{name}.csv", obs


def test_plasticc_pair_found_beside_metadata_with_passband_names(tmp_path):
    meta_path, _, obs = _plasticc(tmp_path)
    cat = read_catalogue(meta_path)
    assert len(cat) == 4 and cat.id_column == "object_id"
    lc = cat.lightcurves.get(1)
    assert len(lc) == 7 and np.all(np.diff(lc.time) >= 0)
    assert set(lc.bands) == {"u", "g", "r", "i", "z", "y"}
    assert not lc.is_magnitude and lc.value_unit == "FLUXCAL"
    expected = np.sort(np.asarray(obs["mjd"][obs["object_id"] == 713]))
    assert np.allclose(lc.time, expected)
    note = [n for n in cat.notes if n.startswith("light curves")][0]
    assert "PLAsTiCC convention in training_set.csv" in note
    assert "(4 objects, 6 passbands u,g,r,i,z,y, flux in FLUXCAL)" in note


def test_plasticc_observations_opened_directly_give_one_row_per_object(tmp_path):
    _, obs_path, obs = _plasticc(tmp_path)
    cat = read_catalogue(obs_path)
    assert sorted(cat.table["object_id"]) == [615, 713, 730, 745]
    assert len(cat) == 4 and cat.id_column == "object_id"
    # rows in order of first appearance in the file
    _, first = np.unique(obs["object_id"], return_index=True)
    assert list(cat.table["object_id"]) == list(np.unique(obs["object_id"])[np.argsort(first)])
    row = list(cat.table["object_id"]).index(730)
    assert cat.table["n_points"][row] == 8
    assert cat.table["bands"][row] == "u,g,r,i,z,y"
    sel = obs["object_id"] == 730
    assert cat.table["flux_median_u"][row] == pytest.approx(
        np.median(obs["flux"][sel & (obs["passband"] == 0)]))
    assert cat.table["time_span"][row] == pytest.approx(np.ptp(obs["mjd"][sel]))
    assert str(cat.table["time_span"].unit) == "d"
    assert len(cat.lightcurves.get(row)) == 8
    assert any("opened directly: one row per object" in n for n in cat.notes)


def _ztf(tmp_path, with_flux=False):
    rng = np.random.default_rng(RNG_SEED)
    n = 12
    t = Table({"oid": np.repeat([633207400004730, 633207400004731], n // 2),
               "mjd": rng.uniform(58300, 58400, n), "mag": rng.normal(18, 0.2, n),
               "magerr": np.full(n, 0.05), "filtercode": np.tile(["zg", "zr", "zi"], n // 3),
               "ra": np.repeat([150.1, 150.2], n // 2), "dec": np.repeat([2.2, 2.3], n // 2)})
    t["mag"][3] = np.nan
    if with_flux:
        t["flux"] = 10 ** (-0.4 * (t["mag"] - 23.9))
    path = tmp_path / "ztf_lightcurves_download.csv"
    t.write(path)
    return path, t


def test_ztf_csv_opened_directly_keeps_magnitudes_and_filtercodes(tmp_path):
    path, t = _ztf(tmp_path)
    cat = read_catalogue(path)
    assert len(cat) == 2 and cat.id_column == "oid"
    assert list(cat.table["n_points"]) == [6, 6]
    assert cat.table["ra"][1] == pytest.approx(150.2)
    lc = cat.lightcurves.get(0)
    assert lc.is_magnitude and lc.value_unit == "mag" and lc.time_format == "mjd"
    assert set(lc.bands) == {"zg", "zr", "zi"}
    assert np.isnan(lc.value).sum() == 1  # NaN kept as data
    # medians ignore the NaN point
    sel = (t["oid"] == t["oid"][0]) & (t["filtercode"] == t["filtercode"][3])
    assert cat.table[f"mag_median_{t['filtercode'][3]}"][0] == pytest.approx(
        np.nanmedian(t["mag"][sel]))
    assert any("ZTF convention" in n and "magnitudes in mag" in n for n in cat.notes)


def test_mag_and_flux_is_ambiguous_until_the_user_says(tmp_path):
    path, _ = _ztf(tmp_path, with_flux=True)
    with pytest.raises(AmbiguousColumnsError) as info:
        read_catalogue(path)
    assert info.value.roles == {"value": ["mag", "flux"]}
    assert str(path) in str(info.value)
    cat = read_catalogue(path, OpenOptions(columns={"value": "flux"}))
    lc = cat.lightcurves.get(0)
    assert not lc.is_magnitude and lc.value_name == "flux"
    assert np.all(np.isnan(lc.error))  # no flux error column: magerr is not taken for it


def test_separate_table_without_time_column_needs_mapping(tmp_path):
    cat_path = tmp_path / "objects.csv"
    Table({"object_id": [1, 2], "ra": [10.0, 11.0], "dec": [1.0, 2.0]}).write(cat_path)
    lc_path = tmp_path / "obs.ecsv"
    lc = Table({"object_id": [1, 1, 2, 1], "epoch": [3.0, 1.0, 5.0, 2.0],
                "mag": [17.0, 17.5, 18.0, 17.2], "mag_err": [0.1, 0.1, 0.1, 0.1]})
    lc["epoch"].unit = "d"
    lc.write(lc_path)
    with pytest.raises(AmbiguousColumnsError) as info:
        read_catalogue(cat_path, OpenOptions(lightcurves=lc_path))
    assert info.value.roles == {"time": []} and "epoch" in info.value.columns
    cat = read_catalogue(cat_path, OpenOptions(lightcurves=lc_path, columns={"time": "epoch"}))
    got = cat.lightcurves.get(0)
    assert list(got.time) == [1.0, 2.0, 3.0] and list(got.value) == [17.5, 17.2, 17.0]
    assert got.time_format == "epoch"
    with pytest.raises(ValueError):
        got.to_time()  # "epoch" has no known zero point
    with pytest.raises(AmbiguousColumnsError):
        read_catalogue(cat_path, OpenOptions(lightcurves=lc_path, columns={"time": "nope"}))


def test_lightcurves_fits_beside_catalogue_duplicates_and_single_points(tmp_path):
    cat_path = tmp_path / "field.csv"
    Table({"name": ["a", "b", "a", "c"], "ra": [1.0, 2, 3, 4]}).write(cat_path)
    lc = Table({"name": ["b", "a", "a", "zz"], "jd": [2459000.5, 2459001.5, 2459000.5, 1.0],
                "flux": [1.0, 2.0, 3.0, 4.0]})
    lc["flux"].unit = "mJy"
    lc.write(tmp_path / "field_lightcurves.fits")
    cat = read_catalogue(cat_path)
    assert cat.lightcurves.origin == "field_lightcurves.fits"
    assert list(cat.lightcurves.get(0).value) == [3.0, 2.0]  # sorted by time
    one = cat.lightcurves.get(1)
    assert len(one) == 1 and one.value_unit == "mJy" and not one.is_magnitude
    assert len(cat.lightcurves.get(2)) == 0  # duplicate id: first row only
    t = one.to_time()
    assert t.scale == "tdb" and abs((t.utc.jd[0] - 2459000.5) * 86400) < 1e-3
    note = [n for n in cat.notes if n.startswith("light curves")][0]
    assert "beside field.csv" in note and "1 rows repeat an earlier row's id (rows 2)" in note
    assert "1 catalogue rows without observations" in note  # row 3, "c"


def test_single_object_table_without_ids(tmp_path):
    path = tmp_path / "star.csv"
    Table({"hjd": [2.0, 1.0, 3.0], "mag": [12.0, 12.1, 11.9]}).write(path)
    cat = read_catalogue(path)
    assert len(cat) == 1 and cat.table["object"][0] == "star" and cat.table["n_points"][0] == 3
    assert list(cat.lightcurves.get(0).time) == [1.0, 2.0, 3.0]


def test_plain_catalogue_with_time_and_mag_still_opens_as_before(tmp_path):
    path = tmp_path / "transients.csv"
    Table({"object_id": [1, 2, 3], "mjd": [1.0, 2, 3], "mag": [17.0, 18, 19]}).write(path)
    cat = read_catalogue(path)
    assert cat.table.colnames == ["object_id", "mjd", "mag"] and cat.lightcurves is None


def test_missing_or_unmatched_lightcurve_tables_are_user_errors(tmp_path):
    cat_path = tmp_path / "objects.csv"
    Table({"object_id": [1, 2]}).write(cat_path)
    with pytest.raises(UserError, match="nothere.csv: no such light-curve file"):
        read_catalogue(cat_path, OpenOptions(lightcurves=tmp_path / "nothere.csv"))
    other = tmp_path / "other.csv"
    Table({"object_id": [7, 8], "mjd": [1.0, 2.0], "mag": [1.0, 2.0]}).write(other)
    with pytest.raises(UserError, match="none of its ids"):
        read_catalogue(cat_path, OpenOptions(lightcurves=other))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(UserError, match="empty"):
        read_catalogue(cat_path, OpenOptions(lightcurves=empty))


def test_detection_prefers_plasticc_flux_and_ztf_fid_names():
    cols = resolve_lightcurve_columns(
        ["object_id", "mjd", "passband", "flux", "flux_err", "detected"], "x.csv")
    assert (cols.convention, cols.value, cols.error, cols.flux_unit) == \
        ("plasticc", "flux", "flux_err", "FLUXCAL")
    assert cols.band_names[5] == "y"
    cols = resolve_lightcurve_columns(["oid", "mjd", "mag", "magerr", "fid"], "z.csv")
    assert (cols.convention, cols.id, cols.band_names[2]) == ("ztf", "oid", "zr")
    with pytest.raises(AmbiguousColumnsError) as info:
        resolve_lightcurve_columns(["mjd", "mag"], "x.csv", require_id=True)
    assert info.value.roles == {"id": []}


# -- Kepler / TESS ------------------------------------------------------------------

def _kepler_file(path, kepid=11904151, telescope="Kepler", n=10, all_nan_pdcsap=False):
    rng = np.random.default_rng(kepid % 1000)
    primary = fits.PrimaryHDU()
    h = primary.header
    h["TELESCOP"] = telescope
    h["OBJECT"] = f"{'KIC' if telescope == 'Kepler' else 'TIC'} {kepid}"
    h["KEPLERID" if telescope == "Kepler" else "TICID"] = kepid
    h["RA_OBJ"], h["DEC_OBJ"] = 285.6794, 50.2413
    h["KEPMAG" if telescope == "Kepler" else "TESSMAG"] = 10.96
    time = np.linspace(120.5, 121.5, n)[::-1].copy()  # unsorted on purpose
    time[2] = np.nan
    flux = rng.normal(5000, 5, n)
    quality = np.zeros(n, dtype=np.int32)
    quality[4] = 128
    pdc = np.full(n, np.nan) if all_nan_pdcsap else flux
    cols = [fits.Column("TIME", "D", unit="BJD - 2454833", array=time),
            fits.Column("SAP_FLUX", "E", unit="e-/s", array=flux + 100),
            fits.Column("SAP_FLUX_ERR", "E", unit="e-/s", array=np.full(n, 3.0)),
            fits.Column("PDCSAP_FLUX", "E", unit="e-/s", array=pdc),
            fits.Column("PDCSAP_FLUX_ERR", "E", unit="e-/s", array=np.full(n, 2.0)),
            fits.Column("QUALITY", "J", array=quality)]
    lc = fits.BinTableHDU.from_columns(cols, name="LIGHTCURVE")
    ref = (2454833, 0.0) if telescope == "Kepler" else (2457000, 0.0)
    for hdr in (lc.header,):
        hdr["TELESCOP"] = telescope
        hdr["BJDREFI"], hdr["BJDREFF"] = ref
        hdr["TIMESYS"], hdr["TIMEUNIT"] = "TDB", "d"
    fits.HDUList([primary, lc]).writeto(path)
    return time, flux, quality


def test_kepler_file_opened_directly_masks_quality_and_converts_time(tmp_path):
    path = tmp_path / "kplr011904151-2009131105131_llc.fits"
    time, flux, quality = _kepler_file(path)
    cat = read_catalogue(path)
    assert len(cat) == 1 and cat.id_column == "KEPLERID" and cat.table["KEPLERID"][0] == 11904151
    assert str(cat.table["RA_OBJ"].unit) == "deg" and str(cat.table["KEPMAG"].unit) == "mag"
    lc = cat.lightcurves.get(0)
    keep = (quality == 0) & np.isfinite(time)
    assert len(lc) == keep.sum() == 8
    assert np.all(np.diff(lc.time) > 0)
    assert np.allclose(np.sort(lc.value), np.sort(flux[keep].astype(np.float32)))
    assert lc.time_format == "bkjd" and lc.time_offset_jd == 2454833.0 and lc.value_unit == "e-/s"
    t = lc.to_time()
    assert t.scale == "tdb"
    assert np.allclose((t.jd1 - 2454833.0) + t.jd2, lc.time, atol=1e-9)
    assert any("BKJD = BJD - 2454833 TDB" in n and "2 masked" in n for n in cat.notes)


def test_kepler_light_curve_exported_and_read_back_keeps_its_zero_point(tmp_path):
    from astroexplorer.core import RowSet
    from astroexplorer.io import export_selection

    path = tmp_path / "kplr011904151-2009131105131_llc.fits"
    _kepler_file(path)
    lc = read_catalogue(path).lightcurves.get(0)
    out = export_selection(read_catalogue(path), RowSet([0]), tmp_path / "export.fits")
    back = read_catalogue(out).lightcurves.get(0)
    assert back.time_format == "bkjd" and back.time_offset_jd == 2454833.0
    np.testing.assert_array_equal(back.time, lc.time)
    assert np.allclose(back.to_time().jd, lc.to_time().jd, rtol=0, atol=1e-9)
    assert back.to_time().scale == "tdb"


def test_tess_directory_matched_by_ticid_and_sap_fallback(tmp_path):
    folder = tmp_path / "tess"
    folder.mkdir()
    _kepler_file(folder / "a.fits", kepid=25155310, telescope="TESS", all_nan_pdcsap=True)
    _kepler_file(folder / "b.fits", kepid=307210830, telescope="TESS")
    (folder / "notes.txt").write_text("not a light curve")
    cat_path = tmp_path / "targets.csv"
    Table({"tic": [307210830, 25155310, 99], "ra": [1.0, 2.0, 3.0]}).write(cat_path)
    cat = read_catalogue(cat_path, OpenOptions(lightcurves=folder))
    src = cat.lightcurves
    assert src.get(0).value_name == "PDCSAP_FLUX"
    sap = src.get(1)
    assert sap.value_name == "SAP_FLUX" and sap.time_format == "btjd"
    assert sap.to_time().tdb.jd[0] == pytest.approx(2457000 + sap.time[0], abs=1e-8)
    assert len(src.get(2)) == 0
    assert src.n_points == 20 and src.bands == ("TESS",)
    assert any("matched by tic" in n and "2 of 3 rows" in n for n in cat.notes)
    empty = tmp_path / "none"
    empty.mkdir()
    with pytest.raises(UserError, match="holds no Kepler/TESS light-curve FITS"):
        read_catalogue(cat_path, OpenOptions(lightcurves=empty))
    other = tmp_path / "other"
    other.mkdir()
    _kepler_file(other / "c.fits", kepid=1234, telescope="TESS")
    with pytest.raises(UserError, match="none of its 1 light-curve files matches"):
        read_catalogue(cat_path, OpenOptions(lightcurves=other))


def test_kepler_path_column_detected_and_named(tmp_path):
    (tmp_path / "lc").mkdir()
    _kepler_file(tmp_path / "lc" / "k1.fits", kepid=1)
    _kepler_file(tmp_path / "lc" / "k2.fits", kepid=2)
    cat_path = tmp_path / "cat.csv"
    Table({"kepid": [1, 2, 3], "file": ["lc/k1.fits", "lc/k2.fits", "lc/gone.fits"],
           "label": ["x", "y", "z"]}).write(cat_path)
    cat = read_catalogue(cat_path)
    assert len(cat.lightcurves.get(1)) == 8 and len(cat.lightcurves.get(2)) == 0
    assert any("paths in column file" in n and "1 missing" in n for n in cat.notes)
    again = read_catalogue(cat_path, OpenOptions(columns={"lc_path": "file"}))
    assert again.lightcurves.get(0).time_offset_jd == 2454833.0
    with pytest.raises(AmbiguousColumnsError):
        read_catalogue(cat_path, OpenOptions(columns={"lc_path": "label_x"}))
    Table({"kepid": [3], "file": ["lc/gone.fits"]}).write(tmp_path / "bad.csv")
    with pytest.raises(UserError, match="none of the light-curve files in column file exists"):
        read_catalogue(tmp_path / "bad.csv", OpenOptions(columns={"lc_path": "file"}))


def test_info_prints_what_was_detected(tmp_path, capsys):
    from astroexplorer.cli import main

    meta_path, _, _ = _plasticc(tmp_path)
    assert main(["info", str(meta_path)]) == 0
    out = capsys.readouterr().out
    assert "detected: light curves: PLAsTiCC convention in training_set.csv" in out
    assert "(4 objects, 6 passbands u,g,r,i,z,y, flux in FLUXCAL)" in out
    assert f"light curves: 4 rows, {6 + 7 + 8 + 9} points" in out


def test_hdf5_table_given_and_fits_observations_opened_directly(tmp_path):
    path, t = _ztf(tmp_path)
    t.write(tmp_path / "obs.h5", path="lightcurves")
    cat_path = tmp_path / "two.ecsv"
    Table({"oid": np.unique(t["oid"])[::-1], "ra": [1.0, 2.0]}).write(cat_path)
    cat = read_catalogue(cat_path, OpenOptions(lightcurves=tmp_path / "obs.h5"))
    assert cat.id_column == "oid" and list(cat.lightcurves.counts()) == [6, 6]
    assert cat.lightcurves.get(0).bands and cat.lightcurves.origin == "obs.h5"
    t.write(tmp_path / "obs.fits")
    direct = read_catalogue(tmp_path / "obs.fits")
    assert len(direct) == 2 and direct.lightcurves.get(1).is_magnitude
    assert any("ZTF convention in obs.fits opened directly" in n for n in direct.notes)


def test_catalogue_without_id_column_asks_for_one(tmp_path):
    cat_path = tmp_path / "noid.csv"
    Table({"key": [7, 8], "ra": [1.0, 2.0]}).write(cat_path)
    lc = tmp_path / "obs.csv"
    Table({"object_id": [8, 8, 7], "mjd": [1.0, 2.0, 3.0], "mag": [1.0, 2.0, 3.0]}).write(lc)
    with pytest.raises(AmbiguousColumnsError) as info:
        read_catalogue(cat_path, OpenOptions(lightcurves=lc))
    assert info.value.roles == {"id": []} and info.value.path == str(cat_path)
    cat = read_catalogue(cat_path, OpenOptions(lightcurves=lc, columns={"id": "key"}))
    assert list(cat.lightcurves.counts()) == [1, 2]
