"""Jobs that compose the layers: read a catalogue from disk, then compute on it.

They exist so that front ends can run heavy work in a worker process: the child
re-reads the catalogue from its file (a memory-mapped cube is never pickled),
torch's and numba's hold on the GIL never stalls the window, and Cancel ends the
process at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .analysis.embedding import (
    cache_lookup,
    cached_embedding_job,
    check_embeddable,
    compute_and_store_job,
    embedding_job,
    found_job,
)
from .analysis.embedding_cache import EmbeddingCache
from .core.catalogue import Catalogue, Embedding, Projection
from .core.errors import UserError
from .core.rowset import RowSet
from .io import OpenOptions, export_selection, read_catalogue
from .jobs.base import Job, Progress
from .jobs.process import run_in_process

__all__ = ["embed_file_job", "embedding_job_for", "detect_and_cut_file_job", "export_file_job",
           "export_job_for"]


def embed_file_job(method: str, path: str, n_rows: int, open_options: OpenOptions | None = None,
                   cache_folder: str | None = None, **options) -> Job[Embedding]:
    """Read the catalogue at ``path`` (with ``open_options``, as the caller did) and
    compute ``method``'s embedding of it (through the cache in ``cache_folder``, if
    given).

    ``n_rows`` is the row count the caller saw; a file that changed since is refused
    rather than giving vectors misaligned with the caller's rows.
    """
    catalogue = _reread(path, n_rows, open_options)
    if cache_folder is not None:
        job = cached_embedding_job(method, catalogue, EmbeddingCache(cache_folder), **options)
    else:
        job = embedding_job(method, catalogue, **options)
    return (yield from job)


def _reread(path: str, n_rows: int, open_options: OpenOptions | None) -> Catalogue:
    """The catalogue at ``path`` read again; refused if it no longer has ``n_rows`` rows
    (results would be misaligned with the caller's rows)."""
    catalogue = read_catalogue(Path(path), open_options)
    if len(catalogue) != n_rows:
        raise UserError(f"{path} changed since it was opened: it now has {len(catalogue)} rows, "
                        f"not {n_rows}; open it again")
    return catalogue


def embedding_job_for(method: str, catalogue: Catalogue, cache: EmbeddingCache | None = None,
                      **options) -> Job[Embedding]:
    """The job computing ``method``'s embedding of ``catalogue``: in a worker process
    when the catalogue was read from a file, else in the caller's thread.

    The method and the data are checked here, before any process starts. With a
    ``cache``, an embedding computed before is returned at once (no process), and a
    new one is stored in it (see :func:`cached_embedding_job`).
    """
    check_embeddable(method, catalogue)
    if cache is not None:
        key, hit = cache_lookup(method, catalogue, cache, options)
        if hit is not None:
            return found_job(hit)
        if catalogue.path is None:
            return compute_and_store_job(method, catalogue, cache, key, options)
    if catalogue.path is None:
        return embedding_job(method, catalogue, **options)
    return run_in_process(embed_file_job, method, str(catalogue.path), len(catalogue),
                          catalogue.open_options, str(cache.folder) if cache else None,
                          **options)


def detect_and_cut_file_job(image: str, out: str, overwrite: bool = False,
                            **params) -> Job[str]:
    """Detect the sources of the wide-field ``image``, cut their stamps and write the
    catalogue to ``out`` (FITS; see ``io.wide_field``); returns ``out``.

    ``params`` go to :func:`~astroexplorer.io.wide_field.detect_and_cut_job`
    (``stamp_size``, ``threshold_sigma``, ``npixels``, ``deblend``, ``hdu``). The
    output is checked before the detection starts, and written atomically.
    """
    from .io.fits_writer import check_output_path
    from .io.wide_field import detect_and_cut_job, write_stamp_catalogue

    check_output_path(Path(out), overwrite, [Path(image)])
    catalogue = yield from detect_and_cut_job(Path(image), **params)
    yield Progress(0, None, f"writing {len(catalogue):,} stamps to {Path(out).name}")
    return str(write_stamp_catalogue(Path(out), catalogue, overwrite=overwrite,
                                     inputs=[Path(image)]))


def export_file_job(path: str, n_rows: int, open_options: OpenOptions | None, rows: np.ndarray,
                    out: str, derived: dict | None = None, **options) -> Job[str]:
    """Read the catalogue at ``path`` again (as the caller opened it), put back the
    caller's derived columns (``derived``: name -> (N,) Column, e.g. anomaly scores)
    and export ``rows`` to ``out`` (see :func:`~astroexplorer.io.export_selection`
    for ``options``); returns the path written."""
    catalogue = _reread(path, n_rows, open_options)
    for name, column in (derived or {}).items():
        catalogue.table[name] = column
    if derived:
        catalogue.table.meta["derived"] = {n: dict(getattr(c, "meta", {}) or {})
                                           for n, c in derived.items()}
    yield Progress(0, None, f"writing {len(rows):,} objects to {Path(out).name}")
    return str(export_selection(catalogue, RowSet(rows), Path(out), **options))


def export_job_for(catalogue: Catalogue, rows: RowSet, out: Path, **options) -> Job[Path]:
    """The job exporting ``rows`` of ``catalogue`` to ``out``: in a worker process when
    the catalogue was read from a file (writing hundreds of HDUs takes seconds, and
    Cancel must leave no half-written file), else in the caller's thread."""
    if catalogue.path is None:
        yield Progress(0, None, f"writing {len(rows):,} objects to {Path(out).name}")
        return export_selection(catalogue, rows, Path(out), **options)
    derived_names = list(catalogue.table.meta.get("derived", {}))
    derived = {name: catalogue.table[name] for name in derived_names
               if name in catalogue.table.colnames}
    projection = options.get("projection")
    if projection is not None and projection.model is not None:
        # The fitted map is not exported; do not copy it to the worker.
        options["projection"] = Projection(projection.xy, projection.method, projection.config)
    written = yield from run_in_process(
        export_file_job, str(catalogue.path), len(catalogue), catalogue.open_options,
        rows.rows,
        str(out), derived, **options)
    return Path(written)
