"""Reader for ICDAR-family label files: one text region per line, in one of these layouts (``variant``):

* ``2015`` -- ICDAR 2015 Challenge 4 "Incidental Scene Text" (https://rrc.cvc.uab.es/?ch=4; also SROIE 2019
  ``box/*.csv`` and DBNet's ``*_gts``)::

      x1,y1,x2,y2,x3,y3,x4,y4,transcription

  coordinates in pixels of the original image, 4 vertices clockwise from the top-left of the text; the
  transcription is **everything after the 8th comma** and may itself contain commas.
* ``mlt`` -- ICDAR 2017 / 2019 MLT (Multi-Lingual scene Text, https://rrc.cvc.uab.es/?ch=8 and ?ch=15)::

      x1,y1,x2,y2,x3,y3,x4,y4,script,transcription

  ``script`` one of :data:`MLT_SCRIPTS`; it is kept as ``Region.script`` and never enters a target. The
  transcription is everything after the 9th comma.
* ``polygon`` -- curved text flattened to one line per region (Total-Text, CTW1500, ICDAR 2019 ArT exports)::

      x1,y1,x2,y2,...,xn,yn,transcription

  at least 4 vertices, kept as the region's polygon. The coordinates are the leading fields read **in pairs**
  while both fields of a pair are numbers and a transcription field remains after them.
* ``2013`` -- ICDAR 2013 Challenge 2 "Focused Scene Text" (https://rrc.cvc.uab.es/?ch=2), axis-aligned boxes::

      x1 y1 x2 y2 "transcription"        (training set)
      x1, y1, x2, y2, "transcription"    (test set)

  ``(x1, y1)`` the top-left and ``(x2, y2)`` the bottom-right corner, pixels; the quotes are removed and ``\\"``
  inside them stands for ``"`` (``\\\\`` for a backslash). The box becomes the 4-point polygon clockwise from the
  top-left.

In every layout ``###`` as transcription marks a do-not-care region (unreadable text), decided on the NFKC form of
the transcription stripped of surrounding whitespace (:func:`is_dont_care`: ``＃＃＃`` and `` ### `` too). Files are
UTF-8 with or without BOM (ICDAR 2015 ships with BOM), LF or CRLF.

``variant="auto"`` (the readers' default) decides the layout from the **whole file**, never line by line
(:func:`detect_icdar_variant`): a file it cannot tell apart (a transcription that is itself a list of numbers,
lines of different layouts) is an error naming the file and the lines, never a guess written into a target.
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import partial
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from swift_ocr.errors import OcrFormatError
from swift_ocr.sample import Region, Sample, is_dont_care, join_lines
from swift_ocr.formats.checks import image_size_for
from swift_ocr.formats.layout import Pair
from swift_ocr.formats.registry import PairFormat, register_format
from swift_ocr.formats.text_io import decode_label_bytes, read_label_bytes

#: ``variant`` values of the readers (``--icdar-variant``; ``auto``: detected per file).
VARIANTS = ("auto", "2015", "mlt", "polygon", "2013")
#: The script names of the ICDAR 2017 / 2019 MLT ground truth (field 9 of every line), as the competition spells them.
MLT_SCRIPTS = ("Latin", "Arabic", "Chinese", "Japanese", "Korean", "Bangla", "Hindi", "Symbols", "Mixed", "None")
#: ``Sample.fixes`` key counting the label files read in a variant other than ``2015`` (the converter's summary
#: reports them; such items always take the careful path of the converter).
VARIANT_FIX_KEYS: Dict[str, str] = {"mlt": "icdar_mlt_files", "polygon": "icdar_polygon_files",
                                    "2013": "icdar_2013_files"}
#: ``Sample.fixes`` key counting the readable regions made do-not-care by a ``scripts`` filter.
OTHER_SCRIPT_FIX_KEY = "other_script_regions"
#: The characters whose NFKC form is ``#`` (U+0023, U+FE5F SMALL NUMBER SIGN, U+FF03 FULLWIDTH NUMBER SIGN).
_HASHES = ("#", "\ufe5f", "\uff03")


def _maybe_dont_care(label: str) -> bool:
    """:func:`is_dont_care` with a cheap first test: no ``#``-like character, no marker."""
    return ("#" in label or "\uff03" in label or "\ufe5f" in label) and is_dont_care(label)


