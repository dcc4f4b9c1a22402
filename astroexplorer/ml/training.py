"""What every self-supervised training run shares, whatever the modality.

A :class:`Trainer` owns the optimiser (AdamW), the cosine learning-rate schedule,
mixed precision on CUDA, the shuffling of each epoch, the epoch loop with its
progress reports, the check for a diverged loss, and checkpoints: written with
safetensors (tensors plus a JSON header, never pickle) atomically at the end of
every epoch, every 10 minutes within one and when the run is cancelled, and read
back to resume a cancelled or crashed run from the batch after the last it trained.
:func:`fit_batch_size` picks a batch size that fits an accelerator's memory, and
:func:`embed_in_batches` is the matching inference loop.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.errors import UserError
from ..jobs.base import Progress
from .device import describe_device

__all__ = ["CHECKPOINT_FORMAT", "Trainer", "autocast_for", "check_train_rows", "embed_in_batches",
           "fit_batch_size", "memory_trial", "plan_epochs", "read_checkpoint_info",
           "recorded_options", "resolve_options", "run_generator"]

#: Written in every checkpoint's header; a file without it is not ours.
CHECKPOINT_FORMAT = "astroexplorer-checkpoint-1"
_WEIGHT_DECAY = 1e-4
#: A long epoch is also checkpointed mid-way at least this often (seconds), so that a
#: crash loses at most this much training.
CHECKPOINT_INTERVAL_S = 600.0


def check_train_rows(rows: Any, n: int, label: str) -> np.ndarray:
    """The rows to train on, checked: sorted unique int64 indices in ``[0, n)``.

    Parameters
    ----------
    rows : sequence of int, shape (M,), or boolean mask, shape (n,)
        Row indices (duplicates allowed) or a mask over all ``n`` rows.
    n : int
        Number of rows of the data.
    label : str
        The method's name, for the messages.

    Returns
    -------
    ndarray, shape (K,), int64
        Sorted unique row indices, ``K >= 2``.

    Raises
    ------
    UserError
        Not a 1-d sequence of integers (or a mask of ``n`` booleans), a row outside
        ``[0, n)``, or fewer than 2 distinct rows.
    """
    arr = np.asarray(rows)
    if arr.dtype == bool and arr.shape == (n,):
        arr = np.flatnonzero(arr)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise UserError(f"The {label} train_rows must be a 1-d sequence of row indices "
                        f"(or a boolean mask of {n} rows).")
    arr = np.unique(arr.astype(np.int64))
    if arr.size and (arr[0] < 0 or arr[-1] >= n):
        raise UserError(f"The {label} train_rows must lie in [0, {n}); got rows from "
                        f"{arr[0]} to {arr[-1]}.")
    if arr.size < 2:
        raise UserError(f"The {label} train_rows must name at least 2 rows, not {arr.size}.")
    return arr


def recorded_options(opts: dict) -> dict:
    """The options a run's identity and config record: all but where it runs (device,
    checkpoint, resume), with checked ``train_rows`` (shape (K,) int64) as their count
    and a SHA-1 of their bytes, not thousands of indices."""
    recorded = {k: v for k, v in opts.items() if k not in ("device", "checkpoint", "resume")}
    rows = opts.get("train_rows")
    if rows is not None:
        recorded["train_rows"] = {"count": int(rows.size),
                                  "sha1": hashlib.sha1(rows.tobytes()).hexdigest()}
    return recorded


def run_generator(dev: torch.device, seed: int) -> torch.Generator:
    """The run's seeded generator for augmentations and masks: on ``dev`` for CPU and
    CUDA, on the CPU for other devices (Apple MPS)."""
    gen = torch.Generator(device=dev if dev.type in ("cpu", "cuda") else "cpu")
    gen.manual_seed(seed)
    return gen


def _amp_dtype(dev: torch.device) -> torch.dtype | None:
    if dev.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast_for(dev: torch.device) -> AbstractContextManager:
    """Mixed precision on CUDA (bf16 where supported, else fp16); nothing elsewhere."""
    dtype = _amp_dtype(dev)
    return nullcontext() if dtype is None else torch.autocast(dev.type, dtype=dtype)


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says an accelerator ran out of memory (CUDA raises
    ``torch.OutOfMemoryError``; MPS a RuntimeError saying so)."""
    return isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc))


