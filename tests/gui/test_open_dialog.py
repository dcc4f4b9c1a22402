"""The Open-with-options / column-mapping dialog, alone and driven from the window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from astroexplorer.core.errors import AmbiguousColumnsError, UserError
from astroexplorer.gui.open_dialog import OpenDialog
from astroexplorer.io import OpenOptions


def _csv(tmp_path: Path) -> Path:
    table = Table({"objid": np.arange(5), "name": [f"obj{i}" for i in range(5)],
                   "mag": np.linspace(18, 20, 5)})
    path = tmp_path / "cat.csv"
    table.write(path)
    return path


def test_dialog_offers_candidates_first_and_returns_options(qtbot, tmp_path):
    error = AmbiguousColumnsError(tmp_path / "lc.csv", {"value": ["flux", "mag"]},
                                  ["mjd", "mag", "flux", "band"])
    dialog = OpenDialog(tmp_path / "lc.csv", OpenOptions(columns={"time": "mjd"}), error)
    qtbot.addWidget(dialog)
    value = dialog.role_combos["value"]
    assert [value.itemText(i) for i in range(value.count())] == [
        "(detect)", "flux", "mag", "mjd", "band"]
    assert value.currentText() == "flux"  # the best candidate is pre-selected
    dialog.set_role("value", "mag")
    options = dialog.options()
    assert options.columns == {"time": "mjd", "value": "mag"}
    assert options.cutouts is None and options.lightcurves is None
    assert dialog.catalogue_path() == tmp_path / "lc.csv"
    assert "value" in str(error) and "--column value=NAME" in str(error)
    with pytest.raises(UserError, match="unknown column role"):
        dialog.set_role("colour", "mag")


def test_window_opens_with_the_roles_chosen_in_the_dialog(window, tmp_path, monkeypatch):
    path = _csv(tmp_path)
    seen = []

    def answer(dialog: OpenDialog) -> bool:
        seen.append(dialog)
        dialog.set_role("id", "name")
        return True

    monkeypatch.setattr(window, "_run_dialog", answer)
    assert window.open_with_options_dialog(path)
    catalogue = window.session.catalogue
    assert catalogue.path == path and catalogue.id_column == "name"
    assert catalogue.open_options.columns == {"id": "name"}


def test_unknown_column_is_refused_and_the_window_keeps_its_catalogue(
        window, tmp_path, monkeypatch, dialogs):
    path = _csv(tmp_path)
    assert window.open_path(path)
    before = window.session.catalogue

    def answer(dialog: OpenDialog) -> bool:
        dialog.set_role("id", "no_such_column")
        return True

    monkeypatch.setattr(window, "_run_dialog", answer)
    assert not window.open_with_options_dialog(path)
    assert window.session.catalogue is before
    assert dialogs.kinds() == ["warning"]
    assert "no_such_column" in dialogs.calls[0][2] and str(path) in dialogs.calls[0][2]


def test_cancelled_dialog_opens_nothing(window, tmp_path, monkeypatch):
    monkeypatch.setattr(window, "_run_dialog", lambda dialog: False)
    assert not window.open_with_options_dialog(_csv(tmp_path))
    assert window.session.catalogue is None


def test_catalogue_information_says_what_was_detected(window, survey_path, monkeypatch):
    assert window.catalogue_info() == "No catalogue is open."
    assert window.open_path(survey_path)
    shown = []
    monkeypatch.setattr(window, "_run_dialog", lambda box: shown.append(box) or True)
    window.info_action.trigger()
    text = window.catalogue_info()
    assert f"file: {survey_path}" in text and "detected: read as FITS" in text
    assert "cutouts: 200 of 3 band(s) (g, r, z)" in text
    box = shown[0]
    assert "  ra: float64 [deg]" not in box.text() and "  ra: float64 [deg]" in box.detailedText()


def test_ambiguous_light_curves_ask_which_column_then_open(window, tmp_path, monkeypatch):
    """A ZTF-like table with both mag and flux: the window asks, the user picks mag."""
    obs = Table({"oid": [7, 7, 7, 9, 9], "mjd": [59000.0, 59001.0, 59003.0, 59000.5, 59002.0],
                 "mag": [18.0, 18.2, 18.1, 19.0, 19.3], "magerr": [0.05] * 5,
                 "flux": [1.0, 0.9, 0.95, 0.5, 0.4], "filtercode": ["zg", "zr", "zg", "zg", "zr"]})
    path = tmp_path / "ztf.csv"
    obs.write(path)
    asked = []

    def answer(dialog: OpenDialog) -> bool:
        asked.append({role: combo.currentText() for role, combo in dialog.role_combos.items()})
        dialog.set_role("value", "mag")
        return True

    monkeypatch.setattr(window, "_run_dialog", answer)
    assert window.open_path(path)
    assert asked and asked[0]["value"] == "mag"  # the first candidate is offered
    catalogue = window.session.catalogue
    assert len(catalogue) == 2 and catalogue.open_options.columns == {"value": "mag"}
    lc = catalogue.lightcurves.get(0)
    assert lc.is_magnitude and list(lc.value) == [18.0, 18.2, 18.1]
