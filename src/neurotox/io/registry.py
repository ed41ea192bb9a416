"""Registries of input formats: one per input family, readers in detection order.

Each family's reader type (its ``name``, ``description``, ``match`` and
``read``) stays its own; the registry keeps them in registration order, finds
one by the name a user gives (``--format``) or by the first layout check that
accepts a file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from neurotox.errors import InputError, quoted


class _Format(Protocol):
    name: str
    description: str
    match: Callable[[Any], bool]


R = TypeVar("R", bound=_Format)


class Registry(Generic[R]):
    """The readers of one input family (``family`` names it in messages)."""

    def __init__(self, family: str) -> None:
        self.family = family
        self._readers: dict[str, R] = {}

    def register(self, reader: R) -> R:
        """Add a reader (detection order = registration order); returns it."""
        self._readers[reader.name] = reader
        return reader

    def readers(self) -> list[R]:
        """Registered readers in detection order."""
        return list(self._readers.values())

    def named(self, name: str) -> R:
        """The reader registered as ``name``; InputError listing the names otherwise."""
        if name not in self._readers:
            raise InputError(f"unknown {self.family} format {name!r}; known: "
                             f"{quoted(self._readers)}")
        return self._readers[name]

    def detect(self, source: object, *,
               not_this_layout: Callable[[Exception], bool] | None = None) -> R | None:
        """The first reader whose layout check accepts ``source``; None when none does.

        A check raising an exception for which ``not_this_layout`` is true counts
        as not accepting (the file is not in that layout); others go up.
        """
        for reader in self._readers.values():
            try:
                if reader.match(source):
                    return reader
            except Exception as exc:
                if not_this_layout is None or not not_this_layout(exc):
                    raise
        return None

    def expected(self) -> str:
        """``name (description); ...`` of every reader, for a message naming the layouts."""
        return "; ".join(f"{r.name} ({r.description})" for r in self._readers.values())
