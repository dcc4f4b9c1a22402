"""Choosing the torch device and CPU thread count for training and inference."""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from ..core.errors import UserError

__all__ = ["available_cpus", "configure_cpu_threads", "describe_device", "select_device"]

_DEVICE_CHOICES = "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def select_device(requested: str = "auto") -> torch.device:
    """The device to compute on.

    Parameters
    ----------
    requested : str
        ``"auto"`` (CUDA, then Apple MPS, then CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"``; case and surrounding spaces are ignored.

    Returns
    -------
    torch.device

    Raises
    ------
    UserError
        When the requested accelerator is not available on this machine, or the
        name is not one of the choices.
    """
    name = str(requested).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UserError(
                "The device 'cuda' was requested but no CUDA GPU is available to this "
                "PyTorch build; choose 'auto' or 'cpu'."
            )
        index_text = name.partition(":")[2]
        if not index_text:
            return torch.device("cuda", torch.cuda.current_device())
        count = torch.cuda.device_count()
        if not index_text.isdigit() or int(index_text) >= count:
            raise UserError(
                f"The device '{requested}' does not exist: this machine has {count} CUDA "
                f"GPU(s), numbered 0 to {count - 1}."
            )
        return torch.device("cuda", int(index_text))
    if name == "mps":
        if not _mps_available():
            raise UserError(
                "The device 'mps' was requested but Apple Metal (MPS) is not available on "
                "this machine; choose 'auto' or 'cpu'."
            )
        return torch.device("mps")
    raise UserError(f"The device '{requested}' is not recognised; choose {_DEVICE_CHOICES}.")


def describe_device(device: torch.device | str) -> str:
    """A short human-readable name, e.g. ``"NVIDIA H100 (CUDA 12.4)"`` or ``"CPU, 2 threads"``."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"{torch.cuda.get_device_name(index)} (CUDA {torch.version.cuda})"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"CPU, {n} thread{'s' if n != 1 else ''}"
    return str(device)


def available_cpus() -> int:
    """CPU cores this process may actually use (affinity mask and cgroup quota), at least 1.

    ``os.cpu_count()`` reports the host's cores; in a container or under a batch
    scheduler the usable share is often smaller, and torch would oversubscribe it.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:  # cgroup v2 CPU quota: "max 100000" or "<quota> <period>"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def configure_cpu_threads() -> int:
    """Lower torch's intra-op thread count to the usable cores if it is higher.

    Torch's default (usually the physical cores) is kept when it fits; only an
    oversubscribed default is reduced. Returns the thread count in effect.
    """
    usable = available_cpus()
    if torch.get_num_threads() > usable:
        torch.set_num_threads(usable)
    return torch.get_num_threads()
