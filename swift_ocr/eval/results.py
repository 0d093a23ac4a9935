"""Read the jsonl file that ``swift infer --result_path FILE`` writes (ms-swift 4.6.0), one row at a time.

Row format, from ms-swift 4.6.0 ``swift/pipelines/infer/infer.py`` (``SwiftInfer._batch_infer`` and the
streaming branch of ``infer_dataset``) and ``swift/utils/io_utils.py`` (``JsonlWriter``: one
``json.dumps(row, ensure_ascii=False)`` per line, UTF-8)::

    {"response": "<model output>", "labels": "<reference>", "logprobs": null,
     "messages": [..., {"role": "user", "content": "<image>..."}, {"role": "assistant", "content": "<model output>"}],
     "images": [{"bytes": null, "path": "/abs/img.jpg"}], ...other dataset columns...}

* ``response`` is the prediction (``resp.choices[0].message.content``, a string).
* ``labels`` is the reference: ``InferRequest.remove_response(messages)``, i.e. the ``content`` of the
  dataset row's final assistant message, popped *before* inference (for ``task_type='causal_lm'``). It is a
  string for ms-swift's own datasets (the preprocessor turns content parts into a string), ``null`` when the
  dataset row had no final assistant message, and may be an OpenAI-style list of content parts
  (``[{"type": "text", "text": "..."}]``) in hand-written input; the text parts are then joined.
* ``messages`` in a ms-swift row ends with the model's *own* response appended after inference, so it is
  only used when the row has **no** ``labels`` key at all (files not written by ``swift infer``, e.g. a
  dataset jsonl with an added ``response`` column): the content of the last ``assistant`` message is then
  the reference. Rows written by ``swift infer --eval_human true`` have no ``labels`` key and end with the
  response itself, so they cannot be scored and must not be passed here.
* ``images``: ms-swift casts image paths to ``{"bytes": null, "path": ...}`` dicts; plain strings and a
  single string are accepted too. Images given as bytes are written by ms-swift as ``"<<<bytes>>>"``.

Blank lines are skipped (they hold no row); everything else that is not a valid row raises
:class:`~swift_ocr.errors.OcrFormatError` naming the file and the 1-based line.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Tuple, Union

from swift_ocr.errors import OcrFormatError

__all__ = ["ResultRow", "iter_raw_rows", "iter_results", "parse_row", "read_results", "report_json",
           "report_line", "print_report"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class ResultRow:
    """One scored unit of a ``swift infer`` result file.

    Attributes:
        pred: the model's output (``response``), unnormalised.
        ref: the reference text (``labels``, or the last assistant message when ``labels`` is absent).
        images: the row's image paths (``path`` of ms-swift's image dicts; ``'<bytes>'`` for an image stored
            as bytes without a path), empty when the row has none.
        source: the result file.
        line: 1-based line number of the row in ``source``.
        ref_key: where ``ref`` came from: ``'labels'`` or ``'messages'``.
    """

    pred: str
    ref: str
    images: List[str]
    source: str
    line: int
    ref_key: str = "labels"


def _content_text(value: Any, what: str, source: str, line: int) -> str:
    """A message content / label as text: a string, or the joined text of OpenAI-style content parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) for p in value):
        texts = []
        for part in value:
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") in ("image", "image_url", "video", "video_url", "audio", "audio_url"):
                continue
            else:
                raise OcrFormatError(source, line, f"{what}: unsupported content part {part!r}")
        return "".join(texts)
    raise OcrFormatError(
        source, line, f"{what} must be a string or a list of text parts, got {type(value).__name__}: {value!r:.80}"
    )


def image_entries(value: Any, source: str, line: int) -> List[Optional[str]]:
    """The images of a row's ``images`` value as ms-swift writes it (a path, a ``{bytes, path}`` dict, or a list of
    those): one entry per image, its path, or None for an image given as bytes only.

    Raises:
        OcrFormatError: ``images`` is not a list (or one item), or an item is neither a path nor a dict.
    """
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list):
        raise OcrFormatError(source, line, f"'images' must be a list, got {type(value).__name__}")
    out: List[Optional[str]] = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            path = item.get("path")
            out.append(path if isinstance(path, str) and path else None)
        else:
            raise OcrFormatError(source, line, f"'images' item must be a path or a {{bytes, path}} dict: {item!r:.80}")
    return out


def _images(value: Any, source: str, line: int) -> List[str]:
    return ["<bytes>" if p is None else p for p in image_entries(value, source, line)]


