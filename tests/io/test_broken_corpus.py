"""Every broken input of the corpus is refused with one sentence naming the file, or
loads sensibly; the command line says the same without a traceback; nothing is
written next to the inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from astroexplorer.core.errors import UserError
from astroexplorer.io import read_catalogue
from tests.data.make_broken_inputs import LOADED, REFUSED, make_broken_inputs

__all__: list[str] = []

REPO = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``folder``: relative path -> (size, mtime in ns)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str | None]]:
    return make_broken_inputs(tmp_path_factory.mktemp("broken"))


# Starting Python and astropy ~25 times costs ~20 s on two cores, so one Python
# imports the command line once and forks a child per file; each child runs
# ``python -m astroexplorer info FILE`` as the interpreter would (runpy), with its
# own stdout / stderr and exit status. Without fork, plain subprocesses are used.
FORKING_RUNNER = r"""
import json, os, runpy, sys, tempfile, traceback
import astroexplorer.cli, astroexplorer.io  # noqa: F401 - imported once, before forking
results = {}
for path in sys.argv[1:]:
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        pid = os.fork()
        if pid == 0:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.argv = ["astroexplorer", "info", path]
            code = 0
            try:
                runpy.run_module("astroexplorer", run_name="__main__", alter_sys=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (exc.code is not None)
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        status = os.waitpid(pid, 0)[1]
        out.seek(0)
        err.seek(0)
        results[path] = (os.waitstatus_to_exitcode(status), out.read(), err.read())
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def cli_results(corpus) -> dict[str, subprocess.CompletedProcess]:
    """``astroexplorer info FILE`` on every case, run from the corpus folder."""
    folder = next(iter(corpus.values()))[0].parent
    before = snapshot(folder)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    paths = {name: str(path) for name, (path, _expected) in corpus.items()}
    results = {}
    if hasattr(os, "fork"):
        runner = subprocess.run([sys.executable, "-c", FORKING_RUNNER, *paths.values()],
                                cwd=folder, env=env, capture_output=True, text=True,
                                timeout=300, check=True)
        by_path = json.loads(runner.stdout)
        for name, path in paths.items():
            code, out, err = by_path[path]
            results[name] = subprocess.CompletedProcess(path, code, out, err)
    else:  # pragma: no cover - Windows
        for name, path in paths.items():
            results[name] = subprocess.run(
                [sys.executable, "-m", "astroexplorer", "info", path], cwd=folder, env=env,
                capture_output=True, text=True, timeout=120)
    assert snapshot(folder) == before, "the command line wrote next to its inputs"
    return results


def test_real_subprocess_refuses_cleanly(corpus) -> None:
    """One true ``python -m astroexplorer info`` run, as a user would type it."""
    path = corpus["truncated_fits"][0]
    proc = subprocess.run([sys.executable, "-m", "astroexplorer", "info", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(f"astroexplorer: {path} is truncated")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_every_case_is_classified(corpus) -> None:
    assert set(corpus) == set(REFUSED) | set(LOADED)
    assert not set(REFUSED) & set(LOADED)
    assert all(corpus[name][1] is not None for name in REFUSED)
    assert all(corpus[name][1] is None for name in LOADED)


@pytest.mark.parametrize("name", REFUSED)
def test_refused_with_one_sentence_naming_the_file(corpus, name: str) -> None:
    path, expected = corpus[name]
    before = snapshot(path.parent)
    with pytest.raises(UserError, match=expected) as info:
        read_catalogue(path)
    message = str(info.value)
    assert path.name in message
    assert "\n" not in message and len(message) < 300
    assert snapshot(path.parent) == before


def read_quietly(path: Path):
    """Read ``path`` turning any warning into an error: a loadable file is read silently."""
    before = snapshot(path.parent)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cat = read_catalogue(path)
    assert snapshot(path.parent) == before
    return cat


def test_good_file_loads_everything(corpus) -> None:
    cat = read_quietly(corpus["good_fits"][0])
    assert len(cat) == 10 and cat.id_column == "object_id"
    assert cat.images is not None and cat.images.get_many(np.arange(10)).shape == (10, 2, 8, 8)
    assert cat.lightcurves is not None and len(cat.lightcurves.get(0)) == 5


def test_table_without_numbers_opens_with_nothing_to_plot(corpus) -> None:
    cat = read_quietly(corpus["no_numeric_column"][0])
    assert len(cat) == 3 and cat.numeric_columns() == []
    assert list(cat.table["name"]) == ["Vega", "M31", "3C 273"]


def test_path_column_with_some_missing_files_opens_with_nan_cutouts(corpus) -> None:
    cat = read_quietly(corpus["path_column_some_missing"][0])
    cube = cat.images.get_many([0, 1, 2, 3])
    assert cube[0].mean() == 0.0 and cube[2].mean() == 2.0
    assert np.isnan(cube[1]).all() and np.isnan(cube[3]).all()
    assert any("of 4 FITS files" in note and "2 missing" in note and "s1.fits" in note
               for note in cat.notes), cat.notes


def test_lightcurve_folder_without_matches_is_refused(corpus, tmp_path) -> None:
    from astroexplorer.io import OpenOptions

    path, _ = corpus["kepler_target_list"]
    folder = path.parent / "lightcurves_folder_without_fits"
    before = snapshot(path.parent)
    with pytest.raises(UserError) as err:
        read_catalogue(path, OpenOptions(lightcurves=folder))
    assert str(folder) in str(err.value)
    assert snapshot(path.parent) == before


def test_nan_and_inf_are_kept_as_data(corpus) -> None:
    cat = read_quietly(corpus["nan_inf_everywhere_fits"][0])
    for name in ("ra", "dec", "mag_r"):
        values = np.asarray(cat.table[name])
        assert np.isnan(values[1::2]).all() and np.isinf(values[::2]).all()
    assert set(cat.numeric_columns()) >= {"ra", "dec", "mag_r"}
    cube = cat.images.get_many(np.arange(len(cat)))
    assert cube.dtype == np.float32 and not np.isfinite(cube).any()
    lc = cat.lightcurves.get(0)
    assert len(lc) == 5 and np.isnan(lc.value).all()
    finite = lc.time[np.isfinite(lc.time)]
    assert np.all(np.diff(finite) >= 0) and np.isinf(lc.time[-1])  # inf sorts last

    cat = read_quietly(corpus["nan_inf_everywhere_csv"][0])
    values = np.stack([np.asarray(cat.table[c], dtype=float) for c in ("ra", "dec", "mag")])
    assert values.shape == (3, 3) and not np.isfinite(values).any()


def test_duplicate_ids_match_light_curves_to_the_first_row(corpus) -> None:
    cat = read_quietly(corpus["duplicate_ids"][0])
    lcs = cat.lightcurves
    assert list(lcs.duplicate_rows) == [5]
    assert len(lcs.get(4)) == 5 and len(lcs.get(5)) == 0
    assert list(lcs.counts()) == [5] * 5 + [0] + [5] * 4  # object 105 appears in no row


def test_one_point_and_unsorted_light_curves(corpus) -> None:
    cat = read_quietly(corpus["one_point_lightcurve"][0])
    one = cat.lightcurves.get(1)
    assert len(one) == 1 and one.time[0] == 59000.0 and len(one.bands) == 1
    assert len(cat.lightcurves.get(0)) == 5

    cat = read_quietly(corpus["unsorted_lightcurves"][0])
    for row in range(len(cat)):
        lc = cat.lightcurves.get(row)
        assert len(lc) == 5 and np.all(np.diff(lc.time) > 0)


@pytest.mark.parametrize("name", [*REFUSED, *LOADED])
def test_command_line(cli_results, corpus, name: str) -> None:
    result = cli_results[name]
    path, expected = corpus[name]
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    if expected is None:
        assert result.returncode == 0, result.stderr
        assert f"file: {path}" in result.stdout
    else:
        assert result.returncode == 2
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("astroexplorer: ")
        assert path.name in lines[0] and result.stdout == ""
