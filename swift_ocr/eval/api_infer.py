"""Run a validation set through any OpenAI-compatible chat-completions server and write a ``swift infer``-style
result file, resumably.

Servers: ``swift deploy`` (ms-swift 4.6.0, ``swift/pipelines/infer/deploy.py``), ``vllm serve``, or a hosted
OCR model with the same API (``POST {base}/chat/completions``; ``GET {base}/models`` when no model name is
given). The HTTP client is the ``openai`` package (a dependency of ms-swift), with its own retries switched off:
this module retries itself so that every attempt and the reason of a final failure are recorded.

Requests: one per dataset row (ms-swift jsonl as ``swift-ocr convert`` writes it: ``messages`` and ``images``).
The messages are those ``swift infer`` sends for the row: the row's final assistant message is removed and kept
as ``labels`` (ms-swift's ``remove_response``); a system message is kept (a top-level ``system`` string becomes
the first message when the row has none); each ``<image>`` tag of a message becomes an OpenAI ``image_url`` part
holding the image file as a base64 ``data:`` URL, text around it ``text`` parts, in order (ms-swift's server turns
such parts back into ``<image>`` tags: ``StdTemplateInputs.remove_messages_media``). Images without a tag go in
front of the first non-system message, as ms-swift's ``Template._add_default_tags`` puts them. Relative image
paths are taken from the current folder, as ms-swift does.

Result rows have the shape ``SwiftInfer._batch_infer`` writes (``swift_ocr.eval.results`` documents it)::

    {"response": ..., "labels": ..., "logprobs": null, "messages": [..., {"role": "assistant", "content": ...}],
     "images": [{"bytes": null, "path": ...}], ...other dataset columns (e.g. the "swift_ocr" tile metadata)...,
     "dataset": "<the --dataset file as given>",
     "swift_ocr_api": {"index": 0, "row_key": "...", "status": "ok", "error": null, "attempts": 1,
                       "model": ..., "api": ..., "temperature": 0.0, "max_tokens": 4096, "finish_reason": "stop"}}

so ``swift-ocr eval``, ``draw`` and ``report`` read them unchanged. A request that still fails after the retries
is written as a row with ``status: "failed"``, the reason in ``error`` and an empty ``response`` (scored as an
empty prediction; never dropped).

Crash safety of the result file (it is append-only by design, not written atomically as a whole):

* Each finished row is appended as one complete line (``write`` of ``json + "\\n"``, flushed and fsynced) by the
  single process that holds the file's lock (``flock`` of ``RESULT.jsonl.lock``, an empty file left in place).
  An interruption (SIGKILL, a crash, a lost server) can therefore only leave a torn *last* line: one without its
  final newline.
* A rerun with the same output first reads the file: complete lines that hold an ``ok`` row are kept; the torn
  last line and ``failed`` rows are dropped (their rows are sent again). The kept rows are written back in input
  order with :func:`swift_ocr.io_utils.atomic_write` (temp file + ``os.replace``: the old or the new file,
  never a mix) before anything is appended. Each row is thus in the file at most once at any moment.
* When the run ends, the file is rewritten the same way, in input order, one row per input row.
* A row's identity is its 0-based index in the dataset plus ``row_key`` (a hash of the input row): a file made
  from another dataset, or with another model / temperature / max_tokens, is refused rather than mixed.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import fcntl
import hashlib
import json
import mimetypes
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit, urlunsplit

from swift_ocr.errors import OcrFormatError
from swift_ocr.io_utils import atomic_write, dumps_line
from swift_ocr.eval.results import image_entries

__all__ = ["RECORD_KEY", "ApiSettings", "ApiRow", "ApiSummary", "ApiError", "normalize_base_url",
           "load_dataset_rows", "request_messages", "image_data_url", "read_result_file", "list_models",
           "run_api_inference"]

#: Column of each result row that records how it was obtained (index, status, settings, error).
RECORD_KEY = "swift_ocr_api"
#: HTTP statuses retried with backoff (as OpenAI's own clients do): timeout, conflict, rate limit, server errors.
RETRY_STATUSES = frozenset({408, 409, 429})
#: Longest wait between two attempts, in seconds (also caps a server's Retry-After).
MAX_RETRY_WAIT = 60.0
IMAGE_TAG = "<image>"


class ApiError(RuntimeError):
    """The run cannot start: bad server URL, no model name, an output file from another dataset or settings, or
    an output already being written by another process."""


@dataclass
class ApiSettings:
    """How to query the server.

    Attributes:
        base_url: the API base URL, ending in ``/v1`` (see :func:`normalize_base_url`).
        model: the served model name sent as ``model``.
        api_key: sent as ``Authorization: Bearer``; ``"EMPTY"`` when the server needs none.
        temperature: sampling temperature (0: greedy, as ``swift infer`` with ``--temperature 0``).
        max_tokens: the most tokens generated per request (``max_tokens`` of the API).
        concurrency: requests in flight at once (at least 1).
        timeout: seconds one request may take (connect + response) before it counts as failed and is retried.
        retries: extra attempts after the first one for retryable failures (HTTP 408/409/429/5xx, timeouts,
            connection errors, malformed answers); other 4xx answers are not retried.
        retry_wait: seconds before the first retry; doubled each time (with up to 25% random jitter), at most
            :data:`MAX_RETRY_WAIT`; a ``Retry-After`` header of the server is used when longer.
    """

    base_url: str
    model: str
    api_key: str = "EMPTY"
    temperature: float = 0.0
    max_tokens: int = 4096
    concurrency: int = 4
    timeout: float = 300.0
    retries: int = 5
    retry_wait: float = 1.0


@dataclass
class ApiRow:
    """One dataset row to send.

    Attributes:
        index: 0-based position in the dataset (files concatenated in the given order).
        key: ``row_key``, a hash of the input row (identifies it in the result file).
        row: the input row as read.
        source: the dataset file; ``line``: the 1-based line of the row in it.
    """

    index: int
    key: str
    row: Dict[str, Any]
    source: str
    line: int


@dataclass
class ApiSummary:
    """What a run did.

    Attributes:
        output: the result file.
        rows: dataset rows; ``kept``: rows already answered in ``output`` before this run (not sent);
        sent: rows sent by this run; ``answered``: rows now answered in ``output``; ``failed``: rows recorded as
        failed (after every retry); ``errors``: the failure reason of each failed row, by index.
        torn_line: whether a torn last line (an interrupted write) was found and dropped.
        dropped_failed: failed rows of an earlier run found in ``output`` and sent again.
        seconds: wall time of the requests.
    """

    output: str
    rows: int
    kept: int = 0
    sent: int = 0
    answered: int = 0
    failed: int = 0
    errors: Dict[int, str] = field(default_factory=dict)
    torn_line: bool = False
    dropped_failed: int = 0
    seconds: float = 0.0

    def to_dict(self) -> Dict[str, Any]:
        """The summary as a JSON-ready dict (``errors`` keyed by the row index as a string)."""
        return {"output": self.output, "rows": self.rows, "kept": self.kept, "sent": self.sent,
                "answered": self.answered, "failed": self.failed,
                "errors": {str(k): v for k, v in sorted(self.errors.items())}, "torn_line": self.torn_line,
                "dropped_failed": self.dropped_failed, "seconds": round(self.seconds, 3)}


# ------------------------------------------------------------------------------------------------ inputs


def normalize_base_url(url: str) -> str:
    """The API base URL from what a user passes as ``--api``: ``http://host:port`` gets ``/v1`` (the path
    ``swift deploy`` and vLLM serve under), a full ``.../chat/completions`` URL loses that suffix, a trailing
    ``/`` is dropped. Raises ValueError for a URL that is not http(s) with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--api must be an http(s) URL such as http://127.0.0.1:8000/v1, got {url!r}")
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):
        path = path[: -len("/chat/completions")]
    if not path:
        path = "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def row_key(row: Dict[str, Any]) -> str:
    """A short hash of an input row (sorted-key JSON, SHA-256, 16 hex digits): the row's identity in a result
    file."""
    text = json.dumps(row, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def load_dataset_rows(paths: Sequence[str]) -> List[ApiRow]:
    """The rows of ms-swift jsonl file(s), in order, each checked to be sendable (:func:`request_messages` with
    the image files checked to exist).

    Raises:
        OSError: a file cannot be read.
        OcrFormatError: a line is not a JSON object, has no ``messages`` list, its ``<image>`` tags do not match
            its ``images``, or an image file is missing (``file:line: reason``).
    """
    from swift_ocr.eval.results import iter_raw_rows

    out: List[ApiRow] = []
    for path in paths:
        source = os.fspath(path)
        for line, row in iter_raw_rows(source):
            if not isinstance(row, dict):
                raise OcrFormatError(source, line, f"expected a JSON object per line, got {type(row).__name__}")
            request_messages(row, source, line)  # raises for a row that cannot be sent
            for image in _image_paths(row, source, line):
                if not os.path.isfile(image):
                    raise OcrFormatError(source, line, f"image not found: {image}")
            out.append(ApiRow(index=len(out), key=row_key(row), row=row, source=source, line=line))
    return out


def _image_paths(row: Dict[str, Any], source: str, line: int) -> List[str]:
    """The row's image paths (:func:`swift_ocr.eval.results.image_entries`); an image given as bytes only is an error:
    the request is built from files."""
    paths = image_entries(row.get("images") or [], source, line)
    if not all(paths):  # None (bytes only) or an empty path
        raise OcrFormatError(source, line, "'images' item must be a file path (or a dict with 'path'), not bytes only")
    return paths


def request_messages(row: Dict[str, Any], source: str = "<row>", line: int = 0
                     ) -> Tuple[List[Dict[str, Any]], Optional[Any]]:
    """``(messages, labels)`` for one dataset row, the images still as paths.

    ``labels`` is the content of the row's final assistant message (None when the last message is not an
    assistant one), as ms-swift's ``remove_response`` pops it; ``messages`` are the rest, in OpenAI content-part
    form where a message holds images: ``{"type": "image_url", "image_url": {"url": PATH}}`` for each
    ``<image>`` tag (in order), ``{"type": "text", ...}`` for the text around them. See the module docstring for
    the system message and untagged images.

    Raises:
        OcrFormatError: no ``messages`` list, a message without a string ``content``, or more ``<image>`` tags
            than images.
    """
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        raise OcrFormatError(source, line, "no 'messages' list (ms-swift jsonl rows have one)")
    messages = copy.deepcopy(messages)
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            raise OcrFormatError(source, line, f"each message needs a string 'role' and 'content': {m!r:.80}")
    labels = None
    if messages[-1]["role"] == "assistant":
        labels = messages.pop()["content"]
    if isinstance(row.get("system"), str) and not any(m["role"] == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": row["system"]})
    images = _image_paths(row, source, line)
    n_tags = sum(m["content"].count(IMAGE_TAG) for m in messages)
    if n_tags > len(images):
        raise OcrFormatError(source, line, f"{n_tags} <image> tags but {len(images)} images")
    if n_tags < len(images):  # ms-swift's Template._add_default_tags: missing tags go first
        first = next((m for m in messages if m["role"] != "system"), None)
        if first is None:
            raise OcrFormatError(source, line, "images but no user message to put them in")
        first["content"] = IMAGE_TAG * (len(images) - n_tags) + first["content"]
    pending = iter(images)
    out = []
    for m in messages:
        content = m["content"]
        if IMAGE_TAG not in content:
            out.append({"role": m["role"], "content": content})
            continue
        parts: List[Dict[str, Any]] = []
        for k, text in enumerate(content.split(IMAGE_TAG)):
            if k:
                parts.append({"type": "image_url", "image_url": {"url": next(pending)}})
            if text:
                parts.append({"type": "text", "text": text})
        out.append({"role": m["role"], "content": parts})
    return out, labels


def image_data_url(path: str) -> str:
    """``data:<mime>;base64,<file bytes>`` for an image file (MIME type from the extension, else from Pillow's
    reading of the header; raises OSError for a missing or unreadable file, ValueError for an unknown type)."""
    with open(path, "rb") as fh:
        data = fh.read()
    mime, _ = mimetypes.guess_type(path)
    if not mime or not mime.startswith("image/"):
        import io

        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as im:
                mime = Image.MIME.get(im.format or "")
        except OSError as exc:
            raise ValueError(f"{path}: not an image Pillow can read: {exc}") from exc
        if not mime:
            raise ValueError(f"{path}: unknown image type")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _with_data_urls(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    out = copy.deepcopy(messages)
    for m in out:
        if isinstance(m["content"], list):
            for part in m["content"]:
                if part["type"] == "image_url":
                    part["image_url"]["url"] = image_data_url(part["image_url"]["url"])
    return out


def result_row(item: ApiRow, response: str, record: Dict[str, Any]) -> Dict[str, Any]:
    """The result row for ``item`` as ``SwiftInfer._batch_infer`` writes it (ms-swift 4.6.0): ``response``,
    ``labels`` (the popped final assistant message), ``logprobs`` (null), then the input row with its images cast
    to ``{"bytes": null, "path": ...}`` (``RowPreprocessor._cast_mm_data``), ``messages`` ending with the
    response and ``dataset``, the dataset file as given (the column ``swift.dataset.loader.load_dataset`` adds,
    ``_inject_dataset_routing_tag``); plus ``record`` under :data:`RECORD_KEY`."""
    row = copy.deepcopy(item.row)
    messages = row.get("messages", [])
    labels = messages.pop()["content"] if messages and messages[-1].get("role") == "assistant" else None
    messages.append({"role": "assistant", "content": response})
    if "images" in row:
        row["images"] = [{"bytes": None, "path": p} for p in _image_paths(row, item.source, item.line)]
    row.pop("dataset", None)
    row["dataset"] = item.source
    return {"response": response, "labels": labels, "logprobs": None, **row, RECORD_KEY: record}


# ------------------------------------------------------------------------------------------- result file


def read_result_file(path: str) -> Tuple[List[Dict[str, Any]], bool]:
    """``(rows, torn)``: the complete lines of an API result file, decoded, in file order, and whether a torn
    last line (no final newline: a write cut off by an interruption) was found and left out. A missing file
    gives ``([], False)``.

    Raises:
        OcrFormatError: a complete line is not a JSON object (not something this module writes).
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return [], False
    lines = data.split(b"\n")
    torn = bool(lines[-1].strip())  # text after the last newline: an interrupted append
    rows = []
    for line_no, raw in enumerate(lines[:-1], start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OcrFormatError(path, line_no, f"not a result line written by swift-ocr eval --api: {exc}") from exc
        if not isinstance(row, dict) or not isinstance(row.get(RECORD_KEY), dict):
            raise OcrFormatError(path, line_no, f"no '{RECORD_KEY}' record: not a file written by "
                                                f"swift-ocr eval --api (use another --output)")
        rows.append(row)
    return rows, torn


def _check_resumable(path: str, rows: List[Dict[str, Any]], dataset: List[ApiRow],
                     settings: ApiSettings) -> None:
    for row in rows:
        rec = row[RECORD_KEY]
        index = rec.get("index")
        if not isinstance(index, int) or not 0 <= index < len(dataset) or rec.get("row_key") != dataset[index].key:
            raise ApiError(f"{path} holds results of another dataset (its row {index!r} is not row {index!r} of "
                           f"the dataset): use another --output, or delete it")
        for name in ("model", "temperature", "max_tokens"):
            if rec.get(name) != getattr(settings, name):
                raise ApiError(f"{path} was made with {name}={rec.get(name)!r}, this run uses "
                               f"{getattr(settings, name)!r}: rerun with the same settings, or use another --output")


def _rewrite(path: str, rows: List[Dict[str, Any]]) -> None:
    rows = sorted(rows, key=lambda r: r[RECORD_KEY]["index"])
    with atomic_write(path) as fh:
        for row in rows:
            fh.write(_line(row))


def _line(row: Dict[str, Any]) -> str:
    try:
        return dumps_line(row)
    except UnicodeEncodeError:  # a lone surrogate: escaped, still valid JSON read back unchanged
        return json.dumps(row) + "\n"


@contextlib.contextmanager
def _locked(path: str):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    lock_path = path + ".lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ApiError(f"{path} is being written by another swift-ocr eval --api run ({lock_path} is locked)")
        yield
    finally:
        os.close(fd)  # releases the lock; the (empty) lock file is kept: unlinking it would let two runs lock
        # two different files of the same name


# ------------------------------------------------------------------------------------------------ client


def _client(settings: ApiSettings):
    import openai

    return openai.AsyncOpenAI(base_url=settings.base_url, api_key=settings.api_key or "EMPTY",
                              timeout=settings.timeout, max_retries=0)


def list_models(base_url: str, api_key: str = "EMPTY", timeout: float = 30.0) -> List[str]:
    """The model names a server lists at ``GET {base_url}/models``.

    Raises:
        ApiError: the server cannot be reached or answers with an error.
    """
    import openai

    async def go():
        client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "EMPTY", timeout=timeout, max_retries=2)
        try:
            page = await client.models.list()
            return [m.id for m in page.data]
        finally:
            await client.close()

    try:
        return asyncio.run(go())
    except openai.OpenAIError as exc:
        raise ApiError(f"cannot list the models of {base_url}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """A one-line failure reason: HTTP status and message, timeout, or connection error."""
    import openai

    if isinstance(exc, (openai.APITimeoutError, asyncio.TimeoutError)):
        return "timeout"
    if isinstance(exc, openai.APIStatusError):
        body = exc.response.text if exc.response is not None else ""
        return f"HTTP {exc.status_code}: {' '.join(body.split())[:200]}"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return f"connection error: {type(cause).__name__ if cause else ''} {cause or exc}".strip()[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


def _retryable(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRY_STATUSES or exc.status_code >= 500
    return isinstance(exc, (openai.APIConnectionError, openai.APIResponseValidationError, _BadAnswer,
                            asyncio.TimeoutError))


class _BadAnswer(Exception):
    """A 200 answer without a text choice."""


def _retry_after(exc: BaseException) -> Optional[float]:
    import openai

    if not isinstance(exc, openai.APIStatusError) or exc.response is None:
        return None
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = exc.response.headers.get(header)
        try:
            return float(value) / scale if value is not None else None
        except ValueError:
            continue
    return None


async def _ask(client, settings: ApiSettings, messages) -> Tuple[str, Optional[str]]:
    completion = await client.chat.completions.create(
        model=settings.model, messages=messages, temperature=settings.temperature, max_tokens=settings.max_tokens)
    choices = getattr(completion, "choices", None)
    if not choices or getattr(choices[0], "message", None) is None:
        raise _BadAnswer(f"answer without choices: {str(completion)[:200]}")
    content = choices[0].message.content
    if content is None:
        raise _BadAnswer("answer without text content")
    if not isinstance(content, str):
        raise _BadAnswer(f"answer content is not text: {type(content).__name__}")
    return content, choices[0].finish_reason


async def _send(client, settings: ApiSettings, item: ApiRow) -> Tuple[Optional[str], Dict[str, Any]]:
    messages, _ = request_messages(item.row, item.source, item.line)
    record: Dict[str, Any] = {"index": item.index, "row_key": item.key, "status": "failed", "error": None,
                              "attempts": 0, "model": settings.model, "api": settings.base_url,
                              "temperature": settings.temperature, "max_tokens": settings.max_tokens,
                              "finish_reason": None}
    try:
        payload = await asyncio.to_thread(_with_data_urls, messages)
    except (OSError, ValueError) as exc:
        record["error"] = f"cannot read the image: {exc}"
        return None, record
    wait = settings.retry_wait
    for attempt in range(settings.retries + 1):
        record["attempts"] = attempt + 1
        try:
            # the client's timeout bounds each phase (connect, each read); wait_for bounds the whole request
            response, finish = await asyncio.wait_for(_ask(client, settings, payload), settings.timeout)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, the retryable ones retried
            record["error"] = _reason(exc)
            if attempt == settings.retries or not _retryable(exc):
                return None, record
            pause = min(max(wait * (1 - 0.25 * random.random()), _retry_after(exc) or 0.0), MAX_RETRY_WAIT)
            await asyncio.sleep(pause)
            wait = min(wait * 2, MAX_RETRY_WAIT)
            continue
        record.update(status="ok", error=None, finish_reason=finish)
        return response, record
    return None, record  # not reached


async def _run_pending(pending: List[ApiRow], settings: ApiSettings, out_fh, summary: ApiSummary,
                       progress: bool) -> None:
    from tqdm import tqdm

    queue: "asyncio.Queue[ApiRow]" = asyncio.Queue()
    for item in pending:
        queue.put_nowait(item)
    bar = tqdm(total=summary.rows, initial=summary.kept, desc="eval --api", unit="row", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    client = _client(settings)

    async def worker():
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            response, record = await _send(client, settings, item)
            if response is None:
                summary.failed += 1
                summary.errors[item.index] = record["error"]
                row = result_row(item, "", record)
            else:
                summary.answered += 1
                row = result_row(item, response, record)
            out_fh.write(_line(row).encode("utf-8"))  # one complete line per row (see the module docstring)
            out_fh.flush()
            os.fsync(out_fh.fileno())
            summary.sent += 1
            bar.update(1)
            bar.set_postfix(failed=summary.failed, refresh=False)

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, settings.concurrency))))
    finally:
        bar.close()
        await client.close()


def run_api_inference(dataset: List[ApiRow], output: str, settings: ApiSettings,
                      progress: bool = True) -> ApiSummary:
    """Send every dataset row not yet answered in ``output`` to the server and append its result row; then
    rewrite ``output`` in input order (see the module docstring for the file's crash safety and resume rules).

    Args:
        dataset: rows from :func:`load_dataset_rows`.
        output: the result jsonl (created, or resumed when it exists).
        settings: server, model and generation settings.
        progress: show a progress bar on stderr.

    Returns:
        the :class:`ApiSummary` (``failed`` rows are in ``output`` with ``status: "failed"``).

    Raises:
        ApiError: ``output`` is locked by another run, or holds another dataset's or settings' results.
        OcrFormatError: ``output`` is not a file written by this module.
        OSError: ``output`` cannot be written.
    """
    output = os.fspath(output)
    summary = ApiSummary(output=output, rows=len(dataset))
    with _locked(output):
        rows, summary.torn_line = read_result_file(output)
        _check_resumable(output, rows, dataset, settings)
        done: Dict[int, Dict[str, Any]] = {}
        for row in rows:
            rec = row[RECORD_KEY]
            if rec.get("status") == "ok":
                if rec["index"] in done:
                    raise ApiError(f"{output}: row {rec['index']} is answered twice (the file was edited?)")
                done[rec["index"]] = row
            else:
                summary.dropped_failed += 1
        summary.kept = len(done)
        # keep only complete answered rows (drops a torn line and failed rows) before appending
        if rows or summary.torn_line or os.path.exists(output):
            _rewrite(output, list(done.values()))
        pending = [item for item in dataset if item.index not in done]
        start = time.monotonic()
        if pending:
            with open(output, "ab") as fh:
                asyncio.run(_run_pending(pending, settings, fh, summary, progress))
        summary.seconds = time.monotonic() - start
        final, torn = read_result_file(output)
        if torn:  # cannot happen: every append is a whole line
            raise OcrFormatError(output, None, "torn last line after the run")
        _rewrite(output, final)
        summary.answered = sum(1 for r in final if r[RECORD_KEY].get("status") == "ok")
        summary.failed = len(final) - summary.answered
        summary.errors = {r[RECORD_KEY]["index"]: r[RECORD_KEY].get("error") for r in final
                          if r[RECORD_KEY].get("status") != "ok"}
    return summary


def default_output(dataset: str, model: str) -> str:
    """``api_results/<dataset stem>.<model>.jsonl`` in the current folder (model name made file-safe): the
    default ``--output``, the same for the same command, so that a rerun resumes."""
    stem = os.path.splitext(os.path.basename(dataset))[0]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"
    return os.path.join("api_results", f"{stem}.{safe}.jsonl")
