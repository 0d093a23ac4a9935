"""The canonical OCR sample that every reader produces and every writer consumes.

Coordinates in this module are always **pixels of the original image** (x to the right, y down,
origin at the top-left corner of the top-left pixel), as float values. Model-specific coordinate
spaces (0-1000, 0-999, resized pixels) belong to the codecs, never to the sample.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from swift_ocr.errors import Rejection

Point = Tuple[float, float]

# Keys of :attr:`Sample.fixes`: changes made to an item while reading it (counted, never silent).
FIX_KEYS = ("clipped_coordinates", "clipped_regions", "reordered_polygons", "nfkc_texts", "gb18030_files",
            "reoriented_quads", "flattened_images")


#: The do-not-care transcription of ICDAR 2015 Challenge 4 (a region that is neither to be read nor detected).
DONT_CARE = "###"


def is_dont_care(text: str) -> bool:
    """True when ``text`` marks a do-not-care region: its NFKC form, stripped of surrounding whitespace, is ``###``
    (so ``###``, `` ### ``, full-width ``＃＃＃`` and small ``﹟﹟﹟`` all are). Decided on the normalised text whether or
    not the converter NFKC-normalises transcriptions, so that a marker never becomes a trainable target."""
    if text.isascii():
        return text.strip() == DONT_CARE
    return unicodedata.normalize("NFKC", text).strip() == DONT_CARE


@dataclass(slots=True)  # readers make one per text line: slots make them smaller and faster to build
class Region:
    """One annotated text region.

    Attributes:
        polygon: vertices ``[(x, y), ...]`` in pixels of the original image, in the order given by the
            source file (ICDAR quads: 4 points, clockwise from the top-left in well-formed files; word-box
            characters: the 4 corners of the axis-aligned box, clockwise from the top-left). After
            :func:`swift_ocr.formats.geometry.check_region` every usable 4-point region is clockwise on screen
            (counter-clockwise quads and bow-ties are re-ordered and counted in ``Sample.fixes``).
        text: the transcription. For do-not-care regions this is the source's marker (``###``) or the
            (unreadable) text, and must not be used as a target.
        dont_care: True for regions marked ``###`` in ICDAR files (ICDAR 2015 Challenge 4 protocol:
            excluded from targets and from scoring, detections on them are ignored).
        line: 1-based line number of the region in ``Sample.source`` (None if the source has no lines).
        issue: set when the polygon cannot be used as a box (kind ``degenerate_region``, ``outside_image`` or
            ``self_intersecting``; see :func:`swift_ocr.formats.geometry.check_region`). Tasks that need the
            geometry (``line`` crops) skip the region and record this rejection; tasks that use the text only
            (``rec``) keep the transcription.
        script: the region's script as its source names it (ICDAR 2017/2019 MLT's script column: ``Latin``,
            ``Chinese``, ..., see :data:`swift_ocr.formats.icdar.MLT_SCRIPTS`), None when the source has none.
            Metadata only: never part of a target.

    Polygons may have any number of vertices >= 3 (polygon label files: Total-Text, CTW1500); tasks that need a
    4-point shape use the polygon's minimum-area rectangle (:func:`swift_ocr.formats.polygons.min_area_quad`).
    """

    polygon: List[Point]
    text: str
    dont_care: bool = False
    line: Optional[int] = None
    issue: Optional[Rejection] = None
    script: Optional[str] = None

    def bbox(self) -> Tuple[float, float, float, float]:
        """Axis-aligned bounding box ``(x1, y1, x2, y2)`` of the polygon, pixels of the original image."""
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return (min(xs), min(ys), max(xs), max(ys))


@dataclass
class Sample:
    """One image (or several) with its full text and optional regions.

    Attributes:
        images: image paths (absolute or relative to the current directory), one per ``<image>`` tag the
            writer will emit. Usually exactly one.
        text: the full ground-truth text of the image (for ICDAR files: the non-``###`` transcriptions in
            file order joined by ``\\n``; for word-box files: the characters in reading order).
        regions: optional text regions (polygons in pixels of the original image).
        source: the label file (or parquet/JSON file) the sample was read from.
        line: 1-based line / row / record number within ``source`` (None when the whole file is the sample).
        image_size: ``(width, height)`` of ``images[0]`` in pixels when known (read from the image header).
        image_bytes: encoded image bytes when the image has no file of its own (parquet rows, crops, an image
            with transparent pixels composited on white by :func:`swift_ocr.formats.checks.check_images`); the
            matching ``images`` entry is then a display name only.
        fixes: counts of the changes made while reading (keys in :data:`FIX_KEYS`: coordinates clipped into
            the image, regions clipped, self-intersecting polygons reordered, texts changed by NFKC, label files
            that were not UTF-8 and were decoded with the GB18030 fallback, counter-clockwise quads put in
            clockwise order, images with transparent pixels composited on white). The ICDAR reader also counts
            here, outside :data:`FIX_KEYS`, a label file read as MLT, polygon or ICDAR 2013 and the regions a
            script filter made do-not-care (:data:`swift_ocr.formats.icdar.VARIANT_FIX_KEYS`), for the converter's
            summary; like any fix, they send the item through the converter's careful path.
        prompt: the item's own instruction (without ``<image>`` tags) when its source has one (GOT JSON's human
            turn), else None (the task's instruction is used). Readers store the source's text; the ``rec`` task
            replaces it with the instruction for the target family (:func:`swift_ocr.families.prompts.carry_prompt`) and
            the writers use it instead of the default.
    """

    images: List[str]
    text: str
    regions: List[Region] = field(default_factory=list)
    source: Optional[str] = None
    line: Optional[int] = None
    image_size: Optional[Tuple[int, int]] = None
    image_bytes: Optional[bytes] = None
    fixes: Dict[str, int] = field(default_factory=Counter)
    prompt: Optional[str] = None

    def care_regions(self) -> List[Region]:
        """The regions that are targets (not do-not-care), in source order."""
        return [r for r in self.regions if not r.dont_care]

    def where(self) -> str:
        """``'file:line'`` (or ``'file'``) for error messages and rejects entries."""
        if self.source is None:
            return "<unknown>"
        return f"{self.source}:{self.line}" if self.line is not None else str(self.source)


def join_lines(texts: Sequence[str]) -> str:
    """Join line transcriptions into a full-page text with ``\\n`` (the ``rec`` task target)."""
    return "\n".join(texts)
