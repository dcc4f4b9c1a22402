"""The "Open with options" dialog: separate cutout and light-curve files, and which
column plays which role when the readers cannot tell (the column-mapping dialog)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import AmbiguousColumnsError, UserError
from ..io.registry import COLUMN_ROLES, OpenOptions

__all__ = ["OpenDialog", "ROLE_LABELS"]

#: What each column role means, for the dialog's labels and tooltips.
ROLE_LABELS = {
    "id": ("Object id", "Identifies each object; light curves are matched on it"),
    "ra": ("RA", "Right ascension (deg)"),
    "dec": ("Dec", "Declination (deg)"),
    "time": ("Time", "Observation time of a light-curve point (MJD, BJD, BKJD, ...)"),
    "value": ("Flux or magnitude", "The measured value of a light-curve point"),
    "error": ("Error", "1-sigma uncertainty of the value"),
    "band": ("Band", "Band / passband / filter of a light-curve point"),
    "path": ("Cutout file", "Column of cutout file paths (FITS, PNG, JPEG, TIFF)"),
    "lc_path": ("Light-curve file", "Column of per-object light-curve FITS paths"),
}
_DETECT = "(detect)"


class _PathField(QWidget):
    """A line edit with Browse buttons for a file and, optionally, a folder."""

    def __init__(self, caption: str, allow_folder: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._caption = caption
        self.edit = QLineEdit()
        self.edit.setClearButtonEnabled(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        file_button = QPushButton("File\u2026")
        file_button.clicked.connect(self._browse_file)
        layout.addWidget(file_button)
        if allow_folder:
            folder_button = QPushButton("Folder\u2026")
            folder_button.clicked.connect(self._browse_folder)
            layout.addWidget(folder_button)

    def _start(self) -> str:
        text = self.edit.text().strip()
        return str(Path(text).parent) if text else str(QSettings().value("last_dir", Path.home()))

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self._caption, self._start())
        if path:
            self.edit.setText(path)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self._caption, self._start())
        if path:
            self.edit.setText(path)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text) if text else None


class OpenDialog(QDialog):
    """Choose a catalogue, optional separate cutouts / light curves, and column roles.

    Parameters
    ----------
    path : Path or None
        The catalogue file, pre-filled.
    options : OpenOptions or None
        Options to start from (e.g. the ones that just failed).
    error : AmbiguousColumnsError or None
        When given, the dialog explains which roles are undecided, offers their
        candidate columns first and lists every column of the table.
    """

    def __init__(self, path: Path | None = None, options: OpenOptions | None = None,
                 error: AmbiguousColumnsError | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        options = options or OpenOptions()
        self.setWindowTitle("Which column is which?" if error else "Open catalogue with options")
        layout = QVBoxLayout(self)
        if error is not None:
            message = QLabel(
                f"<b>{Path(error.path).name}</b>: AstroExplorer cannot tell which column plays "
                f"{'these roles' if len(error.roles) > 1 else 'this role'}: "
                f"{', '.join(ROLE_LABELS.get(r, (r,))[0] for r in error.roles)}. "
                "Choose the columns below."
            )
            message.setWordWrap(True)
            message.setTextFormat(Qt.TextFormat.RichText)
            layout.addWidget(message)

        files = QFormLayout()
        self.catalogue_field = _PathField("Catalogue", allow_folder=False)
        self.cutouts_field = _PathField("Cutouts", allow_folder=True)
        self.lightcurves_field = _PathField("Light curves", allow_folder=True)
        for field, value in ((self.catalogue_field, path), (self.cutouts_field, options.cutouts),
                             (self.lightcurves_field, options.lightcurves)):
            if value is not None:
                field.edit.setText(str(value))
        self.cutouts_field.edit.setPlaceholderText(
            "optional: .npy / FITS cube, Galaxy10 HDF5, or a folder")
        self.lightcurves_field.edit.setPlaceholderText(
            "optional: a long-format table, or a folder of Kepler/TESS files")
        files.addRow("Catalogue:", self.catalogue_field)
        files.addRow("Cutouts:", self.cutouts_field)
        files.addRow("Light curves:", self.lightcurves_field)
        layout.addLayout(files)

        group = QGroupBox("Columns (leave on \u201c(detect)\u201d to let AstroExplorer decide)")
        form = QFormLayout(group)
        self.role_combos: dict[str, QComboBox] = {}
        columns = error.columns if error is not None else []
        undecided = error.roles if error is not None else {}
        for role in COLUMN_ROLES:
            combo = QComboBox()
            combo.setEditable(True)  # columns of files not yet read can be typed
            combo.addItem(_DETECT)
            candidates = undecided.get(role, [])
            for name in [*candidates, *(c for c in columns if c not in candidates)]:
                combo.addItem(name)
            label, tip = ROLE_LABELS.get(role, (role, ""))
            combo.setToolTip(tip)
            chosen = options.columns.get(role)
            if chosen is not None:
                combo.setCurrentText(chosen)
            elif candidates:
                combo.setCurrentText(candidates[0])
            text = f"{label}:"
            if role in undecided:
                text = f"<b>{label}</b> (needed):"
            row_label = QLabel(text)
            row_label.setToolTip(tip)
            form.addRow(row_label, combo)
            self.role_combos[role] = combo
        layout.addWidget(group)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)

    def catalogue_path(self) -> Path | None:
        """The catalogue file chosen."""
        return self.catalogue_field.path()

    def options(self) -> OpenOptions:
        """The options chosen; raises :class:`UserError` for an unknown role name."""
        columns = {role: combo.currentText().strip() for role, combo in self.role_combos.items()
                   if combo.currentText().strip() not in ("", _DETECT)}
        return OpenOptions(cutouts=self.cutouts_field.path(),
                           lightcurves=self.lightcurves_field.path(), columns=columns)

    def set_role(self, role: str, column: str) -> None:
        """Choose ``column`` for ``role`` (as the user would)."""
        if role not in self.role_combos:
            raise UserError(f"unknown column role {role!r}")
        self.role_combos[role].setCurrentText(column)
