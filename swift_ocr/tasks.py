"""Tasks turn one source :class:`~swift_ocr.sample.Sample` into the samples a model is trained on.

* ``rec``: the whole image -> its full text (ICDAR: non-``###`` lines in file order joined by ``\\n``).
* ``line``: every non-``###`` region cropped out of the image (4-point quads rectified with a perspective
  transform, other polygons cut by their bounding box) -> that region's text. Crops are PNG bytes in
  ``Sample.image_bytes``; ``Sample.images[0]`` is a file name ``<image stem>_l<line>.png`` for writers.
"""
from __future__ import annotations

import os
from typing import List

from .errors import OcrFormatError
from .images import encode_png, open_rgb, rectify_quad
from .sample import Sample

TASKS = ("rec", "line")


def rec(sample: Sample) -> List[Sample]:
    """The sample itself, with its full text as target.

    Raises:
        OcrFormatError: the target text is empty (e.g. every region is ``###``).
    """
    if not sample.text.strip():
        raise OcrFormatError(sample.source, sample.line, "empty target text (no readable region)")
    return [sample]


def line(sample: Sample) -> List[Sample]:
    """One cropped sample per readable region, in source order.

    Raises:
        OcrFormatError: the sample has no regions (e.g. parquet rows), no readable region, or its image cannot be
            decoded; a region with an empty or degenerate crop.
    """
    regions = sample.care_regions()
    if not sample.regions:
        raise OcrFormatError(sample.source, sample.line, "the line task needs text regions; this source has none")
    if not regions:
        raise OcrFormatError(sample.source, sample.line, "no readable region (all are ###)")
    image = open_rgb(sample.image_bytes if sample.image_bytes is not None else sample.images[0])
    stem = os.path.splitext(os.path.basename(sample.images[0]))[0] if sample.images else "image"
    out = []
    for i, region in enumerate(regions, start=1):
        if not region.text.strip():
            raise OcrFormatError(sample.source, region.line, "empty transcription")
        if len(region.polygon) == 4:
            crop = rectify_quad(image, region.polygon)
        else:
            x1, y1, x2, y2 = (round(v) for v in region.bbox())
            if x2 <= x1 or y2 <= y1:
                raise OcrFormatError(sample.source, region.line, "degenerate region (zero area)")
            crop = image.crop((x1, y1, x2, y2))
        tag = region.line if region.line is not None else i
        out.append(Sample(images=[f"{stem}_l{tag}.png"], text=region.text, source=sample.source,
                          line=region.line if region.line is not None else sample.line,
                          image_size=crop.size, image_bytes=encode_png(crop)))
    return out


def apply_task(task: str, sample: Sample) -> List[Sample]:
    """Run task ``task`` (one of :data:`TASKS`) on a sample.

    Raises:
        ValueError: unknown task. OcrFormatError: see the task functions.
    """
    if task == "rec":
        return rec(sample)
    if task == "line":
        return line(sample)
    raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
