"""The Export selection dialog: where, in which format, and how to lay out cutouts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..io.table_writer import EXPORT_FORMATS, FORMAT_LABELS, format_for

__all__ = ["ExportDialog", "FORMAT_SUFFIXES"]

#: The suffix given to a file name when its format is chosen.
FORMAT_SUFFIXES = {"fits": ".fits", "votable": ".vot", "csv": ".csv", "ecsv": ".ecsv"}
_LAYOUTS = (("cube", "One cube (compact)"), ("per_object", "One image per object, with its WCS"))


class ExportDialog(QDialog):
    """Choose the output file, format, cutout layout and whether to write the table alone.

    ``has_data`` says whether the catalogue has cutouts or light curves, which only
    FITS can hold: for VOTable, CSV and ECSV the table alone is written.
    """

    def __init__(self, out: Path, n_rows: int, has_cutouts: bool, has_data: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export selection")
        self._has_data = has_data
        self._has_cutouts = has_cutouts
        layout = QVBoxLayout(self)
        summary = QLabel(f"Write the {n_rows:,} selected objects with every column (units, "
                         "descriptions and nulls kept), their row numbers, embedding and map "
                         "position" + (", cutouts and light curves." if has_data else "."))
        summary.setWordWrap(True)
        layout.addWidget(summary)
        form = QFormLayout()
        self.path_edit = QLineEdit(str(out))
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._browse)
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.path_edit, 1)
        box.addWidget(browse)
        self.format_combo = QComboBox()
        for fmt in EXPORT_FORMATS:
            self.format_combo.addItem(FORMAT_LABELS[fmt], fmt)
        self.layout_combo = QComboBox()
        for name, label in _LAYOUTS:
            self.layout_combo.addItem(label, name)
        self.layout_combo.setToolTip("FITS cutouts as one (n, C, H, W) CUTOUTS cube, or one "
                                     "image HDU per object (DS9 shows its RA/Dec)")
        self.table_only_check = QCheckBox("Table only (no cutouts or light curves)")
        self.table_only_check.toggled.connect(self._update_enabled)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        form.addRow("File:", row)
        form.addRow("Format:", self.format_combo)
        form.addRow("Cutouts:", self.layout_combo)
        form.addRow("", self.table_only_check)
        layout.addLayout(form)
        layout.addWidget(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.path_edit.editingFinished.connect(self._on_path_edited)
        self._on_path_edited()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export selection", self.path_edit.text(),
            "FITS (*.fits);;VOTable (*.vot *.xml *.votable);;CSV (*.csv);;ECSV (*.ecsv)",
            options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.path_edit.setText(path)
            self._on_path_edited()

    def _on_path_edited(self) -> None:
        """Follow the file's suffix with the format combo."""
        try:
            fmt = format_for(self.output())
        except Exception:  # noqa: BLE001 - an unknown suffix keeps the chosen format
            fmt = self.format()
        index = self.format_combo.findData(fmt)
        if index >= 0 and index != self.format_combo.currentIndex():
            self.format_combo.setCurrentIndex(index)
        else:
            self._on_format_changed()

    def _on_format_changed(self, *_: object) -> None:
        fmt = self.format()
        path = self.output()
        suffix = FORMAT_SUFFIXES[fmt]
        try:
            matches = format_for(path) == fmt
        except Exception:  # noqa: BLE001
            matches = False
        if not matches:
            name = path.name.split(".")[0] if path.name else "selection"
            self.path_edit.setText(str(path.with_name(name + suffix)))
        fits = fmt == "fits"
        if not fits and self._has_data:
            self.table_only_check.setChecked(True)
        self.table_only_check.setEnabled(fits and self._has_data)
        if fits:
            self.note.setText("")
        elif fmt == "csv":
            self.note.setText("CSV keeps the values only (no units or descriptions)"
                              + ("; cutouts and light curves need FITS." if self._has_data
                                 else "."))
        else:
            self.note.setText("VOTable and ECSV keep units and descriptions"
                              + ("; cutouts and light curves need FITS." if self._has_data
                                 else "."))
        self._update_enabled()

    def _update_enabled(self, *_: object) -> None:
        self.layout_combo.setEnabled(self.format() == "fits" and self._has_cutouts
                                     and not self.table_only())

    def output(self) -> Path:
        return Path(self.path_edit.text().strip() or "selection.fits")

    def format(self) -> str:
        return str(self.format_combo.currentData())

    def cutout_layout(self) -> str:
        return str(self.layout_combo.currentData())

    def table_only(self) -> bool:
        return self.table_only_check.isChecked()
