"""What one input item gives the converter (:class:`Outcome`): the careful per-item path (:func:`item_outcome`:
:func:`~swift_ocr.formats.checks.finish_sample` was applied by the reader, then :func:`~swift_ocr.tasks.core.run_task`,
then the writer's lines), and the outcomes of a chunk of pair-layout items (:func:`chunk_outcomes`), whose plain
items may take the fast path (:mod:`swift_ocr.convert.outcome_fast`, the same bytes). Runs in the converter's worker
processes (:mod:`swift_ocr.convert.workers`) or in the main process.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Sequence, Tuple, Union

from swift_ocr.convert.outcome_fast import plain_lines
from swift_ocr.errors import OcrFormatError, Rejection, printable
from swift_ocr.families.prompts import build_query
from swift_ocr.formats import Item, SourceReader
from swift_ocr.formats.layout import bad_filename_reason, utf8_ok
from swift_ocr.sample import Sample
from swift_ocr.tasks.core import TaskConfig, run_task
from swift_ocr.writers.registry import OutputWriter, RowSpec


@dataclass
class Context:
    """What every item needs, sent once to each worker process.

    Attributes:
        row: what every row shares (task, instruction, system), for the writer.
        max_pixels: the pixel limit of the line task's crops (the reader's ``max_image_pixels``).
        writer: the output writer (:class:`~swift_ocr.writers.registry.OutputWriter`).
        fast_path: pair-layout items go through the fast path (:func:`swift_ocr.convert.outcome_fast.plain_lines`)
            first (``ConvertOptions.fast_path``, for a writer with ``batch_rows`` and a task of
            :data:`~swift_ocr.convert.outcome_fast.FAST_TASKS`).
        val: positions of the validation items (:func:`~swift_ocr.convert.split.val_positions`), for pair layouts:
            plain items are sorted into their split where they are converted (:class:`Run`).
    """

    row: RowSpec
    max_pixels: Optional[int]
    writer: OutputWriter
    fast_path: bool = False
    val: FrozenSet[int] = frozenset()

    @property
    def task(self) -> TaskConfig:
        return self.row.task

    @property
    def query(self) -> str:
        """The user turn of a one-image row."""
        return build_query(self.row.instruction, 1)

    @property
    def image_ref(self):
        """How a row of the fast path names an image file (:meth:`~swift_ocr.writers.registry.RowSpec.image_ref`;
        ``os.path.abspath`` itself when paths are absolute)."""
        return self.row.image_ref if self.row.relative_to is not None else os.path.abspath


@dataclass
class Outcome:
    """What one input item gives, computed where it was read (a worker process, or this one).

    Attributes:
        rejections: ``(rejection, is_region)`` in the order they are recorded.
        converted: False when the item itself was rejected (its rejection is the last of ``rejections``).
        fixes: the item's ``Sample.fixes``.
        kept_issues: kinds of the care regions with an unusable box whose text was kept (``rec``).
        lines: the finished lines of a line writer, when no sample needs an image file written; else None.
        samples: the task's samples, when ``lines`` is None (images to write, or a whole-file writer).
    """

    rejections: List[Tuple[Rejection, bool]] = field(default_factory=list)
    converted: bool = True
    fixes: Optional[Dict[str, int]] = None
    kept_issues: List[str] = field(default_factory=list)
    lines: Optional[List[str]] = None
    samples: Optional[List[Sample]] = None


def item_outcome(item: Item, ctx: Context) -> Union[str, Outcome]:
    """Run the task on one read item (a Sample, or the OcrFormatError that reading it gave) and render it: the
    careful per-item path, the reference of the fast path (:mod:`swift_ocr.convert.outcome_fast`). A plain converted
    item -- only lines of a line writer, nothing rejected, fixed or flagged -- gives just its lines as one string
    (each line ends in ``\\n``, which JSON text never holds otherwise)."""
    if isinstance(item, OcrFormatError):
        return Outcome([(Rejection.from_error(item), False)], converted=False)
    result = run_task(ctx.task, item, ctx.max_pixels)
    out = Outcome([(rej, True) for rej in result.region_rejections])
    failure = result.failure or bad_filename_rejection(item, result.samples)
    if failure is not None:
        out.rejections.append((failure, False))
        out.converted = False
        return out
    if item.fixes:
        out.fixes = dict(item.fixes)
    if ctx.task.task == "rec":
        out.kept_issues = [r.issue.kind for r in item.regions if r.issue is not None and not r.dont_care]
    if not ctx.writer.line_based:
        out.samples = result.samples
        return out
    # every sample is rendered here (a crop under its provisional name): one the output format cannot hold (the
    # writer's ValueError, e.g. a PaddleOCR recognition label with a line break) is rejected, kind unwritable -- a
    # line crop as a region, else the item
    kept, lines = [], []
    for s in result.samples:
        try:
            lines.append(ctx.writer.line(s, [os.path.abspath(p) for p in s.images], ctx.row))
            kept.append(s)
        except ValueError as e:
            rej = Rejection(printable(s.source), s.line, str(e), "unwritable")
            out.rejections.append((rej, ctx.task.task == "line"))
    if not kept:
        out.rejections[-1] = (out.rejections[-1][0], False)
        out.converted = False
        return out
    if all(s.image_bytes is None for s in kept):
        out.lines = lines
        if not (out.rejections or out.fixes or out.kept_issues):
            return "".join(out.lines)  # the common case, cheap to send back from a worker
    else:
        out.samples = kept
    return out


def bad_filename_rejection(item: Sample, samples: Sequence[Sample]) -> Optional[Rejection]:
    """A ``bad_filename`` rejection of ``item`` when an image path of its task ``samples`` cannot be written as UTF-8
    (a file name whose bytes are not UTF-8 -- folder layouts reject those while listing, but a GOT JSON or parquet
    path may hold a lone surrogate); None when all can."""
    bad = [p for s in samples for p in s.images if not (p.isascii() or utf8_ok(p))]
    if not bad:
        return None
    return Rejection(printable(item.source), item.line, bad_filename_reason(bad), "bad_filename")


class Run(NamedTuple):
    """Consecutive plain converted items (see :func:`item_outcome`) of one split, as one piece of UTF-8 text: what a
    chunk of a folder layout gives back for them, so that the main process handles a few byte strings per chunk,
    not one string per item. Encoded and counted where the chunk was converted (a worker process): the main process
    only writes the bytes, which it would otherwise decode from the pipe, encode again and scan for line ends."""

    val: bool  #: the items belong to the validation split
    items: int  #: how many items
    rows: int  #: how many jsonl lines
    data: bytes  #: their jsonl lines, concatenated (each ends in ``\n``), UTF-8


def runs(outcomes: List[Union[str, Outcome]], start: int, val: FrozenSet[int]) -> List[Union[Run, Outcome]]:
    """``outcomes`` of the items at positions ``start, start + 1, ...``, with each stretch of plain items (strings)
    of one split joined into a :class:`Run`; the other outcomes stay in place, so the order is kept."""
    out: List[Union[Run, Outcome]] = []
    texts: List[str] = []
    in_val = False
    for position, outcome in enumerate(outcomes, start):
        if type(outcome) is str:
            v = position in val
            if texts and v != in_val:
                out.append(_run(in_val, texts))
                texts = []
            texts.append(outcome)
            in_val = v
            continue
        if texts:
            out.append(_run(in_val, texts))
            texts = []
        out.append(outcome)
    if texts:
        out.append(_run(in_val, texts))
    return out


def _run(val: bool, texts: List[str]) -> Run:
    data = "".join(texts).encode("utf-8")
    return Run(val, len(texts), data.count(b"\n"), data)


def chunk_outcomes(reader: SourceReader, ctx: Context, bounds: Tuple[int, int]) -> List[Union[Run, Outcome]]:
    """The outcomes of the pair-layout items ``start <= index < stop``, in order, plain ones joined into runs
    (:func:`runs`): with ``ctx.fast_path`` plain items from the fast path
    (:func:`~swift_ocr.convert.outcome_fast.plain_lines`), every other one from the careful path
    (:func:`item_outcome`; the sample or error already read is used, not read again); without, all from the
    careful path."""
    return runs(_chunk_items(reader, ctx, bounds), bounds[0], ctx.val)


def _chunk_items(reader: SourceReader, ctx: Context, bounds: Tuple[int, int]) -> List[Union[str, Outcome]]:
    indices = range(*bounds)
    if not ctx.fast_path:
        return [item_outcome(reader.read_one(index), ctx) for index in indices]
    read = reader.read_raw_range(*bounds)
    raw = [item if type(item) is Sample else None for item in read]
    lines = plain_lines(raw, ctx.task, ctx.query, ctx.row.system, reader.options, ctx.image_ref)
    return [line if line is not None else item_outcome(item if sample is None else reader.finish(sample), ctx)
            for item, sample, line in zip(read, raw, lines)]
