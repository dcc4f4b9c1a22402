"""Generate a corpus of broken and degenerate input files for the readers.

Nothing here is committed as a binary: the tests call :func:`make_broken_inputs` on a
temporary folder. Run it by hand to look at the files::

    python tests/data/make_broken_inputs.py DIR

Each case maps to ``(path, expected)``: ``expected`` is a fragment of the one-sentence
:class:`~astroexplorer.core.errors.UserError` the readers must raise (a regular
expression, matched with ``re.search``), or ``None`` when the file is degenerate but
valid and must load (NaN kept as NaN, unsorted light curves sorted on read, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Column, Table

__all__ = ["make_broken_inputs", "REFUSED", "LOADED"]

N_ROWS = 10


def _catalogue_table(n: int = N_ROWS, ids: np.ndarray | None = None) -> Table:
    """A small catalogue: ids, coordinates in degrees, a magnitude and a class."""
    rng = np.random.default_rng(1)
    table = Table()
    table["object_id"] = np.arange(100, 100 + n) if ids is None else ids
    table["ra"] = Column(rng.uniform(10, 11, n), unit="deg")
    table["dec"] = Column(rng.uniform(-1, 1, n), unit="deg")
    table["mag_r"] = Column(rng.uniform(17, 21, n), unit="mag")
    table["label"] = np.where(np.arange(n) % 2, "spiral", "elliptical")
    return table


def _lightcurves(ids: np.ndarray, points: int = 5) -> Table:
    """Long-format observations: ``points`` per id, in time order."""
    rng = np.random.default_rng(2)
    obs_ids = np.repeat(ids, points)
    time = np.tile(59000.0 + np.arange(points), len(ids))
    return Table({
        "object_id": obs_ids,
        "mjd": Column(time, unit="d"),
        "mag": Column(rng.normal(19, 0.1, obs_ids.size), unit="mag"),
        "mag_err": Column(np.full(obs_ids.size, 0.05), unit="mag"),
        "band": np.tile(["g", "r"], obs_ids.size)[: obs_ids.size],
    })


def _write_fits(path: Path, table: Table, cube: np.ndarray | None = None,
                lightcurves: Table | None = None) -> Path:
    """A catalogue FITS file as AstroExplorer writes them (CATALOGUE, CUTOUTS, LIGHTCURVES)."""
    hdus: list = [fits.PrimaryHDU(), fits.table_to_hdu(table)]
    hdus[1].name = "CATALOGUE"
    if cube is not None:
        hdus.append(fits.ImageHDU(cube.astype(np.float32), name="CUTOUTS"))
    if lightcurves is not None:
        lc = fits.table_to_hdu(lightcurves)
        lc.name = "LIGHTCURVES"
        hdus.append(lc)
    fits.HDUList(hdus).writeto(path, overwrite=True)
    return path


def _cube(n: int = N_ROWS) -> np.ndarray:
    return np.random.default_rng(3).normal(size=(n, 2, 8, 8)).astype(np.float32)


def _set_card(data: bytearray, hdu_start: int, keyword: str, value: int) -> None:
    """Overwrite the integer value of ``keyword`` in the header block at ``hdu_start``."""
    key = keyword.ljust(8).encode()
    pos = hdu_start
    while True:
        card = bytes(data[pos : pos + 80])
        if card.startswith(key):
            data[pos : pos + 80] = f"{keyword:<8}= {value:>20}".ljust(80).encode()
            return
        if card.startswith(b"END "):
            raise KeyError(keyword)
        pos += 80


def make_broken_inputs(out_dir: Path) -> dict[str, tuple[Path, str | None]]:
    """Write every broken / degenerate case into ``out_dir``.

    Returns
    -------
    dict
        Case name -> ``(path, expected)``; ``expected`` is a regular expression the
        UserError message must match, or None when the file must load.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cases: dict[str, tuple[Path, str | None]] = {}
    ids = np.arange(100, 100 + N_ROWS)

    # -- FITS structure ---------------------------------------------------------------
    good = _write_fits(out / "good.fits", _catalogue_table(), _cube(), _lightcurves(ids))
    cases["good_fits"] = (good, None)
    raw = good.read_bytes()

    p = out / "truncated.fits"
    p.write_bytes(raw[: len(raw) // 3])
    cases["truncated_fits"] = (p, "truncated")

    # The cube last: headers complete, the end of the cube's data missing.
    cube_last = _write_fits(out / "cube_last.fits", _catalogue_table(), _cube()).read_bytes()
    (out / "cube_last.fits").unlink()
    p = out / "truncated_in_data.fits"
    p.write_bytes(cube_last[:-1000])
    cases["truncated_in_data"] = (p, "truncated")

    p = out / "truncated_in_header.fits"
    p.write_bytes(cube_last[: 2880 * 4 + 1200])  # stops inside the cube's header
    cases["truncated_in_header"] = (p, "truncated")

    # A table header claiming ten times more rows than the file holds.
    single = out / "single_table.fits"
    Table(_catalogue_table()).write(single, overwrite=True)
    data = bytearray(single.read_bytes())
    single.unlink()
    _set_card(data, 2880, "NAXIS2", N_ROWS * 10)
    p = out / "header_lies.fits"
    p.write_bytes(bytes(data))
    cases["header_lies_about_size"] = (p, "truncated")

    p = out / "cube_mismatch.fits"
    _write_fits(p, _catalogue_table(), _cube(N_ROWS - 1))
    cases["cube_count_mismatch"] = (p, rf"\[HDU 2\] holds {N_ROWS - 1} cutouts for a catalogue "
                                       rf"of {N_ROWS} rows")

    p = out / "image_only.fits"
    fits.PrimaryHDU(np.zeros((4, 4), np.float32)).writeto(p)
    cases["fits_without_table"] = (p, "no table")

    p = out / "lightcurves_no_time.fits"
    lc = _lightcurves(ids)
    lc.remove_column("mjd")
    _write_fits(p, _catalogue_table(), lightcurves=lc)
    cases["lightcurves_without_time"] = (p, "LIGHTCURVES.*lacks")

    p = out / "garbage.fits"
    p.write_bytes(b"SIMPLE  =                    T" + b"\x00garbage" * 50)
    cases["garbage_after_simple"] = (p, "garbage.fits")

    # -- empty and odd tables ---------------------------------------------------------
    p = out / "empty.csv"
    p.write_text("object_id,ra,dec\n")
    cases["empty_csv"] = (p, "no rows")

    p = out / "zero_bytes.csv"
    p.write_bytes(b"")
    cases["zero_byte_csv"] = (p, "empty")

    p = out / "empty.fits"
    Table({"object_id": np.zeros(0, int), "ra": np.zeros(0)}).write(p)
    cases["empty_fits"] = (p, "no rows")

    p = out / "latin1.csv"
    p.write_bytes("name,mag\nB\xe9ta Cen,0.6\n\xc5lpha,1.0\n".encode("latin-1"))
    cases["non_utf8_csv"] = (p, "not UTF-8")

    p = out / "ragged.csv"
    p.write_text("id,ra,dec\n1,10.0,-2.0\n2,10.1\n3,10.2,-2.2,7\n")
    cases["ragged_csv"] = (p, "not a consistent table")

    p = out / "cut_off.vot"
    p.write_text('<?xml version="1.0"?>\n<VOTABLE version="1.4"><RESOURCE><TABLE>'
                 '<FIELD name="a" datatype="double"/><DATA><TABLEDATA><TR><TD>1')
    cases["cut_off_votable"] = (p, "could not be read as table")

    p = out / "not_hdf5.h5"
    p.write_bytes(b"this is not an HDF5 file")
    cases["hdf5_suffix_but_not_hdf5"] = (p, "could not be read as table")

    p = out / "names_only.csv"
    p.write_text("name,class\nVega,star\nM31,galaxy\n3C 273,qso\n")
    cases["no_numeric_column"] = (p, None)  # opened, as TOPCAT does; nothing to plot

    p = out / "missing_paths.csv"
    p.write_text("id,ra,dec,path\n"
                 + "".join(f"{i},{10 + i / 10},{-1 + i / 10},cutouts/obj{i}.fits\n"
                           for i in range(5)))
    cases["path_column_to_missing_files"] = (p, "none of the 5 files of column 'path' exists")

    # Some cutout files present, some not: opens, the missing ones are NaN and reported.
    p = out / "some_missing_paths.csv"
    (out / "stamps").mkdir(exist_ok=True)
    for i in (0, 2):
        fits.PrimaryHDU(np.full((8, 8), float(i), np.float32)).writeto(out / "stamps" / f"s{i}.fits")
    p.write_text("id,ra,dec,path\n"
                 + "".join(f"{i},{10 + i / 10},{-1 + i / 10},stamps/s{i}.fits\n" for i in range(4)))
    cases["path_column_some_missing"] = (p, None)

    # Light curves given as a directory of Kepler/TESS files, none of which matches a row.
    p = out / "kepler_targets.csv"
    p.write_text("kepid,ra,dec\n1001,290.1,44.5\n1002,290.2,44.6\n")
    lc_dir = out / "lightcurves_folder_without_fits"
    lc_dir.mkdir(exist_ok=True)
    (lc_dir / "README.txt").write_text("no light curves here")
    cases["kepler_target_list"] = (p, None)

    # -- values -----------------------------------------------------------------------
    table = _catalogue_table()
    for name in ("ra", "dec", "mag_r"):
        table[name] = np.where(np.arange(N_ROWS) % 2, np.nan, np.inf) * table[name].unit
    cube = np.full((N_ROWS, 2, 8, 8), np.nan, np.float32)
    cube[::2] = np.inf
    lc = _lightcurves(ids)
    lc["mag"][:] = np.nan
    lc["mjd"][::3] = np.inf
    cases["nan_inf_everywhere_fits"] = (
        _write_fits(out / "nan_inf.fits", table, cube, lc), None)

    p = out / "nan_inf.csv"
    p.write_text("id,ra,dec,mag\n1,nan,inf,-inf\n2,NaN,-inf,nan\n3,inf,nan,inf\n")
    cases["nan_inf_everywhere_csv"] = (p, None)

    dup = ids.copy()
    dup[5] = dup[4]  # rows 4 and 5 share an id
    p = out / "duplicate_ids.fits"
    _write_fits(p, _catalogue_table(ids=dup), _cube(), _lightcurves(ids))
    cases["duplicate_ids"] = (p, None)

    lc = _lightcurves(ids)
    lc = lc[(lc["object_id"] != 101) | (lc["mjd"] == lc["mjd"].min())]  # object 101: one point
    p = out / "one_point_lightcurve.fits"
    cases["one_point_lightcurve"] = (_write_fits(p, _catalogue_table(), lightcurves=lc), None)

    lc = _lightcurves(ids)
    lc = lc[np.random.default_rng(4).permutation(len(lc))]
    p = out / "unsorted_lightcurves.fits"
    cases["unsorted_lightcurves"] = (_write_fits(p, _catalogue_table(), lightcurves=lc), None)

    # -- not a file -------------------------------------------------------------------
    p = out / "a_folder.fits"
    p.mkdir(exist_ok=True)
    cases["directory"] = (p, "is a directory")
    cases["missing_file"] = (out / "does_not_exist.fits", "no such file")
    return cases


#: Names of the cases that must be refused / loaded (see :func:`make_broken_inputs`).
REFUSED = ("truncated_fits", "truncated_in_data", "truncated_in_header", "header_lies_about_size",
           "cube_count_mismatch", "fits_without_table", "lightcurves_without_time",
           "garbage_after_simple", "empty_csv", "zero_byte_csv", "empty_fits", "non_utf8_csv",
           "ragged_csv", "cut_off_votable", "hdf5_suffix_but_not_hdf5", "directory",
           "missing_file", "path_column_to_missing_files")
LOADED = ("good_fits", "no_numeric_column", "path_column_some_missing", "kepler_target_list",
          "nan_inf_everywhere_fits", "nan_inf_everywhere_csv", "duplicate_ids",
          "one_point_lightcurve", "unsorted_lightcurves")


def main(argv: list[str] | None = None) -> int:
    """Write the corpus to the folder given on the command line and list it."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python tests/data/make_broken_inputs.py DIR", file=sys.stderr)
        return 2
    for name, (path, expected) in make_broken_inputs(Path(argv[0])).items():
        print(f"{name:32s} {path}  ->  {'refused: ' + expected if expected else 'loads'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
