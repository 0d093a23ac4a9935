"""The converter: a source reader -> task -> prompt -> ms-swift jsonl (or GOT JSON), with a seeded
train/val split and a rejects file, so that no input item disappears without a recorded reason.

Outputs for ``--output DIR/name.jsonl``:

* ``DIR/name.jsonl`` -- training rows (all rows when there is no split);
* ``DIR/name.val.jsonl`` -- validation rows (only with ``val_ratio > 0``; a stale one from an earlier run with a
  split is removed);
* ``DIR/name.rejects.jsonl`` -- one ``{"source", "line", "kind", "reason"}`` per input item or region not converted
  (always written; ``kind`` is a stable code from :data:`swift_ocr.errors.KINDS`);
* ``DIR/name_images/`` -- image files for samples that have no file of their own (line crops, parquet rows),
  marked as ours by a ``.swift-ocr-images`` file. It is replaced as a whole on every run (no stale crops from an
  earlier run with other options), and removed when a run writes no images. A folder of that name that swift-ocr
  did not make (e.g. DBNet's ``train_images/`` next to ``--output train.jsonl``) is never touched: a run that would
  have to write images there stops with an error before reading anything. Files are named
  ``<row index:07d>_<image stem>[_l<line>].<ext>``; a name over 255 bytes (a long source stem) is shortened
  deterministically (:func:`image_file_name`).

Interrupted runs: everything is first written under temporary names in the output folder (``.name.jsonl.*.tmp``,
``.name_images.*.tmp/``); only when all items are done are the outputs renamed into place (images folder first,
then the jsonl files). An interrupted run (Ctrl-C, an exception) removes its temporary files and leaves the
previous outputs untouched; a killed process can leave hidden ``*.tmp`` entries behind, which later runs ignore.

Counts (:class:`ConvertReport`): ``sources`` = every input item seen (items read + items rejected while listing,
such as an image without a label), ``sources == converted_sources + rejected``; ``rejected_regions`` counts regions
left out of converted items (``line`` task); the rejects file has ``rejected + rejected_regions`` rows.

The same input, options and seed give byte-identical outputs (rows, split, rejects, crops), with any number of
``workers``: items are read and run through the task in worker processes (a :mod:`concurrent.futures` process pool,
results collected in input order), and written by the main process.

Folder layouts (icdar, wordbox) are converted in chunks of :data:`CHUNKSIZE` items: the plain items of a chunk go
through the batch fast path (:mod:`swift_ocr.convert.batch`), every other item through the careful per-item path
(:func:`~swift_ocr.formats.checks.finish_sample`, :func:`~swift_ocr.tasks.core.run_task`, the row); both write the same
bytes for a plain item.
"""
from __future__ import annotations

import gc
import hashlib
import io
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import tempfile
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Deque, Dict, FrozenSet, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple, Union

from PIL import Image

from swift_ocr.errors import OcrFormatError, Rejection, printable
from swift_ocr.formats import Item, SourceReader, got_json
from swift_ocr.convert.batch import BATCH_TASKS, plain_lines
from swift_ocr.formats.layout import bad_filename_reason, utf8_ok
from swift_ocr.writers.swift_jsonl import swift_row_line
from swift_ocr.io_utils import dumps_line
from swift_ocr.families.prompts import build_query
from swift_ocr.sample import FIX_KEYS, Sample
from swift_ocr.tasks.det import META_ATTR, det_meta
from swift_ocr.tasks.core import TaskConfig, run_task

IMAGES_MARKER = ".swift-ocr-images"


