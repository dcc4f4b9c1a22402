"""The Embeddings panel: options, live training curve, cache, comparison, Cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from astroexplorer.analysis import EMBEDDING_METHODS
from astroexplorer.core import Catalogue
from astroexplorer.gui.colours import categorical_columns
from astroexplorer.gui.embeddings_panel import EmbeddingsPanel

TINY = {"epochs": 2, "batch_size": 32, "dim": 8, "width": 4, "input_size": 16, "lr": 2e-3}


@pytest.fixture
def survey(window, demo_paths: dict[str, Path]):
    assert window.open_path(demo_paths["simulated_survey"])
    return window


def choose(panel: EmbeddingsPanel, method: str, **values) -> None:
    panel.method_combo.setCurrentIndex(panel.method_combo.findData(method))
    for name, value in values.items():
        panel.option_widgets[method][name].setValue(value)


def compute(qtbot, window) -> None:
    with qtbot.waitSignal(window.projection_ready, timeout=120_000):
        window.embeddings_panel.compute_button.click()
    qtbot.waitUntil(lambda: not window.jobs_panel.running_kinds(), timeout=30_000)


def test_every_method_is_offered_with_its_data_and_options(survey) -> None:
    panel = survey.embeddings_panel
    names = [panel.method_combo.itemData(i) for i in range(panel.method_combo.count())]
    assert names == EMBEDDING_METHODS.names()
    assert "SimCLR (cutouts)" in [panel.method_combo.itemText(i) for i in range(len(names))]
    choose(panel, "simclr", epochs=3, dim=16)
    assert panel.options() == {"epochs": 3, "batch_size": 128, "dim": 16, "lr": 1e-3, "width": 32,
                               "depth": 1, "input_size": 0, "temperature": 0.1, "device": "auto"}
    assert panel.device_combo.isEnabled()
    choose(panel, "lc_contrastive")
    assert panel.options()["periodogram"] is True and panel.options()["dim"] == 64
    panel.option_widgets["lc_contrastive"]["periodogram"].setChecked(False)
    assert panel.options()["periodogram"] is False  # a bool, as the job and cache key expect
    choose(panel, "pca")
    assert panel.options() == {"dim": 32} and not panel.device_combo.isEnabled()
    assert panel.compute_button.isEnabled()
    labels = [panel.label_combo.itemData(i) for i in range(panel.label_combo.count())]
    assert labels == ["", *categorical_columns(survey.session.catalogue)]  # as "colour by"
    assert {"morphology", "var_class", "split", "is_star"} <= set(labels)


def test_training_shows_a_live_loss_curve_then_the_cache_answers(qtbot, survey) -> None:
    panel = survey.embeddings_panel
    choose(panel, "simclr", **TINY)
    panel.device_combo.setCurrentIndex(panel.device_combo.findData("cpu"))
    compute(qtbot, survey)
    emb = survey.session.embedding
    assert emb.method == "simclr" and emb.vectors.shape == (200, 8)
    x, y = panel.loss_curve.getData()
    assert x is not None and len(x) >= 2 and np.isfinite(y).all()
    assert emb.config["cache_key"] and Path(emb.config["checkpoint"]).exists()
    assert panel.table.rowCount() == 1 and panel.table.item(0, 0).text() == "simclr"
    # The same request again: found in the cache, no training, same vectors.
    compute(qtbot, survey)
    again = survey.session.embedding
    assert again is not emb and np.array_equal(again.vectors, emb.vectors)
    assert again.config["cache_key"] == emb.config["cache_key"] and again.config["from_cache"]
    assert panel.loss_curve.getData()[0] is None  # nothing trained
    assert "from the cache" in panel.progress_label.text()


def test_compare_and_switch_between_embeddings(qtbot, survey) -> None:
    panel = survey.embeddings_panel
    choose(panel, "pca", dim=16)
    compute(qtbot, survey)
    first = survey.session.embedding
    choose(panel, "pca", dim=2)
    compute(qtbot, survey)
    second = survey.session.embedding
    assert panel.table.rowCount() == 2 and panel.table.item(1, 0).font().bold()
    panel.label_combo.setCurrentIndex(panel.label_combo.findData("morphology"))
    panel.compare()
    knn = [float(panel.table.item(r, 3).text()) for r in range(2)]
    assert all(0 < k <= 1 for k in knn)
    tip = panel.table.item(0, 3).toolTip().splitlines()  # per class, worst first
    assert tip[0] == "kNN accuracy within each morphology, worst first:" and len(tip) == 1 + 7
    per_class = [float(line.split(": ")[1]) for line in tip[1:]]
    assert per_class == sorted(per_class) and "star: " in panel.table.item(0, 3).toolTip()
    assert panel.table.item(1, 4).text() == "1.000"
    assert 0 <= float(panel.table.item(0, 4).text()) < 1
    with qtbot.waitSignal(survey.projection_ready, timeout=60_000):
        panel.activate(0)
    assert survey.session.embedding is first and survey.session.embedding is not second
    assert panel.table.item(0, 0).font().bold() and not panel.table.item(1, 0).font().bold()


def test_cancel_button_stops_training(qtbot, survey) -> None:
    panel = survey.embeddings_panel
    choose(panel, "simclr", **{**TINY, "epochs": 200})
    panel.device_combo.setCurrentIndex(panel.device_combo.findData("cpu"))
    panel.compute_button.click()
    assert panel.cancel_button.isEnabled() and not panel.compute_button.isEnabled()
    qtbot.waitUntil(lambda: "epoch" in panel.progress_label.text(), timeout=60_000)
    with qtbot.waitSignal(survey.jobs_panel.job_cancelled, timeout=30_000):
        panel.cancel_button.click()
    assert survey.session.embedding is None
    assert panel.compute_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_a_catalogue_without_the_methods_data(qtbot, window, small_catalogue) -> None:
    bare = Catalogue(small_catalogue.table, name="bare")
    window.set_catalogue(bare)
    panel = window.embeddings_panel
    assert not panel.compute_button.isEnabled()
    assert "no cutouts" in panel.compute_button.toolTip()
