"""The "Detect sources in image" dialog: a wide-field image in, a catalogue of
stamps out (see ``io.wide_field`` and ``pipeline.detect_and_cut_file_job``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

__all__ = ["DetectDialog", "IMAGE_FILTER"]

IMAGE_FILTER = ("Images (*.fits *.fit *.fts *.fits.gz *.fz *.png *.jpg *.jpeg *.tif *.tiff);;"
                "All files (*)")


class DetectDialog(QDialog):
    """Choose the image, where to write the catalogue, and the detection settings."""

    def __init__(self, image: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Detect sources in an image")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.image_edit, image_row = self._path_row(self._browse_image)
        self.out_edit, out_row = self._path_row(self._browse_out)
        self.image_edit.setPlaceholderText("FITS image with a WCS, or PNG / JPEG / TIFF")
        self.out_edit.setPlaceholderText("catalogue FITS file to write")
        self.size_spin = QSpinBox(minimum=8, maximum=1024, value=48)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Side of the square stamp cut around each source")
        self.threshold_spin = QDoubleSpinBox(minimum=0.5, maximum=100.0, value=3.0)
        self.threshold_spin.setSuffix(" \u03c3")
        self.threshold_spin.setToolTip("Detection threshold above the background, in its RMS")
        self.npixels_spin = QSpinBox(minimum=1, maximum=100_000, value=10)
        self.npixels_spin.setToolTip("Minimum number of connected pixels of a source")
        self.deblend_check = QCheckBox("Split blended sources")
        self.deblend_check.setChecked(True)
        form.addRow("Image:", image_row)
        form.addRow("Catalogue:", out_row)
        form.addRow("Stamp size:", self.size_spin)
        form.addRow("Threshold:", self.threshold_spin)
        form.addRow("Minimum area:", self.npixels_spin)
        form.addRow("", self.deblend_check)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Detect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        if image is not None:
            self.set_image(Path(image))

    @staticmethod
    def _path_row(browse) -> tuple[QLineEdit, QWidget]:
        row = QWidget()
        edit = QLineEdit()
        button = QPushButton("Browse\u2026")
        button.clicked.connect(browse)
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit, 1)
        box.addWidget(button)
        return edit, row

    def set_image(self, image: Path) -> None:
        """Choose the image; the catalogue defaults to ``<image>_sources.fits`` beside it."""
        self.image_edit.setText(str(image))
        if not self.out_edit.text().strip():
            stem = image.name.split(".")[0]
            self.out_edit.setText(str(image.with_name(f"{stem}_sources.fits")))

    def _browse_image(self) -> None:
        start = str(QSettings().value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Wide-field image", start, IMAGE_FILTER)
        if path:
            self.set_image(Path(path))

    def _browse_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Catalogue to write", self.out_edit.text(),
                                              "FITS files (*.fits)")
        if path:
            self.out_edit.setText(path)

    def image(self) -> Path | None:
        text = self.image_edit.text().strip()
        return Path(text) if text else None

    def output(self) -> Path | None:
        text = self.out_edit.text().strip()
        if not text:
            return None
        out = Path(text)
        return out if out.suffix else out.with_suffix(".fits")

    def parameters(self) -> dict:
        """Keyword arguments of ``detect_and_cut_job``."""
        return {"stamp_size": self.size_spin.value(),
                "threshold_sigma": self.threshold_spin.value(),
                "npixels": self.npixels_spin.value(),
                "deblend": self.deblend_check.isChecked()}
