"""The ``astroexplorer`` command: the GUI with no subcommand, and one subcommand per
step of the loop (demo, info, embed, project, export, screenshots) sharing the
library's code. User mistakes print one sentence to stderr and exit non-zero."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import __version__
from .core.errors import UserError

__all__ = ["main", "gui_main", "build_parser", "describe_catalogue"]

SUBCOMMANDS = ("demo", "info", "embed", "project", "export", "screenshots", "gui",
               "similar", "anomalies", "cluster", "rank-interest", "cutout")


def _progress_printer(quiet: bool):
    """A progress callback writing one updating line to stderr."""
    last = [""]

    def show(progress) -> None:
        if quiet:
            return
        frac = progress.fraction
        pct = f"{100 * frac:5.1f}% " if frac is not None else ""
        line = f"\r{pct}{progress.message}"[:120]
        if line != last[0]:
            sys.stderr.write(line.ljust(len(last[0])))
            sys.stderr.flush()
            last[0] = line

    return show


def _run(job, quiet: bool):
    from .jobs import run_sync

    try:
        return run_sync(job, _progress_printer(quiet))
    finally:
        if not quiet:
            sys.stderr.write("\n")


def _load_array(path: str, what: str) -> np.ndarray:
    p = Path(path)
    if not p.exists() and p.with_suffix(".npy").exists():
        p = p.with_suffix(".npy")
    if not p.is_file():
        raise UserError(f"{path}: no such {what} file")
    try:
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise UserError(f"{p} is not a .npy {what} array: {exc}") from None


def _npy_out(path: str) -> Path:
    p = Path(path)
    return p if p.suffix == ".npy" else p.with_name(p.name + ".npy")


def _save_array(path: str, array: np.ndarray, overwrite: bool) -> Path:
    from .io.fits_writer import atomic_write_path, check_output_path

    out = check_output_path(_npy_out(path), overwrite)
    with atomic_write_path(out) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)
    return out


def cmd_demo(args) -> int:
    from .demo import build_demo

    paths = build_demo(Path(args.out) if args.out else None, n_survey=args.n_survey,
                       seed=args.seed, rebuild=args.rebuild)
    for path in paths.values():
        print(path)
    return 0


def _open_options(args):
    """The ``OpenOptions`` given by ``--cutouts``, ``--lightcurves`` and ``--column``."""
    from .io import OpenOptions

    columns = {}
    for item in getattr(args, "column", None) or []:
        role, sep, name = item.partition("=")
        if not sep or not role or not name:
            raise UserError(f"--column {item!r}: write it as ROLE=NAME, e.g. --column time=mjd")
        columns[role.strip()] = name.strip()
    return OpenOptions(cutouts=getattr(args, "cutouts", None),
                       lightcurves=getattr(args, "lightcurves", None), columns=columns)


def _read(args):
    """The catalogue named by ``args.file``, opened with the command line's options."""
    from .io import read_catalogue

    return read_catalogue(Path(args.file), _open_options(args))


def describe_catalogue(path: Path, options=None) -> str:
    """What the readers detected in ``path``, as printed by ``astroexplorer info``."""
    from .io import read_catalogue
    from .io.describe import describe

    return f"file: {path}\n" + describe(read_catalogue(path, options))


def cmd_info(args) -> int:
    print(describe_catalogue(Path(args.file), _open_options(args)))
    return 0


#: ``embed`` options that only learned (torch) methods take: argparse dest -> job option.
_LEARNED_OPTIONS = ("epochs", "batch_size", "width", "depth", "input_size", "lr", "max_train",
                    "checkpoint", "resume")