def _coords(fields: Sequence[str], source: Optional[str], line_no: Optional[int]) -> List[float]:
    """The coordinates in ``fields`` as floats (surrounding whitespace allowed).

    Raises:
        OcrFormatError: kind ``bad_coordinates``: a field that is not a finite number.
    """
    coords = []
    for field in fields:
        try:
            v = float(field.strip())
        except ValueError:
            raise OcrFormatError(source, line_no, f"coordinate {field.strip()[:20]!r} is not a number",
                                 "bad_coordinates") from None
        if not math.isfinite(v):
            raise OcrFormatError(source, line_no, f"coordinate {field.strip()[:20]!r} is not finite",
                                 "bad_coordinates")
        coords.append(v)
    return coords


def _unquote(text: str) -> str:
    """A transcription wrapped in double quotes (some ICDAR exports), unwrapped."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def _is_number(field: str) -> bool:
    """``field`` is a finite number as a coordinate is read (``float()``, surrounding whitespace allowed)."""
    try:
        return math.isfinite(float(field))
    except ValueError:
        return False


def parse_icdar_line(line: str, source: Optional[str] = None, line_no: Optional[int] = None) -> Region:
    """Parse one ICDAR 2015 ``x1,y1,...,x4,y4,transcription`` line into a :class:`Region` (polygon in pixels).

    A transcription wrapped in double quotes (some ICDAR exports) is unwrapped. Trailing ``\\r`` is ignored.

    Raises:
        OcrFormatError: kind ``bad_coordinates``: fewer than 8 coordinates, or a coordinate that is not a finite
            number.
    """
    parts = line.rstrip("\r\n").split(",", 8)
    if len(parts) < 9:
        raise OcrFormatError(source, line_no, f"expected 8 coordinates and a transcription, got {len(parts)} "
                             f"comma-separated field(s): {line[:80]!r}", "bad_coordinates")
    coords = _coords(parts[:8], source, line_no)
    text = _unquote(parts[8])
    polygon = [(coords[i], coords[i + 1]) for i in range(0, 8, 2)]
    return Region(polygon=polygon, text=text, dont_care=is_dont_care(text), line=line_no)


def parse_mlt_line(line: str, source: Optional[str] = None, line_no: Optional[int] = None) -> Region:
    """Parse one ICDAR 2017/2019 MLT ``x1,y1,...,x4,y4,script,transcription`` line into a :class:`Region`
    (polygon in pixels, ``script`` one of :data:`MLT_SCRIPTS`, surrounding whitespace removed; the transcription is
    everything after the 9th comma, quotes unwrapped as in :func:`parse_icdar_line`).

    Raises:
        OcrFormatError: ``bad_coordinates`` (fewer than 8 coordinates and 2 more fields, or a coordinate that is not
            a finite number), ``bad_script`` (field 9 is not an MLT script name).
    """
    parts = line.rstrip("\r\n").split(",", 9)
    if len(parts) < 10:
        raise OcrFormatError(source, line_no, f"expected 8 coordinates, a script and a transcription (MLT), got "
                             f"{len(parts)} comma-separated field(s): {line[:80]!r}", "bad_coordinates")
    coords = _coords(parts[:8], source, line_no)
    script = parts[8].strip()
    if script not in MLT_SCRIPTS:
        raise OcrFormatError(source, line_no, f"field 9 {script[:20]!r} is not an MLT script name "
                             f"({', '.join(MLT_SCRIPTS)})", "bad_script")
    text = _unquote(parts[9])
    polygon = [(coords[i], coords[i + 1]) for i in range(0, 8, 2)]
    return Region(polygon=polygon, text=text, dont_care=is_dont_care(text), line=line_no, script=script)


def parse_polygon_line(line: str, source: Optional[str] = None, line_no: Optional[int] = None) -> Region:
    """Parse one ``x1,y1,...,xn,yn,transcription`` polygon line (Total-Text / CTW1500 / ArT flattened to text) into
    a :class:`Region` with its ``n >= 4`` vertices (pixels, in file order).

    The coordinates are the leading fields taken in pairs while both are finite numbers and at least one field
    remains for the transcription (which is the rest of the line, commas included, quotes unwrapped).

    Raises:
        OcrFormatError: kind ``bad_coordinates``: fewer than 4 vertices, or a coordinate that is not a finite number.
    """
    fields = line.rstrip("\r\n").split(",")
    n = 0
    while n < len(fields) and _is_number(fields[n]):
        n += 1
    k = min(n // 2, (len(fields) - 1) // 2)
    if k < 4:
        if len(fields) >= 9:
            _coords(fields[:8], source, line_no)  # names the first field that is not a coordinate
        raise OcrFormatError(source, line_no, f"expected at least 4 vertices (8 coordinates) and a transcription, "
                             f"got {len(fields)} comma-separated field(s): {line[:80]!r}", "bad_coordinates")
    coords = _coords(fields[:2 * k], source, line_no)
    text = _unquote(",".join(fields[2 * k:]))
    polygon = [(coords[i], coords[i + 1]) for i in range(0, 2 * k, 2)]
    return Region(polygon=polygon, text=text, dont_care=is_dont_care(text), line=line_no)


_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_SEP = r"(?:\s*,\s*|\s+)"
#: An ICDAR 2013 line: 4 numbers separated by blanks or commas, then the quoted transcription.
_LINE_2013 = re.compile(rf'\s*({_NUMBER}){_SEP}({_NUMBER}){_SEP}({_NUMBER}){_SEP}({_NUMBER}){_SEP}"(.*)"\s*', re.ASCII)
_ESCAPE_2013 = re.compile(r'\\(["\\])')


def parse_2013_line(line: str, source: Optional[str] = None, line_no: Optional[int] = None) -> Region:
    """Parse one ICDAR 2013 ``x1 y1 x2 y2 "transcription"`` (or comma-separated) line into a :class:`Region` whose
    polygon is the box's 4 corners clockwise from the top-left ``[(x1, y1), (x2, y1), (x2, y2), (x1, y2)]``, pixels.
    The quotes are removed; ``\\"`` and ``\\\\`` inside them become ``"`` and ``\\``.

    Raises:
        OcrFormatError: kind ``bad_coordinates``: not 4 numbers followed by a quoted transcription.
    """
    m = _LINE_2013.fullmatch(line.rstrip("\r\n"))
    if m is None:
        raise OcrFormatError(source, line_no, f"expected an ICDAR 2013 line 'x1 y1 x2 y2 \"text\"' (blanks or "
                             f"commas between the fields): {line[:80]!r}", "bad_coordinates")
    x1, y1, x2, y2 = _coords(m.groups()[:4], source, line_no)
    text = _ESCAPE_2013.sub(r"\1", m.group(5))
    return Region(polygon=[(x1, y1), (x2, y1), (x2, y2), (x1, y2)], text=text, dont_care=is_dont_care(text),
                  line=line_no)


_LINE_PARSERS: Dict[str, Callable[..., Region]] = {"2015": parse_icdar_line, "mlt": parse_mlt_line,
                                                  "polygon": parse_polygon_line, "2013": parse_2013_line}
#: How to name a variant in messages.
_NAMES = {"2015": "ICDAR 2015 (x1,...,y4,text)", "mlt": "MLT (x1,...,y4,script,text)",
          "polygon": "polygon (x1,y1,...,xn,yn,text)", "2013": 'ICDAR 2013 (x1 y1 x2 y2 "text")'}


def _line_list(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:8])
    return f"line {shown}" if len(numbers) == 1 else (
        f"lines {shown}" + (f" and {len(numbers) - 8} more" if len(numbers) > 8 else ""))


def _classify(line: str) -> str:
    """The layout class of one non-blank line (see :func:`detect_icdar_variant`)."""
    fields = line.split(",")
    total = len(fields)
    n = 0
    while n < total and _is_number(fields[n]):
        n += 1
    if n < 8:
        return "2013" if _LINE_2013.fullmatch(line) else "bad"
    if n == 8:
        if total == 8:
            return "bad"
        return "mlt" if total >= 10 and fields[8].strip() in MLT_SCRIPTS else "quad"
    if n % 2 == 0 and total > n:
        return "poly"  # more than 8 leading numbers, in pairs, then a transcription
    if n <= 10:
        return "quad"  # 9 numbers, or 10 and nothing else: only the 2015 reading leaves a transcription
    return "numodd" if n % 2 else "numlist"


def _ambiguous(source: Optional[str], lines: Sequence[int], why: str, choices: str) -> OcrFormatError:
    return OcrFormatError(source, lines[0], f"cannot tell which ICDAR layout this file uses: {why} "
                          f"({_line_list(lines)}); pass --icdar-variant {choices} (dataset option "
                          f"icdar_variant=...) to say how to read it", "ambiguous_layout")


def detect_icdar_variant(text: str, source: Optional[str] = None) -> str:
    """The layout (``2015``, ``mlt``, ``polygon`` or ``2013``) of a whole label file's decoded text.

    Every non-blank line is classified by its comma-separated fields (``n`` leading finite numbers):

    * ``2013``: 4 numbers then a quoted transcription (:func:`parse_2013_line`);
    * ``mlt``: ``n == 8`` and field 9 is an MLT script name followed by a transcription field;
    * ``poly``: ``n > 8``, ``n`` even, and a transcription field after them;
    * ``quad``: a line only the ICDAR 2015 reading fits (``n == 8``; or 9 numbers; or 10 and no other field);
    * ``numodd`` / ``numlist``: 11 or more leading numbers, odd / even with no other field: a transcription that
      starts with (or is) a list of numbers, readable both as text and as more vertices.

    The file is ``2013`` when every line is; ``mlt`` when every line is; ``polygon`` when some line is ``poly`` and
    every other one ``quad`` or ``numodd`` (a 4-point polygon; a single number as transcription); ``2015`` when
    every line is ``quad``.

    Raises:
        OcrFormatError: ``ambiguous_layout`` naming the file, the first line and the lines concerned, with the
            ``--icdar-variant`` values that resolve it: lines of different layouts (some with a script column, some
            without; ICDAR 2013 lines among others), or number-list transcriptions (``numodd`` without polygon
            lines, ``numlist``); or the error of the first malformed line (``bad_coordinates``).
    """
    by_class: Dict[str, List[int]] = {}
    for no, line in enumerate(text.splitlines(), 1):
        if not line or line.isspace():
            continue
        by_class.setdefault(_classify(line), []).append(no)
    lines = text.splitlines()
    bad = by_class.pop("bad", [])
    if "2013" in by_class:
        if len(by_class) == 1:
            if bad:
                parse_2013_line(lines[bad[0] - 1], source, bad[0])  # raises: a malformed ICDAR 2013 line
            return "2013"
        others = sorted(n for c, ns in by_class.items() if c != "2013" for n in ns)
        raise _ambiguous(source, sorted(by_class["2013"] + others), f"ICDAR 2013 lines ({_line_list(by_class['2013'])})"
                         f" mixed with comma-separated ones ({_line_list(others)})", "2013|2015|mlt|polygon")
    if bad:
        for parse in (parse_icdar_line, parse_polygon_line):
            parse(lines[bad[0] - 1], source, bad[0])  # raises the precise error
        raise OcrFormatError(source, bad[0], "not an ICDAR line", "bad_coordinates")  # not reached
    if "mlt" in by_class:
        if len(by_class) == 1:
            return "mlt"
        others = sorted(n for c, ns in by_class.items() if c != "mlt" for n in ns)
        raise _ambiguous(source, sorted(by_class["mlt"] + others), f"field 9 is an MLT script name on "
                         f"{_line_list(by_class['mlt'])} but not on {_line_list(others)}", "mlt|2015")
    if "numlist" in by_class:
        raise _ambiguous(source, by_class["numlist"], "a transcription made only of comma-separated numbers could "
                         "be a transcription or more polygon vertices", "2015|polygon")
    if "poly" in by_class:
        return "polygon"
    if "numodd" in by_class:
        raise _ambiguous(source, by_class["numodd"], "more than 8 leading numbers (a transcription that starts with "
                         "numbers, or polygon vertices)", "2015|polygon")
    return "2015"


def parse_icdar_bytes(data: bytes, source: Optional[str] = None, encoding: Optional[str] = None,
                      variant: str = "2015") -> List[Region]:
    """All regions of one label file's raw content, in file order (see :func:`parse_icdar_text`).

    Raises:
        OcrFormatError: undecodable bytes (kind ``bad_encoding``) or a malformed line (``bad_coordinates``, the first
            one, with its line number; ``ambiguous_layout`` with ``variant="auto"``). Never any other exception,
            whatever the bytes.
    """
    text, _ = decode_label_bytes(data, source, encoding)
    return parse_icdar_text(text, source, variant)


def parse_icdar_text(text: str, source: Optional[str] = None, variant: str = "2015") -> List[Region]:
    """All regions of one label file's decoded text, in file order (blank lines skipped, line numbers 1-based and
    counting blank lines, as :func:`~swift_ocr.formats.text_io.split_label_lines`), read as ``variant`` (one of
    :data:`VARIANTS`; this low-level function defaults to ``2015``, the file readers to ``auto``).

    For ``2015`` the same result as :func:`parse_icdar_line` on every non-blank line; a line that is not plainly well
    formed (not 9 fields, a coordinate ``float()`` refuses, a non-finite coordinate) goes through
    :func:`parse_icdar_line`, which raises the precise error. Other variants: their line parser
    (:func:`parse_mlt_line`, :func:`parse_polygon_line`, :func:`parse_2013_line`) on every non-blank line.

    Raises:
        OcrFormatError: the first malformed line (kind ``bad_coordinates`` or ``bad_script``, with its line number);
            with ``auto``, an ambiguous file (``ambiguous_layout``, see :func:`detect_icdar_variant`).
        ValueError: an unknown ``variant``.
    """
    return parse_icdar_variant(text, source, variant)[0]


def check_variant(variant: str) -> str:
    """``variant`` if it is one of :data:`VARIANTS`.

    Raises:
        ValueError: any other value (a problem with the options).
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown ICDAR variant {variant!r}; choose from {', '.join(VARIANTS)}")
    return variant


