"""Built-in demo catalogues, generated offline and cached: deterministic by seed."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import UserError
from ..jobs.base import Job, Progress

__all__ = ["DEMO_NAMES", "DEMO_VERSION", "demo_dir", "demo_path", "build_demo", "demo_paths",
           "demo_job"]

#: Bump when the generators change, so stale caches are rebuilt.
DEMO_VERSION = 3
DEMO_NAMES = ("simulated_survey", "hubble_xdf")


def demo_dir() -> Path:
    """The user cache folder holding the demo catalogues."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("astroexplorer")) / f"demo-v{DEMO_VERSION}"


def _build_one(name: str, out: Path, n_survey: int, seed: int) -> None:
    from ..io.fits_writer import write_catalogue_fits

    if name == "simulated_survey":
        from .survey import build_survey_catalogue

        table, cutouts, bands, lightcurves = build_survey_catalogue(n_survey, seed=seed)
        write_catalogue_fits(out, table, cutouts, bands, cutout_unit="nanomaggy",
                             lightcurves=lightcurves, overwrite=True,
                             provenance={"DEMOSEED": (seed, "demo generator seed")})
    else:
        from .xdf import build_xdf_catalogue

        table, cutouts, bands = build_xdf_catalogue()
        write_catalogue_fits(out, table, cutouts, bands, overwrite=True)


def demo_path(name: str, out_dir: Path | None = None, n_survey: int = 3000,
              seed: int = 42) -> Path:
    """Where the demo catalogue ``name`` is (or will be) written; builds nothing."""
    if name not in DEMO_NAMES:
        raise UserError(f"unknown demo catalogue {name!r}; choose one of {', '.join(DEMO_NAMES)}")
    out_dir = Path(out_dir) if out_dir is not None else demo_dir()
    if name == "simulated_survey" and (n_survey, seed) != (3000, 42):
        return out_dir / f"simulated_survey_n{n_survey}_s{seed}.fits"
    return out_dir / f"{name}.fits"


def build_demo(out_dir: Path | None = None, n_survey: int = 3000, seed: int = 42,
               rebuild: bool = False) -> dict[str, Path]:
    """Build (or reuse) the demo catalogues and return their paths by name.

    Parameters
    ----------
    out_dir : Path, optional
        Where to write; defaults to :func:`demo_dir`. Files already there are reused
        unless ``rebuild``.
    n_survey : int
        Objects in the simulated survey (a non-default size gets its own file name).
    """
    out_dir = Path(out_dir) if out_dir is not None else demo_dir()
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file, not a folder for the demo catalogues")
    out_dir.mkdir(parents=True, exist_ok=True)
    # Temporary files of a build that was killed (Cancel terminates the process).
    for stale in out_dir.glob(".*.part"):
        stale.unlink(missing_ok=True)
    paths = {name: demo_path(name, out_dir, n_survey, seed) for name in DEMO_NAMES}
    for name, path in paths.items():
        if rebuild or not path.exists():
            _build_one(name, path, n_survey, seed)
    return paths


def demo_paths() -> dict[str, Path]:
    """Paths of the default demo catalogues, building them on first use."""
    return build_demo()


def _build_demo_in_child(name: str) -> Job[Path]:
    yield Progress(0, None, "building the demo catalogues (first time only, about a minute)")
    path = demo_paths()[name]
    yield Progress(1, 1, "demo catalogues ready")
    return path


def demo_job(name: str) -> Job[Path]:
    """A job returning the path of the default demo catalogue ``name``; if it is not
    cached yet the demos are built in a child process, so Cancel stops at once."""
    from ..jobs.process import run_in_process

    cached = demo_path(name)
    if cached.exists():
        yield Progress(1, 1, f"opening the {name} demo")
        return cached
    return (yield from run_in_process(_build_demo_in_child, name))
