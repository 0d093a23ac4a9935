"""Reader for ICDAR-style quad label files.

Format (ICDAR 2015 Challenge 4 "Incidental Scene Text", https://rrc.cvc.uab.es/?ch=4; also SROIE 2019
``box/*.csv`` and DBNet's ``*_gts``): one text region per line::

    x1,y1,x2,y2,x3,y3,x4,y4,transcription

* coordinates: pixels of the original image, 4 vertices clockwise from the top-left of the text;
* the transcription is **everything after the 8th comma** and may itself contain commas;
* ``###`` as transcription marks a do-not-care region (unreadable text);
* files are UTF-8 with or without BOM (ICDAR 2015 ships with BOM), LF or CRLF.
"""
from __future__ import annotations

import math
from typing import List, Optional

from ..errors import OcrFormatError
from ..images import image_size
from ..sample import Region, Sample, join_lines
from .layout import Pair
from .text_io import read_label_lines

DONT_CARE = "###"


def parse_icdar_line(line: str, source: Optional[str] = None, line_no: Optional[int] = None) -> Region:
    """Parse one ``x1,y1,...,x4,y4,transcription`` line into a :class:`Region` (polygon in pixels).

    A transcription wrapped in double quotes (some ICDAR exports) is unwrapped. Trailing ``\\r`` is ignored.

    Raises:
        OcrFormatError: fewer than 8 coordinates, or a coordinate that is not a finite number.
    """
    parts = line.rstrip("\r\n").split(",", 8)
    if len(parts) < 9:
        raise OcrFormatError(source, line_no, f"expected 8 coordinates and a transcription, got {len(parts)} "
                             f"comma-separated field(s): {line!r}")
    coords = []
    for field in parts[:8]:
        try:
            v = float(field.strip())
        except ValueError:
            raise OcrFormatError(source, line_no, f"coordinate {field.strip()!r} is not a number") from None
        if not math.isfinite(v):
            raise OcrFormatError(source, line_no, f"coordinate {field.strip()!r} is not finite")
        coords.append(v)
    text = parts[8]
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    polygon = [(coords[i], coords[i + 1]) for i in range(0, 8, 2)]
    return Region(polygon=polygon, text=text, dont_care=(text.strip() == DONT_CARE), line=line_no)


def read_icdar_labels(label_path, encoding: Optional[str] = None) -> List[Region]:
    """All regions of one label file, in file order.

    Raises:
        OcrFormatError: unreadable file or any malformed line (the first one, with file and line).
    """
    source = str(label_path)
    return [parse_icdar_line(line, source, no) for no, line in read_label_lines(label_path, encoding)]


def read_icdar_file(label_path, image_path=None, encoding: Optional[str] = None) -> Sample:
    """Read one image's ICDAR label file into a :class:`Sample`.

    ``Sample.text`` is the non-``###`` transcriptions in file order joined by ``\\n`` (the ``rec`` target);
    ``Sample.image_size`` is read from the image header when ``image_path`` is given.

    Raises:
        OcrFormatError: malformed or empty label file, unreadable image.
    """
    regions = read_icdar_labels(label_path, encoding)
    if not regions:
        raise OcrFormatError(str(label_path), None, "empty label file (no text regions)")
    images = [str(image_path)] if image_path is not None else []
    size = image_size(image_path) if image_path is not None else None
    text = join_lines([r.text for r in regions if not r.dont_care])
    return Sample(images=images, text=text, regions=regions, source=str(label_path), image_size=size)


def read_pair(pair: Pair, encoding: Optional[str] = None) -> Sample:
    """Read an (image, ICDAR label) :class:`~swift_ocr.formats.layout.Pair`."""
    return read_icdar_file(pair.label, pair.image, encoding)
