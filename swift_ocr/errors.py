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
    "duplicate_image": "an image named by more than one line or entry of one label file (PaddleOCR, MMOCR): repeats "
                       "of the same label are left out, different labels for one image are all rejected",
    "bad_list_line": "a list-file line that is not '<image> [<label>]'",
    "file_not_found": "a file named by a list file or a data file does not exist",
    "outside_root": "an image path that escapes the dataset root (refused unless allowed explicitly)",
    "bad_filename": "an image or label file whose name is not valid UTF-8 (e.g. GBK names from a Chinese zip); "
                    "the item is rejected, the name shown with its bytes escaped",
    # label files
    "unreadable_file": "a label or data file cannot be read (permissions, I/O error)",
    "bad_encoding": "a label file is not valid text in the given (or any fallback) encoding",
    "invalid_json": "a JSON label file does not parse",
    "empty_label": "a label file without any text region or character",
    "bad_coordinates": "fewer than 8 coordinates, or a coordinate that is not a finite number",
    "ambiguous_layout": "an ICDAR-family label file whose layout (2015, MLT, polygon, 2013) cannot be told from its "
                        "lines (a number-list transcription, lines of different layouts): --icdar-variant decides",
    "bad_script": "an MLT line whose 9th field is not a script name, or a script filter on a file without scripts",
    "other_script": "an MLT label file with readable regions, none of them in the selected scripts (--scripts)",
    "bad_record": "a record of the wrong shape (word-box entry, GOT conversation, parquet row)",
    "bad_text": "a transcription that cannot be written as UTF-8 (e.g. a lone surrogate)",
    "unwritable": "a sample the output format cannot hold (--output-format paddle_rec: a text with a line break or a "
                  "tab; paddle_det: an item without text regions)",
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
    "unsupported_prompt": "an item's own prompt (a GOT box or colour prompt) that the target model family has no "
                          "equivalent for: it asks for one region, so it is never rewritten to read the whole page",
    # det task (swift_ocr.tasks.det.DET_KINDS)
    "unencodable_text": "a transcription the family's detection format cannot carry (e.g. '</ref>' for internvl, "
                        "a newline for got)",
    "too_many_boxes": "a page with more care regions than max_boxes, with tiling 'none'",
}
FORMAT = "format"


def printable(text: Optional[str]) -> Optional[str]:
    """``text`` unchanged when it can be written as UTF-8 (None stays None); else with each undecodable byte of a
    file name (a surrogate-escaped character, as :func:`os.fsdecode` makes them, U+DC80..U+DCFF) shown as ``\\xNN``
    and any other lone surrogate as ``\\udNNN``, so that the result names the file and is valid UTF-8 text."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF
                   else c.encode("utf-8", "backslashreplace").decode("ascii") if 0xD800 <= ord(c) <= 0xDFFF else c
                   for c in text)


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
        """The rejects-file row. ``source`` and ``reason`` are made writable as UTF-8 (:func:`printable`): a file
        name that is not valid UTF-8 shows its bytes escaped (``\\xb7``) instead of failing the whole write."""
        return {"source": printable(self.source), "line": self.line, "kind": self.kind,
                "reason": printable(self.reason)}

    def to_error(self) -> OcrFormatError:
        return OcrFormatError(self.source, self.line, self.reason, self.kind)

    @classmethod
    def from_error(cls, err: OcrFormatError) -> "Rejection":
        return cls(err.source, err.line, err.reason, getattr(err, "kind", FORMAT))


def read_error(source, err: BaseException, what: str = "cannot read") -> OcrFormatError:
    """The :class:`OcrFormatError` for a file that cannot be read at all: kind ``file_not_found`` when ``err`` is a
    :class:`FileNotFoundError`, else ``unreadable_file`` (permissions, a folder, an I/O error, or a library's own
    error for a file it cannot parse, e.g. pyarrow's for a file that is not parquet); the message is
    ``"<what>: <err>"``, naming ``source`` (and no line). Raise it ``from err``."""
    kind = "file_not_found" if isinstance(err, FileNotFoundError) else "unreadable_file"
    return OcrFormatError(str(source) if source is not None else None, None, f"{what}: {err}", kind)
