"""Reader for per-character word-box JSON labels.

Format (as used by GOT-OCR2 fine-tuning users with per-character annotations): one JSON file per image,
``<stem>.json``, holding a list of characters::

    [[x1, y1, x2, y2, order, char], ...]

* ``x1, y1, x2, y2``: the character's axis-aligned box in pixels of the original image (top-left, bottom-right);
* ``order``: the character's position in reading order (integers; only their relative order matters);
* ``char``: the character itself (a space or ``"\\n"`` entry is kept as it is).

The file may also be an object ``{"chars": [...]}``. The full text is the characters sorted by ``order``
and concatenated. Lines (for the ``line`` task) are split at ``"\\n"`` characters, or, when there are none,
where the next character in reading order starts left of the previous one and below its box.
"""
from __future__ import annotations

import math
from itertools import compress, repeat
from operator import eq, itemgetter, lt
from pathlib import Path
from typing import List, Sequence

from swift_ocr.errors import OcrFormatError, read_error
from swift_ocr.sample import Region, Sample
from swift_ocr.formats.checks import image_size_for
from swift_ocr.formats.layout import Pair
from swift_ocr.formats.registry import PairFormat, register_format
from swift_ocr.formats.text_io import load_json_bytes


def _parse_char(entry, source: str, index: int):
    if not isinstance(entry, (list, tuple)) or len(entry) != 6:
        raise OcrFormatError(source, None, f"character #{index}: expected [x1, y1, x2, y2, order, char], "
                             f"got {entry!r:.80}", "bad_record")
    *box, order, char = entry
    try:
        box = [float(v) for v in box]
        order_f = float(order)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer too large for a float
        raise OcrFormatError(source, None, f"character #{index}: box/order not numeric: {entry!r:.80}",
                             "bad_coordinates") from None
    if not all(math.isfinite(v) for v in box + [order_f]):
        raise OcrFormatError(source, None, f"character #{index}: non-finite number in {entry!r:.80}",
                             "bad_coordinates")
    if not isinstance(char, str):
        raise OcrFormatError(source, None, f"character #{index}: char must be a string, got {char!r:.40}",
                             "bad_record")
    x1, y1, x2, y2 = box
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)), order_f, char


def _char_list(data, source: str) -> list:
    """The list of character entries of decoded word-box JSON (a list, or ``{"chars": list}``).

    Raises:
        OcrFormatError: not a list (or ``{"chars": list}``), or an empty list.
    """
    if isinstance(data, dict) and isinstance(data.get("chars"), list):
        data = data["chars"]
    if not isinstance(data, list):
        raise OcrFormatError(source, None, f"expected a JSON list of characters, got {type(data).__name__}",
                             "bad_record")
    if not data:
        raise OcrFormatError(source, None, "empty character list (no text in this image)", "empty_label")
    return data


_ENTRY_TYPES = frozenset((list, tuple))
_STR_TYPE = frozenset((str,))
_by_order = itemgetter(0)


def _fast_columns(entries: list):
    """Fast sibling of :func:`_parse_careful` (its reference) over a whole non-empty list of entries, in columns.
    Equivalence tests: ``tests/formats/test_wordbox.py::test_fast_path_*`` (real lines, data templates, generated
    well-formed and tricky entries, against the reader as first written).

    Returns ``(order, x1, y1, x2, y2, char)``: sequences in reading order (stable sort by ``order``), numbers as
    floats, boxes normalised like :func:`_parse_char` does (``x1 <= x2``, ``y1 <= y2``; pixels), exactly the values
    :func:`_parse_careful` gives. Returns None when any entry is not plainly well-formed (not exactly a list/tuple
    of 6, a number ``float()`` refuses, a non-finite number, a char that is not exactly a ``str``, or numbers whose
    sum overflows): the caller then runs the careful path, which raises the exact error (or, for the harmless odd
    cases, gives the same result). Never raises for JSON-decoded input.
    """
    if not _ENTRY_TYPES.issuperset(map(type, entries)):
        return None
    try:  # unpacking refuses entries that are not 6 long (ValueError)
        rows = [(float(o), float(a), float(b), float(c), float(d), ch) for a, b, c, d, o, ch in entries]
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer too large for a float
        return None
    rows.sort(key=_by_order)  # stable: equal orders keep file order
    order, x1, y1, x2, y2, char = zip(*rows)
    if not _STR_TYPE.issuperset(map(type, char)):
        return None
    if 0.0 * (sum(x1) + sum(y1) + sum(x2) + sum(y2) + sum(order)) != 0.0:  # inf or nan somewhere (or the sum
        return None                                                         # overflowed: careful path decides)
    # min()/max() as _parse_char applies them: min(a, b) is b only if b < a; max(a, b) is b only if b > a
    if not all(map(lt, x1, x2)):
        x1, x2 = [b if b < a else a for a, b in zip(x1, x2)], [b if b > a else a for a, b in zip(x1, x2)]
    if not all(map(lt, y1, y2)):
        y1, y2 = [b if b < a else a for a, b in zip(y1, y2)], [b if b > a else a for a, b in zip(y1, y2)]
    return order, x1, y1, x2, y2, char


