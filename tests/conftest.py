"""Shared fixtures: small synthetic catalogues built in memory (no downloads);
Qt runs offscreen."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from astroexplorer.core import Catalogue  # noqa: E402
from tests.helpers import make_small_catalogue  # noqa: E402


@pytest.fixture
def small_catalogue() -> Catalogue:
    return make_small_catalogue()