@dataclass
class ConvertOptions:
    """How to convert. ``family`` picks the default prompt (see :mod:`swift_ocr.families.prompts`). Reading options
    (encoding, NFKC, image checks, pixel limit, paths outside the root) belong to the reader
    (:func:`swift_ocr.formats.open_source`)."""

    task: str = "rec"
    family: str = "got"
    prompt: Optional[str] = None
    prompt_style: str = "plain"
    val_ratio: float = 0.0
    seed: int = 42
    strict: bool = False
    output_format: str = "swift"  # or "got"
    system: Optional[str] = None  # None: the task's own (det options other than the defaults: TaskConfig.system)
    # det task (see swift_ocr.tasks.core.TaskConfig)
    lang: str = "en"
    order: str = "tb-lr"
    max_boxes: Optional[int] = None
    tiling: str = "strips"
    det_shape: str = "box"
    # processes that read items and run the task (1: in this process; 0: auto, see :func:`effective_workers`)
    workers: int = 0

    def task_config(self) -> TaskConfig:
        """The :class:`~swift_ocr.tasks.core.TaskConfig` of these options. Raises ValueError for bad task options."""
        return TaskConfig(task=self.task, family=self.family, prompt=self.prompt, prompt_style=self.prompt_style,
                          lang=self.lang, order=self.order, max_boxes=self.max_boxes, tiling=self.tiling,
                          det_shape=self.det_shape)


@dataclass
class ConvertReport:
    """Counts of one conversion (see module docstring).

    Attributes:
        sources: input items seen (images, rows, entries, and items rejected while listing).
        converted_sources / rejected: items that gave at least one sample / none.
        rejected_regions: regions left out of converted items.
        train, val: samples written per split.
        reasons: rejects-file rows per kind.
        fixes: changes made to converted items (keys of :data:`swift_ocr.sample.FIX_KEYS`).
        kept_region_issues: regions with an unusable box whose text was kept (``rec`` task), per kind.
    """

    sources: int = 0
    converted_sources: int = 0
    train: int = 0
    val: int = 0
    rejected: int = 0
    rejected_regions: int = 0
    reasons: Counter = field(default_factory=Counter)
    fixes: Counter = field(default_factory=Counter)
    kept_region_issues: Counter = field(default_factory=Counter)
    outputs: Dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"sources": self.sources, "converted_sources": self.converted_sources, "train": self.train,
                "val": self.val, "rejected": self.rejected, "rejected_regions": self.rejected_regions,
                "reasons": dict(sorted(self.reasons.items())),
                "fixes": {k: self.fixes.get(k, 0) for k in FIX_KEYS},
                "kept_region_issues": dict(sorted(self.kept_region_issues.items())), "outputs": self.outputs}


def split_keys(keys: Iterable[str], val_ratio: float, seed: int) -> Set[str]:
    """Choose the validation keys: ``round(val_ratio * n)`` of them (at least 1 and at most n-1 when
    ``0 < val_ratio < 1`` and n >= 2), drawn with ``random.Random(seed)`` from the sorted keys, so the split
    depends only on the set of keys and the seed. Split by source item, so crops of one image stay together.

    Raises:
        ValueError: ``val_ratio`` outside [0, 1).
    """
    if not 0 <= val_ratio < 1:
        raise ValueError(f"val_ratio must be in [0, 1), got {val_ratio}")
    keys = sorted(set(keys))
    if val_ratio == 0 or len(keys) < 2:
        return set()
    k = min(max(round(val_ratio * len(keys)), 1), len(keys) - 1)
    return set(random.Random(seed).sample(keys, k))


def val_positions(keys: Sequence[str], val_ratio: float, seed: int) -> Set[int]:
    """Positions in ``keys`` of the validation items: those whose key :func:`split_keys` chooses (the same split).

    For a key sequence that declares itself sorted and unique (``keys.sorted_unique``, e.g. the image paths of a
    :class:`~swift_ocr.formats.layout.FolderPairs`) the choice is made on positions directly, without building the
    keys: ``random.Random(seed).sample`` depends only on the population's length, so sampling ``range(n)`` picks the
    positions of exactly the keys that sampling the sorted keys picks.

    Raises:
        ValueError: ``val_ratio`` outside [0, 1).
    """
    if getattr(keys, "sorted_unique", False):
        if not 0 <= val_ratio < 1:
            raise ValueError(f"val_ratio must be in [0, 1), got {val_ratio}")
        n = len(keys)
        if val_ratio == 0 or n < 2:
            return set()
        k = min(max(round(val_ratio * n), 1), n - 1)
        return set(random.Random(seed).sample(range(n), k))
    chosen = split_keys(keys, val_ratio, seed)
    return {i for i, key in enumerate(keys) if key in chosen} if chosen else set()