def parse_icdar_variant(text: str, source: Optional[str] = None, variant: str = "auto") -> Tuple[List[Region], str]:
    """``(regions, variant read)`` of one label file's decoded text (see :func:`parse_icdar_text`); with ``auto`` the
    variant is :func:`detect_icdar_variant`'s, decided without a second look at the lines when the file is plainly
    ICDAR 2015 (no line with a transcription starting with a number or an MLT script name followed by a comma).

    Raises:
        OcrFormatError: as :func:`parse_icdar_text`.
        ValueError: an unknown ``variant``.
    """
    check_variant(variant)
    if variant == "auto":
        regions = _parse_2015(text, source, detect=True)
        if regions is not None:
            return regions, "2015"
        variant = detect_icdar_variant(text, source)
    if variant == "2015":
        return _parse_2015(text, source, detect=False), variant
    parse = _LINE_PARSERS[variant]
    return [parse(line, source, no) for no, line in enumerate(text.splitlines(), 1)
            if line and not line.isspace()], variant


def _parse_2015(text: str, source: Optional[str], detect: bool) -> Optional[List[Region]]:
    """The ICDAR 2015 regions of ``text`` (fast path of :func:`parse_icdar_line` on every non-blank line); with
    ``detect``, None as soon as a line might belong to another variant, for :func:`detect_icdar_variant` to decide
    from the whole file: a line not plainly well formed, or one whose transcription's first comma-separated field is
    a number or an MLT script name and that :func:`_classify` does not find a plain ICDAR 2015 line. Every other
    line has the class ``quad`` without a look at its transcription (no comma in it: at most 9 numbers and 9
    fields; else its 9th field is neither a number nor a script name), so a file of such lines is ``2015``.

    Reference: :func:`parse_icdar_line` on every non-blank line (which this calls for any line it does not take).
    Equivalence tests: ``tests/formats/test_icdar.py::test_fast_parse_equals_line_by_line_*`` (real files, tricky and
    generated lines)."""
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
                if detect:
                    comma = label.find(",")
                    if comma >= 0:  # without a comma the line only reads as 2015 (see _classify)
                        head = label[:comma]
                        first = head.lstrip()[:1]
                        if (first and (first.isdigit() or first in "+-." or head.strip() in MLT_SCRIPTS)
                                and _classify(line) != "quad"):
                            return None
                if len(label) >= 2 and label[0] == '"' and label[-1] == '"':
                    label = label[1:-1]
                append(Region([(x0, y0), (x1, y1), (x2, y2), (x3, y3)], label, _maybe_dont_care(label), no))
                continue
        if detect:
            return None
        append(parse_icdar_line(line, source, no))
    return regions


