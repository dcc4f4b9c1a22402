"""Small registries of methods whose implementations may load lazily.

An entry names its implementation as ``"package.module:function"`` so that
registering, say, a torch method does not import torch: the module is imported
only when the method is first run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MethodEntry", "Registry"]


@dataclass(frozen=True)
class MethodEntry:
    """One registered method: its name, a label for menus, and its job function.

    ``needs`` names an optional heavy dependency ("torch"); ``modality`` says what
    the job takes for embedding methods ("image": an ImageSource, "lightcurve": a
    LightCurveSource).
    """

    name: str
    label: str
    target: str | Callable[..., Any]
    description: str = ""
    needs: str = ""
    modality: str = "image"

    def load(self) -> Callable[..., Any]:
        """The job function, importing its module now if given by name."""
        if callable(self.target):
            return self.target
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


class Registry:
    """Named :class:`MethodEntry` objects, in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, MethodEntry] = {}

    def register(self, entry: MethodEntry) -> MethodEntry:
        self._entries[entry.name] = entry
        return entry

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[MethodEntry]:
        return list(self._entries.values())

    def __getitem__(self, name: str) -> MethodEntry:
        from .core.errors import UserError

        try:
            return self._entries[name]
        except KeyError:
            raise UserError(
                f"unknown {self.kind} method {name!r}; choose one of {', '.join(self._entries)}"
            ) from None
