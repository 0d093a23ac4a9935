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
from pathlib import Path
from typing import List, Sequence

from ..errors import OcrFormatError
from ..sample import Region, Sample
from .checks import image_size_for
from .layout import Pair
from .text_io import load_json_bytes


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


def parse_wordbox(data, source: str):
    """Parse decoded word-box JSON into ``[(box, order, char)]`` sorted by reading order.

    Raises:
        OcrFormatError: not a list (or ``{"chars": list}``), an empty list, or a malformed entry.
    """
    if isinstance(data, dict) and isinstance(data.get("chars"), list):
        data = data["chars"]
    if not isinstance(data, list):
        raise OcrFormatError(source, None, f"expected a JSON list of characters, got {type(data).__name__}",
                             "bad_record")
    if not data:
        raise OcrFormatError(source, None, "empty character list (no text in this image)", "empty_label")
    chars = [_parse_char(e, source, i) for i, e in enumerate(data)]
    chars.sort(key=lambda c: c[1])  # stable: equal orders keep file order
    return chars


def group_lines(chars: Sequence) -> List[Region]:
    """Group reading-ordered characters into line regions (axis-aligned 4-point polygons, pixels)."""
    lines: List[list] = [[]]
    for box, _, char in chars:
        if char == "\n":
            lines.append([])
            continue
        current = lines[-1]
        if current:
            prev = current[-1][0]
            if box[0] < prev[0] and (box[1] + box[3]) / 2 > prev[3]:
                lines.append([])
        lines[-1].append((box, char))
    regions = []
    for chars_of_line in lines:
        text = "".join(c for _, c in chars_of_line).strip()
        if not text:
            continue
        boxes = [b for b, c in chars_of_line if c.strip()]
        x1, y1 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x2, y2 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        regions.append(Region(polygon=[(x1, y1), (x2, y1), (x2, y2), (x1, y2)], text=text))
    return regions


def parse_wordbox_bytes(data: bytes, source: str = "<bytes>") -> Sample:
    """A word-box JSON file's raw content as a :class:`Sample` without image (text = characters in reading order;
    regions = lines).

    Raises:
        OcrFormatError: invalid JSON, not a list, empty list, malformed entry. Never any other exception, whatever
            the bytes.
    """
    chars = parse_wordbox(load_json_bytes(data, source), source)
    return Sample(images=[], text="".join(c for _, _, c in chars), regions=group_lines(chars), source=source)


def read_wordbox_file(label_path, image_path=None) -> Sample:
    """Read one word-box JSON into a :class:`Sample` (text = characters in reading order; regions = lines).

    Raises:
        OcrFormatError: unreadable/invalid JSON, empty list, malformed entry, unreadable image.
    """
    source = str(label_path)
    try:
        data = Path(label_path).read_bytes()
    except OSError as e:
        kind = "file_not_found" if isinstance(e, FileNotFoundError) else "unreadable_file"
        raise OcrFormatError(source, None, f"cannot read label file: {e}", kind) from e
    sample = parse_wordbox_bytes(data, source)
    if image_path is not None:
        sample.images = [str(image_path)]
        sample.image_size = image_size_for(image_path, source)
    return sample


def read_pair(pair: Pair, encoding=None) -> Sample:
    """Read an (image, word-box JSON) pair. ``encoding`` is ignored: JSON is UTF-8 (RFC 8259)."""
    return read_wordbox_file(pair.label, pair.image)
