"""Exports read by STILTS (TOPCAT's engine): values, nulls, units and descriptions.

CI installs STILTS (packaging/install-system-deps.sh, Debian package ``stilts``);
the tests skip only where it is not on PATH. Each test starts one JVM (~1 s).
"""

import csv
import io
import shutil
import subprocess

import astropy.units as u
import numpy as np
import pytest

from astroexplorer.core import Embedding, RowSet
from astroexplorer.io import export_selection
from astroexplorer.io.export import selection_table
from tests.helpers import make_small_catalogue
from tests.io.test_export_formats import LONG_DESCRIPTION, N, rich_catalogue

STILTS = shutil.which("stilts")
pytestmark = pytest.mark.skipif(STILTS is None, reason="stilts is not installed "
                                "(Debian package stilts; packaging/install-system-deps.sh)")
SUFFIX = {"fits": ".fits", "votable": ".vot", "csv": ".csv"}


def stilts(*args: str, cwd) -> str:
    proc = subprocess.run([STILTS, *args], capture_output=True, text=True, timeout=60, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def stilts_csv(path, fmt: str, *extra: str) -> list[dict[str, str]]:
    """The table STILTS reads from ``path`` (format ``fmt``), as CSV rows."""
    text = stilts("tpipe", f"in={path}", f"ifmt={fmt}", *extra, "ofmt=csv", "out=-",
                  cwd=path.parent)
    return list(csv.DictReader(io.StringIO(text)))


def exported(tmp_path, fmt: str):
    """The rich catalogue (masked int/float/str/bool, NaN, units, descriptions, an
    (N, 3) array column) with an embedding, exported to ``fmt``; and its table."""
    cat = rich_catalogue()
    emb = Embedding(np.random.default_rng(4).normal(size=(N, 4)), "simclr")
    rows = RowSet(range(N))
    out = export_selection(cat, rows, tmp_path / f"sel{SUFFIX[fmt]}", emb, description="stilts")
    return out, selection_table(cat, rows.rows, emb)


def check_value(name: str, text: str, value, is_masked: bool) -> None:
    """One cell as STILTS printed it against the source value."""
    if is_masked:
        assert text in ("", "NaN"), (name, text)
    elif isinstance(value, (bool, np.bool_)):
        assert text == ("true" if value else "false"), (name, text)
    elif isinstance(value, (int, np.integer)):
        assert int(text) == int(value), (name, text)
    elif isinstance(value, (float, np.floating)):
        if np.isnan(value):
            assert text in ("", "NaN"), (name, text)
        elif np.asarray(value).dtype == np.float32:
            assert np.float32(float(text)) == value, (name, text)
        else:
            assert float(text) == float(value), (name, text)
    else:
        assert text == str(value), (name, text)


@pytest.mark.parametrize("fmt", ["fits", "votable"])
def test_stilts_reads_the_values_and_nulls(tmp_path, fmt):
    out, table = exported(tmp_path, fmt)
    rows = stilts_csv(out, fmt)
    assert len(rows) == N and list(rows[0]) == table.colnames
    for i, row in enumerate(rows):
        for name in table.colnames:
            col = table[name]
            mask = np.ma.getmaskarray(col)[i]
            if col.ndim == 2:
                cell = row[name]
                if mask.all():  # a whole array missing: null or NaNs
                    assert cell == "" or set(cell.strip("()").split(", ")) == {"NaN"}
                    continue
                values = [float(v) for v in cell.strip("()").split(", ")]
                np.testing.assert_array_equal(np.float32(values), np.asarray(col[i]))
            else:
                check_value(name, row[name], np.asarray(col)[i], bool(mask))
    # The int32 minimum is data, not the null (TNULL / VOTable null is another value).
    assert rows[1]["nobs"] == str(np.iinfo(np.int32).min) and rows[3]["nobs"] == ""


@pytest.mark.parametrize("fmt", ["fits", "votable"])
def test_stilts_reports_units_descriptions_and_types(tmp_path, fmt):
    out, table = exported(tmp_path, fmt)
    meta = {r["Name"]: r for r in stilts_csv(out, fmt, "cmd=meta")}
    assert list(meta) == table.colnames
    for name in table.colnames:
        unit = table[name].unit
        if unit is None:
            assert meta[name]["Units"] == "", name
        else:
            assert u.Unit(meta[name]["Units"]) == unit, name
        assert meta[name]["Description"] == (table[name].description or ""), name
    assert meta["ra"]["Description"] == LONG_DESCRIPTION and meta["ra"]["Units"] == "deg"
    assert meta["good"]["Class"] == "Boolean"
    assert meta["nobs"]["Class"] == "Integer" and meta["flag"]["Class"] == "Short"
    assert meta["flux"]["Class"] == "float[]" and meta["flux"]["Shape"] == "(3)"
    assert meta["embedding"]["Class"] == "float[]" and meta["embedding"]["Shape"] == "(4)"


def test_stilts_reads_the_csv_values(tmp_path):
    out, table = exported(tmp_path, "csv")
    rows = stilts_csv(out, "csv")
    assert len(rows) == N
    for i, row in enumerate(rows):
        for name in ("object_id", "ra", "nobs", "flag", "mag", "name", "good"):
            check_value(name, row[name], np.asarray(table[name])[i],
                        bool(np.ma.getmaskarray(table[name])[i]))
        for k in range(3):
            check_value(f"flux_{k}", row[f"flux_{k}"], np.asarray(table["flux"])[i, k],
                        bool(np.ma.getmaskarray(table["flux"])[i, k]))
        check_value("embedding_3", row["embedding_3"], np.asarray(table["embedding"])[i, 3],
                    False)


def test_stilts_finds_the_light_curves_after_per_object_cutouts(tmp_path):
    cat = make_small_catalogue()
    rows = [1, 2, 4, 8, 13]
    out = export_selection(cat, RowSet(rows), tmp_path / "sel.fits", cutout_layout="per_object")
    # HDUs: primary, CATALOGUE, 5 CUTOUT_<row> images, LIGHTCURVES (index 7).
    text = stilts("tpipe", f"in={out.name}#7", "omode=count", cwd=tmp_path)
    n_obs = sum(5 + r % 4 for r in rows)  # see make_small_catalogue
    assert text.split() == ["columns:", "6", "rows:", str(n_obs)]
