"""Writer for PaddleOCR / PPOCRLabel detection labels (``--output-format paddle_det``), the format
:mod:`swift_ocr.formats.paddle_det` reads: one line per image, ::

    images/img_1.jpg<TAB>[{"transcription": "CC22", "points": [[743, 145], [779, 146], [780, 163], [746, 163]]}]

(PaddleOCR ``doc/doc_en/dataset/ocr_datasets_en.md``; train a DBNet / PP-OCR detector on it with
``Train.dataset.data_dir`` = the label file's folder and ``label_file_list`` = the file.) Each region of the sample
is written in source order: ``points`` its polygon in pixels of the image (as read and checked: 4 vertices for a
quad, more for a polygon; whole numbers written as JSON integers), ``transcription`` its text, or ``###`` for a
do-not-care region (the marker PaddleOCR's ``DetLabelEncode`` ignores). Image paths are relative to the output
file's folder when the image lies inside it, else absolute (PaddleOCR joins ``data_dir`` with the path, and an
absolute path stays itself; reading such a file back needs ``--image-root /`` or ``--allow-outside-root``).

Through the converter (``swift-ocr convert --output-format paddle_det``, task ``rec``: each item as read and checked,
with its regions; clipped or re-ordered polygons are written as repaired) an item without regions is rejected (kind
``unwritable``).
"""
from __future__ import annotations

import json
import os
from typing import Iterable, List

from swift_ocr.sample import DONT_CARE, Sample
from swift_ocr.writers.paddle_labels import label_path, write_labels
from swift_ocr.writers.registry import OutputWriter, register_writer


def _number(v: float):
    """``v`` as a JSON integer when it is whole (PaddleOCR's own files hold integers), else as it is."""
    return int(v) if float(v).is_integer() else float(v)


def det_regions(sample: Sample) -> List[dict]:
    """The sample's regions as PaddleOCR detection entries ``{"transcription": ..., "points": [[x, y], ...]}``
    (pixels of the image; ``###`` for do-not-care regions).

    Raises:
        ValueError: the sample has no regions (a recognition crop, a parquet row: no box to write).
    """
    if not sample.regions:
        raise ValueError("no text regions, so no detection label (paddle_det needs boxes; "
                         "write recognition data with --output-format paddle_rec)")
    return [{"transcription": DONT_CARE if r.dont_care else r.text,
             "points": [[_number(x), _number(y)] for x, y in r.polygon]} for r in sample.regions]


def det_line(sample: Sample, folder: str) -> str:
    """One label line ``path<TAB>json\\n`` for ``sample`` (its first image), the path as
    :func:`~swift_ocr.writers.paddle_labels.label_path` gives it for ``folder`` (the output file's folder).

    Raises:
        ValueError: no regions (:func:`det_regions`), or no image file or a bad path (:func:`label_path`).
    """
    return label_path(sample, folder) + "\t" + json.dumps(det_regions(sample), ensure_ascii=False) + "\n"


def write_paddle_det(samples: Iterable[Sample], path) -> int:
    """Write ``samples`` as a PaddleOCR detection label file at ``path`` (atomically; UTF-8, LF). Returns the number
    of lines.

    Raises:
        ValueError: a sample that cannot be written (see :func:`det_line`), named by file and line; nothing is
            written then.
    """
    return write_labels(det_line, samples, path)


class PaddleDetWriter(OutputWriter):
    """``--output-format paddle_det``: one PaddleOCR detection label line per item (:func:`det_line`), image paths
    relative to the output file's folder when inside it."""

    name = "paddle_det"
    description = "PaddleOCR / PPOCRLabel detection labels ('image<TAB>[{transcription, points}]'), for DBNet / PP-OCR"

    def check(self, row):
        if row.task.task != "rec":
            raise ValueError("--output-format paddle_det writes each image with its text regions: use --task rec "
                             "(line crops have no regions; write them with --output-format paddle_rec)")

    def line(self, sample, images, row):
        folder = row.output_dir or os.getcwd()
        return det_line(Sample(images=list(images), text=sample.text, regions=sample.regions, source=sample.source,
                               line=sample.line), folder)


register_writer(PaddleDetWriter())
