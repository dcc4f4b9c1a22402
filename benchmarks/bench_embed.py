"""Throughput of embedding: is the data path or the encoder the bottleneck?

Figures (one JSON object per line):
  encoder_objects_per_s     the image encoder alone, on batches already normalised and
                            resident on the device
  pipeline_objects_per_s    the full inference path the jobs use: a memory-mapped
                            cutout cube on disk, read in batches (reader threads on a
                            GPU), moved, normalised and resized on the device, encoded
  pipeline_encoder_ratio    pipeline / encoder (target >= 0.9: the data path keeps up)
  lc_encoder_objects_per_s, lc_pipeline_objects_per_s, lc_pipeline_encoder_ratio
                            the same for light curves (source -> padded tensors -> encoder)
  train_objects_per_s       training throughput per method (objects per second, both
                            views / all passes included), from the jobs' own progress

Usage: python benchmarks/bench_embed.py [--quick] [--device auto] [--n N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from astroexplorer.analysis.preprocess import fit_band_scales
from astroexplorer.core import ArrayImageSource
from astroexplorer.jobs import run_sync
from astroexplorer.ml import describe_device, select_device
from astroexplorer.ml.encoders import SmallCNNEncoder
from astroexplorer.ml.image_data import ImageBatches

SEED = 0
IMAGE_TRAIN_METHODS = ("simclr", "byol", "autoencoder", "vae")
LC_TRAIN_METHODS = ("lc_contrastive", "lc_masked", "lc_next_step")


def emit(figure: str, value: float, unit: str, n: int, **extra) -> None:
    print(json.dumps({"figure": figure, "value": round(float(value), 4), "unit": unit, "n": n,
                      **extra}), flush=True)


def synthetic_cube(path: Path, n: int, size: int) -> np.ndarray:
    """A (n, 3, size, size) float32 cube of noisy Gaussian blobs, written to ``path``
    (.npy) and returned memory-mapped, as a survey's cutout file is opened."""
    rng = np.random.default_rng(SEED)
    yy, xx = np.mgrid[:size, :size] - size / 2
    cube = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, 3, size, size))
    for start in range(0, n, 1024):
        b = min(1024, n - start)
        sig = rng.uniform(1.5, 6, (b, 1, 1, 1))
        flux = rng.uniform(5, 200, (b, 3, 1, 1))
        blob = flux * np.exp(-(xx**2 + yy**2) / (2 * sig**2))
        cube[start:start + b] = blob + rng.normal(0, 1, (b, 3, size, size))
    cube.flush()
    del cube
    return np.load(path, mmap_mode="r")


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def alternate(encoder_alone, pipeline) -> tuple[float, float]:
    """Median rates of the two measurements, run alternately three times each: a
    shared machine's load then weighs on both alike."""
    runs = [(encoder_alone(), pipeline()) for _ in range(3)]
    return float(np.median([r[0] for r in runs])), float(np.median([r[1] for r in runs]))


