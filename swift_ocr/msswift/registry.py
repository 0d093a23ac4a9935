"""Adding our classes to ms-swift's name -> class registries (``swift.metrics.eval_metrics_map``,
``swift.callbacks.callbacks_map``), the one way for all of them: idempotent, and never replacing somebody else's."""
from __future__ import annotations

from typing import Dict, List, MutableMapping


def register_classes(registry: MutableMapping[str, type], classes: Dict[str, type], what: str) -> List[str]:
    """Put each ``name: cls`` of ``classes`` into ``registry``; returns the names.

    Registering again is a no-op, also when the module was imported twice (ms-swift imports a plugin by file path,
    so the "same" class may come from a second module object: same module and qualified name count as ours).

    Raises:
        ValueError: a name is already taken by a class that is not ours (``what`` names the registry in the message).
    """
    for name, cls in classes.items():
        existing = registry.get(name)
        same = (getattr(existing, "__module__", None), getattr(existing, "__qualname__", None)) == (
            cls.__module__, cls.__qualname__)
        if existing is not None and existing is not cls and not same:
            raise ValueError(f"ms-swift {what} {name!r} is already registered as {existing!r}")
        registry[name] = cls
    return list(classes)