def output_paths(output: str) -> Dict[str, str]:
    """The files a conversion writes for ``output`` (see module docstring)."""
    stem, ext = os.path.splitext(os.path.abspath(output))
    ext = ext or ".jsonl"
    return {"train": stem + ext, "val": f"{stem}.val{ext}", "rejects": f"{stem}.rejects.jsonl",
            "images": f"{stem}_images"}


def _image_ext(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = (im.format or "png").lower()
    except Exception:
        return ".bin"
    return {"jpeg": ".jpg"}.get(fmt, "." + fmt)


#: The longest file name, in bytes, most file systems take (ext4, XFS, btrfs, APFS: 255; NTFS: 255 UTF-16 units).
NAME_MAX = 255
#: A line crop's region tag (``<stem>_l<line>``, :func:`swift_ocr.tasks.core.run_task`), kept whole in shortened names.
_REGION_TAG = re.compile(r"_l\d+\Z")


def image_file_name(index: int, name: str, ext: str) -> str:
    """The file name of the ``index``-th image written into the images folder: ``<index:07d>_<name><ext>``, where
    ``name`` is the sample's image stem (``<source stem>_l<line>`` for a line crop) and ``ext`` its extension with
    the dot.

    A name longer than :data:`NAME_MAX` bytes in UTF-8 (a long source stem; writing it fails with "File name too
    long") is shortened deterministically: the source stem is cut at a character boundary and followed by ``~`` and
    the first 10 hex digits of the SHA-256 of the whole stem, keeping the index, the region tag (``_l<line>``) and
    the extension, so names stay unique and the same input gives the same names. Names that fit are unchanged.
    Never raises for lone surrogates in ``name`` (each counts as 3 bytes).
    """
    full = f"{index:07d}_{name}{ext}"
    if len(full.encode("utf-8", "surrogatepass")) <= NAME_MAX:
        return full
    tag = _REGION_TAG.search(name)
    stem, tag = (name[:tag.start()], tag.group()) if tag else (name, "")
    raw = stem.encode("utf-8", "surrogatepass")
    digest = "~" + hashlib.sha256(raw).hexdigest()[:10]
    room = NAME_MAX - len(f"{index:07d}_{digest}{tag}{ext}".encode("utf-8", "surrogatepass"))
    short = raw[:max(room, 0)].decode("utf-8", "ignore")  # cut at a character boundary (a partial one is dropped)
    return f"{index:07d}_{short}{digest}{tag}{ext}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _is_ours(images_dir: str) -> bool:
    return os.path.isfile(os.path.join(images_dir, IMAGES_MARKER))


class _Staging:
    """Outputs under temporary names next to their final paths, renamed into place together by :meth:`commit`."""

    def __init__(self, paths: Dict[str, str]):
        self.paths = paths
        self.files: Dict[str, Tuple[str, object]] = {}
        self.images_tmp: Optional[str] = None

    def open(self, name: str, binary: bool = False):
        """A new staged file for the output ``name``: UTF-8 text, or ``binary`` (bytes written as they are)."""
        final = self.paths[name]
        folder = os.path.dirname(final)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(final)}.", suffix=".tmp", dir=folder)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the usual permissions
        f = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self.files[name] = (tmp, f)
        return f

    def write_image(self, data: bytes, file_name: str) -> str:
        """Write an image into the staged images folder; returns its *final* path (what rows must refer to)."""
        final_dir = self.paths["images"]
        if self.images_tmp is None:
            parent = os.path.dirname(final_dir)
            os.makedirs(parent, exist_ok=True)
            self.images_tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(final_dir)}.", suffix=".tmp", dir=parent)
            os.chmod(self.images_tmp, 0o777 & ~_umask())
        with open(os.path.join(self.images_tmp, file_name), "wb") as f:
            f.write(data)
        return os.path.join(final_dir, file_name)

    def commit(self) -> None:
        final_dir = self.paths["images"]
        if self.images_tmp is not None:
            with open(os.path.join(self.images_tmp, IMAGES_MARKER), "w", encoding="utf-8") as f:
                f.write("written by swift-ocr convert; replaced by the next conversion to the same output\n")
            old = None
            if os.path.exists(final_dir):
                if not _is_ours(final_dir):
                    raise ValueError(f"{final_dir} exists and was not written by swift-ocr convert; "
                                     "choose another --output")
                old = tempfile.mkdtemp(prefix=f".{os.path.basename(final_dir)}.old.", dir=os.path.dirname(final_dir))
                os.replace(final_dir, os.path.join(old, "images"))
            os.replace(self.images_tmp, final_dir)
            self.images_tmp = None
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        elif os.path.isdir(final_dir) and _is_ours(final_dir):
            shutil.rmtree(final_dir)  # stale crops of an earlier run
        for name, (tmp, f) in list(self.files.items()):
            f.flush()
            os.fsync(f.fileno())
            f.close()
            os.replace(tmp, self.paths[name])
            del self.files[name]

    def discard(self) -> None:
        for tmp, f in self.files.values():
            f.close()
            try:
                os.unlink(tmp)
            except OSError:
                pass
        self.files.clear()
        if self.images_tmp is not None:
            shutil.rmtree(self.images_tmp, ignore_errors=True)
            self.images_tmp = None