def _parse_careful(entries: list, source: str) -> list:
    """The careful path: :func:`_parse_char` on each entry, then a stable sort by ``order``."""
    chars = [_parse_char(e, source, i) for i, e in enumerate(entries)]
    chars.sort(key=lambda c: c[1])  # stable: equal orders keep file order
    return chars


def parse_wordbox(data, source: str):
    """Parse decoded word-box JSON into ``[(box, order, char)]`` sorted by reading order (stable: equal orders keep
    file order). ``box`` is ``(x1, y1, x2, y2)`` with ``x1 <= x2``, ``y1 <= y2`` (floats, pixels of the image);
    ``order`` a float; ``char`` a str.

    Raises:
        OcrFormatError: not a list (or ``{"chars": list}``), an empty list, or a malformed entry.
    """
    entries = _char_list(data, source)
    cols = _fast_columns(entries)
    if cols is None:
        return _parse_careful(entries, source)
    order, x1, y1, x2, y2, char = cols
    return list(zip(zip(x1, y1, x2, y2), order, char))


def _group_columns(x1: Sequence[float], y1: Sequence[float], x2: Sequence[float], y2: Sequence[float],
                   chars: Sequence[str]) -> List[Region]:
    """:func:`group_lines` on columns: the normalised boxes (pixels) and the chars, in reading order. Checked against
    the grouping as first written (``reference_group_lines``) by ``tests/formats/test_wordbox.py::test_fast_path_*``."""
    n = len(chars)
    # A line ends before character k at a "\n" entry (dropped), or where k starts left of the previous character
    # of its line (x1[k] < x1[k - 1]: a "step") and its vertical centre is below that character's box.
    monotone = False  # x1 never goes back left: a line's first x1 is its smallest
    if "\n" in chars:
        steps = sorted(set(compress(range(1, n), map(lt, x1[1:], x1))).union(
            compress(range(n), map(eq, chars, repeat("\n")))))
    elif sorted(x1) == list(x1):  # no step: one line
        steps = ()
        monotone = True
    else:
        steps = compress(range(1, n), map(lt, x1[1:], x1))
    spans = []
    start = 0
    for k in steps:
        if chars[k] == "\n":
            spans.append((start, k))
            start = k + 1
        elif k > start and (y1[k] + y2[k]) / 2 > y2[k - 1]:
            spans.append((start, k))
            start = k
    spans.append((start, n))
    regions = []
    for s, e in spans:
        if s == 0 and e == n:
            line, lx1, ly1, lx2, ly2 = chars, x1, y1, x2, y2
        else:
            line, lx1, ly1, lx2, ly2 = chars[s:e], x1[s:e], y1[s:e], x2[s:e], y2[s:e]
        text = "".join(line).strip()
        if not text:
            continue
        # The box covers the line's non-blank characters. min()/max() return the first extreme element, which
        # seq.index() finds: when it is non-blank, leaving the blank ones out changes nothing.
        bx1 = lx1[0] if monotone else min(lx1)
        by1, bx2, by2 = min(ly1), max(lx2), max(ly2)
        if not (line[lx1.index(bx1)].strip() and line[ly1.index(by1)].strip() and line[lx2.index(bx2)].strip()
                and line[ly2.index(by2)].strip()):
            keep = list(map(str.strip, line))
            bx1, by1 = min(compress(lx1, keep)), min(compress(ly1, keep))
            bx2, by2 = max(compress(lx2, keep)), max(compress(ly2, keep))
        regions.append(Region(polygon=[(bx1, by1), (bx2, by1), (bx2, by2), (bx1, by2)], text=text))
    return regions


