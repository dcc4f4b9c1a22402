"""End to end: the real command line in subprocesses, demo -> embed -> project -> export."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from tests.helpers import fitsverify_errors


def cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "astroexplorer", *map(str, args)],
                          capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"astroexplorer {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    lines = cli("demo", "--out", out, "--n-survey", 240).stdout.split()
    paths = {p.split("/")[-1].split("_n")[0].removesuffix(".fits"): p for p in lines}
    assert set(paths) == {"simulated_survey", "hubble_xdf"}
    return paths


def test_info_reports_what_was_detected(demo):
    out = cli("info", demo["simulated_survey"]).stdout
    assert "rows: 240" in out
    assert "cutouts: 240 of 3 band(s) (g, r, z), 64x64 px" in out
    assert "light curves: 240 rows" in out and "band(s) g, i, r" in out
    assert "ra: float64 [deg]" in out
    xdf = cli("info", demo["hubble_xdf"]).stdout
    assert "cutouts:" in xdf and "48x48" in xdf and "light curves: none" in xdf


def test_chain_embed_project_export_reads_back(demo, tmp_path):
    survey = demo["simulated_survey"]
    emb = tmp_path / "emb.npy"
    cli("embed", survey, "--method", "simclr", "--epochs", 1, "--dim", 16, "--device", "cpu",
        "--out", emb, "--quiet")
    vectors = np.load(emb)
    assert vectors.shape == (240, 16) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    xy = tmp_path / "xy.npy"
    cli("project", emb, "--method", "pca", "--out", xy, "--quiet")
    assert np.load(xy).shape == (240, 2)
    out = tmp_path / "spirals.fits"
    expr = 'morphology == "spiral" & true_mag_r < 21'
    res = cli("export", survey, "--rows", expr, "--embedding", emb, "--embedding-method", "simclr",
              "--projection", xy, "--projection-method", "pca", "--out", out)
    assert fitsverify_errors(out) == 0
    source = Table.read(survey, hdu="CATALOGUE")
    expected = np.flatnonzero((source["morphology"] == "spiral") & (source["true_mag_r"] < 21))
    assert f"{len(expected)} rows" in res.stdout and len(expected) > 0
    with fits.open(out) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "CATALOGUE", "CUTOUTS", "LIGHTCURVES"]
        assert hdul["PRIMARY"].header["EMBMETH"] == "simclr"
        cube = hdul["CUTOUTS"].data
        assert cube.shape == (len(expected), 3, 64, 64)
        with fits.open(survey) as src:
            np.testing.assert_array_equal(cube, src["CUTOUTS"].data[expected])
    table = Table.read(out, hdu="CATALOGUE")
    assert table["row_index"].tolist() == expected.tolist()
    assert set(source.colnames) <= set(table.colnames)
    assert table["ra"].unit == "deg" and table["true_mag_r"].unit == "mag"
    np.testing.assert_allclose(table["embedding"], vectors[expected])
    np.testing.assert_allclose(table["proj_x"], np.load(xy)[expected, 0])
    lcs = Table.read(out, hdu="LIGHTCURVES")
    assert set(lcs["row_index"]) == set(expected.tolist())
    assert lcs["mjd"].unit == "d" and lcs["mag"].unit == "mag"
    src_lc = Table.read(survey, hdu="LIGHTCURVES")
    wanted_ids = set(source["object_id"][expected].tolist())
    assert len(lcs) == int(np.isin(src_lc["object_id"], list(wanted_ids)).sum())


def test_embed_options_checkpoint_and_cache(demo, tmp_path):
    survey = demo["simulated_survey"]
    ckpt = tmp_path / "run.safetensors"
    args = ("embed", survey, "--method", "simclr", "--epochs", 1, "--dim", 8, "--width", 4,
            "--input-size", 16, "--max-train", 64, "--lr", 2e-3, "--device", "cpu",
            "--option", "temperature=0.3", "--checkpoint", ckpt, "--out", tmp_path / "e.npy")
    first = cli(*args)
    assert ckpt.exists() and "found in the cache" not in first.stderr
    vectors = np.load(tmp_path / "e.npy")
    assert vectors.shape == (240, 8) and np.isfinite(vectors).all()
    again = cli(*args, "--overwrite")
    assert "found in the cache" in again.stderr
    assert np.array_equal(np.load(tmp_path / "e.npy"), vectors)
    fresh = cli(*args, "--overwrite", "--no-cache", "--quiet")
    assert fresh.stderr == ""
    assert np.array_equal(np.load(tmp_path / "e.npy"), vectors)  # same seed, same vectors


def test_embed_light_curves(demo, tmp_path):
    out = tmp_path / "lc.npy"
    cli("embed", demo["simulated_survey"], "--method", "lc_next_step", "--epochs", 1, "--dim", 8,
        "--batch-size", 64, "--device", "cpu", "--out", out, "--quiet")
    vectors = np.load(out)
    assert vectors.shape == (240, 8) and np.isfinite(vectors).all()
    bad = cli("embed", demo["hubble_xdf"], "--method", "lc_next_step", "--out", tmp_path / "x.npy",
              check=False)
    assert bad.returncode == 2 and "no light curves to embed" in bad.stderr


@pytest.mark.parametrize("args, message", [
    (("info", "no/such/file.fits"), "no such file"),
    (("export", "{survey}", "--rows", "nosuch > 3", "--out", "{tmp}/x.fits"), "not a column"),
    (("export", "{survey}", "--rows", "0-3", "--embedding", "{tmp}/none.npy",
      "--out", "{tmp}/x.fits"), "no such embedding file"),
    (("embed", "{survey}", "--method", "pca", "--epochs", "3", "--out", "{tmp}/e.npy"),
     "apply to learned methods"),
    (("embed", "{survey}", "--method", "simclr", "--device", "cuda", "--out", "{tmp}/e.npy"),
     "CUDA"),
    (("embed", "{survey}", "--method", "simclr", "--option", "colour=1", "--out", "{tmp}/e.npy"),
     "SimCLR has no option colour"),
    (("embed", "{survey}", "--method", "simclr", "--option", "temperature",
      "--out", "{tmp}/e.npy"), "--option takes KEY=VALUE"),
    (("embed", "{survey}", "--method", "simclr", "--resume", "--checkpoint", "{tmp}/no.st",
      "--out", "{tmp}/e.npy"), "no.st does not exist: nothing to resume"),
    (("embed", "{survey}", "--method", "simclr", "--resume", "--out", "{tmp}/e.npy"),
     "--resume needs --checkpoint"),
])
def test_user_mistakes_are_one_sentence_without_traceback(demo, tmp_path, args, message):
    if message == "CUDA" and shutil.which("nvidia-smi"):
        pytest.skip("this machine has a GPU")
    args = [a.format(survey=demo["simulated_survey"], tmp=tmp_path) for a in args]
    proc = cli(*args, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert message.lower() in proc.stderr.lower()
    assert proc.stderr.strip().startswith("astroexplorer: ")
    assert not (tmp_path / "x.fits").exists() and not (tmp_path / "e.npy").exists()


def test_screenshots_size_option(capsys: pytest.CaptureFixture[str]) -> None:
    from astroexplorer.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["screenshots", "out"]).size == (1280, 800)
    assert parser.parse_args(["screenshots", "out", "--size", "1024x640"]).size == (1024, 640)
    for bad in ("big", "100x100"):
        with pytest.raises(SystemExit):
            parser.parse_args(["screenshots", "out", "--size", bad])
    assert "1024x640" in capsys.readouterr().err
