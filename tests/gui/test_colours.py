"""Which columns colour the map and label the embedding comparison: one rule."""

import numpy as np
from astropy.table import Table

from astroexplorer.core import Catalogue
from astroexplorer.gui.colours import categorical_columns, colour_by_candidates


def test_categories_are_short_string_lists_flags_and_small_integers() -> None:
    n = 200
    rng = np.random.default_rng(0)
    table = Table({
        "object_id": np.arange(n),
        "morphology": rng.choice(["spiral", "elliptical", "star"], n),
        "name": [f"obj {i}" for i in range(n)],  # free text
        "many": rng.choice([f"c{i}" for i in range(30)], n),  # more values than colours
        "is_star": rng.random(n) < 0.3,
        "n_arms": rng.integers(0, 5, n),
        "flux": rng.normal(size=n),
        "count": rng.integers(0, 10_000, n),
    })
    catalogue = Catalogue(table, name="t", id_column="object_id")
    assert categorical_columns(catalogue) == ["morphology", "is_star", "n_arms"]
    assert colour_by_candidates(catalogue) == ["morphology", "is_star", "n_arms", "flux", "count"]