def parse_row(row: Any, source: str, line: int) -> ResultRow:
    """Turn one decoded jsonl row into a :class:`ResultRow` (see the module docstring for the rules).

    Raises:
        OcrFormatError: the row is not an object, has no string ``response``, has ``labels: null``, or has no
            ``labels`` and no assistant message in ``messages``.
    """
    if not isinstance(row, dict):
        raise OcrFormatError(source, line, f"expected a JSON object per line, got {type(row).__name__}")
    if "response" not in row:
        raise OcrFormatError(source, line, "missing 'response' (the prediction written by swift infer)")
    response = row["response"]
    if not isinstance(response, str):
        raise OcrFormatError(source, line, f"'response' must be a string, got {type(response).__name__}")
    if "labels" in row:
        labels = row["labels"]
        if labels is None:
            raise OcrFormatError(
                source, line, "'labels' is null: the dataset row had no assistant answer, so there is no reference"
            )
        ref = _content_text(labels, "'labels'", source, line)
        ref_key = "labels"
    else:
        messages = row.get("messages")
        if not isinstance(messages, list):
            raise OcrFormatError(source, line, "no 'labels' and no 'messages' list to take the reference from")
        assistant = [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]
        if not assistant:
            raise OcrFormatError(source, line, "no 'labels' and no assistant message in 'messages'")
        ref = _content_text(assistant[-1].get("content"), "last assistant message content", source, line)
        ref_key = "messages"
    return ResultRow(
        pred=response, ref=ref, images=_images(row.get("images"), source, line), source=source, line=line,
        ref_key=ref_key,
    )


def iter_raw_rows(path: PathLike) -> Iterator[Tuple[int, Any]]:
    """Yield ``(line_no, row)`` for each non-blank line of a ``swift infer --result_path`` jsonl file, in file
    order, reading line by line: ``line_no`` is 1-based, ``row`` the decoded JSON value, not yet checked
    (:func:`parse_row` checks it; callers that need extra columns keep it).

    The file is UTF-8 (a leading BOM is tolerated). Blank lines are skipped.

    Raises:
        OSError: the file cannot be opened.
        OcrFormatError: a line is not valid UTF-8 or JSON (``file:line: reason``).
    """
    source = os.fspath(path)
    with open(source, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise OcrFormatError(source, line_no, f"not valid UTF-8: {exc}") from exc
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                raise OcrFormatError(source, line_no, f"invalid JSON: {exc.msg} at column {exc.colno}") from exc
            yield line_no, row


def iter_results(path: PathLike) -> Iterator[ResultRow]:
    """Yield the rows of a ``swift infer --result_path`` jsonl file in file order, reading line by line.

    The file is UTF-8 (a leading BOM is tolerated). Blank lines are skipped.

    Raises:
        OSError: the file cannot be opened.
        OcrFormatError: a line is not valid UTF-8 or JSON, or is not a valid row (``file:line: reason``).
    """
    source = os.fspath(path)
    for line_no, row in iter_raw_rows(source):
        yield parse_row(row, source, line_no)


def read_results(path: PathLike) -> List[ResultRow]:
    """All rows of :func:`iter_results` as a list (convenience for small files)."""
    return list(iter_results(path))


# ------------------------------------------------------------------------------------- writing reports
#
# Texts read from a result file with ``json`` may hold lone surrogates (``"\ud800"`` is valid JSON, but no
# UTF-8 can encode it), and paths from the command line may hold ``surrogateescape`` characters. Reports
# made of them must still be written and printed.

_READABLE = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(obj, ensure_ascii=False) builds per call


def report_json(obj: Any) -> str:
    """``json.dumps(obj, ensure_ascii=False)`` (UTF-8 text kept readable), or, when that text holds a character
    UTF-8 cannot encode (a lone surrogate such as ``"\\ud800"``), ``json.dumps(obj)`` with ``ensure_ascii=True``:
    every non-ASCII character escaped as ``\\uXXXX``. Either way valid JSON that ``json.loads`` turns back into
    ``obj`` exactly (lossless), and always encodable as UTF-8. No newline at the end."""
    text = _READABLE.encode(obj)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True)
    return text


def report_line(obj: Any) -> str:
    """One JSON line for a jsonl report file written as UTF-8: :func:`report_json` plus ``"\\n"``."""
    return report_json(obj) + "\n"


def print_report(text: str, file=None) -> None:
    """``print(text, file=file)`` (default ``sys.stdout``) that does not fail on characters the stream's encoding
    cannot write (lone surrogates, or non-ASCII on an ASCII terminal): they are then written as Python
    backslash escapes (``\\ud800``), the rest of the text unchanged."""
    file = sys.stdout if file is None else file
    try:
        print(text, file=file)
    except UnicodeEncodeError:
        encoding = getattr(file, "encoding", None) or "utf-8"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=file)
