"""File > Export selection: the dialog's format, cutout layout and table-only choices."""

from __future__ import annotations

from pathlib import Path

from astropy.io import fits
from astropy.table import Table

from astroexplorer.core import RowSet
from astroexplorer.gui.export_dialog import ExportDialog


def _open(window, survey_path: Path) -> None:
    assert window.open_path(survey_path)
    window.session.selection.select(RowSet([0, 3, 4]), source="test")


def test_format_follows_the_suffix_and_the_suffix_the_format(qtbot, tmp_path):
    dialog = ExportDialog(tmp_path / "sel.fits", 3, has_cutouts=True, has_data=True)
    qtbot.addWidget(dialog)
    assert dialog.format() == "fits" and not dialog.table_only()
    assert dialog.layout_combo.isEnabled()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("ecsv"))
    assert dialog.output() == tmp_path / "sel.ecsv"
    assert dialog.table_only() and not dialog.table_only_check.isEnabled()
    assert not dialog.layout_combo.isEnabled() and "need FITS" in dialog.note.text()
    dialog.path_edit.setText(str(tmp_path / "other.vot"))
    dialog.path_edit.editingFinished.emit()
    assert dialog.format() == "votable"


def test_per_object_cutouts_with_their_own_hdus(window, qtbot, survey_path, tmp_path,
                                                monkeypatch, dialogs):
    _open(window, survey_path)

    def answer(dialog: ExportDialog) -> bool:
        dialog.path_edit.setText(str(tmp_path / "objects"))
        dialog.path_edit.editingFinished.emit()
        dialog.layout_combo.setCurrentIndex(dialog.layout_combo.findData("per_object"))
        return True

    monkeypatch.setattr(window, "_run_dialog", answer)
    with qtbot.waitSignal(window.export_finished, timeout=60_000):
        assert window.export_selection_dialog()
    out = tmp_path / "objects.fits"
    with fits.open(out) as hdul:
        names = [h.name for h in hdul]
        assert [n for n in names if n.startswith("CUTOUT_")] == ["CUTOUT_0", "CUTOUT_3",
                                                                 "CUTOUT_4"]
        assert hdul["CUTOUT_3"].data.shape == (3, 64, 64) and "CUTOUTS" not in names
    assert list(Table.read(out, hdu="CATALOGUE")["row_index"]) == [0, 3, 4]
    assert dialogs.calls == []


def test_votable_writes_the_table_alone_with_units(window, qtbot, survey_path, tmp_path,
                                                   monkeypatch, dialogs):
    _open(window, survey_path)

    def answer(dialog: ExportDialog) -> bool:
        dialog.path_edit.setText(str(tmp_path / "table.vot"))
        dialog.path_edit.editingFinished.emit()
        return True

    monkeypatch.setattr(window, "_run_dialog", answer)
    with qtbot.waitSignal(window.export_finished, timeout=60_000):
        assert window.export_selection_dialog()
    table = Table.read(tmp_path / "table.vot")
    assert list(table["row_index"]) == [0, 3, 4] and str(table["ra"].unit) == "deg"
    assert dialogs.calls == []
