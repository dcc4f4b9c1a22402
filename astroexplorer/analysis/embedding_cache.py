"""Embeddings cached on disk, keyed by a hash of the data and of the configuration.

Reopening a catalogue (or a session) whose embedding was computed before gives it
back at once; changing any option, or the data, gives a new key and a recomputation.
The same key names the training checkpoint, so a cancelled run resumes from the
batch after the last it trained.

The cache lives in ``$ASTROEXPLORER_CACHE_DIR`` if set, else
``<user cache>/astroexplorer/embeddings``. Each entry is one ``.npz`` (vectors plus
the config as JSON text; read with ``allow_pickle=False``), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..core.catalogue import Embedding
from ..core.images import ImageSource
from ..core.lightcurves import LightCurveSource

__all__ = ["EmbeddingCache", "cache_dir", "cache_key", "fingerprint_images",
           "fingerprint_lightcurves"]

#: Rows read to fingerprint a source: enough to notice any edit of a real survey
#: file, few enough to cost milliseconds at a million rows.
_SAMPLE_ROWS = 64
#: Options that choose where or how to run, not what is computed.
_NOT_IN_KEY = frozenset({"device", "checkpoint", "resume", "cache"})


def cache_dir() -> Path:
    """``$ASTROEXPLORER_CACHE_DIR`` or ``<user cache>/astroexplorer/embeddings``."""
    override = os.environ.get("ASTROEXPLORER_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("astroexplorer")) / "embeddings"


def _sample_rows(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, _SAMPLE_ROWS)).astype(np.int64)) if n else \
        np.zeros(0, np.int64)


def fingerprint_images(images: ImageSource) -> str:
    """SHA-256 (hex) of the cutouts' count, shape, bands and the pixels of 64 rows
    spread over the source (first and last included)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([len(images), list(images.shape), list(images.bands)]).encode())
    rows = _sample_rows(len(images))
    if rows.size:
        digest.update(np.ascontiguousarray(images.get_many(rows), dtype=np.float32).tobytes())
    return digest.hexdigest()


def fingerprint_lightcurves(lightcurves: LightCurveSource) -> str:
    """SHA-256 (hex) of the light curves' count, total points, bands, and the times,
    values, errors and bands of 64 objects spread over the source."""
    digest = hashlib.sha256()
    digest.update(json.dumps([len(lightcurves), int(lightcurves.n_points),
                              list(lightcurves.bands)]).encode())
    for row in _sample_rows(len(lightcurves)):
        lc = lightcurves.get(int(row))
        for array in (lc.time, lc.value, lc.error):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        digest.update("\x00".join(map(str, lc.band)).encode())
        digest.update(f"{lc.time_format}|{lc.value_unit}|{lc.is_magnitude}".encode())
    return digest.hexdigest()


def _key_text(value: object) -> str:
    """JSON stand-in for a non-JSON option: arrays by their full content (``str`` of
    a long array elides its middle, so two row lists would collide)."""
    if isinstance(value, (np.ndarray, list, tuple)):
        array = np.ascontiguousarray(value)
        return f"array{array.shape}{array.dtype}:" + hashlib.sha256(array.tobytes()).hexdigest()
    return str(value)


def cache_key(fingerprint: str, method: str, options: dict) -> str:
    """The key of ``method`` with ``options`` on data ``fingerprint``: 24 hex digits.

    Options that only say where to run (device, checkpoint, resume, cache) are left
    out, so the same embedding computed on GPU is found again on CPU.
    """
    kept = {k: v for k, v in sorted(options.items()) if k not in _NOT_IN_KEY}
    text = json.dumps({"data": fingerprint, "method": method, "options": kept},
                      sort_keys=True, default=_key_text)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class EmbeddingCache:
    """Embeddings on disk under ``folder`` (default :func:`cache_dir`)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_dir()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def checkpoint_path(self, key: str) -> Path:
        """Where the training run of ``key`` keeps its checkpoint."""
        return self.folder / f"{key}.ckpt.safetensors"

    def get(self, key: str) -> Embedding | None:
        """The cached embedding of ``key`` (its config marked ``from_cache``), or None
        (also for an unreadable entry, which is then recomputed and overwritten)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                vectors = np.array(data["vectors"])
                method = str(data["method"])
                config = json.loads(str(data["config"]))
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            return None
        return Embedding(vectors, method, {**config, "cache_key": key, "from_cache": True})

    def put(self, key: str, embedding: Embedding) -> Path:
        """Store ``embedding`` under ``key`` (atomically); its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        try:
            np.savez(tmp, vectors=embedding.vectors, method=np.array(embedding.method),
                     config=np.array(json.dumps(embedding.config, default=str)))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path
