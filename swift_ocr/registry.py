"""A name -> entry registry kept in registration order: the mechanics behind the label formats
(:mod:`swift_ocr.formats.registry`), the output writers (:mod:`swift_ocr.writers.registry`) and the model families
(:mod:`swift_ocr.families.base`), which check their own entries before adding them; and
:func:`import_package_modules`, which imports every module of those packages so that each one registers itself
(adding a family, a format or a writer is adding its module, with no list to extend).

Errors: ``ValueError`` naming the registry's kind of entry (``format``, ``output format``, ``model family``) for a
name that is taken or unknown; an unknown name's message lists the registered ones.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Dict, Generic, Iterable, Optional, Sequence, Tuple, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries by name, in registration order.

    Args:
        what: what an entry is called in messages (``format``).
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: Dict[str, T] = {}

    def add(self, name: str, entry: T, replace: bool = False) -> T:
        """Register ``entry`` as ``name`` (returns it); adding the same entry again changes nothing.

        Raises:
            ValueError: ``name`` holds another entry and ``replace`` is False.
        """
        if name in self._entries and not replace and self._entries[name] is not entry:
            raise ValueError(f"{self.what} {name!r} is already registered (pass replace=True to swap it)")
        self._entries[name] = entry
        return entry

    def remove(self, name: str) -> Optional[T]:
        """Take ``name`` out; returns its entry, or None when it was not registered."""
        return self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry ``name``.

        Raises:
            ValueError: unknown name (or not a string key at all); the message lists the registered names.
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ValueError(f"unknown {self.what} {name!r}; choose from {', '.join(self._entries)}") from None

    def names(self) -> Tuple[str, ...]:
        """The registered names, in registration order."""
        return tuple(self._entries)

    def values(self) -> Tuple[T, ...]:
        """The registered entries, in registration order."""
        return tuple(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries


def import_package_modules(package: str, paths: Iterable[str], first: Sequence[str] = ()) -> None:
    """Import the modules ``first`` of ``package`` in that order (they set the registration order, which is the
    order of the CLI's choices), then every other module directly in it, sorted by name, so that a module that
    registers itself when imported is registered by being there. Subpackages and names starting with ``_`` are not
    imported.

    Args:
        package: the package's dotted name (``__name__`` in its ``__init__``).
        paths: its ``__path__``.
        first: module names (without the package) to import before the others.

    Raises:
        ImportError: a module that cannot be imported (its own error).
    """
    others = sorted(name for _, name, is_pkg in pkgutil.iter_modules(list(paths))
                    if not is_pkg and not name.startswith("_") and name not in first)
    for name in (*first, *others):
        importlib.import_module(f"{package}.{name}")