def _release_memory(dev: torch.device) -> None:
    gc.collect()
    if dev.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif dev.type == "mps" and torch.backends.mps.is_available():
        torch.mps.empty_cache()


def memory_trial(modules: dict[str, nn.Module], loss: Callable[[], torch.Tensor],
                 dev: torch.device) -> None:
    """One forward pass of ``loss()`` (mixed precision as in training) and its backward
    pass, to see that a batch fits in memory; the modules are left as they were
    (parameters, buffers such as BatchNorm statistics, no gradients)."""
    saved = {name: {k: v.detach().clone() for k, v in m.state_dict().items()}
             for name, m in modules.items()}
    try:
        with autocast_for(dev):
            value = loss()
        value.backward()
    finally:
        value = None
        for name, module in modules.items():
            module.load_state_dict(saved[name])
            module.zero_grad(set_to_none=True)


def fit_batch_size(batch_size: int, dev: torch.device, trial: Callable[[int], None],
                   label: str, what: str) -> int:
    """The training batch size for ``dev``: ``batch_size`` if ``trial(batch_size)``
    (one training step's forward and backward pass on that many objects, e.g. with
    :func:`memory_trial`) fits in the accelerator's memory, else the first of
    ``batch_size / 2``, ``/ 4``... (at least 2) that does. On the CPU, ``batch_size``,
    untried.

    Raises
    ------
    UserError
        When not even a batch of 2 ``what`` fits.
    """
    if dev.type == "cpu":
        return batch_size
    size = batch_size
    while True:
        try:
            trial(size)
            return size
        except RuntimeError as exc:  # torch.OutOfMemoryError is a RuntimeError
            if not _out_of_memory(exc):
                raise
        _release_memory(dev)  # outside the except: the traceback no longer holds tensors
        if size <= 2:
            raise UserError(
                f"{label}: the {describe_device(dev)} ran out of memory even with batches "
                f"of 2 {what}. Choose a smaller width, depth or input size, or the CPU.")
        size = max(2, size // 2)


def _jsonable(value: Any) -> Any:
    """``value`` with tensors and numpy scalars turned into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class Trainer:
    """Optimisation, mixed precision, progress and checkpoints of one training run.

    The drivers' ``batches(epoch)`` take the epoch's order of rows from
    :meth:`epoch_order`, so that a run cancelled mid-epoch can save the rows it has
    not trained on yet and resume exactly there.

    Parameters
    ----------
    modules : dict of str to nn.Module
        Every module whose state belongs in a checkpoint (trained or not, e.g. a
        BYOL momentum target), already on ``device``.
    trainable : iterable of nn.Parameter
        What the optimiser updates.
    device : torch.device
    lr : float
        Peak learning rate; the cosine schedule decays it to ``lr / 100`` over
        ``total_steps``.
    total_steps : int
        Optimiser steps of the whole run (epochs x batches per epoch).
    identity : dict
        JSON-able description of the run (method, options, data fingerprint). A
        checkpoint resumes only a run with the same identity.
    checkpoint : str or Path, optional
        Where to write the checkpoint (``.safetensors``) after each epoch, when the
        run is cancelled (closed) between two batches, and mid-epoch every
        ``checkpoint_interval_s`` seconds (a crash loses at most that much).
    resume : bool
        Continue from ``checkpoint`` if it exists (its identity must match).
    rng : numpy Generator
        The run's generator for shuffling; its state is checkpointed.
    torch_generator : torch.Generator
        The run's generator for augmentations and masks; its state is checkpointed.
    """

    def __init__(
        self, modules: dict[str, nn.Module], trainable: Iterable[nn.Parameter], device: torch.device,
        lr: float, total_steps: int, identity: dict, rng: np.random.Generator,
        torch_generator: torch.Generator, checkpoint: str | Path | None = None,
        resume: bool = False, weight_decay: float = _WEIGHT_DECAY,
        checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
    ) -> None:
        self.modules = modules
        self.device = device
        self.identity = _jsonable(identity)
        self.rng = rng
        self.torch_generator = torch_generator
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.amp_dtype = _amp_dtype(device)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.optimizer = torch.optim.AdamW(list(trainable), lr=lr, weight_decay=weight_decay)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=max(total_steps, 1), eta_min=lr * 0.01)
        self.weight_decay = weight_decay
        self.checkpoint_interval_s = checkpoint_interval_s
        self.epoch_losses: list[float] = []
        self.start_epoch = 0
        self.resumed_from: str | None = None
        # The current epoch's rows in training order, and (after a mid-epoch resume)
        # the rest of the interrupted epoch and its (batches, loss sum) so far.
        self._order: np.ndarray | None = None
        self._resume_order: np.ndarray | None = None
        self._partial: tuple[int, float] | None = None
        self.train_seconds = 0.0
        if resume and self.checkpoint is not None and self.checkpoint.exists():
            self._restore(self.checkpoint)

    # -- one step ---------------------------------------------------------------
    def autocast(self) -> AbstractContextManager:
        """Mixed precision on CUDA (bf16, or fp16 with loss scaling); nothing elsewhere."""
        return autocast_for(self.device)

    @property
    def amp(self) -> str:
        return {None: "none", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.amp_dtype]

    def step(self, loss: torch.Tensor) -> float:
        """Back-propagate ``loss``, take one optimiser and schedule step; the loss value."""
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        self.scheduler.step()
        return float(loss.detach())

    # -- the epoch loop -----------------------------------------------------------
    def epoch_order(self, rows: np.ndarray) -> np.ndarray:
        """The rows to train on this epoch, in order: a permutation of ``rows`` (shape
        (K,)) drawn from the run's generator, or, first after resuming mid-epoch, the
        rows the interrupted epoch had not trained on yet."""
        if self._resume_order is not None:
            self._order, self._resume_order = self._resume_order, None
        else:
            self._order = self.rng.permutation(rows)
        return self._order

    def fit(
        self, epochs: int, batches: Callable[[int], Iterator[tuple[int, Any]]],
        train_step: Callable[[Any], float], steps_per_epoch: int, total: int,
        method: str = "training", infer_objects: int = 0,
        infer_cost: float = 1.0 / 6.0,
    ) -> Iterator[Progress]:
        """Train from ``start_epoch`` to ``epochs``, yielding one Progress per batch.

        ``batches(epoch)`` yields ``(n_objects, batch)``, taking its rows in the
        order of :meth:`epoch_order`; ``train_step(batch)`` returns the batch's loss.
        A checkpoint is written after each epoch, every ``checkpoint_interval_s``
        within one, and when the generator is closed (Cancel) after a batch: resuming
        from it trains the rest of that epoch. The
        ETA counts the remaining epochs plus embedding ``infer_objects`` objects at
        ``infer_cost`` of a training object each.

        Raises
        ------
        UserError
            When a loss is not finite (diverged training).
        """
        t_start = last_save = time.perf_counter()
        done_steps = 0
        if self.resumed_from is not None:  # say where training picks up
            done = self.start_epoch * steps_per_epoch + (self._partial[0] if self._partial else 0)
            epoch, batch = divmod(done, steps_per_epoch)
            where = (f"epoch {epoch + 1}/{epochs}, batch {batch + 1}" if epoch < epochs
                     else "training already done")
            yield Progress(done, total, f"resuming {Path(self.resumed_from).name}: {where}")
        for epoch in range(self.start_epoch, epochs):
            for module in self.modules.values():
                module.train()
            n_batches, loss_sum = self._partial or (0, 0.0)  # after a mid-epoch resume
            self._partial = None
            seen, t0 = 0, time.perf_counter()
            for n_objects, batch in batches(epoch):
                loss = train_step(batch)
                if not math.isfinite(loss):
                    raise UserError(f"{method} training diverged (loss {loss}) in epoch "
                                    f"{epoch + 1}; try a lower learning rate.")
                done_steps += 1
                seen += n_objects
                loss_sum += loss
                n_batches += 1
                now = time.perf_counter()
                per_step = (now - t_start) / done_steps
                left = (epochs - epoch) * steps_per_epoch - (n_batches)
                per_object = per_step / max(n_objects, 1)
                eta = left * per_step + infer_objects * infer_cost * per_object
                step = epoch * steps_per_epoch + n_batches
                metrics = {"epoch": float(epoch + 1), "loss": loss,
                           "objects_per_s": seen / max(now - t0, 1e-9), "eta_s": eta}
                metrics["images_per_s"] = metrics["objects_per_s"]
                partial = (seen, n_batches, loss_sum, now - t0)
                if self.checkpoint is not None and self._order is not None \
                        and now - last_save >= self.checkpoint_interval_s:
                    self._save(self.checkpoint, epoch, partial)
                    last_save = now
                try:
                    yield Progress(step, total, f"epoch {epoch + 1}/{epochs}, loss {loss:.4f}",
                                   metrics)
                except GeneratorExit:  # cancelled: keep what this epoch has trained
                    if self.checkpoint is not None and self._order is not None:
                        self._save(self.checkpoint, epoch, partial)
                    raise
            self._order = None
            self.epoch_losses.append(loss_sum / max(n_batches, 1))
            self.train_seconds += time.perf_counter() - t0
            if self.checkpoint is not None:
                self._save(self.checkpoint, epoch + 1)
                last_save = time.perf_counter()
        for module in self.modules.values():
            module.eval()

    def summary(self) -> dict:
        """Facts about the run for an Embedding's config."""
        return {"device": describe_device(self.device), "amp": self.amp, "optimizer": "AdamW",
                "weight_decay": self.weight_decay, "schedule": "cosine",
                "epoch_losses": list(self.epoch_losses), "train_seconds": self.train_seconds,
                "checkpoint": str(self.checkpoint) if self.checkpoint else None,
                "resumed_from_epoch": self.start_epoch if self.resumed_from else None}

    # -- checkpoints ----------------------------------------------------------------
    def _save(self, path: Path, epochs_done: int,
              partial: tuple[int, int, float, float] | None = None) -> None:
        """Write the run's state after ``epochs_done`` whole epochs and, mid-epoch,
        ``partial`` = (objects trained on from this epoch's order, batches of the
        epoch so far, their loss sum, seconds spent on them since this run started
        or resumed the epoch)."""
        from safetensors.torch import save_file

        tensors: dict[str, torch.Tensor] = {}
        for name, module in self.modules.items():
            for key, value in module.state_dict().items():
                tensors[f"model.{name}.{key}"] = value
        opt_state = self.optimizer.state_dict()
        for index, state in opt_state["state"].items():
            for key, value in state.items():
                t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
                tensors[f"optim.{index}.{key}"] = t
        tensors["rng.torch"] = self.torch_generator.get_state()
        if self.scaler is not None:
            tensors["amp.scale"] = torch.tensor(self.scaler.get_scale())
        if partial is not None:
            tensors["epoch.rows_left"] = torch.from_numpy(np.array(self._order[partial[0]:]))
        tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
        meta = {
            "format": CHECKPOINT_FORMAT, "identity": self.identity, "epochs_done": epochs_done,
            "epoch_losses": self.epoch_losses,
            "train_seconds": self.train_seconds + (partial[3] if partial else 0.0),
            "param_groups": _jsonable(opt_state["param_groups"]),
            "scheduler": _jsonable(self.scheduler.state_dict()),
            "rng_numpy": _jsonable(self.rng.bit_generator.state),
            "epoch_partial": None if partial is None else
            {"batches": partial[1], "loss_sum": partial[2]},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            save_file(tensors, str(tmp), metadata={"astroexplorer": json.dumps(meta)})
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _restore(self, path: Path) -> None:
        from safetensors.torch import load_file

        meta = read_checkpoint_info(path)
        if meta["identity"] != self.identity:
            raise UserError(
                f"The checkpoint {path} was written by a different run (other data, method "
                "or options); it cannot resume this one. Start afresh or choose another "
                "checkpoint file.")
        tensors = load_file(str(path))
        for name, module in self.modules.items():
            prefix = f"model.{name}."
            state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            module.load_state_dict(state)
        opt_state: dict = {"state": {}, "param_groups": meta["param_groups"]}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, index, name = key.split(".", 2)
                opt_state["state"].setdefault(int(index), {})[name] = value
        self.optimizer.load_state_dict(opt_state)
        self.scheduler.load_state_dict(meta["scheduler"])
        self.torch_generator.set_state(tensors["rng.torch"])
        if self.scaler is not None and "amp.scale" in tensors:
            self.scaler.update(float(tensors["amp.scale"]))
        state = meta["rng_numpy"]
        self.rng.bit_generator.state = state
        self.epoch_losses = list(meta["epoch_losses"])
        self.train_seconds = float(meta["train_seconds"])
        self.start_epoch = int(meta["epochs_done"])
        partial = meta.get("epoch_partial")
        if partial is not None:
            self._resume_order = tensors["epoch.rows_left"].numpy()
            self._partial = (int(partial["batches"]), float(partial["loss_sum"]))
        self.resumed_from = str(path)


def resolve_options(label: str, common: dict, own: dict, given: dict) -> dict:
    """A method's options: ``common`` defaults, then the method's ``own``, then those
    ``given``; an option in neither is a :class:`UserError` naming the method."""
    unknown = set(given) - set(common) - set(own)
    if unknown:
        raise UserError(f"{label} has no option {', '.join(sorted(unknown))}.")
    return {**common, **own, **given}


def plan_epochs(n: int, opts: dict, rng: np.random.Generator, infer_batch: int
                ) -> tuple[np.ndarray, int, int, list[np.ndarray]]:
    """What a run trains on and how many steps it takes.

    ``opts`` gives ``epochs``, ``batch_size``, ``train_rows`` (checked indices or
    None: all ``n`` rows) and ``max_train`` (a random subset of at most this many of
    them, drawn from ``rng``). A last batch of one object is skipped (no negatives,
    and BatchNorm needs two).

    Returns
    -------
    train_rows : ndarray, sorted row indices trained on
    steps_per_epoch, train_steps : int
    infer_chunks : list of ndarray
        Consecutive row ranges of ``infer_batch`` rows covering all ``n`` rows.
    """
    train_rows = np.arange(n) if opts["train_rows"] is None else opts["train_rows"]
    if opts["max_train"] is not None and opts["max_train"] < train_rows.size:
        train_rows = np.sort(rng.choice(train_rows, size=opts["max_train"], replace=False))
    bs = int(opts["batch_size"])
    steps_per_epoch = train_rows.size // bs + (1 if train_rows.size % bs >= 2 else 0)
    infer_chunks = [np.arange(i, min(i + infer_batch, n)) for i in range(0, n, infer_batch)]
    return train_rows, steps_per_epoch, int(opts["epochs"]) * steps_per_epoch, infer_chunks


def read_checkpoint_info(path: str | Path) -> dict:
    """The JSON header of a checkpoint (identity, epochs done, losses...), tensors unread.

    Raises
    ------
    UserError
        If the file is missing, not a safetensors file or not an AstroExplorer checkpoint.
    """
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
    except FileNotFoundError:
        raise UserError(f"The checkpoint {path} does not exist.") from None
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise UserError(f"{path} is not a readable safetensors checkpoint ({exc}).") from None
    try:
        meta = json.loads(header["astroexplorer"])
        assert meta["format"] == CHECKPOINT_FORMAT
    except (KeyError, ValueError, AssertionError, TypeError):
        raise UserError(f"{path} is a safetensors file but not an AstroExplorer checkpoint.") from None
    return meta


def embed_in_batches(
    encode: Callable[[Any], torch.Tensor], batches: Iterable[tuple[np.ndarray, Any]], n: int,
    dim: int, step0: int, total: int, what: str = "objects", metrics: dict | None = None,
) -> Iterator[Progress]:
    """Fill and return (through ``StopIteration.value``) an ``(n, dim)`` float32 array.

    ``batches`` yields ``(rows, batch)``; ``encode(batch)`` returns ``(len(rows),
    dim)``, run under ``torch.inference_mode``. One Progress per batch, numbered
    from ``step0 + 1``.
    """
    vectors = np.empty((n, dim), dtype=np.float32)
    done, t0 = 0, time.perf_counter()
    for k, (rows, batch) in enumerate(batches):
        # Enter the mode per batch: a thread-local mode must not leak to the caller
        # across a yield.
        with torch.inference_mode():
            vectors[rows] = encode(batch).float().cpu().numpy()
        done += len(rows)
        rate = done / max(time.perf_counter() - t0, 1e-9)
        m = {**(metrics or {}), "objects_per_s": rate, "images_per_s": rate,
             "eta_s": (n - done) / rate}
        yield Progress(step0 + k + 1, total, f"embedding {done:,}/{n:,} {what}", m)
    return vectors