@dataclass
class _Context:
    """What every item needs, sent once to each worker process."""

    task: TaskConfig
    instruction: str
    max_pixels: Optional[int]
    system: Optional[str]
    output_format: str
    #: folder-layout items go through the batch fast path first (:mod:`swift_ocr.convert.batch`); see :data:`BATCH`
    batch: bool = False
    #: positions of the validation items (:func:`val_positions`), for folder layouts: plain items are sorted into
    #: their split where they are converted (:class:`_Run`)
    val: FrozenSet[int] = frozenset()

    @property
    def query(self) -> str:
        """The user turn of a one-image row."""
        return build_query(self.instruction, 1)


@dataclass
class _Outcome:
    """What one input item gives, computed where it was read (a worker process, or this one).

    Attributes:
        rejections: ``(rejection, is_region)`` in the order they are recorded.
        converted: False when the item itself was rejected (its rejection is the last of ``rejections``).
        fixes: the item's ``Sample.fixes``.
        kept_issues: kinds of the care regions with an unusable box whose text was kept (``rec``).
        lines: the finished ms-swift jsonl lines, when no sample needs an image file written; else None.
        samples: the task's samples, when ``lines`` is None (images to write, or GOT output).
    """

    rejections: List[Tuple[Rejection, bool]] = field(default_factory=list)
    converted: bool = True
    fixes: Optional[Dict[str, int]] = None
    kept_issues: List[str] = field(default_factory=list)
    lines: Optional[List[str]] = None
    samples: Optional[List[Sample]] = None


def _row_line(sample: Sample, images: List[str], ctx: _Context) -> str:
    """One ms-swift jsonl line for ``sample`` whose images are ``images`` (final paths)."""
    extra = {META_ATTR: det_meta(sample)} if ctx.task.task == "det" else None
    instruction = ctx.instruction if sample.prompt is None else sample.prompt  # an item's own (GOT JSON) prompt
    return swift_row_line(build_query(instruction, len(images)), sample.text, images, ctx.system, extra)


def _outcome(item, ctx: _Context) -> Union[str, _Outcome]:
    """Run the task on one read item (a Sample, or the OcrFormatError that reading it gave) and render it. A plain
    converted item -- only jsonl lines, nothing rejected, fixed or flagged -- gives just its lines as one string
    (each line ends in ``\\n``, which JSON text never holds otherwise)."""
    if isinstance(item, OcrFormatError):
        return _Outcome([(Rejection.from_error(item), False)], converted=False)
    result = run_task(ctx.task, item, ctx.max_pixels)
    out = _Outcome([(rej, True) for rej in result.region_rejections])
    failure = result.failure or bad_filename_rejection(item, result.samples)
    if failure is not None:
        out.rejections.append((failure, False))
        out.converted = False
        return out
    if item.fixes:
        out.fixes = dict(item.fixes)
    if ctx.task.task == "rec":
        out.kept_issues = [r.issue.kind for r in item.regions if r.issue is not None and not r.dont_care]
    if ctx.output_format == "swift" and all(s.image_bytes is None for s in result.samples):
        out.lines = [_row_line(s, [os.path.abspath(p) for p in s.images], ctx) for s in result.samples]
        if not (out.rejections or out.fixes or out.kept_issues):
            return "".join(out.lines)  # the common case, cheap to send back from a worker
    else:
        out.samples = result.samples
    return out


