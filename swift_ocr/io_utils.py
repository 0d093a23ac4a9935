"""Atomic output files: written under a temporary name in the target folder, then renamed."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` (``os.replace``), on error it is
    removed and ``path`` is left untouched. Parent folders are created."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": "\n"}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(obj, ensure_ascii=False) builds per call


def dumps_line(obj) -> str:
    """One JSON line (UTF-8 text kept readable, keys in insertion order) ending in ``\\n``; the same text as
    ``json.dumps(obj, ensure_ascii=False) + "\\n"``."""
    return _LINE_ENCODER.encode(obj) + "\n"
