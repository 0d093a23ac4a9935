"""ICDAR 2015 Robust Reading result files (``--pred-format icdar``): the submission format of Challenge 4
"Incidental Scene Text" (https://rrc.cvc.uab.es/?ch=4, "Participate" / task 4.1 and 4.4; checked by the
official ``rrc_evaluation_funcs.py``, ``get_tl_line_values``), which DBNet, PSENet, MMOCR and PaddleOCR evaluation
tools also write.

* one text file per image, named ``res_<image stem>.txt`` (``img_12.jpg`` -> ``res_img_12.txt``), all in one folder
  or in one ``.zip`` (the form submitted to the competition); an image without a file has no detection (the
  official script scores every ground-truth image), so every ground-truth image is scored;
* one detection per line: ``x1,y1,x2,y2,x3,y3,x4,y4`` (task 4.1), the 4 vertices in pixels of the original image
  (integers in the official files; decimals are accepted), optionally followed by ``,transcription`` (task 4.4,
  end-to-end: everything after the 8th comma; a transcription in double quotes is unquoted with ``\\"`` -> ``"``
  and ``\\\\`` -> ``\\``, as ``get_tl_line_values`` does). A line with 8 numbers has no text (``""``).
* UTF-8 with or without BOM (GB18030 accepted as for label files), LF or CRLF, blank lines skipped.
* no scores: ``--score-threshold`` cannot be used.

Every other file in the folder or zip (other than hidden ``.*`` files) is an error naming it, never skipped.
"""
from __future__ import annotations

import os
import re
import zipfile
from typing import List, Tuple

from swift_ocr.errors import OcrFormatError, read_error
from swift_ocr.eval.predictions.common import ImagePredictions
from swift_ocr.formats.coordinates import polygon_from_flat
from swift_ocr.formats.text_io import decode_label_bytes, read_label_bytes, split_label_lines
from swift_ocr.sample import Region

__all__ = ["RES_NAME", "is_res_name", "parse_res_text", "read_res_folder"]

#: ``res_<stem>.txt``
RES_NAME = re.compile(r"^res_(.+)\.txt$", re.IGNORECASE)
_QUOTED = re.compile(r'^\s*"(.*)"\s*$', re.DOTALL)


def is_res_name(name: str) -> bool:
    """``name`` (a file name) is ``res_<stem>.txt``."""
    return RES_NAME.match(name) is not None


def _number(field: str, source: str, line: int) -> float:
    try:
        return float(field)
    except ValueError:
        raise OcrFormatError(source, line, f"coordinate {field.strip()[:20]!r} is not a number (expected "
                             "'x1,y1,x2,y2,x3,y3,x4,y4[,transcription]')", "bad_coordinates") from None


def parse_res_text(text: str, source: str) -> List[Region]:
    """The detections of one result file's decoded text, in file order (``Region.line`` 1-based).

    Raises:
        OcrFormatError: kind ``bad_coordinates``: fewer than 8 comma-separated fields, or a coordinate that is not a
            finite number (naming ``source`` and the line).
    """
    regions = []
    for no, line in split_label_lines(text):
        parts = line.split(",", 8)
        if len(parts) < 8:
            raise OcrFormatError(source, no, f"expected 'x1,y1,x2,y2,x3,y3,x4,y4[,transcription]', got "
                                 f"{len(parts)} comma-separated field(s): {line[:80]!r}", "bad_coordinates")
        coords = [_number(f, source, no) for f in parts[:8]]
        polygon = polygon_from_flat(coords, source, no, "detection")
        text_field = parts[8] if len(parts) == 9 else ""
        quoted = _QUOTED.match(text_field)
        if quoted:
            text_field = quoted.group(1).replace("\\\\", "\\").replace('\\"', '"')
        regions.append(Region(polygon=polygon, text=text_field, line=no))
    return regions


def _record(name: str, data: bytes, source: str) -> ImagePredictions:
    text, _ = decode_label_bytes(data, source)
    stem = RES_NAME.match(name).group(1)
    regions = parse_res_text(text, source)
    return ImagePredictions(image=stem, regions=regions, scores=[None] * len(regions), source=source)


def _unexpected(source: str, names: List[str]) -> OcrFormatError:
    return OcrFormatError(source, None, f"{len(names)} file(s) that are not ICDAR result files 'res_<image "
                          f"stem>.txt', first {names[0]!r}: move them away (nothing is skipped silently)")


def read_res_folder(path: str) -> List[ImagePredictions]:
    """One record per ``res_*.txt`` of a folder or ``.zip``, sorted by name (stems are matched to the ground truth
    by :func:`swift_ocr.eval.predictions.common.assemble`).

    Raises:
        OcrFormatError: a missing/unreadable folder or zip, another file in it, a malformed line (file and line).
    """
    records: List[Tuple[str, ImagePredictions]] = []
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not n.startswith("."))
        other = [n for n in names if not is_res_name(n) or not os.path.isfile(os.path.join(path, n))]
        if other:
            raise _unexpected(path, other)
        for n in names:
            full = os.path.join(path, n)
            records.append((n, _record(n, read_label_bytes(full), full)))
    else:
        try:
            with zipfile.ZipFile(path) as zf:
                members = [m for m in zf.infolist() if not m.is_dir()]
                names = [m.filename for m in members if not os.path.basename(m.filename).startswith(".")]
                other = [n for n in names if "/" in n or not is_res_name(n)]
                if other:
                    raise _unexpected(path, other)
                for n in sorted(names):
                    records.append((n, _record(n, zf.read(n), f"{path}!{n}")))
        except (OSError, zipfile.BadZipFile) as e:
            raise read_error(path, e, "cannot read ICDAR result zip") from e
    if not records:
        raise OcrFormatError(path, None, "no ICDAR result files 'res_<image stem>.txt' found")
    return [r for _, r in records]