def bad_filename_rejection(item: Sample, samples: Sequence[Sample]) -> Optional[Rejection]:
    """A ``bad_filename`` rejection of ``item`` when an image path of its task ``samples`` cannot be written as UTF-8
    (a file name whose bytes are not UTF-8 -- folder layouts reject those while listing, but a GOT JSON or parquet
    path may hold a lone surrogate); None when all can."""
    bad = [p for s in samples for p in s.images if not (p.isascii() or utf8_ok(p))]
    if not bad:
        return None
    return Rejection(printable(item.source), item.line, bad_filename_reason(bad), "bad_filename")


class _Run(NamedTuple):
    """Consecutive plain converted items (see :func:`_outcome`) of one split, as one piece of UTF-8 text: what a
    chunk of a folder layout gives back for them, so that the main process handles a few byte strings per chunk,
    not one string per item. Encoded and counted where the chunk was converted (a worker process): the main process
    only writes the bytes, which it would otherwise decode from the pipe, encode again and scan for line ends."""

    val: bool  #: the items belong to the validation split
    items: int  #: how many items
    rows: int  #: how many jsonl lines
    data: bytes  #: their jsonl lines, concatenated (each ends in ``\n``), UTF-8


def _runs(outcomes: List[Union[str, _Outcome]], start: int, val: FrozenSet[int]) -> List[Union[_Run, _Outcome]]:
    """``outcomes`` of the items at positions ``start, start + 1, ...``, with each stretch of plain items (strings)
    of one split joined into a :class:`_Run`; the other outcomes stay in place, so the order is kept."""
    out: List[Union[_Run, _Outcome]] = []
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


def _run(val: bool, texts: List[str]) -> _Run:
    data = "".join(texts).encode("utf-8")
    return _Run(val, len(texts), data.count(b"\n"), data)


_WORKER = {}


def _init_worker(reader, ctx):
    """Pool initializer: the reader and context arrive once per worker process, jobs are only indices.

    The objects the worker starts with (inherited modules and listing when forked, or just imported) are moved out
    of the garbage collector's generations (:func:`gc.freeze`): its full collections, triggered by the many small
    objects each item makes, would otherwise walk them all again and again (and, when forked, copy their memory
    pages). They live as long as the worker anyway."""
    _WORKER.update(reader=reader, ctx=ctx)
    gc.freeze()


#: Whether the converter tries the batch fast path (:mod:`swift_ocr.convert.batch`) before the careful path; the tests turn
#: it off to compare both.
BATCH = True


def _chunk_outcomes(reader: SourceReader, ctx: _Context, bounds: Tuple[int, int]) -> List[Union[_Run, _Outcome]]:
    """The outcomes of the folder-layout items ``start <= index < stop``, in order, plain ones joined into runs
    (:func:`_runs`): plain items from the batch fast path, every other one from the careful path (the sample or
    error already read is used, not read again)."""
    return _runs(_chunk_items(reader, ctx, bounds), bounds[0], ctx.val)


def _chunk_items(reader: SourceReader, ctx: _Context, bounds: Tuple[int, int]) -> List[Union[str, _Outcome]]:
    indices = range(*bounds)
    if not ctx.batch:
        return [_outcome(reader.read_one(index), ctx) for index in indices]
    read = reader.read_raw_range(*bounds)
    raw = [item if type(item) is Sample else None for item in read]
    lines = plain_lines(raw, ctx.task, ctx.query, ctx.system, reader.options)
    return [line if line is not None else _outcome(item if sample is None else reader.finish(sample), ctx)
            for item, sample, line in zip(read, raw, lines)]


