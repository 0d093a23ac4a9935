"""Decoding label files (UTF-8 with or without BOM, LF or CRLF, and the GB18030 family used by many Chinese
datasets) and normalising transcriptions (Unicode NFKC)."""
from __future__ import annotations

import json
import unicodedata
from typing import List, Optional, Tuple

from swift_ocr.errors import OcrFormatError, read_error
from swift_ocr.io_utils import read_bytes

#: Tried in order when no encoding is given (GB18030 is a superset of GBK and GB2312). A UTF-8 BOM is removed after
#: decoding, as any leading BOM (plain ``utf-8`` is the built-in codec; ``utf-8-sig`` is a Python-level wrapper).
FALLBACK_ENCODINGS = ("utf-8", "gb18030")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Windows Notepad's "Unicode"


def decode_label_bytes(data: bytes, source: str, encoding: Optional[str] = None) -> Tuple[str, str]:
    """Decode a label file's bytes.

    Args:
        data: the raw file content.
        source: the file name, for error messages.
        encoding: a Python codec name; ``None`` tries UTF-8 (a BOM is removed) then GB18030 (UTF-16 first when
            the data starts with a UTF-16 byte-order mark).

    Returns:
        ``(text, encoding_used)``. A BOM at the start is removed whatever the encoding.

    Raises:
        OcrFormatError: the bytes are not valid in the given (or any fallback) encoding.
    """
    if encoding:
        encodings: Tuple[str, ...] = (encoding,)
    elif data[:2] in UTF16_BOMS:
        encodings = ("utf-16",) + FALLBACK_ENCODINGS
    else:
        encodings = FALLBACK_ENCODINGS
    last_err = None
    for enc in encodings:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError) as e:
            last_err = e
            continue
        return text.lstrip("\ufeff"), enc
    raise OcrFormatError(source, None, f"cannot decode as {' or '.join(encodings)}: {last_err}", "bad_encoding")


def split_label_lines(text: str) -> List[Tuple[int, str]]:
    """``[(line_number, line), ...]`` of decoded label text (1-based; LF, CRLF and CR all end a line; blank lines
    are skipped but keep the numbering of the lines after them)."""
    return [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]


def read_label_lines(path, encoding: Optional[str] = None) -> List[Tuple[int, str]]:
    """Read a text label file into ``[(line_number, line), ...]`` (1-based; LF, CRLF and CR all end a line;
    blank lines are skipped but keep the numbering of the lines after them).

    Raises:
        OcrFormatError: the file cannot be read or decoded.
    """
    return read_label_text(path, encoding)[0]


def read_label_text(path, encoding: Optional[str] = None) -> Tuple[List[Tuple[int, str]], str]:
    """:func:`read_label_lines` and the encoding that was used (see :func:`decode_label_bytes`).

    Raises:
        OcrFormatError: the file cannot be read or decoded.
    """
    path = str(path)
    text, used = decode_label_bytes(read_label_bytes(path), path, encoding)
    return split_label_lines(text), used


def read_label_bytes(path: str) -> bytes:
    """The raw content of a label file (:func:`swift_ocr.io_utils.read_bytes`).

    Raises:
        OcrFormatError: kind ``file_not_found`` or ``unreadable_file`` (e.g. a folder, no permission), with the
            message ``open()`` gives.
    """
    try:
        return read_bytes(path)
    except OSError as e:
        raise read_error(path, e, "cannot read label file") from e


def check_text(text: str, source, line=None) -> None:
    """Make sure ``text`` can be written as UTF-8 (JSON decoders accept lone surrogates such as ``"\\ud800"``,
    which no UTF-8 writer can encode).

    Raises:
        OcrFormatError: kind ``bad_text``.
    """
    if text.isascii():  # O(1) for Python strings; ASCII is always valid UTF-8
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise OcrFormatError(source, line, f"transcription {text[:40]!r} is not valid Unicode text: {e.reason} "
                             f"at position {e.start}", "bad_text") from None


def nfkc(text: str) -> str:
    """Unicode compatibility normalisation (NFKC, Unicode Standard Annex #15): full-width Latin letters, digits and
    punctuation become ASCII (``'ＴＯＴＡＬ：１２'`` -> ``'TOTAL:12'``), ligatures are split (``'ﬁ'`` -> ``'fi'``),
    compatibility characters are unified (``'①'`` -> ``'1'``, ``'㎏'`` -> ``'kg'``), and composed/decomposed
    accents become one form. Line breaks are not touched, so ``nfkc('\\n'.join(x)) == '\\n'.join(map(nfkc, x))``."""
    if text.isascii():  # every ASCII string is already in NFKC
        return text
    return unicodedata.normalize("NFKC", text)


def load_json_bytes(data: bytes, source: str):
    """Decode JSON bytes (UTF-8, BOM allowed; RFC 8259).

    Raises:
        OcrFormatError: kind ``invalid_json`` (with the line number when the parser gives one).
    """
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise OcrFormatError(source, None, f"invalid JSON: not UTF-8 ({e})", "invalid_json") from e
    except json.JSONDecodeError as e:
        raise OcrFormatError(source, e.lineno, f"invalid JSON: {e}", "invalid_json") from e
    except RecursionError:
        raise OcrFormatError(source, None, "invalid JSON: nested too deeply", "invalid_json") from None