def read_icdar_labels(label_path, encoding: Optional[str] = None, variant: str = "auto") -> List[Region]:
    """All regions of one label file, in file order, read as ``variant`` (default: detected from the file).

    A malformed line rejects the whole file: a ``rec`` target missing one of the image's lines would be wrong.

    Raises:
        OcrFormatError: unreadable file, any malformed line (the first one, with file and line), or a file whose
            layout is ambiguous (``ambiguous_layout``).
    """
    return _read_labels(label_path, encoding, variant)[0]


def _read_labels(label_path, encoding: Optional[str] = None, variant: str = "auto"):
    source = str(label_path)
    data = read_label_bytes(source)
    text, used = decode_label_bytes(data, source, encoding)
    regions, read_as = parse_icdar_variant(text, source, variant)
    return regions, used, read_as


def read_icdar_file(label_path, image_path=None, encoding: Optional[str] = None, read_size: bool = True,
                    variant: str = "auto", scripts: Optional[Sequence[str]] = None) -> Sample:
    """Read one image's ICDAR-family label file into a :class:`Sample`.

    ``Sample.text`` is the non-``###`` transcriptions in file order joined by ``\\n`` (the ``rec`` target; never a
    coordinate or an MLT script name); ``Sample.image_size`` is read from the image header when ``image_path`` is
    given and ``read_size`` (False: left None, for callers that check the image themselves, as
    :func:`~swift_ocr.formats.checks.finish_sample` does). A file read in a variant other than ``2015`` is counted in
    ``Sample.fixes`` (:data:`VARIANT_FIX_KEYS`).

    Args:
        variant: one of :data:`VARIANTS` (``auto``: :func:`detect_icdar_variant`).
        scripts: MLT script names to keep (None: all): readable regions of other scripts become do-not-care (left
            out of every target, ignored by the metrics), counted in ``Sample.fixes['other_script_regions']``.

    Raises:
        OcrFormatError: malformed, ambiguous or empty label file, unreadable image; with ``scripts``: a file that is
            not MLT (``bad_script``), or one with readable regions none of which is in ``scripts`` (``other_script``).
        ValueError: an unknown ``variant`` or script name.
    """
    regions, used, read_as = _read_labels(label_path, encoding, variant)
    if not regions:
        raise OcrFormatError(str(label_path), None, "empty label file (no text regions)", "empty_label")
    other = _filter_scripts(regions, scripts, str(label_path), read_as) if scripts is not None else 0
    images = [str(image_path)] if image_path is not None else []
    size = image_size_for(image_path, str(label_path)) if image_path is not None and read_size else None
    text = join_lines([r.text for r in regions if not r.dont_care])
    sample = Sample(images=images, text=text, regions=regions, source=str(label_path), image_size=size)
    if encoding is None and used == "gb18030":
        sample.fixes["gb18030_files"] += 1  # not UTF-8: counted, so that a wrong guess does not go unnoticed
    if read_as in VARIANT_FIX_KEYS:
        sample.fixes[VARIANT_FIX_KEYS[read_as]] += 1
    if other:
        sample.fixes[OTHER_SCRIPT_FIX_KEY] += other
    return sample