def _chunk_bounds(n: int):
    return ((start, min(start + CHUNKSIZE, n)) for start in range(0, n, CHUNKSIZE))


def _pair_outcomes(bounds: Tuple[int, int]) -> List[Union[_Run, _Outcome]]:
    """:func:`_chunk_outcomes` in a worker process (one job of the pool)."""
    return _chunk_outcomes(_WORKER["reader"], _WORKER["ctx"], bounds)


def _item_outcomes(items: List[Item]) -> List[Union[str, _Outcome]]:
    """The outcomes of read items (a streamed format's), in order (one job of the pool)."""
    ctx = _WORKER["ctx"]
    return [_outcome(item, ctx) for item in items]


#: With ``workers=0`` (auto) a worker process is started per this many items at most: a spawned one (a fresh Python
#: importing swift_ocr) costs about as much as converting 1,000-2,000 items; a forked one (:func:`start_method`) far
#: less, but below a few thousand items a second process gains little.
ITEMS_PER_WORKER = 2000


def effective_workers(workers: int, n_items: int) -> int:
    """The number of processes a conversion of ``n_items`` uses: ``workers`` when >= 1; for 0 (auto) one per CPU
    available to this process, but at most one per :data:`ITEMS_PER_WORKER` items, and at least 1. (The converter
    passes ``n_items=0`` for streamed formats -- parquet, GOT JSON --, which auto converts in one process.)

    Raises:
        ValueError: ``workers`` is negative or not an integer.
    """
    if not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be >= 1, or 0 for auto; got {workers!r}")
    if workers:
        return workers
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, n_items // ITEMS_PER_WORKER))


def start_method(folder_layout: bool) -> str:
    """The :mod:`multiprocessing` start method of the worker pool.

    ``fork`` for folder layouts (icdar, wordbox) on Linux: the workers inherit the imported modules and the listed
    pairs, so they start in milliseconds instead of the ~0.5 s a fresh interpreter takes to import swift_ocr (a
    quarter of a million-record word-box conversion on 2 CPUs). The workers only read files and run plain Python
    and numpy element access -- no BLAS, no pyarrow, no threads -- so the idle helper threads a parent may hold
    (OpenBLAS, torch) are never needed in the child. ``spawn`` everywhere else: streamed formats (parquet readers
    hold pyarrow's thread pools) and platforms where ``fork`` is unsafe (macOS) or missing (Windows).
    """
    if folder_layout and sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


#: Items per job sent to a worker: large enough that inter-process traffic is a small part of the cost of an item.
CHUNKSIZE = 64


def _outcomes(reader: SourceReader, ctx: _Context, workers: int) -> Iterator[Union[str, _Run, _Outcome]]:
    """Yield the items' outcomes in input order: for folder layouts, chunks' :class:`_Run` and :class:`_Outcome`
    (:func:`_chunk_outcomes`); for streamed formats one outcome (see :func:`_outcome`) per item. With
    ``workers > 1`` the items of folder layouts (icdar, wordbox) are read, checked, run through the task and rendered
    in a pool of processes (only finished lines come back); streamed formats (parquet, GOT JSON) are read in this
    process, the rest runs in the pool."""
    # auto: processes only where they read the items themselves (folder layouts); a streamed format's items -- for
    # parquet, image bytes -- would all travel through pipes to run a task that costs little next to reading them
    workers = effective_workers(workers, len(reader.keys) if reader.pairs else 0)
    if workers == 1:
        if reader.pairs:
            for bounds in _chunk_bounds(len(reader.pairs)):
                yield from _chunk_outcomes(reader, ctx, bounds)
        else:
            for _, item in reader.iter_samples():
                yield _outcome(item, ctx)
        return
    # concurrent.futures rather than multiprocessing.Pool: the Pool's worker-handler thread also waits on the result
    # pipe (bpo-35493) and so wakes up, in this process, every time a worker sends a result back
    context = multiprocessing.get_context(start_method(bool(reader.pairs)))
    with ProcessPoolExecutor(workers, context, _init_worker, (reader, ctx)) as pool:
        try:
            if reader.pairs:
                yield from _in_order(pool, _pair_outcomes, _chunk_bounds(len(reader.pairs)), 4 * workers)
            else:  # streamed formats: read here, a bounded number of chunks at a time
                yield from _in_order(pool, _item_outcomes, _chunks(_read_items(reader)), 4 * workers)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _in_order(pool: ProcessPoolExecutor, fn, jobs: Iterable, window: int) -> Iterator:
    """The items of the lists ``fn(job)`` gives for each of ``jobs``, run in ``pool``, in the order of ``jobs``;
    at most ``window`` jobs are submitted and not yet consumed (a bounded amount of results waits in memory)."""
    pending: Deque[Future] = deque()
    for job in jobs:
        pending.append(pool.submit(fn, job))
        if len(pending) >= window:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def _read_items(reader: SourceReader) -> Iterator[Item]:
    for _, item in reader.iter_samples():
        yield item


