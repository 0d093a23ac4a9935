"""File helpers: atomic output files (written under a temporary name in the target folder, then renamed), JSON lines,
and plain reads of input files."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import IO, Iterator, Optional


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


def append_line(path, obj) -> None:
    """Append ``obj`` as one JSON line (:func:`dumps_line`) with a single ``write`` on an ``O_APPEND`` file, so lines
    appended by concurrent processes (``datasets.map`` workers, training ranks) never interleave.

    Raises:
        OSError: the file cannot be opened or written.
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, dumps_line(obj).encode("utf-8"))
    finally:
        os.close(fd)


#: read-only; binary on Windows (no newline translation); not inherited by child processes
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_READ_SIZE = 1 << 16


def read_bytes(path, limit: Optional[int] = None) -> bytes:
    """The content of the file ``path`` (to its end, as ``open(path, "rb").read()``), or its first bytes with one read
    of at most ``limit`` bytes (fewer when the file is shorter). Made of ``os.open``/``os.read``/``os.close``: the
    converter reads one label file and one image header per item, and ``open()`` also builds buffered file objects,
    which takes about three times the CPU instructions of these three calls for a small file.

    Raises:
        OSError: as ``open()`` and ``read()`` raise it (an ``os.read`` error gets the file name, as ``open()``'s
            errors carry it, e.g. ``IsADirectoryError: [Errno 21] Is a directory: 'path'``).
    """
    fd = os.open(path, _READ_FLAGS)
    try:
        if limit is not None:
            return os.read(fd, limit)
        chunks = []
        while True:  # to the end of the file, as FileIO.readall (a short read need not be the end)
            chunk = os.read(fd, _READ_SIZE)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError as e:
        if e.filename is None:
            raise OSError(e.errno, e.strerror, os.fspath(path)) from None
        raise
    finally:
        os.close(fd)