def check_scripts(scripts: Optional[Sequence[str]]) -> Optional[Tuple[str, ...]]:
    """``scripts`` as a tuple of MLT script names (None stays None).

    Raises:
        ValueError: a name that is not in :data:`MLT_SCRIPTS`, or an empty selection.
    """
    if scripts is None:
        return None
    names = tuple(s.strip() for s in scripts if s.strip())
    unknown = [s for s in names if s not in MLT_SCRIPTS]
    if unknown or not names:
        raise ValueError(f"unknown MLT script name(s) {', '.join(map(repr, unknown)) or '(none given)'}; choose from "
                         f"{', '.join(MLT_SCRIPTS)}")
    return names


def _filter_scripts(regions: List[Region], scripts: Sequence[str], source: str, read_as: str) -> int:
    """Make the readable regions whose script is not in ``scripts`` do-not-care; their number.

    Raises:
        OcrFormatError: ``bad_script``: the file is not MLT (no script column); ``other_script``: it has readable
            regions and none in ``scripts``.
    """
    scripts = check_scripts(scripts)
    if read_as != "mlt":
        raise OcrFormatError(source, None, f"a script filter needs MLT label files (a script column); this file "
                             f"was read as {_NAMES[read_as]}", "bad_script")
    other = [r for r in regions if not r.dont_care and r.script not in scripts]
    if other and len(other) == sum(not r.dont_care for r in regions):
        found = sorted({r.script for r in other})
        raise OcrFormatError(source, None, f"none of the {len(other)} readable region(s) is in the selected scripts "
                             f"({', '.join(scripts)}); found {', '.join(found)}", "other_script")
    for r in other:
        r.dont_care = True
    return len(other)


