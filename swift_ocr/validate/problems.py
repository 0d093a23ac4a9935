"""Problem kinds of ``swift-ocr validate`` and the :class:`Problem` record of one problem in one row.

Each kind (:data:`PROBLEM_KINDS`) is a stable short code with a default severity (:data:`ERROR` or :data:`WARNING`)
and a one-line meaning; the checks that report each kind are listed in :mod:`swift_ocr.validate`. Warnings are
``remote_image``, ``box_unparsed`` and ``duplicate``; everything else is an error. ``strict=True``
(:class:`~swift_ocr.validate.options.ValidateOptions`) makes every warning an error.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Tuple

ERROR, WARNING = "error", "warning"

#: Problem kinds: code -> (severity, meaning). Codes are stable; messages are prose.
PROBLEM_KINDS: "OrderedDict[str, Tuple[str, str]]" = OrderedDict([
    ("bad_json", (ERROR, "the line is not valid JSON")),
    ("bad_row", (ERROR, "not an ms-swift row: messages/roles/contents/images of the wrong shape")),
    ("image_tag_mismatch", (ERROR, "the number of <image> tags differs from the number of images")),
    ("missing_image", (ERROR, "an image file does not exist (paths resolve against the current directory)")),
    ("remote_image", (WARNING, "an http(s) image URL: fetched by ms-swift at training time, not checked")),
    ("undecodable_image", (ERROR, "an image that is empty, truncated or corrupt (Pillow cannot decode it)")),
    ("decompression_bomb", (ERROR, "an image over Pillow's hard pixel limit: ms-swift cannot open it")),
    ("image_too_large", (ERROR, "an image with more pixels than --max-pixels")),
    ("image_too_small", (ERROR, "an image with a side shorter than --min-side pixels")),
    ("extreme_aspect_ratio", (ERROR, "an image whose long side is over --max-aspect times its short side")),
    ("empty_target", (ERROR, "no assistant message at the end, or an empty/blank one")),
    ("box_outside_image", (ERROR, "a box with coordinates outside the image (the family's grid)")),
    ("box_unparsed", (WARNING, "box-like text in the target that the family's codec cannot parse")),
    ("no_boxes", (ERROR, "a detection target (--task det) without any box")),
    ("resize_mismatch", (ERROR, "a det row's recorded codec settings (swift_ocr.codec) resize its image otherwise "
                                "than ms-swift will under this environment (e.g. MAX_PIXELS/MIN_PIXELS)")),
    ("duplicate", (WARNING, "the same images and messages as an earlier row")),
    ("too_long", (ERROR, "token length over --max-length (ms-swift drops or truncates such rows)")),
    ("encode_error", (ERROR, "ms-swift's template cannot encode the row")),
])


@dataclass(frozen=True)
class Problem:
    """One problem in one row.

    Attributes:
        kind: a key of :data:`PROBLEM_KINDS`.
        severity: ``error`` or ``warning`` (after ``--strict``).
        source: the jsonl file.
        line: 1-based line in ``source``.
        message: what is wrong, naming the image or box where there is one.
    """

    kind: str
    severity: str
    source: str
    line: int
    message: str

    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "severity": self.severity, "source": self.source, "line": self.line,
                "message": self.message}