def image_inference(dev: torch.device, n: int, size: int, batch: int, tmp: Path) -> None:
    images = ArrayImageSource(synthetic_cube(tmp / "cutouts.npy", n, size), ("g", "r", "z"))
    scales = fit_band_scales(images, seed=SEED)
    fmt = torch.channels_last if dev.type in ("cpu", "cuda") else torch.contiguous_format
    torch.manual_seed(SEED)
    encoder = SmallCNNEncoder(3, dim=128, width=32).to(dev, memory_format=fmt).eval()
    amp = torch.autocast(dev.type, dtype=torch.bfloat16) if dev.type == "cuda" else None
    batches = ImageBatches(images, scales, dev, None, fmt)
    chunks = [np.arange(i, min(i + batch, n)) for i in range(0, n, batch)]

    def encode(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            if amp is None:
                return encoder(x)
            with amp:
                return encoder(x)

    # Encoder alone: the same batches, prepared once and kept on the device.
    resident = [x for _, x in batches(chunks[: max(1, min(len(chunks), 8))])]
    for x in resident[:2]:
        encode(x)  # warm-up (cuDNN autotuning, oneDNN primitive creation)
    reps = max(1, len(chunks) // len(resident))

    def encoder_alone() -> float:
        sync(dev)
        t = time.perf_counter()
        for _ in range(reps):
            for x in resident:
                out = encode(x)
        out.float().cpu()
        sync(dev)
        return reps * sum(len(x) for x in resident) / (time.perf_counter() - t)

    def pipeline() -> float:
        t = time.perf_counter()
        for _rows, x in batches(chunks):
            encode(x).float().cpu()  # the job copies every batch's vectors to the host
        sync(dev)
        return n / (time.perf_counter() - t)

    encoder_rate, pipeline_rate = alternate(encoder_alone, pipeline)
    extra = {"device": describe_device(dev), "batch": batch, "image": [3, size, size],
             "encoder": "SmallCNNEncoder(dim=128, width=32)",
             "amp": "bf16" if amp is not None else "none", "readers": batches.workers}
    emit("encoder_objects_per_s", encoder_rate, "objects/s", n, **extra)
    emit("pipeline_objects_per_s", pipeline_rate, "objects/s", n, **extra)
    emit("pipeline_encoder_ratio", pipeline_rate / encoder_rate, "ratio", n, target=">= 0.9",
         **extra)


def lightcurve_inference(dev: torch.device, source, batch: int) -> None:
    """The same comparison for light curves: a source read into padded batches
    (normalised, sub-sampled to 200 points) then encoded, against the encoder alone
    on batches prepared once; the contrastive method's transformer encoder."""
    from astroexplorer.ml.lightcurve_data import band_index_of, read_lightcurves
    from astroexplorer.ml.lightcurve_ssl import COMMON_LIGHTCURVE_OPTIONS, LightCurveContrastive

    method = LightCurveContrastive()
    opts = {**COMMON_LIGHTCURVE_OPTIONS, **method.options}
    bands = band_index_of(source)
    torch.manual_seed(SEED)
    modules = method.build(len(bands), opts)
    for module in modules.values():
        module.to(dev).eval()
    n = len(source)
    chunks = [np.arange(i, min(i + batch, n)) for i in range(0, n, batch)]

    def read(rows: np.ndarray):
        ragged = read_lightcurves(source, rows, bands, opts["max_length"], SEED)
        return ragged.batch(np.arange(rows.size))

    def encode(b) -> torch.Tensor:
        with torch.inference_mode():
            return method.embed(modules, b.to(dev, non_blocking=True)).float().cpu()

    resident = [read(rows).to(dev) for rows in chunks]
    encode(resident[0])  # warm-up

    def encoder_alone() -> float:
        t = time.perf_counter()
        for b in resident:
            encode(b)
        sync(dev)
        return n / (time.perf_counter() - t)

    def pipeline() -> float:
        t = time.perf_counter()
        for rows in chunks:
            encode(read(rows))
        sync(dev)
        return n / (time.perf_counter() - t)

    encoder_rate, pipeline_rate = alternate(encoder_alone, pipeline)
    extra = {"device": describe_device(dev), "batch": batch, "max_length": opts["max_length"],
             "encoder": "LightCurveTransformerEncoder (contrastive)", "bands": list(bands)}
    emit("lc_encoder_objects_per_s", encoder_rate, "objects/s", n, **extra)
    emit("lc_pipeline_objects_per_s", pipeline_rate, "objects/s", n, **extra)
    emit("lc_pipeline_encoder_ratio", pipeline_rate / encoder_rate, "ratio", n, target=">= 0.9",
         **extra)


def survey_sources(n: int):
    """The simulated survey's cutouts and light curves, ``n`` objects."""
    from astroexplorer.demo.survey import build_survey_catalogue, survey_lightcurve_source

    table, cutouts, bands, lc = build_survey_catalogue(n_objects=n, seed=SEED)
    return ArrayImageSource(cutouts, bands), survey_lightcurve_source(table, lc)


def training_rates(dev: torch.device, images, source) -> None:
    from astroexplorer.analysis.embedding import EMBEDDING_METHODS

    n = len(images)
    for method in IMAGE_TRAIN_METHODS:
        if method not in EMBEDDING_METHODS.names():
            continue
        rates: list[float] = []
        job = EMBEDDING_METHODS[method].load()(images, epochs=1, batch_size=128, device=str(dev),
                                               seed=SEED)
        run_sync(job, lambda p: rates.append(p.metrics["objects_per_s"])
                 if p.message.startswith("epoch") else None)
        emit("train_objects_per_s", rates[-1], "objects/s", n, method=method, modality="image",
             device=describe_device(dev), image=list(images.shape), batch=128)
    for method in LC_TRAIN_METHODS:
        if method not in EMBEDDING_METHODS.names():
            continue
        rates = []
        job = EMBEDDING_METHODS[method].load()(source, epochs=1, batch_size=128, device=str(dev),
                                               seed=SEED)
        run_sync(job, lambda p: rates.append(p.metrics["objects_per_s"])
                 if p.message.startswith("epoch") else None)
        emit("train_objects_per_s", rates[-1], "objects/s", n, method=method,
             modality="lightcurve", device=describe_device(dev), batch=128)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer objects")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--n", type=int, help="objects for inference (default 4096 / 32768)")
    args = parser.parse_args()
    dev = select_device(args.device)
    n = args.n or (4096 if args.quick else 32768)
    if dev.type == "cuda":
        n *= 4
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        image_inference(dev, n, 64, 256 if dev.type == "cpu" else 1024, Path(tmp))
    images, source = survey_sources(1024 if args.quick else 4096)
    lightcurve_inference(dev, source, 256 if dev.type == "cpu" else 1024)
    training_rates(dev, images, source)


if __name__ == "__main__":
    main()