def read_pair(pair: Pair, encoding: Optional[str] = None, variant: str = "auto",
              scripts: Optional[Sequence[str]] = None) -> Sample:
    """Read an (image, ICDAR label) :class:`~swift_ocr.formats.layout.Pair` without opening the image:
    ``image_size`` stays None until :func:`~swift_ocr.formats.checks.finish_sample` checks the image (its header is
    read once per item). ``variant``, ``scripts``: see :func:`read_icdar_file`."""
    return read_paths(pair.image, pair.label, encoding, variant, scripts)


def read_paths(image: str, label: str, encoding: Optional[str] = None, variant: str = "auto",
               scripts: Optional[Sequence[str]] = None) -> Sample:
    """:func:`read_pair` of the pair ``(image, label)`` given as its two paths."""
    return read_icdar_file(label, image, encoding, read_size=False, variant=variant, scripts=scripts)


#: Label file extensions of the ICDAR family (``gt_img_1.txt``, SROIE's ``box/*.csv``).
LABEL_EXTENSIONS = (".txt", ".csv")


class IcdarFormat(PairFormat):
    """``--format icdar``: one ICDAR-family label file per image (module docstring), in image/label folders, a
    dataset root or a DBNet list file. Its own reading options: ``icdar_variant`` and ``scripts``."""

    name = "icdar"
    description = "ICDAR 2015/MLT/polygon/2013 label files (one per image), SROIE, DBNet list files"
    label_exts = LABEL_EXTENSIONS
    list_files = True
    read_option_fields = ("icdar_variant", "scripts")

    def read_paths(self, image, label, options):
        return read_paths(image, label, options.encoding, options.icdar_variant, options.scripts)

    def path_reader(self, options):
        return partial(read_paths, encoding=options.encoding, variant=options.icdar_variant, scripts=options.scripts)

    def report_extras(self, fixes, converted):
        """``icdar_variants``: converted label files read per variant (``2015`` = the rest, when ``converted`` is
        known), and the lines saying so (and how many regions ``--scripts`` made do-not-care)."""
        counts = {v: fixes.get(k, 0) for v, k in VARIANT_FIX_KEYS.items()}
        shown = ", ".join(f"{v} {n}" for v, n in counts.items() if n)
        if converted is None:  # the ms-swift loader: only files read in another variant are counted
            lines = [f"label files read as {shown} (the others as ICDAR 2015)"] if shown else []
            if fixes.get(OTHER_SCRIPT_FIX_KEY):
                lines.append(f"regions of other scripts made do-not-care (scripts=): {fixes[OTHER_SCRIPT_FIX_KEY]}")
            return {"icdar_variants": counts}, lines
        counts = {"2015": converted - sum(counts.values()), **counts}
        shown = ", ".join(f"{v} {n}" for v, n in counts.items() if n)
        lines = [f"ICDAR label files read as (converted items): {shown or 'none'}"]
        if fixes.get(OTHER_SCRIPT_FIX_KEY):
            lines.append(f"regions of other scripts made do-not-care (--scripts): {fixes[OTHER_SCRIPT_FIX_KEY]}")
        return {"icdar_variants": counts}, lines


register_format(IcdarFormat())
