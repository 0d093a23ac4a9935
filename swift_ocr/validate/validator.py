"""The driver of ``swift-ocr validate``: :class:`Validator` runs the checks of :mod:`swift_ocr.validate` over the
rows of jsonl files, :func:`validate_files` returns their :class:`~swift_ocr.validate.report.ValidationReport`.

Blank lines are skipped (they hold no row); line numbers are 1-based. Problems inside files never raise; a file
that cannot be read raises ``OSError``.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from swift_ocr.families import get_family
from swift_ocr.progress import Progress
from swift_ocr.tasks.tiling import CODEC_META_KEY, TILE_META_KEY
from swift_ocr.validate.det import box_problems, codec_record_problems
from swift_ocr.validate.image_checks import ImageCheck, check_image
from swift_ocr.validate.image_refs import ImageRef, resolve_image
from swift_ocr.validate.options import ValidateOptions
from swift_ocr.validate.problems import ERROR, PROBLEM_KINDS, Problem
from swift_ocr.validate.report import ValidationReport
from swift_ocr.validate.rows import image_tag_problem, row_digest, row_shape, target, target_problem
from swift_ocr.validate.token_budget import ImageTokenParams, TokenCount
from swift_ocr.validate.tokens import TokenStats, count_row, too_long_message


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
    """Runs the checks of :mod:`swift_ocr.validate` over one or more jsonl files (duplicates are found across them).

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
        """Check one parsed row, in this order: shape (:mod:`~swift_ocr.validate.rows`), ``<image>`` tags, images
        (:mod:`~swift_ocr.validate.image_refs`, :mod:`~swift_ocr.validate.image_checks`; each distinct image once),
        the target, its boxes and recorded codec settings (:mod:`~swift_ocr.validate.det`), duplicates (across every
        file this validator checked), token length (:mod:`~swift_ocr.validate.tokens`). A bad row gets no further
        checks."""
        reason, entries = row_shape(row)
        if reason is not None:
            self._add("bad_row", source, line, reason)
            return
        messages = row["messages"]
        tag_problem = image_tag_problem(messages, len(entries))
        tags_ok = tag_problem is None
        if not tags_ok:
            self._add("image_tag_mismatch", source, line, tag_problem)

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

        empty = target_problem(messages)
        if empty is not None:
            self._add("empty_target", source, line, empty)

        text = target(messages)
        first_size = sizes[0] if sizes else None
        if text and text.strip() and self.opts.task != "rec":
            for kind, message in box_problems(text, first_size, self.codec, self.opts.task):
                self._add(kind, source, line, message)
        if isinstance(row.get(TILE_META_KEY), dict) and CODEC_META_KEY in row[TILE_META_KEY]:
            for kind, message in codec_record_problems(row[TILE_META_KEY][CODEC_META_KEY], first_size,
                                                       get_family(self.opts.family), self.codec,
                                                       self.params.environ):
                self._add(kind, source, line, message)

        digest = row_digest(messages, [r.key for r in refs])
        if digest in self._seen:
            first_source, first_line = self._seen[digest]
            self._add("duplicate", source, line,
                      f"same images and messages as {first_source}:{first_line}")
        else:
            self._seen[digest] = (source, line)

        if tags_ok and all(s is not None for s in sizes) and (images_ok or self.counter is None):
            self._count_tokens(row, messages, refs, sizes, images_ok, source, line)

    def _count_tokens(self, row, messages, refs, sizes, images_ok: bool, source: str, line: int) -> None:
        count, problem = count_row(row, messages, refs, sizes, images_ok, self.counter, self.opts, self.params)
        if problem is not None:
            self._add(problem[0], source, line, problem[1])
        if count is None:
            return
        over = self.tokens.add(count)
        self.row_tokens.append((source, line, count))
        if over:
            self._add("too_long", source, line, too_long_message(count, self.opts.max_length))

    def report(self, files: Sequence[str]) -> ValidationReport:
        return ValidationReport(files=list(map(str, files)), rows=self.rows, problems=list(self.problems),
                                tokens=self.tokens, row_tokens=list(self.row_tokens))


def validate_files(paths: Iterable[str], options: ValidateOptions, counter=None,
                   progress: bool = False) -> ValidationReport:
    """Validate one or more ms-swift jsonl files (checks in :mod:`swift_ocr.validate`) and return the report.

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
