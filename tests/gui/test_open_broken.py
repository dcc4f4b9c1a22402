"""Opening broken inputs in the window: one warning naming the file for each refused
file, the previous catalogue kept and the window still usable; degenerate but valid
files open without a dialog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from astroexplorer.core import RowSet
from tests.data.make_broken_inputs import LOADED, REFUSED, make_broken_inputs

__all__: list[str] = []


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str | None]]:
    return make_broken_inputs(tmp_path_factory.mktemp("broken"))


def test_refused_files_warn_and_keep_the_catalogue(window, dialogs, survey_path: Path,
                                                   corpus) -> None:
    assert window.open_path(survey_path)
    before = window.session.catalogue
    window.session.selection.select(RowSet([1, 2, 3]), source="test")
    for i, name in enumerate(REFUSED):
        path, expected = corpus[name]
        assert not window.open_path(path), name
        assert dialogs.kinds() == ["warning"] * (i + 1), name
        _kind, _title, text = dialogs.calls[-1]
        assert path.name in text, (name, text)
        assert window.session.catalogue is before, name
        assert list(window.session.selection.rows) == [1, 2, 3], name
    # Still usable: the views follow a new selection, and a good file opens.
    assert window.isVisible() and window.table_panel.model.rowCount() == len(before)
    window.table_panel.select_rows([5, 6])
    assert list(window.session.selection.rows) == [5, 6]
    assert window.image_panel.shown_row == window.session.selection.focus
    assert window.open_path(corpus["good_fits"][0])
    assert len(window.session.catalogue) == 10 and len(dialogs.calls) == len(REFUSED)


@pytest.mark.parametrize("name", LOADED)
def test_degenerate_files_open_without_a_dialog(window, dialogs, corpus, name: str) -> None:
    path, _expected = corpus[name]
    assert window.open_path(path)
    catalogue = window.session.catalogue
    assert catalogue.path == path and dialogs.calls == []
    assert window.table_panel.model.rowCount() == len(catalogue)
    # Focusing every row shows its cutout and light curve (or says there are none).
    rows = np.arange(len(catalogue))
    window.session.selection.select(RowSet(rows.tolist()), source="test")
    for row in rows:
        window.session.selection.set_focus(int(row), source="test")
    assert dialogs.calls == []
