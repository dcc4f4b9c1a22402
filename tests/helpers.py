"""Helpers shared by the tests: small in-memory catalogues and fitsverify."""

import shutil
import subprocess

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Column, Table

from astroexplorer.core import ArrayImageSource, Catalogue, TableLightCurveSource
from astroexplorer.core.lightcurves import LightCurve, LightCurveSource
from astroexplorer.jobs.base import Cancelled, CancelToken, run_sync

__all__ = ["make_small_catalogue", "fitsverify_errors", "ListLightCurveSource", "cancel_at",
           "assert_resumed_as_uninterrupted", "room_for_half"]


class ListLightCurveSource(LightCurveSource):
    """Light curves held in a list, one per row, in the bands given."""

    def __init__(self, curves: list[LightCurve], bands: tuple[str, ...] = ("g", "r", "i")) -> None:
        self.curves = curves
        self._bands = bands

    def __len__(self) -> int:
        return len(self.curves)

    def get(self, row: int) -> LightCurve:
        return self.curves[row]

    @property
    def bands(self) -> tuple[str, ...]:
        return self._bands

    @property
    def n_points(self) -> int:
        return sum(len(c) for c in self.curves)


def cancel_at(job, message_start: str):
    """Run ``job`` and cancel it at its first progress report whose message starts with
    ``message_start``; it must end cancelled. Returns that report."""
    token = CancelToken()
    at = []

    def on_progress(p) -> None:
        if p.message.startswith(message_start) and not at:
            at.append(p)
            token.cancel()

    with pytest.raises(Cancelled):
        run_sync(job, on_progress, token)
    return at[0]


def assert_resumed_as_uninterrupted(whole, resumed, reports, cancelled) -> None:
    """``resumed`` (with its progress ``reports``) continued a 3-epoch run cancelled in
    epoch 2 at the report ``cancelled`` and gave exactly the uninterrupted run ``whole``."""
    assert reports[1].message.startswith("resuming ") and ": epoch 2/3, batch " in reports[1].message
    assert reports[2].message.startswith("epoch 2/3")  # epoch 1 was not trained again
    assert reports[2].step == cancelled.step + 1  # nor the batches of epoch 2 before Cancel
    assert resumed.config["resumed_from_epoch"] == 1
    assert resumed.config["epoch_losses"] == whole.config["epoch_losses"]
    assert np.array_equal(resumed.vectors, whole.vectors)


def room_for_half(size, dev, trial, label, what):
    """What ``fit_batch_size`` answers on a GPU with room for half the batch (no GPU
    here): the real one-step memory trial runs, on the CPU, at half the size."""
    trial(size // 2)
    return size // 2


def make_small_catalogue(n: int = 40, seed: int = 0) -> Catalogue:
    """n objects with 3-band 16x16 cutouts and 3-band light curves (object 3 has none)."""
    rng = np.random.default_rng(seed)
    table = Table()
    table["object_id"] = Column(np.arange(100, 100 + n), description="identifier")
    table["ra"] = Column(rng.uniform(10, 11, n), unit=u.deg, description="right ascension")
    table["dec"] = Column(rng.uniform(-1, 1, n), unit=u.deg)
    mag = rng.uniform(17, 21, n)
    mag[2] = np.nan
    table["mag_r"] = Column(mag, unit=u.mag)
    table["label"] = Column(np.where(np.arange(n) % 2, "spiral", "elliptical"))
    cube = rng.normal(0, 1, (n, 3, 16, 16)).astype(np.float32)
    cube[:, :, 6:10, 6:10] += 20
    ids, times, mags, errs, bands = [], [], [], [], []
    for i in range(n):
        if i == 3:
            continue
        m = 5 + i % 4
        t = np.sort(rng.uniform(59000, 59100, m))[::-1]  # unsorted on disk on purpose
        ids += [100 + i] * m
        times += list(t)
        mags += list(rng.normal(19, 0.1, m))
        errs += [0.05] * m
        bands += list(rng.choice(["g", "r", "i"], m))
    lc = Table({"object_id": ids, "mjd": Column(times, unit=u.d), "mag": Column(mags, unit=u.mag),
                "mag_err": Column(errs, unit=u.mag), "band": bands})
    source = TableLightCurveSource(lc, np.asarray(table["object_id"]), "object_id", "mjd", "mag",
                                   "mag_err", "band", origin="memory")
    return Catalogue(table, name="small", images=ArrayImageSource(cube, ("g", "r", "i")),
                     lightcurves=source)


def fitsverify_errors(path) -> int:
    """Number of errors fitsverify reports (it must be installed in CI)."""
    exe = shutil.which("fitsverify")
    if exe is None:
        pytest.fail("fitsverify is not installed (Debian package fitsverify; see .ci/run)")
    out = subprocess.run([exe, "-q", str(path)], capture_output=True, text=True)
    # -q prints one line: "verification OK" or "... N warnings and M errors".
    line = out.stdout.strip()
    if "OK" in line:
        return 0
    return int(line.split("and")[-1].split()[0])
