"""What the PaddleOCR label writers (:mod:`swift_ocr.writers.paddle_det`, :mod:`swift_ocr.writers.paddle_rec`)
share: a label file is one line per image, ``path<TAB>label\\n`` (PaddleOCR ``doc/doc_en/dataset/
ocr_datasets_en.md``), the image path relative to the label file's folder when the image lies inside it, else
absolute (PaddleOCR joins ``data_dir`` with the path, and an absolute path stays itself).

Errors: ``ValueError`` for a sample whose line cannot be written (no image file, a path that would break the line),
named by the sample's file and line when the whole file is written (:func:`write_labels`).
"""
from __future__ import annotations

import os
from typing import Callable, Iterable

from swift_ocr.io_utils import atomic_write
from swift_ocr.sample import Sample


def listed_path(image: str, folder: str) -> str:
    """``image`` relative to ``folder`` (``/``-separated) when it lies inside it, else absolute. A path that is already
    relative (the converter's ``--relative-paths``: relative to the output's folder) is kept as it is."""
    if not os.path.isabs(image):
        return image.replace(os.sep, "/")
    image, folder = os.path.normpath(os.path.abspath(image)), os.path.normpath(os.path.abspath(folder))
    try:
        inside = os.path.commonpath([folder, image]) == folder
    except ValueError:  # another drive (Windows)
        inside = False
    return os.path.relpath(image, folder).replace(os.sep, "/") if inside else image


def label_path(sample: Sample, folder: str) -> str:
    """The path field of ``sample``'s label line: its first image as :func:`listed_path` gives it for ``folder`` (the
    output file's folder).

    Raises:
        ValueError: no image file (in-memory bytes only: write them first), or a path holding a tab or a line break
            (the line could not be read back).
    """
    if sample.image_bytes is not None or not sample.images:
        raise ValueError("PaddleOCR labels need image files, not in-memory bytes")
    path = listed_path(sample.images[0], folder)
    if any(c in path for c in "\t\r\n"):
        raise ValueError(f"image path {path!r} holds a tab or a line break")
    return path


def named(render: Callable[[Sample, str], str], sample: Sample, folder: str) -> str:
    """``render(sample, folder)``, its ValueError naming the sample's file and line.

    Raises:
        ValueError: ``file:line: reason``.
    """
    try:
        return render(sample, folder)
    except ValueError as e:
        raise ValueError(f"{sample.where()}: {e}") from None


def write_labels(render: Callable[[Sample, str], str], samples: Iterable[Sample], path) -> int:
    """Write one line ``render(sample, folder)`` per sample to the label file ``path`` (atomically; UTF-8, LF),
    ``folder`` being ``path``'s folder. Returns the number of lines.

    Raises:
        ValueError: a sample that cannot be written (``render``'s error), named by file and line (:func:`named`);
            nothing is written then.
    """
    folder = os.path.dirname(os.path.abspath(path))
    lines = [named(render, s, folder) for s in samples]
    with atomic_write(path) as f:
        f.writelines(lines)
    return len(lines)
