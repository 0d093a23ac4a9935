"""Writer for PaddleOCR recognition labels (``--output-format paddle_rec``), the format
:mod:`swift_ocr.formats.paddle_rec` reads: one line per text-line image, ``path<TAB>text`` (PaddleOCR
``doc/doc_en/dataset/ocr_datasets_en.md``; train a PP-OCR recogniser on it with ``Train.dataset.data_dir`` = the
label file's folder). Image paths are relative to the output file's folder when the image lies inside it, else
absolute (:func:`swift_ocr.writers.paddle_labels.listed_path`). A PaddleOCR label is one line of text: a text holding
a line break or a tab cannot be written (use the ``line`` task to cut pages into line crops).

Through the converter (``swift-ocr convert --output-format paddle_rec``, task ``line``: the crops are written next to
the output, ``<output>_images/``; task ``rec``: each image with its whole text, for inputs that are already lines,
e.g. ``paddle_rec`` or MMOCR textrecog) a sample that cannot be written is rejected (kind ``unwritable``).
"""
from __future__ import annotations

import os
from typing import Iterable

from swift_ocr.sample import Sample
from swift_ocr.writers.paddle_labels import label_path, write_labels
from swift_ocr.writers.registry import OutputWriter, register_writer


def rec_line(sample: Sample, folder: str) -> str:
    """One label line ``path<TAB>text\\n`` for ``sample`` (its first image,
    :func:`~swift_ocr.writers.paddle_labels.label_path` for ``folder``).

    Raises:
        ValueError: no image file or a bad path (:func:`~swift_ocr.writers.paddle_labels.label_path`), a text holding
            a tab or a line break (PaddleOCR reads one field after the first tab, up to the line end), an empty text.
    """
    path = label_path(sample, folder)
    bad = [name for c, name in (("\n", "line break"), ("\r", "line break"), ("\t", "tab")) if c in sample.text]
    if bad:
        raise ValueError(f"a PaddleOCR recognition label is one line; this text holds a {bad[0]} "
                         "(cut pages into lines with the line task)")
    if not sample.text.strip():
        raise ValueError("empty text")
    return f"{path}\t{sample.text}\n"


def write_paddle_rec(samples: Iterable[Sample], path) -> int:
    """Write ``samples`` as a PaddleOCR recognition label file at ``path`` (atomically; UTF-8, LF). Returns the
    number of lines.

    Raises:
        ValueError: a sample that cannot be written (see :func:`rec_line`), named by file and line; nothing is
            written then.
    """
    return write_labels(rec_line, samples, path)


class PaddleRecWriter(OutputWriter):
    """``--output-format paddle_rec``: one PaddleOCR recognition label line per sample (:func:`rec_line`), image paths
    relative to the output file's folder when inside it."""

    name = "paddle_rec"
    description = "PaddleOCR recognition labels ('image<TAB>text'), for a PP-OCR recogniser"

    def check(self, row):
        if row.task.task not in ("rec", "line"):
            raise ValueError("--output-format paddle_rec writes one text line per image: use --task line (crops of "
                             "the text regions) or --task rec (images that are already one line)")

    def line(self, sample, images, row):
        folder = row.output_dir or os.getcwd()
        return rec_line(Sample(images=list(images), text=sample.text, source=sample.source, line=sample.line), folder)


register_writer(PaddleRecWriter())
