"""Train straight from raw OCR formats in ms-swift: dataset loaders and row preprocessors registered into
ms-swift's dataset registry (``swift.dataset.register_dataset``).

Dataset syntax (``--dataset`` / ``--val_dataset``), after ``--custom_register_path $(swift-ocr plugin-path)``::

    swift-ocr/<format>:<path>[?key=value&...]

* ``<format>``: ``icdar``, ``wordbox``, ``parquet`` or ``got`` (the converter's ``--format``);
* ``<path>``: ``icdar``/``wordbox``: a dataset root (``imgs/``+``gts/``, ``img/``+``box/``, ``images/``+``labels/``) or,
  for ``icdar``, a DBNet list file; ``parquet``/``got``: the file. Relative to the working directory.
* options: ``task`` (``rec``/``line``, default ``rec``), ``family`` (required: ``got``, ``internvl``, ``qwen2_vl``,
  ``qwen2_5_vl``, ``deepseek_ocr``), ``prompt``, ``prompt_style``, ``encoding``, ``image_column``, ``text_column``,
  ``image_root`` (``got`` only: the folder the JSON's image paths are relative to, default the JSON file's folder;
  relative to the working directory, like the converter's ``--image-root``),
  ``rejects`` (a jsonl file that rejected items are appended to; default: ``$SWIFT_OCR_REJECTS`` if set), and the
  converter's reading options ``nfkc`` (``1``/``0``, default 1), ``check_images`` (``header``/``verify``/``decode``),
  ``max_image_pixels`` (0: no limit) and ``allow_outside_root`` (``0``/``1``); for ``icdar`` ``icdar_variant``
  (``auto``/``2015``/``mlt``/``polygon``/``2013``, the converter's ``--icdar-variant``) and ``scripts`` (MLT script
  names separated by ``,``, the converter's ``--scripts``).

e.g. ``--dataset 'swift-ocr/icdar:data/sroie?family=got'``. ms-swift's own ``#N`` sampling suffix still works.
Option values are percent-encoded (see :func:`parse_spec`; :func:`dataset_spec` writes a spec).
(The path travels in the part ms-swift calls "subsets": ms-swift splits it at ``/`` and we join it back.)

The loader lists the (image, label) pairs or reads the parquet file with ``datasets`` (an ``Image()`` column is cast
to ``Image(decode=False)``, so rows carry the stored ``{bytes, path}`` as the converter reads them). The
preprocessor's ``preprocess(row)`` reads one item with the same readers, shared checks
(:func:`swift_ocr.formats.checks.finish_sample`: image checks, NFKC, clipping), task
(:func:`swift_ocr.tasks.core.run_task`) and prompts as ``swift-ocr convert``, so both routes give the same samples and
reject the same items and regions with the same kinds. Items and regions that are left out are logged one by one
with file, line, kind and reason (never hidden behind ms-swift's limit of 10 tracebacks) and appended to the rejects
file when one is set, as ``{"source", "line", "kind", "reason"}`` rows like the converter's. ms-swift runs
``preprocess`` in ``datasets.map`` worker processes, so a file, not a counter in memory, is what carries rejections
back; after the map the loader logs a summary (rejections per kind, clipped coordinates, NFKC changes) from a
per-load tally file. With ms-swift's ``--strict true`` the first rejection stops loading with its error. Rows served
from ms-swift's map cache (``--load_from_cache_file true``) are not preprocessed again, so their rejections are not
logged again either.

Several processes (torchrun: ``NPROC_PER_NODE`` / ``NNODES``, ``WORLD_SIZE`` > 1): every rank runs the loader, but
only global rank 0 appends to the rejects file, so each rejection is in it once. Rank 0 sees every item: without
streaming every rank preprocesses the whole dataset itself, never from ms-swift's map cache (the ranks may run their
maps at the same time, so rank 0 could otherwise load what another rank just wrote to the cache and record
nothing); with ``--streaming true`` rank 0 reads the stream and hands each rank
its batches, and the other ranks still preprocess some rows of their own copy of the stream, whose rejections would
only repeat rank 0's (measured with ms-swift 4.6 on two CPU ranks, tests/e2e/test_scale_out.py). Lines are whole
(one ``O_APPEND`` write each).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.parse
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple, Union

from datasets import Dataset as HfDataset

from swift.dataset import DatasetLoader, DatasetMeta, RowPreprocessor, register_dataset
from swift.utils import get_logger

from swift_ocr.errors import OcrFormatError, Rejection, printable
from swift_ocr.formats import FORMATS, got_json, icdar, parquet, wordbox
from swift_ocr.formats.checks import ReadOptions, finish_sample
from swift_ocr.formats.layout import Pair, bad_filename_reason, discover_pairs, utf8_ok
from swift_ocr.writers.swift_jsonl import to_swift_row
from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS
from swift_ocr.io_utils import append_line
from swift_ocr.families.prompts import build_query, check_family
from swift_ocr.sample import FIX_KEYS, Sample
from swift_ocr.tasks.det import META_ATTR, det_meta
from swift_ocr.tasks.core import TaskConfig, TaskOutput, run_task

logger = get_logger()
DATASET_PREFIX = "swift-ocr/"
OPTION_KEYS = ("task", "family", "prompt", "prompt_style", "encoding", "image_column", "text_column", "image_root",
               "rejects",
               "nfkc", "check_images", "max_image_pixels", "allow_outside_root",
               "lang", "order", "max_boxes", "tiling", "det_shape", "icdar_variant", "scripts")
# Where rejections are appended when the dataset spec has no ``rejects=`` option.
REJECTS_ENV = "SWIFT_OCR_REJECTS"


#: Options whose value is free text rather than a path or a keyword (see :func:`parse_spec`).
TEXT_OPTIONS = ("prompt",)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def quote_option(value: str) -> str:
    """``value`` percent-encoded (RFC 3986, UTF-8) so that it reaches :func:`parse_spec` intact through ms-swift's
    dataset syntax: every character but letters, digits and ``-._~`` is encoded, e.g. ``'OCR with format: '`` ->
    ``'OCR%20with%20format%3A%20'``. Hand-written specs need only encode what the syntax would change (see
    :func:`parse_spec`)."""
    return urllib.parse.quote(value, safe="")


def dataset_spec(fmt: str, path: str, **options: str) -> str:
    """The ``--dataset`` string ``swift-ocr/<fmt>:<path>?k=v&...`` with each value encoded by :func:`quote_option`
    (the path is left as it is: write it without spaces around ``/``, ``#`` or a leading ``hf::``/``ms::``)."""
    query = "&".join(f"{k}={quote_option(str(v))}" for k, v in options.items())
    return f"{DATASET_PREFIX}{fmt}:{path}" + (f"?{query}" if query else "")


def parse_spec(path_and_query: str) -> tuple:
    """Split ``'<path>?k=v&...'`` into ``(path, options)``.

    Values are percent-decoded (``urllib.parse.unquote``, UTF-8: ``%20`` a space, ``%2F`` ``/``, ``%25`` ``%``);
    ``+`` is a plus sign, not a space (this is not HTML form encoding). ms-swift's dataset syntax
    (``swift/dataset/dataset_syntax.py``) reads the spec before we do: it cuts a trailing ``#N`` (sample count),
    splits the rest at ``/`` and strips the spaces at both ends of each piece, and we only see the pieces joined
    again. So in a free-text value (:data:`TEXT_OPTIONS`: ``prompt``) write ``/`` as ``%2F``, ``#`` as ``%23``,
    ``&`` as ``%26``, ``%`` as ``%25`` and spaces at the end of the value as ``%20`` (GOT's ``OCR: ``:
    ``prompt=OCR:%20``); :func:`quote_option` / :func:`dataset_spec` do it for you. A raw ``/`` in a free-text
    value is refused, since the spaces around it may already be gone; so is a ``%`` that starts no escape.

    Raises:
        ValueError: unknown or repeated option, a raw ``/`` in a free-text value, a bad ``%`` escape, or a
            missing/unknown ``family``.
    """
    path, _, query = path_and_query.partition("?")
    options: Dict[str, str] = {}
    for part in query.split("&") if query else []:
        raw_key, _, raw = part.partition("=")
        key = urllib.parse.unquote(raw_key)
        if _BAD_ESCAPE.search(raw):
            raise ValueError(f"swift-ocr dataset option {key}={raw!r}: a '%' that starts no escape; write '%' as %25 "
                             "(values are percent-encoded)")
        if key in TEXT_OPTIONS and "/" in raw:
            raise ValueError(f"swift-ocr dataset option {key}={raw!r}: write '/' as %2F -- ms-swift splits a dataset "
                             "spec at '/' and strips the spaces around it, so the text would change")
        if key in options:
            raise ValueError(f"swift-ocr dataset option {key!r} is given twice")
        options[key] = urllib.parse.unquote(raw, errors="strict")
    unknown = set(options) - set(OPTION_KEYS)
    if unknown:
        raise ValueError(f"unknown swift-ocr dataset option(s) {sorted(unknown)}; known: {', '.join(OPTION_KEYS)}")
    if "family" not in options:
        raise ValueError(f"swift-ocr dataset {path!r}: add '?family=<model family>' (got, internvl, qwen2_vl, "
                         "qwen2_5_vl, deepseek_ocr) so the right prompt is used")
    check_family(options["family"])
    options.setdefault("task", "rec")
    read_options(options)  # validates the reading options
    task_config(options)  # and the task options
    return path, options


def _flag(options: Dict[str, str], key: str, default: bool) -> bool:
    value = options.get(key)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ValueError(f"swift-ocr dataset option {key}={value!r}: use 1 or 0")


def read_options(options: Dict[str, str]) -> ReadOptions:
    """The :class:`~swift_ocr.formats.checks.ReadOptions` of a parsed dataset spec (same defaults as the converter).

    Raises:
        ValueError: a bad value.
    """
    pixels = options.get("max_image_pixels")
    try:
        max_pixels = DEFAULT_MAX_IMAGE_PIXELS if pixels in (None, "") else int(pixels)
    except ValueError:
        raise ValueError(f"swift-ocr dataset option max_image_pixels={pixels!r} is not an integer") from None
    return ReadOptions(encoding=options.get("encoding") or None, nfkc=_flag(options, "nfkc", True),
                       check_images=options.get("check_images") or "verify", max_image_pixels=max_pixels,
                       allow_outside_root=_flag(options, "allow_outside_root", False),
                       icdar_variant=options.get("icdar_variant") or "auto",
                       scripts=tuple(options["scripts"].split(",")) if options.get("scripts") else None)


def record_rejection(err: Union[OcrFormatError, Rejection], options: Dict[str, str],
                     tally: Optional[str] = None) -> None:
    """Log one rejection and append ``{"source", "line", "kind", "reason"}`` to the rejects file, if any (and to the
    loader's ``tally`` file, for its summary)."""
    rej = err if isinstance(err, Rejection) else Rejection.from_error(err)
    logger.warning(f"swift-ocr: rejected [{rej.kind}] {rej.to_error()}")
    path = options.get("rejects") or os.environ.get(REJECTS_ENV)
    if _dist_rank() not in (None, 0):
        path = None  # several processes: rank 0 records the run's rejections once (see the module docstring)
    for target in (path, tally):
        if target:
            append_line(target, rej.to_dict())


def _dist_rank() -> Optional[int]:
    """The global rank of this process in a several-process run started by torchrun (``RANK`` with ``WORLD_SIZE``
    over 1), else None."""
    try:
        if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1 and os.environ.get("RANK", "") != "":
            return int(os.environ["RANK"])
    except ValueError:
        pass
    return None


def summarise_tally(path: str) -> Dict[str, Any]:
    """Counts from a tally file: ``{"rejected": {kind: n}, "fixes": {key: n}, "icdar_variants": {variant: n}}``
    (label files read as ICDAR MLT, polygon or 2013, :data:`swift_ocr.formats.icdar.VARIANT_FIX_KEYS`)."""
    rejected, fixes = Counter(), Counter()
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                obj = json.loads(line)
                if "fixes" in obj:
                    fixes.update(obj["fixes"])
                else:
                    rejected[obj["kind"]] += 1
    return {"rejected": dict(sorted(rejected.items())), "fixes": {k: fixes.get(k, 0) for k in FIX_KEYS},
            "icdar_variants": {v: fixes.get(k, 0) for v, k in icdar.VARIANT_FIX_KEYS.items()}}


def task_config(options: Dict[str, str]) -> TaskConfig:
    """The :class:`~swift_ocr.tasks.core.TaskConfig` of a dataset spec's options. Raises ValueError for bad options."""
    max_boxes = options.get("max_boxes")
    try:
        max_boxes = int(max_boxes) if max_boxes not in (None, "") else None
    except ValueError:
        raise ValueError(f"swift-ocr dataset option max_boxes={max_boxes!r} is not an integer") from None
    return TaskConfig(task=options.get("task", "rec"), family=options["family"], prompt=options.get("prompt"),
                      prompt_style=options.get("prompt_style", "plain"), lang=options.get("lang", "en"),
                      order=options.get("order", "tb-lr"), max_boxes=max_boxes,
                      tiling=options.get("tiling", "strips"), det_shape=options.get("det_shape", "box"))


def _image_entry(sample: Sample) -> Dict[str, Any]:
    if sample.image_bytes is not None:
        return {"bytes": sample.image_bytes, "path": None}
    return {"bytes": None, "path": os.path.abspath(sample.images[0])}


def task_rows(sample: Sample, options: Dict[str, str]) -> Tuple[TaskOutput, List[Dict[str, Any]]]:
    """The task's output for one checked source sample and its ms-swift rows (``messages`` + ``images`` as
    ``{bytes, path}``): ``(TaskOutput, rows)``; rows are empty when ``TaskOutput.failure`` is set."""
    task = task_config(options)
    instruction = task.instruction()
    result = run_task(task, sample, read_options(options).max_image_pixels)
    rows = []
    for s in result.samples:
        images = [_image_entry(s)] if s.image_bytes is not None else [
            {"bytes": None, "path": os.path.abspath(p)} for p in s.images]
        own = instruction if s.prompt is None else s.prompt  # an item's own (GOT JSON) prompt, carried by the task
        row = to_swift_row(build_query(own, len(images)), s.text, [str(i) for i in range(len(images))],
                           task.system())
        row["images"] = images
        if task.task == "det":
            row[META_ATTR] = det_meta(s)
        rows.append(row)
    return result, rows


def sample_rows(sample: Sample, options: Dict[str, str]) -> List[Dict[str, Any]]:
    """The ms-swift rows for one checked source sample; all or nothing.

    Raises:
        OcrFormatError: the task rejects the item or any of its regions (use :func:`task_rows` to keep the rest).
    """
    result, rows = task_rows(sample, options)
    problems = ([result.failure] if result.failure else []) + result.region_rejections
    if problems:
        raise problems[0].to_error()
    return rows


class OcrPreprocessor(RowPreprocessor):
    """ms-swift row preprocessor for one swift-ocr format; ``preprocess(row)`` returns the rows of one source item.

    Rows in: for ``icdar``/``wordbox``, ``{image_path, label_path, list_file, line, options}`` (one per pair, made
    by :class:`OcrDatasetLoader`); for ``parquet``, the file's own columns; for ``got``, ``{entry, index, source}``.
    """

    def __init__(self, fmt: str, options: Optional[Dict[str, str]] = None, source: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.fmt = fmt
        self.options = options or {}
        self.source = source
        self.tally: Optional[str] = None  # set by the loader for its summary
        self.strict = False  # ms-swift's --strict: stop at the first rejection
        self._recorded: set = set()  # rejections recorded by this process (each once, see _reject)

    def read(self, row: Dict[str, Any]) -> Sample:
        """Read the source item of one row with swift-ocr's readers and shared checks
        (:func:`~swift_ocr.formats.checks.finish_sample`). Raises OcrFormatError."""
        opts = self.options
        ropts = read_options(opts)
        if self.fmt in ("icdar", "wordbox"):
            pair = Pair(row["image_path"], row["label_path"], row.get("list_file"), row.get("line"))
            sample = (icdar.read_pair(pair, ropts.encoding, ropts.icdar_variant, ropts.scripts)
                      if self.fmt == "icdar" else wordbox.read_pair(pair, ropts.encoding))
        elif self.fmt == "parquet":
            sample = parquet.sample_from_row(row, self.source or "<parquet>", row.get("__row", 0) or 0,
                                             opts.get("image_column", "image"), opts.get("text_column", "text"),
                                             allow_outside_root=ropts.allow_outside_root)
        elif self.fmt == "got":
            sample = got_json.sample_from_entry(json.loads(row["entry"]), row["source"], row["index"],
                                                opts.get("image_root") or None,
                                                allow_outside_root=ropts.allow_outside_root)
        else:
            raise ValueError(f"unknown format {self.fmt!r}")
        return finish_sample(sample, ropts)

    def _reject(self, problem) -> None:
        rej = problem if isinstance(problem, Rejection) else Rejection.from_error(problem)
        key = (rej.source, rej.line, rej.kind, rej.reason)
        if key not in self._recorded:  # an IterableDataset preprocesses its first rows again to find its features
            self._recorded.add(key)
            record_rejection(problem, self.options, self.tally)
        if self.strict:
            raise problem.to_error() if isinstance(problem, Rejection) else problem

    def preprocess(self, row: Dict[str, Any]) -> List[Dict[str, Any]]:
        try:
            sample = self.read(row)
        except OcrFormatError as e:
            self._reject(e)
            return []
        result, rows = task_rows(sample, self.options)
        for rej in result.region_rejections:
            self._reject(rej)
        if result.failure is not None:
            self._reject(result.failure)
            return []
        bad = [p for s in result.samples for p in s.images if not utf8_ok(p)]
        if bad:  # a path arrow cannot hold (not UTF-8): the converter's bad_filename, not a pyarrow traceback
            self._reject(Rejection(printable(sample.source), sample.line, bad_filename_reason(bad), "bad_filename"))
            return []
        if self.tally and sample.fixes:
            append_line(self.tally, {"fixes": {k: v for k, v in sample.fixes.items() if v}})
        return rows


class OcrDatasetLoader(DatasetLoader):
    """ms-swift dataset loader for ``swift-ocr/<format>:<path>?options`` (see module docstring)."""

    fmt: str = ""

    def load(self, dataset_syntax=None, dataset_meta=None, *, use_hf=None) -> HfDataset:
        path, options = parse_spec("/".join(dataset_syntax.subsets))
        if not path:
            raise ValueError(f"swift-ocr/{self.fmt}: give a path, e.g. 'swift-ocr/{self.fmt}:data/train?family=got'")
        path = os.path.abspath(path)
        if options.get("image_root"):
            if self.fmt != "got":
                raise ValueError(f"swift-ocr/{self.fmt}: the image_root option is for got only")
            options["image_root"] = os.path.abspath(options["image_root"])  # the map's workers may run elsewhere
        if self.streaming:  # preprocessed lazily while training: rejections are logged, no summary
            return self._load(path, self.fmt, options, read_options(options), None)
        fd, tally = tempfile.mkstemp(prefix="swift-ocr-tally.", suffix=".jsonl")
        os.close(fd)
        try:
            return self._load(path, self.fmt, options, read_options(options), tally)
        finally:
            os.unlink(tally)

    def _load(self, path, fmt, options, ropts, tally) -> HfDataset:
        source = None
        if fmt in ("icdar", "wordbox"):
            exts = (".txt", ".csv") if fmt == "icdar" else (".json",)
            if os.path.isfile(path):
                pairs, rejections = discover_pairs(list_file=path, label_exts=exts, encoding=ropts.encoding,
                                                   allow_outside_root=ropts.allow_outside_root)
            else:
                pairs, rejections = discover_pairs(root=path, label_exts=exts)
            for rej in rejections:
                record_rejection(rej, options, tally)
                if self.strict:
                    raise rej.to_error()
            if not pairs:  # nothing to preprocess: stop here, not in ms-swift (ZeroDivisionError for '#N')
                raise empty_dataset_error(fmt, path, options, 0, tally)
            opts = json.dumps(options, sort_keys=True)
            rows = []
            for p in pairs:
                st = os.stat(p.label)  # in the row so that ms-swift's map cache notices edited labels
                rows.append({"image_path": p.image, "label_path": p.label, "list_file": p.list_file or "",
                             "line": p.line or 0, "label_mtime_ns": st.st_mtime_ns, "label_size": st.st_size,
                             "options": opts})
            dataset = HfDataset.from_list(rows)
        elif fmt == "parquet":
            from datasets import load_dataset as hf_load_dataset
            from datasets import Image as HfImage
            source = path
            dataset = hf_load_dataset("parquet", data_files=path, split="train", streaming=self.streaming)
            column = options.get("image_column", "image")
            feature = (dataset.features or {}).get(column)
            if isinstance(feature, HfImage) and feature.decode:
                # a parquet written by ``datasets`` (``Image()`` column) would reach us as decoded PIL images:
                # keep the stored {bytes, path} instead, read like ``swift-ocr convert`` reads them
                dataset = dataset.cast_column(column, HfImage(decode=False))
        elif fmt == "got":
            source = path
            entries = got_json.load_entries(path)
            dataset = HfDataset.from_list([{"entry": json.dumps(e, ensure_ascii=False), "index": i, "source": path,
                                            "options": json.dumps(options, sort_keys=True)}
                                           for i, e in enumerate(entries)])
        else:
            raise ValueError(f"unknown format {fmt!r}")
        preprocessor = OcrPreprocessor(fmt, options, source=source)
        preprocessor.tally, preprocessor.strict = tally, bool(self.strict)
        if fmt == "parquet" and isinstance(dataset, HfDataset):
            dataset = dataset.add_column("__row", list(range(1, len(dataset) + 1)))
        elif fmt == "parquet":  # streamed: number the rows as they come (1-based, as the converter does)
            dataset = dataset.map(lambda _, i: {"__row": i + 1}, with_indices=True)
        n_items = len(dataset) if isinstance(dataset, HfDataset) else None
        if self.streaming and isinstance(dataset, HfDataset):
            # as ms-swift's own loader does for hub datasets: with --streaming the rows must come as an
            # IterableDataset, preprocessed lazily; an in-memory Dataset would be encoded by ms-swift's map into
            # Arrow, which turns the template's PIL images back into {bytes, path} dicts the collators refuse
            dataset = dataset.to_iterable_dataset()
        # several processes: no map cache, so that rank 0 preprocesses (and records) every item (module docstring)
        from_cache = self.load_from_cache_file and _dist_rank() is None
        dataset = preprocessor(dataset, num_proc=self.num_proc, load_from_cache_file=from_cache,
                               strict=self.strict, enable_auto_mapping=False)
        if isinstance(dataset, HfDataset) and len(dataset) == 0:
            raise empty_dataset_error(fmt, path, options, n_items, tally)
        if self.remove_unused_columns:
            dataset = RowPreprocessor.remove_useless_columns(dataset)
        if tally is not None and isinstance(dataset, HfDataset):
            summary = summarise_tally(tally)
            rejected = sum(summary["rejected"].values())
            kinds = ", ".join(f"{k} {n}" for k, n in summary["rejected"].items()) or "none"
            fixes = summary["fixes"]
            logger.info(f"swift-ocr/{fmt}:{path}: {n_items} item(s) preprocessed -> {len(dataset)} row(s); "
                        f"{rejected} rejection(s) logged ({kinds}); clipped {fixes['clipped_coordinates']} "
                        f"coordinates in {fixes['clipped_regions']} regions, reordered "
                        f"{fixes['reordered_polygons']} polygons, reoriented {fixes['reoriented_quads']} "
                        f"counter-clockwise quads, composited {fixes['flattened_images']} transparent images on "
                        f"white, NFKC changed {fixes['nfkc_texts']} texts, "
                        f"{fixes['gb18030_files']} label files decoded as GB18030")
            if fmt == "icdar" and any(summary["icdar_variants"].values()):
                logger.info(f"swift-ocr/{fmt}:{path}: label files read as " + ", ".join(
                    f"{v} {n}" for v, n in summary["icdar_variants"].items() if n) + " (the others as ICDAR 2015)")
        return dataset


def empty_dataset_error(fmt: str, path: str, options: Dict[str, str], n_items: Optional[int],
                        tally: Optional[str]) -> ValueError:
    """The error for a ``swift-ocr/<fmt>:<path>`` dataset that gives no row at all (every item rejected, or none
    found): it names the dataset, the rejections per kind (from the loader's ``tally`` file) and the rejects file
    where they are listed one by one (or how to get one). Raised by the loader rather than leaving ms-swift to fail
    on the empty dataset (e.g. ``ZeroDivisionError`` in ``sample_dataset`` for a ``#N`` suffix)."""
    rejected = summarise_tally(tally)["rejected"] if tally else {}
    kinds = ", ".join(f"{k} {n}" for k, n in rejected.items())
    found = f"{n_items} item(s) read, none usable" if n_items else "no usable item found"
    why = f"{found}, {sum(rejected.values())} rejection(s) ({kinds})" if rejected else found
    target = options.get("rejects") or os.environ.get(REJECTS_ENV)
    where = (f"see the rejects file {target}" if target else
             f"each was logged above as a warning; add '&rejects=FILE' to the dataset (or set ${REJECTS_ENV}) to "
             "have them written to a file")
    return ValueError(f"swift-ocr/{fmt}:{path}: the dataset is empty -- {why}; {where}")


def register_datasets() -> List[str]:
    """Register ``swift-ocr/<format>`` for every format into ms-swift (idempotent). Returns the names."""
    names = []
    for fmt in FORMATS:
        name = DATASET_PREFIX + fmt
        loader = type(f"OcrDatasetLoader_{fmt}", (OcrDatasetLoader,), {"fmt": fmt})
        register_dataset(DatasetMeta(ms_dataset_id=name, hf_dataset_id=name, dataset_name=name, loader=loader,
                                     preprocess_func=OcrPreprocessor(fmt),
                                     help=f"swift-ocr raw {fmt} dataset: {name}:<path>?family=..."), exist_ok=True)
        names.append(name)
    return names
