"""Errors and rejection records shared by readers, converters and preprocessors.

Every problem carries a stable short **kind** (one of :data:`KINDS`) next to its human-readable reason, so that
rejects files can be counted and tested by kind while the message stays free to improve.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

# Stable rejection kinds: code -> what it means. Tests and users may rely on these codes; the reasons are prose.
KINDS: Dict[str, str] = {
    "format": "the file does not follow its documented format (generic)",
    # listing (folder pairs, list files)
    "no_label": "an image without a label file",
    "no_image": "a label file without an image",
    "duplicate_stem": "two images share one file stem, so the label cannot be matched (both rejected, and the label)",
    "bad_list_line": "a list-file line that is not '<image> [<label>]'",
    "file_not_found": "a file named by a list file or a data file does not exist",
    "outside_root": "an image path that escapes the dataset root (refused unless allowed explicitly)",
    # label files
    "unreadable_file": "a label or data file cannot be read (permissions, I/O error)",
    "bad_encoding": "a label file is not valid text in the given (or any fallback) encoding",
    "invalid_json": "a JSON label file does not parse",
    "empty_label": "a label file without any text region or character",
    "bad_coordinates": "fewer than 8 coordinates, or a coordinate that is not a finite number",
    "bad_record": "a record of the wrong shape (word-box entry, GOT conversation, parquet row)",
    "bad_text": "a transcription that cannot be written as UTF-8 (e.g. a lone surrogate)",
    # images
    "image_missing": "the image file does not exist",
    "image_empty": "the image file has 0 bytes",
    "image_truncated": "the image data ends early",
    "image_corrupt": "the image is not a readable image (unknown format, broken data)",
    "image_too_large": "the image has more pixels than the decompression-bomb limit",
    # tasks
    "empty_text": "the target text is empty (every region is ###, or an empty transcription)",
    "no_regions": "the line/det task needs text regions and the source has none",
    "no_readable_region": "the line/det task found only ### (do-not-care) regions",
    "degenerate_region": "a region with (near) zero area: points equal or collinear",
    "outside_image": "a region that lies entirely outside its image",
    "self_intersecting": "a region whose polygon crosses itself and cannot be repaired by reordering its points",
    "no_usable_region": "the line or det task rejected every readable region of an image",
    # det task (swift_ocr.det_task.DET_KINDS)
    "unencodable_text": "a transcription the family's detection format cannot carry (e.g. '</ref>' for internvl, "
                        "a newline for got)",
    "too_many_boxes": "a page with more care regions than max_boxes, with tiling 'none'",
}
FORMAT = "format"


class OcrFormatError(ValueError):
    """A label, data or image file does not follow its documented format.

    The message always names the file and, where there is one, the 1-based line (``file:line: reason``).
    ``kind`` is one of :data:`KINDS` (default ``"format"``).
    """

    def __init__(self, source: Optional[str], line: Optional[int], reason: str, kind: str = FORMAT):
        self.source = source
        self.line = line
        self.reason = reason
        self.kind = kind
        where = str(source) if source is not None else "<unknown>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):  # picklable across datasets.map worker processes
        return (type(self), (self.source, self.line, self.reason, self.kind))


@dataclass
class Rejection:
    """An input item (or one region of it) that was not converted, kept so that nothing is dropped silently.

    Written one per line to ``<output>.rejects.jsonl`` by the converter as
    ``{"source": file, "line": 1-based line or null, "kind": code, "reason": message}``.
    """

    source: Optional[str]
    line: Optional[int]
    reason: str
    kind: str = FORMAT

    def to_dict(self) -> dict:
        return {"source": self.source, "line": self.line, "kind": self.kind, "reason": self.reason}

    def to_error(self) -> OcrFormatError:
        return OcrFormatError(self.source, self.line, self.reason, self.kind)

    @classmethod
    def from_error(cls, err: OcrFormatError) -> "Rejection":
        return cls(err.source, err.line, err.reason, getattr(err, "kind", FORMAT))
