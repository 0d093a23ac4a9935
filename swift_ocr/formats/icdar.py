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
from ..sample import Region, Sample, join_lines
from .checks import image_size_for
from .layout import Pair
from .text_io import decode_label_bytes, read_label_bytes

DONT_CARE = "###"


def parse_icdar_line(line: str, source: Optional[str] = None, line_no: Optional[int] = None) -> Region:
    """Parse one ``x1,y1,...,x4,y4,transcription`` line into a :class:`Region` (polygon in pixels).

    A transcription wrapped in double quotes (some ICDAR exports) is unwrapped. Trailing ``\\r`` is ignored.

    Raises:
        OcrFormatError: kind ``bad_coordinates``: fewer than 8 coordinates, or a coordinate that is not a finite
            number.
    """
    parts = line.rstrip("\r\n").split(",", 8)
    if len(parts) < 9:
        raise OcrFormatError(source, line_no, f"expected 8 coordinates and a transcription, got {len(parts)} "
                             f"comma-separated field(s): {line[:80]!r}", "bad_coordinates")
    coords = []
    for field in parts[:8]:
        try:
            v = float(field.strip())
        except ValueError:
            raise OcrFormatError(source, line_no, f"coordinate {field.strip()[:20]!r} is not a number",
                                 "bad_coordinates") from None
        if not math.isfinite(v):
            raise OcrFormatError(source, line_no, f"coordinate {field.strip()[:20]!r} is not finite",
                                 "bad_coordinates")
        coords.append(v)
    text = parts[8]
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    polygon = [(coords[i], coords[i + 1]) for i in range(0, 8, 2)]
    return Region(polygon=polygon, text=text, dont_care=(text.strip() == DONT_CARE), line=line_no)


def parse_icdar_bytes(data: bytes, source: Optional[str] = None, encoding: Optional[str] = None) -> List[Region]:
    """All regions of one label file's raw content, in file order (see :func:`read_icdar_labels`).

    Raises:
        OcrFormatError: undecodable bytes (kind ``bad_encoding``) or a malformed line (``bad_coordinates``, the first
            one, with its line number). Never any other exception, whatever the bytes.
    """
    text, _ = decode_label_bytes(data, source, encoding)
    return parse_icdar_text(text, source)


def parse_icdar_text(text: str, source: Optional[str] = None) -> List[Region]:
    """All regions of one label file's decoded text, in file order (blank lines skipped, line numbers 1-based and
    counting blank lines, as :func:`~swift_ocr.formats.text_io.split_label_lines`).

    The same result as :func:`parse_icdar_line` on every non-blank line; a line that is not plainly well formed (not
    9 fields, a coordinate ``float()`` refuses, a non-finite coordinate) goes through :func:`parse_icdar_line`, which
    raises the precise error.

    Raises:
        OcrFormatError: the first malformed line (kind ``bad_coordinates``, with its line number).
    """
    regions = []
    append = regions.append
    for no, line in enumerate(text.splitlines(), 1):
        if not line or line.isspace():  # the same test as ``not line.strip()``
            continue
        parts = line.split(",", 8)
        if len(parts) == 9:
            try:
                x0, y0, x1, y1, x2, y2, x3, y3 = map(float, parts[:8])  # float() ignores surrounding whitespace
                total = x0 + y0 + x1 + y1 + x2 + y2 + x3 + y3
            except ValueError:
                total = math.nan
            if 0.0 * total == 0.0:  # False for any inf/nan (and for an overflowing sum: then the careful path)
                label = parts[8]
                if len(label) >= 2 and label[0] == '"' and label[-1] == '"':
                    label = label[1:-1]
                dont_care = DONT_CARE in label and label.strip() == DONT_CARE  # no stripped copy for most labels
                append(Region([(x0, y0), (x1, y1), (x2, y2), (x3, y3)], label, dont_care, no))
                continue
        append(parse_icdar_line(line, source, no))
    return regions


def read_icdar_labels(label_path, encoding: Optional[str] = None) -> List[Region]:
    """All regions of one label file, in file order.

    A malformed line rejects the whole file: a ``rec`` target missing one of the image's lines would be wrong.

    Raises:
        OcrFormatError: unreadable file or any malformed line (the first one, with file and line).
    """
    return _read_labels(label_path, encoding)[0]


def _read_labels(label_path, encoding: Optional[str] = None):
    source = str(label_path)
    data = read_label_bytes(source)
    text, used = decode_label_bytes(data, source, encoding)
    return parse_icdar_text(text, source), used


def read_icdar_file(label_path, image_path=None, encoding: Optional[str] = None, read_size: bool = True) -> Sample:
    """Read one image's ICDAR label file into a :class:`Sample`.

    ``Sample.text`` is the non-``###`` transcriptions in file order joined by ``\\n`` (the ``rec`` target);
    ``Sample.image_size`` is read from the image header when ``image_path`` is given and ``read_size`` (False:
    left None, for callers that check the image themselves, as :func:`~swift_ocr.formats.checks.finish_sample`
    does).

    Raises:
        OcrFormatError: malformed or empty label file, unreadable image.
    """
    regions, used = _read_labels(label_path, encoding)
    if not regions:
        raise OcrFormatError(str(label_path), None, "empty label file (no text regions)", "empty_label")
    images = [str(image_path)] if image_path is not None else []
    size = image_size_for(image_path, str(label_path)) if image_path is not None and read_size else None
    text = join_lines([r.text for r in regions if not r.dont_care])
    sample = Sample(images=images, text=text, regions=regions, source=str(label_path), image_size=size)
    if encoding is None and used == "gb18030":
        sample.fixes["gb18030_files"] += 1  # not UTF-8: counted, so that a wrong guess does not go unnoticed
    return sample


def read_pair(pair: Pair, encoding: Optional[str] = None) -> Sample:
    """Read an (image, ICDAR label) :class:`~swift_ocr.formats.layout.Pair` without opening the image:
    ``image_size`` stays None until :func:`~swift_ocr.formats.checks.finish_sample` checks the image (its header is
    read once per item)."""
    return read_paths(pair.image, pair.label, encoding)


def read_paths(image: str, label: str, encoding: Optional[str] = None) -> Sample:
    """:func:`read_pair` of the pair ``(image, label)`` given as its two paths."""
    return read_icdar_file(label, image, encoding, read_size=False)