def group_lines(chars: Sequence) -> List[Region]:
    """Group reading-ordered characters ``[(box, order, char)]`` (as from :func:`parse_wordbox`; ``box`` =
    ``(x1, y1, x2, y2)`` with ``x1 <= x2``, ``y1 <= y2``, pixels) into line regions: axis-aligned 4-point polygons
    clockwise from the top-left (pixels) covering the line's non-blank characters, text stripped, lines with no
    visible character left out. A line ends at a ``"\\n"`` character (dropped), or before a character that starts
    left of the previous one of its line and whose vertical centre is below that one's box."""
    rows = [(box[0], box[1], box[2], box[3], char) for box, _, char in chars]
    if not rows:
        return []
    x1, y1, x2, y2, char = map(list, zip(*rows))
    return _group_columns(x1, y1, x2, y2, char)


def parse_wordbox_bytes(data: bytes, source: str = "<bytes>") -> Sample:
    """A word-box JSON file's raw content as a :class:`Sample` without image (text = characters in reading order;
    regions = lines).

    Raises:
        OcrFormatError: invalid JSON, not a list, empty list, malformed entry. Never any other exception, whatever
            the bytes.
    """
    entries = _char_list(load_json_bytes(data, source), source)
    cols = _fast_columns(entries)
    if cols is None:
        chars = _parse_careful(entries, source)
        return Sample(images=[], text="".join(c for _, _, c in chars), regions=group_lines(chars), source=source)
    _, x1, y1, x2, y2, char = cols
    return Sample(images=[], text="".join(char), regions=_group_columns(x1, y1, x2, y2, char), source=source)


def read_wordbox_file(label_path, image_path=None, read_size: bool = True) -> Sample:
    """Read one word-box JSON into a :class:`Sample` (text = characters in reading order; regions = lines).
    ``Sample.image_size`` is read from the image header when ``image_path`` is given and ``read_size``.

    Raises:
        OcrFormatError: unreadable/invalid JSON, empty list, malformed entry, unreadable image.
    """
    source = str(label_path)
    try:
        with open(label_path, "rb") as fh:
            data = fh.read()
    except OSError:
        try:  # the error (and the odd path open() refuses but pathlib reads: "x.json/") exactly as pathlib gives it
            data = Path(label_path).read_bytes()
        except OSError as e:
            raise read_error(source, e, "cannot read label file") from e
    sample = parse_wordbox_bytes(data, source)
    if image_path is not None:
        sample.images = [str(image_path)]
        if read_size:
            sample.image_size = image_size_for(image_path, source)
    return sample


def read_pair(pair: Pair, encoding=None) -> Sample:
    """Read an (image, word-box JSON) pair without opening the image (``image_size`` is set by
    :func:`~swift_ocr.formats.checks.finish_sample`). ``encoding`` is ignored: JSON is UTF-8 (RFC 8259)."""
    return read_wordbox_file(pair.label, pair.image, read_size=False)


def read_paths(image: str, label: str, encoding=None) -> Sample:
    """:func:`read_pair` of the pair ``(image, label)`` given as its two paths."""
    return read_wordbox_file(label, image, read_size=False)


class WordboxFormat(PairFormat):
    """``--format wordbox``: one word-box JSON per image (module docstring), in image/label folders or a dataset
    root. JSON is UTF-8 (RFC 8259): the ``encoding`` option does not apply."""

    name = "wordbox"
    description = "word-box JSON label files (one per image): characters with boxes, grouped into lines"
    label_exts = (".json",)

    def read_paths(self, image, label, options):
        return read_wordbox_file(label, image, read_size=False)


register_format(WordboxFormat())