def _method_option(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` of ``--option``, VALUE read as JSON when it is (numbers, true, null)."""
    import json

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--option takes KEY=VALUE (e.g. temperature=0.1), not {text!r}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def cmd_embed(args) -> int:
    from .analysis.embedding import (
        DEFAULT_EPOCHS,
        EMBEDDING_METHODS,
        cached_embedding_job,
        embedding_job,
    )
    from .analysis.embedding_cache import EmbeddingCache

    entry = EMBEDDING_METHODS[args.method]
    if args.resume and not args.checkpoint:
        raise UserError("--resume needs --checkpoint FILE (the run to continue)")
    if args.resume and not Path(args.checkpoint).exists():
        raise UserError(f"the checkpoint {args.checkpoint} does not exist: nothing to resume")
    cat = _read(args)
    options: dict = {"seed": args.seed}
    if args.dim is not None:
        options["dim"] = args.dim
    given = {name: getattr(args, name) for name in _LEARNED_OPTIONS
             if getattr(args, name) not in (None, False)}
    if entry.needs != "torch":
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise UserError(f"{flags} apply to learned methods, not to {args.method}")
    else:
        options.update({"epochs": DEFAULT_EPOCHS, "device": args.device, **given})
    options.update(_method_option(text) for text in args.option)
    job = (embedding_job(args.method, cat, **options) if args.no_cache else
           cached_embedding_job(args.method, cat, EmbeddingCache(), **options))
    emb = _run(job, args.quiet)
    out = _save_array(args.out, emb.vectors, args.overwrite)
    print(out)
    return 0


def cmd_project(args) -> int:
    from .analysis import projection_job
    from .analysis.projection import place_points_job

    vectors = _load_array(args.embedding, "embedding")
    new = _load_array(args.place, "embedding") if args.place else None
    if (new is None) != (args.place_out is None):
        raise UserError("--place and --place-out go together: new objects' vectors in, "
                        "their map positions out")
    options = {"seed": args.seed}
    if args.method in ("umap", "tsne"):
        options.update(metric=args.metric, backend=args.backend, keep_model=new is not None)
    if args.method == "umap":
        options.update(n_neighbors=args.neighbors, min_dist=args.min_dist)
    elif args.method == "tsne":
        options.update(perplexity=args.perplexity)
    proj = _run(projection_job(args.method, vectors, **options), args.quiet)
    out = _save_array(args.out, proj.xy, args.overwrite)
    print(out)
    if new is not None:
        xy = _run(place_points_job(proj, new), args.quiet)
        print(_save_array(args.place_out, xy, args.overwrite))
    trust = proj.config.get("trustworthiness")
    if trust is not None and not args.quiet:
        print(f"trustworthiness (10 neighbours, {proj.config['trustworthiness_sample']} objects): "
              f"{trust:.3f}", file=sys.stderr)
    return 0


def cmd_export(args) -> int:
    from .core.catalogue import Embedding, Projection
    from .core.expr import parse_rows
    from .io import export_selection

    cat = _read(args)
    rows = parse_rows(args.rows, cat.table)
    emb = Embedding(_load_array(args.embedding, "embedding"), args.embedding_method) \
        if args.embedding else None
    proj = Projection(_load_array(args.projection, "projection"), args.projection_method) \
        if args.projection else None
    description = f"rows: {args.rows}"
    if args.description:
        description = f"{args.description} ({description})"
    out = export_selection(cat, rows, Path(args.out), emb, proj,
                           description=description, overwrite=args.overwrite,
                           format=args.format, cutout_layout=args.cutout_layout,
                           table_only=args.table_only,
                           inputs=[q for p in (args.embedding, args.projection) if p
                                   for q in (Path(p), Path(p).with_suffix(".npy"))])
    print(f"{out}: {len(rows)} rows" + (" (table only)" if args.table_only else ""))
    return 0


def _window_size(text: str) -> tuple[int, int]:
    """``"1024x640"`` as (1024, 640), for ``screenshots --size``."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 1024x640") from None
    if width < 320 or height < 240:
        raise argparse.ArgumentTypeError(f"{text} is too small a window (320x240 at least)")
    return width, height


def cmd_screenshots(args) -> int:
    from .gui.screenshots import save_screenshots

    for path in save_screenshots(Path(args.dir), size=args.size):
        print(path)
    return 0


def cmd_gui(args) -> int:
    from .gui.app import run_app

    session = args.session
    if args.file and args.file.lower().endswith(".aexsession") and not session:
        args.file, session = None, args.file  # `astroexplorer saved.aexsession`
    if sum(bool(x) for x in (args.file, args.demo, session)) > 1:
        raise UserError("give one of a FILE, --demo or --session")
    return run_app(Path(args.file) if args.file else None, demo=args.demo,
                   options=_open_options(args), session=Path(session) if session else None)


def cmd_similar(args) -> int:
    from .analysis.neighbours import find_similar
    from .io.fits_writer import atomic_write_path, check_output_path

    try:
        query = [int(part) for part in args.rows.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"--rows {args.rows!r} must be row indices like 5 or 5,9,12") from None
    out = check_output_path(Path(args.out), args.overwrite, [Path(args.embedding)]) \
        if args.out else None
    vectors = _load_array(args.embedding, "embedding")
    rows, dist = find_similar(vectors, query, k=args.k, metric=args.metric)
    table = list(zip(range(1, len(rows) + 1), rows.tolist(), dist.tolist()))
    if out is not None:
        with atomic_write_path(out) as tmp:
            Path(tmp).write_text("rank,row,distance\n"
                                 + "".join(f"{r},{row},{d:.9g}\n" for r, row, d in table))
    print(f"{'rank':>4} {'row':>10} {'distance':>12}")
    for rank, row, d in table:
        print(f"{rank:>4} {row:>10} {d:>12.6g}")
    return 0


def cmd_cutout(args) -> int:
    from .io.fits_writer import check_output_path
    from .io.wide_field import detect_and_cut_job, write_stamp_catalogue

    # Refuse a bad --out before the detection, not after it.
    check_output_path(Path(args.out), args.overwrite, [Path(args.image)])
    cat = _run(detect_and_cut_job(Path(args.image), stamp_size=args.size,
                                  threshold_sigma=args.threshold, npixels=args.npixels,
                                  deblend=not args.no_deblend, hdu=args.hdu), args.quiet)
    out = write_stamp_catalogue(Path(args.out), cat, overwrite=args.overwrite)
    print(f"{out}: {len(cat)} sources")
    return 0


def cmd_anomalies(args) -> int:
    from .analysis.anomaly import anomaly_job
    from .io.fits_writer import check_output_path

    if args.k is not None and args.method != "knn_distance":
        raise UserError("-k applies to the knn_distance method only")
    # Refuse a bad --out before a long fit, not after it.
    check_output_path(_npy_out(args.out), args.overwrite, [Path(args.embedding)])
    vectors = _load_array(args.embedding, "embedding")
    options = {"k": args.k} if args.k is not None else {}
    scores = _run(anomaly_job(args.method, vectors, seed=args.seed, **options), args.quiet)
    out = _save_array(args.out, scores, args.overwrite)
    print(out)
    return 0


def cmd_cluster(args) -> int:
    from .analysis.clustering import hdbscan_job
    from .io.fits_writer import check_output_path

    check_output_path(_npy_out(args.out), args.overwrite, [Path(args.embedding)])
    vectors = _load_array(args.embedding, "embedding")
    try:
        result = _run(hdbscan_job(vectors, min_cluster_size=args.min_cluster_size,
                                  min_samples=args.min_samples, metric=args.metric,
                                  seed=args.seed), args.quiet)
    except UserError as exc:
        raise UserError(f"{args.embedding}: {exc}") from None
    out = _save_array(args.out, result.labels, args.overwrite)
    print(out)
    if result.config.get("reduced"):
        print(f"clustered after {result.config['reduced']}")
    if result.config.get("subsample"):
        print(f"clustered: {result.config['subsample']}")
    print(f"{result.n_clusters} clusters, {result.n_noise} noise"
          + (f" ({result.n_nonfinite} with non-finite values)" if result.n_nonfinite else ""))
    for cluster, size in result.sizes.items():
        print(f"cluster {cluster}: {size}")
    return 0


def cmd_rank_interest(args) -> int:
    from .analysis.labelling import InterestLabels, rank_interest_job
    from .io.fits_writer import check_output_path

    inputs = [Path(p) for p in (args.embedding, args.labels, args.anomaly) if p]
    check_output_path(_npy_out(args.out), args.overwrite, inputs)
    vectors = _load_array(args.embedding, "embedding")
    if vectors.ndim != 2:
        raise UserError(f"{args.embedding} must be a 2-D (N, D) embedding, not shape "
                        f"{vectors.shape}")
    labels = InterestLabels.from_column(_load_array(args.labels, "labels"), args.labels)
    if len(labels) != len(vectors):
        raise UserError(f"{args.labels} has {len(labels)} labels but {args.embedding} has "
                        f"{len(vectors)} rows")
    anomaly = None
    if args.anomaly:
        anomaly = _load_array(args.anomaly, "anomaly score")
        if anomaly.shape != (len(vectors),):
            raise UserError(f"{args.anomaly} must hold one score per row, shape "
                            f"({len(vectors)},), not {anomaly.shape}")
    if labels.labelled_rows().size == 0 and anomaly is None:
        raise UserError(f"{args.labels} has no labels (all NaN) and no --anomaly scores were "
                        f"given, so there is nothing to rank by")
    try:
        scores = _run(rank_interest_job(vectors, labels, anomaly, seed=args.seed), args.quiet)
    except UserError as exc:
        raise UserError(f"{args.embedding}: {exc}") from None
    out = _save_array(args.out, scores, args.overwrite)
    print(out)
    unlabelled = np.flatnonzero(np.isnan(labels.as_column()) & np.isfinite(scores))
    top = unlabelled[np.argsort(-scores[unlabelled], kind="stable")[:10]]
    print("most interesting unlabelled rows: " + ", ".join(str(int(r)) for r in top))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from .demo import DEMO_NAMES

    p = argparse.ArgumentParser(
        prog="astroexplorer",
        description="Explore survey catalogues, cutouts and light curves with deep learning. "
                    "With no command (or a FILE) it opens the window.",
    )
    p.add_argument("--version", action="version", version=f"astroexplorer {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("gui", help="open the window (the default)")
    s.add_argument("file", nargs="?", help="catalogue to open")
    s.add_argument("--demo", choices=DEMO_NAMES,
                   help="open a built-in demo catalogue (built on first use)")
    s.add_argument("--session", metavar="FILE",
                   help="open a saved session (.aexsession): its catalogue, results, "
                        "selection, subsets and layout")
    _open_arguments(s)
    s.set_defaults(func=cmd_gui)

    s = sub.add_parser("demo", help="build the built-in demo catalogues and print their paths")
    s.add_argument("--out", help="folder to write them to (default: the user cache folder)")
    s.add_argument("--n-survey", type=int, default=3000, help="objects in the simulated survey")
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--rebuild", action="store_true", help="rebuild even if cached")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("info", help="print what was detected in a catalogue file")
    s.add_argument("file")
    _open_arguments(s)
    s.set_defaults(func=cmd_info)

    from .analysis.embedding import DEFAULT_EPOCHS, EMBEDDING_METHODS
    from .analysis.projection import PROJECTION_METHODS

    methods = "; ".join(f"{e.name}: {e.description or e.label} ({e.modality})"
                        for e in EMBEDDING_METHODS.entries())
    s = sub.add_parser("embed", help="compute an embedding of a catalogue's cutouts or light curves",
                       description=f"Methods - {methods}. Results are cached (keyed by the data "
                       "and the options); a cancelled learned run resumes from where it stopped.")
    s.add_argument("file")
    _open_arguments(s)
    s.add_argument("--method", choices=EMBEDDING_METHODS.names(), default="pca")
    s.add_argument("--out", required=True, help="output .npy: (N, D) float32, one row per object")
    s.add_argument("--dim", type=int, help="embedding dimension")
    s.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cuda, mps or cpu")
    s.add_argument("--epochs", type=int, help=f"training epochs (default {DEFAULT_EPOCHS})")
    s.add_argument("--batch-size", type=int)
    s.add_argument("--lr", type=float, help="peak learning rate")
    s.add_argument("--width", type=int, help="CNN width (channels of the first stage)")
    s.add_argument("--depth", type=int, help="residual blocks per CNN stage")
    s.add_argument("--input-size", type=int, help="resample cutouts to SIZE x SIZE pixels")
    s.add_argument("--max-train", type=int, help="train on at most this many objects")
    s.add_argument("--checkpoint", help="safetensors file written after every epoch")
    s.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    s.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a method's own option, e.g. temperature=0.1 (repeatable)")
    s.add_argument("--no-cache", action="store_true",
                   help="compute afresh, neither reading nor writing the embedding cache")
    _common(s)
    s.set_defaults(func=cmd_embed)

    s = sub.add_parser("project", help="map an embedding to 2-D")
    s.add_argument("embedding", help=".npy (N, D) embedding")
    s.add_argument("--method", choices=PROJECTION_METHODS.names(), default="umap")
    s.add_argument("--out", required=True, help="output .npy: (N, 2) float32")
    s.add_argument("--neighbors", type=int, default=15, help="UMAP n_neighbors")
    s.add_argument("--min-dist", type=float, default=0.1, help="UMAP min_dist")
    s.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity")
    s.add_argument("--metric", choices=("euclidean", "cosine"), default="euclidean",
                   help="distance in the embedding (UMAP, t-SNE)")
    s.add_argument("--backend", choices=("auto", "cpu", "cuml"), default="auto",
                   help="auto uses RAPIDS cuML when installed with a GPU, else the CPU")
    s.add_argument("--place", metavar="NEW.npy",
                   help="(M, D) vectors of new objects to place into the finished map")
    s.add_argument("--place-out", metavar="OUT.npy", help="where to write their (M, 2) positions")
    _common(s)
    s.set_defaults(func=cmd_project)

    s = sub.add_parser("export", help="export selected rows and their data to FITS, or the "
                                      "table alone to VOTable, CSV or ECSV")
    s.add_argument("file")
    _open_arguments(s)
    s.add_argument("--rows", required=True,
                   help='"all", indices like "0,5,10-20", or an expression like '
                        '\'mag_r < 20 & morphology == "spiral"\'')
    s.add_argument("--embedding", help=".npy (N, D) embedding to include")
    s.add_argument("--embedding-method", default="embedding", help="name recorded for it")
    s.add_argument("--projection", help=".npy (N, 2) projection to include")
    s.add_argument("--projection-method", default="projection", help="name recorded for it")
    s.add_argument("--out", required=True,
                   help="output file: .fits, .vot/.xml/.votable, .csv or .ecsv")
    s.add_argument("--format", choices=("fits", "votable", "csv", "ecsv"),
                   help="output format (default: from the suffix of OUT); only FITS holds "
                        "cutouts and light curves, CSV holds values only (no units)")
    s.add_argument("--cutout-layout", choices=("cube", "per-object"), default="cube",
                   help="FITS cutouts as one (n, C, H, W) CUTOUTS cube (default) or one "
                        "image HDU per object, CUTOUT_<row>, with its WCS when known")
    s.add_argument("--table-only", action="store_true",
                   help="write the table alone, without cutouts and light curves (needed "
                        "for VOTable, CSV and ECSV when the catalogue has either)")
    s.add_argument("--description", help="how the rows were chosen, recorded in the output "
                                         "beside the --rows text")
    s.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("screenshots", help="save PNGs of the window and each view on the demo")
    s.add_argument("dir")
    s.add_argument("--size", type=_window_size, default=(1280, 800), metavar="WxH",
                   help="window size in pixels (default 1280x800; 1024x640 for a small laptop)")
    s.set_defaults(func=cmd_screenshots)

    from .analysis.anomaly import ANOMALY_METHODS
    from .analysis.neighbours import METRICS

    s = sub.add_parser("similar", help="list the objects most like one object or a selection")
    s.add_argument("embedding", help=".npy (N, D) embedding")
    s.add_argument("--rows", required=True,
                   help='query row index, or several ("5,9,12") to search from their mean')
    s.add_argument("-k", type=int, default=10, help="neighbours to list (default 10)")
    s.add_argument("--metric", choices=METRICS, default="euclidean")
    s.add_argument("--out", help="also write the table to this CSV file")
    s.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    s.set_defaults(func=cmd_similar)

    s = sub.add_parser("anomalies", help="score how unusual each object's embedding is")
    s.add_argument("embedding", help=".npy (N, D) embedding")
    s.add_argument("--method", choices=ANOMALY_METHODS.names(), default="isolation_forest")
    s.add_argument("--out", required=True,
                   help="output .npy: (N,) float64, higher = more anomalous, NaN where undefined")
    s.add_argument("-k", type=int, help="which neighbour, for knn_distance (default 10)")
    _common(s)
    s.set_defaults(func=cmd_anomalies)

    from .analysis.clustering import CLUSTER_METRICS

    s = sub.add_parser("cluster", help="group an embedding into HDBSCAN clusters")
    s.add_argument("embedding", help=".npy (N, D) embedding")
    s.add_argument("--out", required=True,
                   help="output .npy: (N,) int32 cluster ids, -1 = noise, 0 = largest cluster")
    s.add_argument("--min-cluster-size", type=int, default=15,
                   help="smallest group called a cluster (default 15)")
    s.add_argument("--min-samples", type=int,
                   help="neighbours defining a core point (default: the minimum cluster size)")
    s.add_argument("--metric", choices=CLUSTER_METRICS, default="euclidean")
    _common(s)
    s.set_defaults(func=cmd_cluster)

    s = sub.add_parser("rank-interest",
                       help="rank objects by predicted interest from your 0-5 labels")
    s.add_argument("embedding", help=".npy (N, D) embedding")
    s.add_argument("--labels", required=True,
                   help=".npy (N,) float scores 0-5 (5 = interesting), NaN = unlabelled")
    s.add_argument("--anomaly", help=".npy (N,) anomaly scores to combine with (Astronomaly)")
    s.add_argument("--out", required=True,
                   help="output .npy: (N,) float64 predicted interest, higher = more interesting")
    _common(s)
    s.set_defaults(func=cmd_rank_interest)

    s = sub.add_parser("cutout", help="detect the sources of a wide-field image and cut stamps")
    s.add_argument("image", help="FITS image (2-D or a cube of bands) or PNG / JPEG / TIFF")
    s.add_argument("--out", required=True, help="output catalogue FITS (table and stamp cube)")
    s.add_argument("--size", type=int, default=48, help="stamp side in pixels (default 48)")
    s.add_argument("--threshold", type=float, default=3.0,
                   help="detection threshold in background sigma (default 3)")
    s.add_argument("--npixels", type=int, default=10,
                   help="minimum connected pixels per source (default 10)")
    s.add_argument("--no-deblend", action="store_true", help="do not split blended sources")
    s.add_argument("--hdu", type=int, help="FITS HDU to read (default: the first image)")
    s.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    s.add_argument("--quiet", action="store_true", help="no progress on stderr")
    s.set_defaults(func=cmd_cutout)
    return p


def _open_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--cutouts", metavar="PATH",
                   help="cutouts kept apart from the table: a .npy or FITS cube, a "
                        "Galaxy10-style HDF5 file, or a folder of per-object files")
    s.add_argument("--lightcurves", metavar="PATH",
                   help="light curves kept apart from the table: a long-format table "
                        "matched by id, or a folder of Kepler/TESS light-curve FITS files")
    s.add_argument("--column", action="append", metavar="ROLE=NAME",
                   help="say which column plays a role the readers cannot detect "
                        "(id, ra, dec, time, value, error, band, path, lc_path); repeatable")


def _common(s: argparse.ArgumentParser) -> None:
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    s.add_argument("--quiet", action="store_true", help="no progress on stderr")


def gui_main() -> int:
    """Entry point of the ``astroexplorer-gui`` launcher (no console needed)."""
    return main(["gui", *sys.argv[1:2]])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``astroexplorer`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # `astroexplorer` and `astroexplorer FILE` open the window.
    if not argv or (argv[0] not in SUBCOMMANDS and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"astroexplorer: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("astroexplorer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
