"""Pre-flight checks of ms-swift jsonl training data (``swift-ocr validate``), before any GPU time is spent.

Input: ms-swift's standard multimodal jsonl (ms-swift docs, "Custom Dataset"), one row per line::

    {"messages": [{"role": "user", "content": "<image>OCR: "}, {"role": "assistant", "content": "..."}],
     "images": ["path.jpg" | {"path": "path.jpg", "bytes": null}, ...]}

Blank lines are skipped (they hold no row). Every problem found is a :class:`Problem` with a stable short
``kind`` (:data:`PROBLEM_KINDS`), a severity, the jsonl file and 1-based line, and a message.

Image paths are resolved **as ms-swift 4.6.0 resolves them** (``swift/template/vision_utils.py``, ``load_file`` /
``_check_path``; ``swift/template/base.py``, ``_load_image``): a ``{"path", "bytes"}`` dict uses its ``bytes``
when they are set, else its ``path``; a path string is used as is when it exists **relative to the current
directory** (not to the jsonl's folder: ms-swift's dataset loader does not rewrite paths), else it is joined to
``$ROOT_IMAGE_DIR`` when that is set; ``http://`` and ``https://`` URLs are fetched by ms-swift at training time
(not here: reported as ``remote_image``), and any other string starting with ``http`` (a local ``http_imgs/a.png``)
is an error, since ms-swift would try to download it too; a ``data:`` URI or a string longer than 2000 characters
is base64 image data. So run ``swift-ocr validate`` from the folder ``swift sft`` will run in (or set
``ROOT_IMAGE_DIR`` / ``--root-image-dir``); a missing image that does exist next to the jsonl is reported with that
hint.

Checks, in order, for each row (kinds in brackets):

1. the line is JSON [``bad_json``] holding an object with a non-empty ``messages`` list of ``{"role",
   "content"}`` dicts, roles among ms-swift's, string contents, a system message only in first place, and
   ``images`` (or ``image``) a list of strings / dicts [``bad_row``] (a bad row gets no further checks);
2. the number of ``<image>`` tags in the messages (all of them, as ms-swift counts) equals the number of images
   [``image_tag_mismatch``] - ms-swift would silently prepend missing tags to the first message, or leave surplus
   tags unreplaced;
3. every image exists [``missing_image``], is not a URL [``remote_image``], and its header announces a size
   Pillow will open in the training process [``decompression_bomb``: over twice ``PIL.Image.MAX_IMAGE_PIXELS``'s
   default, where Pillow raises ``DecompressionBombError``], a sane size [``image_too_large``: over
   ``max_pixels``; ``image_too_small``: a side under ``min_side``; ``extreme_aspect_ratio``: long side over
   ``max_aspect`` times the short one, which Qwen2-VL's ``smart_resize`` refuses] and decodes fully with Pillow
   [``undecodable_image``; ``decode=False`` reads the header only]. Each distinct image is checked once;
4. the last message is a non-blank assistant message - the training target [``empty_target``];
5. detection targets (``task='det'``: every row; ``task='auto'``: rows whose target the family's box codec
   (:func:`swift_ocr.codecs.get_codec`) finds at least one box in; ``task='rec'``: none) are parsed against the
   first image's size: boxes with a coordinate outside the family's grid, i.e. outside the image
   [``box_outside_image``], object-like text that does not parse or is cut off [``box_unparsed``], and with
   ``task='det'`` a target with no box at all [``no_boxes``]; a row that records the codec settings its target was
   written with (``swift_ocr.codec``, :data:`swift_ocr.tasks.tiling.CODEC_META_KEY`: Qwen2.5-VL's
   ``min_pixels``/``max_pixels``) is checked against the family's codec under the environment ms-swift will train
   with (the family's :attr:`~swift_ocr.families.base.ModelFamily.env_vars`, e.g. ``MAX_PIXELS``/``MIN_PIXELS``:
   :meth:`~swift_ocr.families.base.ModelFamily.codec_for_env`): when the two settings put the boxes of this row's
   image on different grids (Qwen: different smart-resized sizes) its boxes do not match the image the model sees
   [``resize_mismatch``, naming both settings and both sizes]; settings that differ without changing this image's
   grid are no problem for this row. Settings the family does not take (rows written for another family) are a
   ``resize_mismatch`` too, malformed ones a ``bad_row``. So run validate under the environment ``swift sft``
   runs in (the recipes: ``MAX_PIXELS``/``MIN_PIXELS`` exported, as they pass them to ms-swift);
6. the same images and messages as an earlier row (in any of the files checked together) [``duplicate``];
7. the token length (:mod:`swift_ocr.validate.token_budget`: exact with a :class:`~swift_ocr.validate.token_budget.SwiftTokenCounter`,
   else estimated) is at most ``max_length`` [``too_long``]; a row that ms-swift's template cannot encode, or
   (estimates) an image the family's resizing refuses [``encode_error``].

Severities: warnings are ``remote_image``, ``box_unparsed`` and ``duplicate``; everything else is an error.
``strict=True`` makes every warning an error.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import statistics
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from swift_ocr.errors import OcrFormatError
from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS, probe_image
from swift_ocr.progress import Progress
from swift_ocr.families import check_family, get_family
from swift_ocr.tasks.tiling import CODEC_META_KEY, TILE_META_KEY
from swift_ocr.validate.token_budget import ImageTokenParams, TokenCount, estimate_row

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

#: ms-swift's message roles (``swift/dataset/preprocessor/core.py``, ``_check_messages``).
ROLES = frozenset({"system", "user", "tool_call", "tool_response", "tool", "assistant"})
#: Pillow refuses to open images over ``2 * MAX_IMAGE_PIXELS`` (``PIL.Image._decompression_bomb_check``).
PILLOW_HARD_LIMIT = 2 * DEFAULT_MAX_IMAGE_PIXELS
#: ms-swift treats longer image strings as base64 data (``_check_path``: ``MAX_PATH_HEURISTIC``).
MAX_PATH_LENGTH = 2000
#: ``--task`` of ``swift-ocr validate``: the kind of rows to expect (``auto``: det when a target holds boxes). Not the
#: conversion tasks (:data:`swift_ocr.tasks.core.TASKS`).
VALIDATE_TASKS = ("auto", "rec", "det")


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


@dataclass(frozen=True)
class ValidateOptions:
    """What :func:`validate_files` checks and how.

    Attributes:
        family: model family (:func:`swift_ocr.families.family_names`): box codec and image-token arithmetic.
        max_length: token limit (``swift sft --max_length``); None: lengths are measured, not checked.
        task: ``auto``, ``rec`` or ``det`` (box checks; see the module docstring).
        decode: fully decode every image (else read the header only).
        max_pixels: ``image_too_large`` above this many pixels (width x height).
        min_side: ``image_too_small`` below this many pixels on either side.
        max_aspect: ``extreme_aspect_ratio`` above this long/short side ratio.
        strict: warnings count as errors.
        root_image_dir: ms-swift's ``ROOT_IMAGE_DIR`` (relative image paths missing from the current directory
            are looked up under it); None: the environment variable, if set.
        token_params: image-token settings (default: ms-swift's, from the environment).
        system: the system prompt ``swift sft --system`` would use (None: the template's default).
        template: ms-swift ``--template`` whose chat markup and default system prompt the estimate uses (None: the
            family's; :func:`swift_ocr.validate.token_budget.scaffold_for`).
    """

    family: str
    max_length: Optional[int] = None
    task: str = "auto"
    decode: bool = True
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    min_side: int = 8
    max_aspect: float = 200.0
    strict: bool = False
    root_image_dir: Optional[str] = None
    token_params: Optional[ImageTokenParams] = None
    system: Optional[str] = None
    template: Optional[str] = None

    def __post_init__(self):
        check_family(self.family)
        if self.task not in VALIDATE_TASKS:
            raise ValueError(f"unknown task {self.task!r}; choose from {', '.join(VALIDATE_TASKS)}")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {self.max_length}")
        if self.max_pixels < 1 or self.min_side < 1 or self.max_aspect < 1:
            raise ValueError("max_pixels and min_side must be >= 1 and max_aspect >= 1")


@dataclass
class TokenStats:
    """Token lengths of the rows that could be counted."""

    exact: bool
    max_length: Optional[int]
    lengths: List[int] = field(default_factory=list)
    image_tokens: List[int] = field(default_factory=list)
    over: int = 0

    def to_dict(self) -> dict:
        d = {"mode": "exact" if self.exact else "estimate", "counted": len(self.lengths),
             "max_length": self.max_length, "over": self.over if self.max_length is not None else None,
             "min": None, "median": None, "max": None, "image_min": None, "image_max": None}
        if self.lengths:
            d.update(min=min(self.lengths), median=statistics.median(self.lengths), max=max(self.lengths),
                     image_min=min(self.image_tokens), image_max=max(self.image_tokens))
        return d


@dataclass
class ValidationReport:
    """Everything :func:`validate_files` found.

    Attributes:
        files: the jsonl files checked, in order.
        rows: rows checked (non-blank lines, bad JSON included).
        problems: every problem, in file and line order.
        tokens: token-length statistics.
        row_tokens: ``(file, line, TokenCount)`` for each counted row.
    """

    files: List[str]
    rows: int
    problems: List[Problem]
    tokens: TokenStats
    row_tokens: List[Tuple[str, int, TokenCount]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == WARNING)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed unless ``strict``, which made them errors)."""
        return self.errors == 0

    def counts(self) -> Dict[str, int]:
        """Problems per kind, in :data:`PROBLEM_KINDS` order, kinds with problems only."""
        c = Counter(p.kind for p in self.problems)
        return {k: c[k] for k in PROBLEM_KINDS if c[k]}

    def by_kind(self, kind: str) -> List[Problem]:
        return [p for p in self.problems if p.kind == kind]

    def to_dict(self) -> dict:
        """``{files, rows, errors, warnings, problems: {kind: count}, tokens: {...}, ok}`` (the ``--json`` output)."""
        return {"files": self.files, "rows": self.rows, "errors": self.errors, "warnings": self.warnings,
                "problems": self.counts(), "tokens": self.tokens.to_dict(), "ok": self.ok}


# ------------------------------------------------------------------------------------------------ images


@dataclass(frozen=True)
class ImageRef:
    """One entry of a row's ``images`` as ms-swift would load it.

    Attributes:
        display: how the image is named in messages (the path as written, or ``<bytes>``).
        path: the resolved absolute path (None for bytes / URLs / missing files).
        data: decoded image bytes (base64 strings, ``bytes`` of a dict).
        url: an http(s) URL.
        missing_hint: set when the path is missing; says where else it was looked for.
        key: identity for caching and duplicate detection.
        unusable: set for a string ms-swift cannot load whether or not the file exists (a local path starting
            with ``http`` that is no ``http://`` / ``https://`` URL); says why.
    """

    display: str
    path: Optional[str] = None
    data: Optional[bytes] = None
    url: Optional[str] = None
    missing_hint: Optional[str] = None
    key: str = ""
    unusable: Optional[str] = None


def _b64(s: str) -> Optional[bytes]:
    if s.startswith("data:"):
        s = s.split(",", 1)[1] if "," in s else ""
    try:
        return base64.b64decode(s)
    except (binascii.Error, ValueError):
        return None


def resolve_image(entry: Any, jsonl_dir: str, root_image_dir: Optional[str]) -> ImageRef:
    """Resolve one ``images`` entry (a string or a ``{"path", "bytes"}`` dict) as ms-swift 4.6.0 would.

    See the module docstring for the rules. ``jsonl_dir`` is used only for the hint of a missing path.

    Raises:
        ValueError: an entry that is neither a string nor a dict with a ``path`` or ``bytes``.
    """
    if isinstance(entry, dict):
        data = entry.get("bytes")
        if data:
            if isinstance(data, (bytes, bytearray)):
                raw = bytes(data)
            elif isinstance(data, str):
                if os.path.exists(data):  # ms-swift passes a str 'bytes' to load_file like a path
                    return _path_ref(data, data)
                raw = _b64(data)
                if raw is None:
                    raise ValueError("'bytes' is a string that is neither a file nor base64 data")
            else:
                raise ValueError(f"'bytes' must be bytes or a base64 string, got {type(data).__name__}")
            return ImageRef(display="<bytes>", data=raw, key="sha1:" + hashlib.sha1(raw).hexdigest())
        entry = entry.get("path")
        if not isinstance(entry, str) or not entry:
            raise ValueError("an image dict needs a non-empty 'path' or 'bytes'")
    if not isinstance(entry, str):
        raise ValueError(f"an image must be a path string or a {{'path', 'bytes'}} dict, got {type(entry).__name__}")
    s = entry.strip()
    if s.startswith(("http://", "https://")):
        return ImageRef(display=s, url=s, key="url:" + s)
    if s.startswith("http"):  # a local path such as http_imgs/a.png: ms-swift would still take it for a URL
        return ImageRef(display=entry, key="unusable:" + os.path.abspath(s), unusable=(
            f"ms-swift 4.6 takes every image string starting with 'http' for a URL (load_file in "
            f"swift/template/vision_utils.py) and would fail to download this local path; write it as "
            f"'./{s}' or as an absolute path"))
    if len(s) <= MAX_PATH_LENGTH:
        if os.path.exists(s):
            return _path_ref(s, entry)
        if root_image_dir:
            joined = os.path.join(root_image_dir, s)
            if os.path.exists(os.path.expanduser(joined)):
                return _path_ref(os.path.expanduser(joined), entry)
    if s.startswith("data:") or len(s) > MAX_PATH_LENGTH:
        raw = _b64(s)
        if raw is not None:
            return ImageRef(display=s[:40] + "...", data=raw, key="sha1:" + hashlib.sha1(raw).hexdigest())
    looked = [os.path.abspath(s)]
    if root_image_dir:
        looked.append(os.path.abspath(os.path.join(root_image_dir, s)))
    hint = "looked for " + " and ".join(looked)
    if not os.path.isabs(s) and os.path.exists(os.path.join(jsonl_dir, s)):
        hint += (f"; it exists relative to the jsonl's folder ({jsonl_dir}), but ms-swift resolves relative paths "
                 f"against the current directory: run from {jsonl_dir} or set ROOT_IMAGE_DIR")
    return ImageRef(display=entry, missing_hint=hint, key="missing:" + os.path.abspath(s))


def _path_ref(path: str, display: str) -> ImageRef:
    full = os.path.abspath(os.path.expanduser(path))
    return ImageRef(display=display, path=full, key="file:" + full)


@dataclass
class ImageCheck:
    """Result of checking one distinct image: its size (None when unknown) and its problems ``(kind, message)``."""

    size: Optional[Tuple[int, int]]
    problems: List[Tuple[str, str]]


def check_image(ref: ImageRef, opts: ValidateOptions) -> ImageCheck:
    """Check one resolved image (see step 3 of the module docstring). Never raises for bad images."""
    name = ref.display
    if ref.url is not None:
        return ImageCheck(None, [("remote_image", f"image {name!r} is a URL; not fetched, so not checked")])
    if ref.unusable is not None:
        return ImageCheck(None, [("missing_image", f"image {name!r}: {ref.unusable}")])
    if ref.path is None and ref.data is None:
        return ImageCheck(None, [("missing_image", f"image {name!r} does not exist ({ref.missing_hint})")])
    src = ref.path if ref.path is not None else ref.data
    if ref.path is not None and os.path.isdir(ref.path):
        return ImageCheck(None, [("missing_image", f"image {name!r} is a folder, not a file")])
    try:
        w, h = probe_image(src, "header", max_pixels=None, name=name)
    except OcrFormatError as e:
        kind = "missing_image" if e.kind == "image_missing" else "undecodable_image"
        return ImageCheck(None, [(kind, f"image {name!r}: {e.reason}")])
    problems: List[Tuple[str, str]] = []
    pixels = w * h
    if pixels > PILLOW_HARD_LIMIT:
        problems.append(("decompression_bomb", f"image {name!r} is {w}x{h} = {pixels} pixels, over Pillow's "
                                               f"hard limit {PILLOW_HARD_LIMIT} (2 x PIL.Image.MAX_IMAGE_PIXELS): "
                                               f"ms-swift's Image.open raises DecompressionBombError"))
        return ImageCheck((w, h), problems)
    if pixels > opts.max_pixels:
        problems.append(("image_too_large", f"image {name!r} is {w}x{h} = {pixels} pixels, over --max-pixels "
                                            f"{opts.max_pixels}"))
    if min(w, h) < opts.min_side:
        problems.append(("image_too_small", f"image {name!r} is {w}x{h}, a side under --min-side {opts.min_side}"))
    aspect = max(w, h) / min(w, h)
    if aspect > opts.max_aspect:
        problems.append(("extreme_aspect_ratio", f"image {name!r} is {w}x{h}: aspect ratio {aspect:.1f} over "
                                                 f"--max-aspect {opts.max_aspect:g}"))
    if opts.decode and pixels <= opts.max_pixels:
        try:
            probe_image(src, "decode", max_pixels=None, name=name)
        except OcrFormatError as e:
            problems.append(("undecodable_image", f"image {name!r}: {e.reason}"))
    return ImageCheck((w, h), problems)


# -------------------------------------------------------------------------------------------------- rows


def _row_shape(row: Any) -> Tuple[Optional[str], List[Any]]:
    """``(reason, images)``: reason is None for a well-formed row; images normalised to a list."""
    if not isinstance(row, dict):
        return f"a row must be a JSON object, got {type(row).__name__}", []
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty list", []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            return f"messages[{i}] must be an object", []
        if m.get("role") not in ROLES:
            return f"messages[{i}] has role {m.get('role')!r}; ms-swift accepts {', '.join(sorted(ROLES))}", []
        if not isinstance(m.get("content"), str):
            return f"messages[{i}] content must be a string, got {type(m.get('content')).__name__}", []
        if m["role"] == "system" and i > 0:
            return f"messages[{i}] is a system message; ms-swift accepts one only as the first message", []
    images = row.get("images", row.get("image"))
    if images is None:
        images = []
    elif isinstance(images, (str, dict)):
        images = [images]
    elif not isinstance(images, list):
        return f"'images' must be a list, got {type(images).__name__}", []
    return None, images


def _target(messages: Sequence[dict]) -> Optional[str]:
    """The training target: the last message's content when it is an assistant message, else None."""
    last = messages[-1]
    return last["content"] if last.get("role") == "assistant" else None


def iter_lines(path: str) -> Iterator[Tuple[int, Optional[str]]]:
    """``(1-based line number, text)`` of the non-blank lines of a jsonl file (a UTF-8 BOM is allowed). A line
    that is not valid UTF-8 is yielded as ``None`` in place of its text (it is reported, not fatal).

    Raises:
        OSError: the file cannot be read.
    """
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, 1):
            if i == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield i, None
                continue
            if text.strip():
                yield i, text


class Validator:
    """Runs the checks of the module docstring over one or more jsonl files (duplicates are found across them).

    Args:
        options: what to check.
        counter: an exact token counter (:class:`swift_ocr.validate.token_budget.SwiftTokenCounter`; anything with
            ``count(row) -> TokenCount``); None: estimates.
    """

    def __init__(self, options: ValidateOptions, counter=None):
        self.opts = options
        self.counter = counter
        self.params = options.token_params or ImageTokenParams.from_env()
        self.root_image_dir = options.root_image_dir or os.environ.get("ROOT_IMAGE_DIR") or None
        self._images: Dict[str, ImageCheck] = {}
        self._seen: Dict[str, Tuple[str, int]] = {}
        self._codec = None
        self.problems: List[Problem] = []
        self.rows = 0
        self.tokens = TokenStats(exact=counter is not None, max_length=options.max_length)
        self.row_tokens: List[Tuple[str, int, TokenCount]] = []
        #: counts rows as they are checked (:class:`swift_ocr.progress.Progress`; a disabled one by default)
        self.progress = Progress(False)

    # -- helpers
    def _add(self, kind: str, source: str, line: int, message: str) -> None:
        severity = PROBLEM_KINDS[kind][0]
        if self.opts.strict:
            severity = ERROR
        self.problems.append(Problem(kind, severity, source, line, message))

    def codec(self):
        if self._codec is None:
            # the codec matching the images ms-swift feeds the model under the same settings as the token counts
            self._codec = get_family(self.opts.family).codec_for_env(self.params.env())
        return self._codec

    def _image(self, ref: ImageRef) -> ImageCheck:
        if ref.key not in self._images:
            self._images[ref.key] = check_image(ref, self.opts)
        return self._images[ref.key]

    # -- files
    def validate_file(self, path: str) -> None:
        """Check every non-blank line of ``path``.

        Raises:
            OSError: the file cannot be read.
        """
        source = str(path)
        jsonl_dir = os.path.dirname(os.path.abspath(source))
        progress = self.progress
        for line, text in iter_lines(source):
            self.rows += 1
            if progress:
                progress.update(1, len(self.problems))
            if text is None:
                self._add("bad_json", source, line, "not valid UTF-8 text (JSON must be UTF-8)")
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as e:
                self._add("bad_json", source, line, f"not valid JSON: {e.msg} (column {e.colno})")
                continue
            self.validate_row(row, source, line, jsonl_dir)

    def validate_row(self, row: Any, source: str, line: int, jsonl_dir: str) -> None:
        """Check one parsed row (steps 1-7 of the module docstring)."""
        reason, entries = _row_shape(row)
        if reason is not None:
            self._add("bad_row", source, line, reason)
            return
        messages = row["messages"]
        n_tags = sum(m["content"].count("<image>") for m in messages)
        tags_ok = n_tags == len(entries)
        if not tags_ok:
            self._add("image_tag_mismatch", source, line,
                      f"{n_tags} <image> tag(s) in the messages but {len(entries)} image(s)"
                      + ("; ms-swift would prepend the missing tags to the first message" if n_tags < len(entries)
                         else "; ms-swift would leave the surplus tags unreplaced"))

        refs: List[ImageRef] = []
        sizes: List[Optional[Tuple[int, int]]] = []
        images_ok = True
        for i, entry in enumerate(entries):
            try:
                ref = resolve_image(entry, jsonl_dir, self.root_image_dir)
            except ValueError as e:
                self._add("bad_row", source, line, f"images[{i}]: {e}")
                return
            refs.append(ref)
            result = self._image(ref)
            sizes.append(result.size)
            for kind, message in result.problems:
                self._add(kind, source, line, message)
                if PROBLEM_KINDS[kind][0] == ERROR:
                    images_ok = False

        target = _target(messages)
        if target is None:
            self._add("empty_target", source, line,
                      f"the last message is a {messages[-1]['role']!r} message; training needs an assistant target")
        elif not target.strip():
            self._add("empty_target", source, line, "the assistant target is empty" +
                      (" (whitespace only)" if target else ""))

        if target and target.strip() and self.opts.task != "rec":
            self._check_boxes(target, sizes[0] if sizes else None, source, line)
        if isinstance(row.get(TILE_META_KEY), dict) and CODEC_META_KEY in row[TILE_META_KEY]:
            self._check_codec_record(row[TILE_META_KEY][CODEC_META_KEY], sizes[0] if sizes else None, source, line)

        key = json.dumps({"m": messages, "i": [r.key for r in refs]}, sort_keys=True, ensure_ascii=False)
        # surrogatepass: a lone surrogate ("\ud800" in the JSON) is hashed as its own code point, no error
        digest = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()
        if digest in self._seen:
            first_source, first_line = self._seen[digest]
            self._add("duplicate", source, line,
                      f"same images and messages as {first_source}:{first_line}")
        else:
            self._seen[digest] = (source, line)

        if tags_ok and all(s is not None for s in sizes) and (images_ok or self.counter is None):
            self._count_tokens(row, messages, refs, sizes, images_ok, source, line)

    def _check_boxes(self, target: str, size, source: str, line: int) -> None:
        if size is None:
            return  # no image size to check against (the image problem is reported already)
        codec = self.codec()
        try:
            result = codec.parse(target, size)
        except ValueError as e:  # only bad sizes raise (e.g. Qwen's aspect-ratio limit)
            if self.opts.task == "det":
                self._add("box_unparsed", source, line, f"boxes not checked: {e}")
            return
        report = result.report
        if report.objects == 0 and self.opts.task == "auto":
            return
        if report.objects == 0:
            self._add("no_boxes", source, line, f"--task det, but the {codec.family} codec finds no box in the target")
        grid = codec.grid(size)
        if report.clipped:
            self._add("box_outside_image", source, line,
                      f"{report.clipped} of {report.objects} box(es) have coordinates outside the image "
                      f"({codec.family} grid 0..{grid.max_x} x 0..{grid.max_y} over the {size[0]}x{size[1]} image)")
        if report.unparsed:
            first = report.unparsed[0]
            self._add("box_unparsed", source, line,
                      f"{len(report.unparsed)} object(s) the {codec.family} codec cannot parse"
                      + (" (the target ends inside an object)" if report.truncated else "")
                      + f", first: {first[:80]!r}")

    def _check_codec_record(self, recorded: Any, size, source: str, line: int) -> None:
        """``resize_mismatch`` when the codec settings the row's target was written with (``recorded``) put this
        image (``size``: width, height in pixels of the row's image) on another grid than the settings ms-swift will
        use (:meth:`codec`); ``bad_row`` for a malformed record. Nothing without an image size (its problem is
        reported already)."""
        spec = get_family(self.opts.family)
        where = f"{TILE_META_KEY}.{CODEC_META_KEY}"
        if not isinstance(recorded, dict) or not recorded:
            self._add("bad_row", source, line, f"'{where}' must be an object of codec settings, got {recorded!r:.80}")
            return
        try:
            params = spec.check_codec_options(recorded)
            written = spec.make_codec(**params)
        except ValueError as e:
            declared = {opt.name for opt in spec.codec_options}
            kind = "resize_mismatch" if set(recorded) - declared else "bad_row"
            self._add(kind, source, line, f"'{where}' {recorded}: {e} (written for another --model-family?)"
                      if kind == "resize_mismatch" else f"'{where}' {recorded}: {e}")
            return
        if size is None:
            return
        used = self.codec()
        try:
            same = written.grid(size) == used.grid(size)
        except ValueError:
            return  # a size the codec refuses: reported by the box and token checks
        if same:
            return
        mine = ", ".join(f"{k}={v}" for k, v in spec.codec_settings(used).items())
        env = ", ".join(f"{k}={v}" for k, v in self.params.environ if k in spec.env_vars) or "none set"
        theirs = ", ".join(f"{k}={v}" for k, v in params.items())
        g_written, g_used = written.grid(size), used.grid(size)
        self._add("resize_mismatch", source, line,
                  f"target written for {theirs} ('{where}'): its boxes are on a {g_written.max_x}x{g_written.max_y} "
                  f"grid over the {size[0]}x{size[1]} image, but ms-swift will use {mine} (environment: {env}), a "
                  f"{g_used.max_x}x{g_used.max_y} grid: convert again with these settings, or train with the "
                  "recorded ones")

    def _count_tokens(self, row, messages, refs, sizes, images_ok: bool, source: str, line: int) -> None:
        if self.counter is not None:
            swift_row = dict(row)
            swift_row.pop("image", None)
            swift_row["images"] = [r.path if r.path is not None else {"bytes": r.data, "path": None} for r in refs]
            try:
                count = self.counter.count(swift_row)
            except Exception as e:  # ms-swift raises many types (AssertionError, ValueError, ...) on such rows
                self._add("encode_error", source, line, f"ms-swift cannot encode the row: {type(e).__name__}: {e}")
                return
        else:
            try:
                count = estimate_row(self.opts.family, messages, sizes, self.params, self.opts.system,
                                     self.opts.template)
            except ValueError as e:  # e.g. Qwen's smart_resize refuses aspect ratios over 200
                if not images_ok:
                    return  # the image problem that causes this is reported already
                self._add("encode_error", source, line, f"the {self.opts.family} image processing refuses the "
                                                        f"row: {e}")
                return
        self.tokens.lengths.append(count.total)
        self.tokens.image_tokens.append(count.image)
        self.row_tokens.append((source, line, count))
        if self.opts.max_length is not None and count.total > self.opts.max_length:
            self.tokens.over += 1
            how = "exact, ms-swift template" if count.exact else "estimated"
            self._add("too_long", source, line,
                      f"{count.total} tokens ({how}: {count.image} image + {count.text} text) > --max-length "
                      f"{self.opts.max_length}")

    def report(self, files: Sequence[str]) -> ValidationReport:
        return ValidationReport(files=list(map(str, files)), rows=self.rows, problems=list(self.problems),
                                tokens=self.tokens, row_tokens=list(self.row_tokens))


def validate_files(paths: Iterable[str], options: ValidateOptions, counter=None,
                   progress: bool = False) -> ValidationReport:
    """Validate one or more ms-swift jsonl files (checks in the module docstring) and return the report.

    Args:
        paths: jsonl files, checked in order; duplicates are found across all of them (e.g. train vs val).
        options: what to check.
        counter: exact token counter (``count(row) -> TokenCount``), or None for estimates.
        progress: show a progress bar on standard error (rows, rows per second, problems so far;
            :class:`swift_ocr.progress.Progress`).

    Raises:
        OSError: a file cannot be read (problems inside files never raise).
    """
    paths = [str(p) for p in paths]
    v = Validator(options, counter)
    with Progress(progress, desc="validate", unit="row", what="problems") as v.progress:
        for p in paths:
            v.validate_file(p)
    return v.report(paths)
