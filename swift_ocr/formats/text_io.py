"""Decoding label files: UTF-8 with or without BOM, LF or CRLF, and the GB18030 family used by many
Chinese datasets."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

from ..errors import OcrFormatError

# Tried in order when no encoding is given. GB18030 is a superset of GBK and GB2312.
FALLBACK_ENCODINGS = ("utf-8-sig", "gb18030")


def decode_label_bytes(data: bytes, source: str, encoding: Optional[str] = None) -> Tuple[str, str]:
    """Decode a label file's bytes.

    Args:
        data: the raw file content.
        source: the file name, for error messages.
        encoding: a Python codec name; ``None`` tries UTF-8 (a BOM is removed) then GB18030.

    Returns:
        ``(text, encoding_used)``. A BOM at the start is removed whatever the encoding.

    Raises:
        OcrFormatError: the bytes are not valid in the given (or any fallback) encoding.
    """
    encodings = (encoding,) if encoding else FALLBACK_ENCODINGS
    last_err = None
    for enc in encodings:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError) as e:
            last_err = e
            continue
        return text.lstrip("\ufeff"), enc
    raise OcrFormatError(source, None, f"cannot decode as {' or '.join(encodings)}: {last_err}")


def read_label_lines(path, encoding: Optional[str] = None) -> List[Tuple[int, str]]:
    """Read a text label file into ``[(line_number, line), ...]`` (1-based; LF, CRLF and CR all end a line;
    blank lines are skipped but keep the numbering of the lines after them).

    Raises:
        OcrFormatError: the file cannot be read or decoded.
    """
    path = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise OcrFormatError(path, None, f"cannot read label file: {e}") from e
    text, _ = decode_label_bytes(data, path, encoding)
    return [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