def _chunks(items: Iterable) -> Iterator[List]:
    """Consecutive lists of :data:`CHUNKSIZE` items (the last one shorter)."""
    it = iter(items)
    while True:
        chunk = list(islice(it, CHUNKSIZE))
        if not chunk:
            return
        yield chunk


def convert(reader: SourceReader, options: ConvertOptions, output: str) -> ConvertReport:
    """Convert everything ``reader`` yields and write the outputs (see module docstring).

    Raises:
        OcrFormatError: with ``options.strict``, the first problem (naming file and line); nothing is written.
        ValueError: bad options, or an images folder of the output name that swift-ocr did not make.
    """
    task = options.task_config()
    if options.output_format not in ("swift", "got"):
        raise ValueError(f"unknown output format {options.output_format!r}; choose swift or got")
    if options.output_format == "got" and task.task == "det":
        raise ValueError("GOT's conversation JSON has no place for detection tile metadata; write ms-swift jsonl "
                         "for --task det")
    instruction = task.instruction()
    paths = output_paths(output)
    may_write_images = task.task in ("line", "det") or reader.format == "parquet"
    if may_write_images and os.path.exists(paths["images"]) and not _is_ours(paths["images"]):
        raise ValueError(f"{paths['images']} exists and was not written by swift-ocr convert (no {IMAGES_MARKER}); "
                         "this conversion writes images there: choose another --output")
    report = ConvertReport()
    rejects: List[Rejection] = []
    max_pixels = reader.options.max_image_pixels

    def reject(rej: Rejection, region: bool = False):
        if options.strict:
            raise rej.to_error()
        rejects.append(rej)
        report.reasons[rej.kind] += 1
        if region:
            report.rejected_regions += 1
        else:
            report.rejected += 1

    for rej in reader.rejections:
        report.sources += 1
        reject(rej)
    val = val_positions(reader.keys, options.val_ratio, options.seed)
    splits = ["train"] + (["val"] if options.val_ratio > 0 else [])
    got_rows: Dict[str, List[Sample]] = {split: [] for split in splits}
    counts: Counter = Counter()
    system = options.system if options.system is not None else task.system()
    ctx = _Context(task, instruction, max_pixels, system, options.output_format,
                   batch=BATCH and options.output_format == "swift" and task.task in BATCH_TASKS,
                   val=frozenset(val) if reader.pairs else frozenset())
    index = 0
    position = -1
    staging = _Staging(paths)
    try:
        # jsonl rows are written as UTF-8 bytes: chunks come back from the workers encoded (see _Run)
        files = ({split: staging.open(split, binary=True) for split in splits} if options.output_format == "swift"
                 else {})
        for out in _outcomes(reader, ctx, options.workers):
            if type(out) is _Run:  # plain converted items of a chunk, all of one split
                report.sources += out.items
                report.converted_sources += out.items
                position += out.items
                split = "val" if out.val else "train"
                index += out.rows
                counts[split] += out.rows
                files[split].write(out.data)
                continue
            position += 1
            report.sources += 1
            if type(out) is str:  # plain converted item (see _outcome)
                report.converted_sources += 1
                split = "val" if position in val else "train"
                n = out.count("\n")
                index += n
                counts[split] += n
                files[split].write(out.encode("utf-8"))
                continue
            for rej, region in out.rejections:
                reject(rej, region)
            if not out.converted:
                continue
            report.converted_sources += 1
            if out.fixes:
                report.fixes.update(out.fixes)
            if out.kept_issues:
                report.kept_region_issues.update(out.kept_issues)
            split = "val" if position in val else "train"
            if out.lines is not None:
                index += len(out.lines)
                counts[split] += len(out.lines)
                files[split].write("".join(out.lines).encode("utf-8"))
                continue
            for s in out.samples:
                index += 1
                counts[split] += 1
                if s.image_bytes is None:
                    images = [os.path.abspath(p) for p in s.images]
                else:
                    name = os.path.splitext(os.path.basename(s.images[0]))[0] if s.images else "image"
                    images = [staging.write_image(s.image_bytes, image_file_name(index, name,
                                                                                 _image_ext(s.image_bytes)))]
                if options.output_format == "got":
                    got_rows[split].append(Sample(images=images, text=s.text, source=s.source, line=s.line,
                                                   prompt=s.prompt))
                else:
                    files[split].write(_row_line(s, images, ctx).encode("utf-8"))
        report.train, report.val = counts["train"], counts["val"]
        for split in splits:
            if options.output_format == "got":
                entries = [got_json.to_got_entry(s, "<image>\n" + instruction, os.path.dirname(paths[split]))
                           for s in got_rows[split]]
                f = staging.open(split)
                json.dump(entries, f, ensure_ascii=False, indent=1)
                f.write("\n")
            report.outputs[split] = paths[split]
        f = staging.open("rejects")
        for rej in rejects:
            f.write(dumps_line(rej.to_dict()))
        report.outputs["rejects"] = paths["rejects"]
        staging.commit()
    finally:
        staging.discard()
    if "val" not in splits and os.path.isfile(paths["val"]):
        os.unlink(paths["val"])  # a stale split of an earlier run
    if os.path.isdir(paths["images"]) and _is_ours(paths["images"]):
        report.outputs["images"] = paths["images"]
    return report


