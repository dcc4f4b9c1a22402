"""How long the window's event loop stalls while long jobs run behind it.

A 10 ms QTimer ticks in the GUI thread while the main window computes a SimCLR
embedding (a QThread) and then its UMAP map (a worker process); a late tick means
the window could not repaint. Prints one JSON object per figure and phase:
  event_loop_max_gap_ms   the longest interval between ticks
  event_loop_p99_gap_ms   99th percentile of the intervals
(n = catalogue rows). Offscreen Qt platform; 2-core CPU here.

Usage: python benchmarks/bench_gui_responsiveness.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402

from astroexplorer.demo import build_demo  # noqa: E402
from astroexplorer.gui.app import ensure_application  # noqa: E402
from astroexplorer.gui.main_window import MainWindow  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 objects instead of 3,000")
    args = parser.parse_args()
    n = 1000 if args.quick else 3000
    app = ensure_application([])
    with tempfile.TemporaryDirectory() as tmp:
        path = build_demo(Path(tmp), n_survey=n)["simulated_survey"]
        window = MainWindow()
        window.resize(1280, 800)
        window.show()
        window.open_path(path)
        ticks: dict[str, list[float]] = {"simclr": [], "umap": []}
        phase = ["simclr"]
        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(lambda: ticks[phase[0]].append(time.perf_counter()))
        window.embedding_ready.connect(lambda _e: phase.__setitem__(0, "umap"))
        window.projection_ready.connect(lambda _p: app.quit())
        timer.start()
        window.compute_embedding("simclr", {"epochs": 1, "seed": 0})
        app.exec()
        timer.stop()
        for name, t in ticks.items():
            gaps = np.diff(np.asarray(t)) * 1000
            for figure, value in (("event_loop_max_gap_ms", gaps.max()),
                                  ("event_loop_p99_gap_ms", np.percentile(gaps, 99))):
                print(json.dumps({"figure": figure, "value": round(float(value), 1), "unit": "ms",
                                  "n": n, "phase": name, "ticks": int(gaps.size),
                                  "timer_interval_ms": 10}), flush=True)
        window.close()


if __name__ == "__main__":
    main()
