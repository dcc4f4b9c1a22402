"""Time each stage of the walking skeleton on the built-in demo.

Prints one JSON object per figure:
  demo_build_s      build both demo catalogues from scratch (n = survey rows)
  window_shown_s    process start -> main window painted (offscreen), with which heavy
                    modules were loaded at that point
  pca_embed_s       PCA-on-pixels embedding of the survey
  simclr_epoch_s    one SimCLR training epoch (CPU here), and simclr_embed_s for the
                    whole job (band scales, training, inference of every row)
  pca_project_s, umap_project_s (cold: includes numba compilation in the worker)
  export_s          export 1,000 selected rows with cutouts and light curves to FITS

Usage: python benchmarks/bench_skeleton.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from astroexplorer.analysis import embedding_job, projection_job
from astroexplorer.core import RowSet
from astroexplorer.demo import build_demo
from astroexplorer.io import export_selection, read_catalogue
from astroexplorer.jobs import run_sync

_WINDOW_SCRIPT = r"""
import os, sys, time, json
t0 = float(sys.argv[1])
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from astroexplorer.gui.app import ensure_application
from astroexplorer.gui.main_window import MainWindow
app = ensure_application([])
w = MainWindow(); w.show(); app.processEvents(); w.grab()
heavy = sorted(m for m in ("torch", "umap", "numba", "sklearn") if m in sys.modules)
print(json.dumps({"t": time.time() - t0, "heavy": heavy}))
"""


def emit(figure: str, value: float, unit: str, n: int, **extra) -> None:
    print(json.dumps({"figure": figure, "value": round(value, 4), "unit": unit, "n": n, **extra}),
          flush=True)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller survey, fewer epochs")
    args = parser.parse_args()
    n = 1000 if args.quick else 3000
    with tempfile.TemporaryDirectory() as tmp:
        paths, dt = timed(lambda: build_demo(Path(tmp), n_survey=n, seed=42))
        emit("demo_build_s", dt, "s", n, note="simulated survey + Hubble XDF, 2-core CPU")

        runs = []
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", _WINDOW_SCRIPT, repr(time.time())],
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        emit("window_shown_s", float(np.median([r["t"] for r in runs])), "s", 0,
             heavy_modules_loaded=runs[0]["heavy"], repeats=3)

        cat = read_catalogue(paths["simulated_survey"])
        emb, dt = timed(lambda: run_sync(embedding_job("pca", cat, dim=32)))
        emit("pca_embed_s", dt, "s", n, dim=32)

        epochs = 1 if args.quick else 2
        simclr, dt = timed(lambda: run_sync(embedding_job(
            "simclr", cat, epochs=epochs, dim=64, device="auto", seed=0)))
        emit("simclr_embed_s", dt, "s", n, epochs=epochs, device=simclr.config.get("device", ""))
        emit("simclr_epoch_s", simclr.config["train_seconds"] / epochs, "s", n,
             loss_per_epoch=[round(x, 3) for x in simclr.config["epoch_losses"]])

        _, dt = timed(lambda: run_sync(projection_job("pca", emb.vectors)))
        emit("pca_project_s", dt, "s", n)
        proj, dt = timed(lambda: run_sync(projection_job("umap", emb.vectors, seed=0)))
        emit("umap_project_s", dt, "s", n, note="cold worker process: includes numba JIT")

        rows = RowSet(np.arange(min(1000, n)))
        _, dt = timed(lambda: export_selection(cat, rows, Path(tmp) / "sel.fits", emb, proj))
        emit("export_s", dt, "s", len(rows))


if __name__ == "__main__":
    main()
