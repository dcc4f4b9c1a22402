"""The GUI's option defaults are the jobs' own, for every registered method."""

from __future__ import annotations

import inspect

import pytest

from astroexplorer.analysis.embedding import EMBEDDING_METHODS, embedding_parameters
from astroexplorer.ml import image_ssl, lightcurve_ssl

IMAGE_METHODS = {"simclr": image_ssl.SimCLR(), "byol": image_ssl.BYOL(),
                 "autoencoder": image_ssl.Autoencoder(),
                 "vae": image_ssl.Autoencoder(variational=True)}
LIGHTCURVE_METHODS = {"lc_contrastive": lightcurve_ssl.LightCurveContrastive(),
                      "lc_masked": lightcurve_ssl.LightCurveMasked(),
                      "lc_next_step": lightcurve_ssl.LightCurveNextStep()}
#: Options the GUI shows differently: the form has no "None", 0 stands for it.
GUI_SPELLING = {("input_size", None): 0}
#: Options the forms do not offer.
NOT_IN_FORMS: set[str] = set()


def _job_defaults(name: str) -> dict:
    if name in IMAGE_METHODS:
        return {**image_ssl.COMMON_IMAGE_OPTIONS, **IMAGE_METHODS[name].options}
    return {**lightcurve_ssl.COMMON_LIGHTCURVE_OPTIONS, **LIGHTCURVE_METHODS[name].options}


def test_every_registered_torch_method_is_covered():
    torch_methods = {e.name for e in EMBEDDING_METHODS.entries() if e.needs == "torch"}
    assert torch_methods == set(IMAGE_METHODS) | set(LIGHTCURVE_METHODS)
    for name, method in {**IMAGE_METHODS, **LIGHTCURVE_METHODS}.items():
        assert method.name == name


@pytest.mark.parametrize("name", [*IMAGE_METHODS, *LIGHTCURVE_METHODS])
def test_gui_defaults_are_the_jobs_defaults(name):
    gui = embedding_parameters(name)
    job = _job_defaults(name)
    assert set(gui) <= set(job), f"the GUI offers options {set(gui) - set(job)} the job lacks"
    for key, (default, low, high, tip) in gui.items():
        expected = GUI_SPELLING.get((key, job[key]), job[key])
        assert default == expected, (name, key)
        assert type(default) is type(expected), (name, key)  # a bool is a check box
        if not isinstance(low, tuple):
            assert low <= default <= high, (name, key)
        assert tip
    own = set(LIGHTCURVE_METHODS[name].options if name in LIGHTCURVE_METHODS
               else IMAGE_METHODS[name].options)
    assert own - NOT_IN_FORMS <= set(gui), f"{name} options missing from the GUI"
    for key in ("epochs", "batch_size", "dim", "lr", "width", "depth"):
        assert key in gui
    assert ("max_length" in gui) == (name in LIGHTCURVE_METHODS)
    assert ("input_size" in gui) == (name in IMAGE_METHODS)


def test_light_curve_methods_get_their_own_dim_default():
    assert embedding_parameters("lc_contrastive")["dim"][0] == 64
    assert embedding_parameters("simclr")["dim"][0] == 128


def test_classical_light_curve_features_defaults_are_the_jobs():
    from astroexplorer.analysis.lc_features import lc_features_job

    signature = inspect.signature(lc_features_job).parameters
    gui = embedding_parameters("lc_features")
    assert set(gui) == {"min_period", "max_period", "samples_per_peak"}
    for key, (default, *_rest) in gui.items():
        assert default == signature[key].default
