"""Embedding a file-backed catalogue in a worker process."""

import time

import numpy as np
import pytest

from astroexplorer.analysis import embedding_job
from astroexplorer.core.errors import UserError
from astroexplorer.io import read_catalogue, write_catalogue_fits
from astroexplorer.jobs import Cancelled, CancelToken, run_sync
from astroexplorer.pipeline import embedding_job_for
from tests.helpers import make_small_catalogue


@pytest.fixture
def catalogue_file(tmp_path):
    cat = make_small_catalogue(n=60)
    return write_catalogue_fits(tmp_path / "cat.fits", cat.table,
                                cat.images.get_many(np.arange(len(cat))), cat.images.bands,
                                lightcurves=cat.lightcurves.table)


def test_worker_process_gives_the_same_embedding_as_in_process(catalogue_file):
    cat = read_catalogue(catalogue_file)
    seen = []
    in_child = run_sync(embedding_job_for("pca", cat, dim=5), seen.append)
    in_here = run_sync(embedding_job("pca", cat, dim=5))
    np.testing.assert_allclose(in_child.vectors, in_here.vectors, rtol=1e-5, atol=1e-5)
    assert any("reading cutouts" in p.message for p in seen)


def test_problems_are_found_before_a_process_starts(catalogue_file):
    cat = read_catalogue(catalogue_file)
    with pytest.raises(UserError, match="unknown embedding method"):
        embedding_job_for("nope", cat)
    cat.images = None
    with pytest.raises(UserError, match="no cutouts"):
        embedding_job_for("pca", cat)


def test_a_file_changed_since_opening_is_refused(catalogue_file, tmp_path):
    cat = read_catalogue(catalogue_file)
    other = make_small_catalogue(n=30)
    write_catalogue_fits(catalogue_file, other.table, other.images.get_many(np.arange(30)),
                         other.images.bands, overwrite=True)
    with pytest.raises(UserError, match="changed since it was opened"):
        run_sync(embedding_job_for("pca", cat))


def test_cancel_ends_simclr_training_at_once(catalogue_file):
    cat = read_catalogue(catalogue_file)
    token = CancelToken()
    started = []

    def on_progress(p):
        if p.message.startswith("epoch"):
            started.append(time.perf_counter())
            token.cancel()

    with pytest.raises(Cancelled):
        run_sync(embedding_job_for("simclr", cat, epochs=50, batch_size=16, device="cpu"),
                 on_progress, token)
    assert started and time.perf_counter() - started[0] < 5
