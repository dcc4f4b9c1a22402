"""Jobs that compose the layers: read a catalogue from disk, then compute on it.

They exist so that front ends can run heavy work in a worker process: the child
re-reads the catalogue from its file (a memory-mapped cube is never pickled),
torch's and numba's hold on the GIL never stalls the window, and Cancel ends the
process at once.
"""

from __future__ import annotations

from pathlib import Path

from .analysis.embedding import check_embeddable, embedding_job
from .core.catalogue import Catalogue, Embedding
from .io import OpenOptions, read_catalogue
from .jobs.base import Job, Progress
from .jobs.process import run_in_process

__all__ = ["embed_file_job", "embedding_job_for", "detect_and_cut_file_job"]


def embed_file_job(method: str, path: str, n_rows: int, open_options: OpenOptions | None = None,
                   **options) -> Job[Embedding]:
    """Read the catalogue at ``path`` (with ``open_options``, as the caller did) and
    compute ``method``'s embedding of it.

    ``n_rows`` is the row count the caller saw; a file that changed since is refused
    rather than giving vectors misaligned with the caller's rows.
    """
    catalogue = read_catalogue(Path(path), open_options)
    if len(catalogue) != n_rows:
        from .core.errors import UserError

        raise UserError(f"{path} changed since it was opened: it now has {len(catalogue)} rows, "
                        f"not {n_rows}; open it again")
    return (yield from embedding_job(method, catalogue, **options))


def embedding_job_for(method: str, catalogue: Catalogue, **options) -> Job[Embedding]:
    """The job computing ``method``'s embedding of ``catalogue``: in a worker process
    when the catalogue was read from a file, else in the caller's thread.

    The method and the cutouts are checked here, before any process starts.
    """
    check_embeddable(method, catalogue)
    if catalogue.path is None:
        return embedding_job(method, catalogue, **options)
    return run_in_process(embed_file_job, method, str(catalogue.path), len(catalogue),
                          catalogue.open_options, **options)


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