def format_report(report: ConvertReport) -> str:
    """A short human-readable summary."""
    lines = [f"sources read: {report.sources}, converted: {report.converted_sources}, "
             f"rejected: {report.rejected}",
             f"samples written: train {report.train}, val {report.val}"]
    if report.rejected_regions:
        lines.append(f"regions rejected in converted sources: {report.rejected_regions}")
    fx = report.fixes
    if fx.get("clipped_coordinates"):
        lines.append(f"clipped {fx['clipped_coordinates']} coordinates in {fx['clipped_regions']} regions "
                     "into the image")
    if fx.get("reordered_polygons"):
        lines.append(f"reordered the points of {fx['reordered_polygons']} self-intersecting polygons")
    if fx.get("reoriented_quads"):
        lines.append(f"put the points of {fx['reoriented_quads']} counter-clockwise quads in clockwise order from "
                     "the top-left")
    if fx.get("flattened_images"):
        lines.append(f"composited {fx['flattened_images']} images with transparent pixels on white (written as PNG)")
    if fx.get("nfkc_texts"):
        lines.append(f"NFKC-normalised {fx['nfkc_texts']} transcriptions")
    if fx.get("gb18030_files"):
        lines.append(f"decoded {fx['gb18030_files']} label files as GB18030 (not valid UTF-8; pass --encoding if "
                     "that is wrong)")
    if report.kept_region_issues:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.kept_region_issues.items()))
        lines.append(f"regions with unusable boxes, text kept for rec: {sum(report.kept_region_issues.values())} "
                     f"({kinds})")
    for reason, n in sorted(report.reasons.items()):
        lines.append(f"  rejected {n:6d} x {reason}")
    for name, path in report.outputs.items():
        lines.append(f"{name}: {path}")
    return "\n".join(lines)


def report_json(report: ConvertReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True)
