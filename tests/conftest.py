"""Shared fixtures: small synthetic catalogues built in memory (no downloads);
Qt runs offscreen."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Autosaved sessions go to a folder of the test run's own: never the user's (a crash
# autosave left there would make every window offer to recover it); each test gets
# its own below.
os.environ["ASTROEXPLORER_AUTOSAVE_DIR"] = tempfile.mkdtemp(prefix="astroexplorer-autosave-")
# Likewise cached embeddings and checkpoints: never the user's cache, fresh per test.
os.environ["ASTROEXPLORER_CACHE_DIR"] = tempfile.mkdtemp(prefix="astroexplorer-cache-")

import pytest  # noqa: E402

from astroexplorer.core import Catalogue  # noqa: E402
from tests.helpers import make_small_catalogue  # noqa: E402


@pytest.fixture
def small_catalogue() -> Catalogue:
    return make_small_catalogue()


@pytest.fixture(autouse=True)
def _own_autosave_folder(tmp_path_factory: pytest.TempPathFactory,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh autosave folder per test: one test's crash autosave is not offered for
    recovery in the next test's window."""
    monkeypatch.setenv("ASTROEXPLORER_AUTOSAVE_DIR", str(tmp_path_factory.mktemp("autosave")))
    monkeypatch.setenv("ASTROEXPLORER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
