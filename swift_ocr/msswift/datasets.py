"""Train straight from raw OCR formats in ms-swift: dataset loaders and row preprocessors registered into
ms-swift's dataset registry (``swift.dataset.register_dataset``).

Dataset syntax (``--dataset`` / ``--val_dataset``), after ``--custom_register_path $(swift-ocr plugin-path)``::

    swift-ocr/<format>:<path>[?key=value&...]

* ``<format>``: a registered format (:func:`swift_ocr.formats.registry.format_names`; built in: ``icdar``,
  ``wordbox``, ``parquet``, ``got``), the converter's ``--format``;
* ``<path>``: pair formats (``icdar``/``wordbox``): a dataset root (``imgs/``+``gts/``, ``img/``+``box/``,
  ``images/``+``labels/``) or, for ``icdar``, a DBNet list file; file formats (``parquet``/``got``): the file.
  Relative to the working directory.
* options: ``task`` (``rec``/``line``, default ``rec``), ``family`` (required: a registered model family,
  :func:`swift_ocr.families.family_names`), ``prompt``, ``prompt_style`` and the other
  :class:`~swift_ocr.tasks.core.TaskConfig` fields (``lang``, ``order``, ``max_boxes``, ``tiling``, ``det_shape``),
  the family's codec options (``min_pixels``/``max_pixels`` for ``qwen2_5_vl`` with ``task=det``: the
  ``smart_resize`` bounds of the targets, default ms-swift's ``MIN_PIXELS``/``MAX_PIXELS`` in the training process,
  which ``--model_kwargs`` sets, so the targets match the images the model sees; recorded in each row),
  ``encoding``, each format's own options (:attr:`swift_ocr.formats.registry.LabelFormat.options`: ``image_column``
  and ``text_column`` for ``parquet``; ``image_root`` for ``got``, the folder the JSON's image paths are relative
  to, default the JSON file's folder, relative to the working directory like the converter's ``--image-root``),
  ``rejects`` (a jsonl file that rejected items are appended to; default: ``$SWIFT_OCR_REJECTS`` if set), and the
  converter's reading options ``nfkc`` (``1``/``0``, default 0: targets keep the label's text as written; ``1``
  NFKC-normalises them, the converter's ``--nfkc``), ``check_images`` (``header``/``verify``/``decode``),
  ``max_image_pixels`` (0: no limit) and ``allow_outside_root`` (``0``/``1``); for ``icdar`` ``icdar_variant``
  (``auto``/``2015``/``mlt``/``polygon``/``2013``, the converter's ``--icdar-variant``) and ``scripts`` (MLT script
  names separated by ``,``, the converter's ``--scripts``).

e.g. ``--dataset 'swift-ocr/icdar:data/sroie?family=got'``. ms-swift's own ``#N`` sampling suffix still works.
Option values are percent-encoded (see :func:`parse_spec`; :func:`dataset_spec` writes a spec).
(The path travels in the part ms-swift calls "subsets": ms-swift splits it at ``/`` and we join it back.)

The loader asks the format for its rows (:meth:`~swift_ocr.formats.registry.LabelFormat.loader_rows`: the (image,
label) pairs, or a file's items as JSON) or for a whole dataset (parquet: read with ``datasets``, an ``Image()``
column cast to ``Image(decode=False)``, so rows carry the stored ``{bytes, path}`` as the converter reads them). The
preprocessor's ``preprocess(row)`` reads one item back (:meth:`~swift_ocr.formats.registry.LabelFormat.read_row`)
with the same readers, shared checks
(:func:`swift_ocr.formats.checks.finish_sample`: image checks, opt-in NFKC, clipping), task
(:func:`swift_ocr.tasks.core.run_task`) and prompts as ``swift-ocr convert``, so both routes give the same samples and
reject the same items and regions with the same kinds. Items and regions that are left out are logged one by one
with file, line, kind and reason (never hidden behind ms-swift's limit of 10 tracebacks) and appended to the rejects
file when one is set, as ``{"source", "line", "kind", "reason"}`` rows like the converter's. ms-swift runs
``preprocess`` in ``datasets.map`` worker processes, so a file, not a counter in memory, is what carries rejections
back; after the map the loader logs a summary (rejections per kind, clipped coordinates, NFKC changes with
``nfkc=1``) from a per-load tally file. With ms-swift's ``--strict true`` the first rejection stops loading with its error. Rows served
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
import typing
import urllib.parse
from collections import Counter
from dataclasses import fields
from typing import Any, Dict, List, Optional, Tuple, Union

from datasets import Dataset as HfDataset

from swift.dataset import DatasetLoader, DatasetMeta, RowPreprocessor, register_dataset
from swift.utils import get_logger

from swift_ocr.errors import OcrFormatError, Rejection, printable
from swift_ocr.formats import formats, get_format
from swift_ocr.formats.checks import ReadOptions, finish_sample
from swift_ocr.formats.layout import bad_filename_reason, utf8_ok
from swift_ocr.formats.registry import LabelFormat, all_format_options, check_format_options
from swift_ocr.writers.swift_jsonl import to_swift_row
from swift_ocr.io_utils import append_line
from swift_ocr.families import check_family, codec_options, family_names
from swift_ocr.families.prompts import build_query
from swift_ocr.sample import FIX_KEYS, Sample
from swift_ocr.tasks.tiling import TILE_META_KEY, det_meta
from swift_ocr.tasks.core import TaskConfig, TaskOutput, run_task

logger = get_logger()
DATASET_PREFIX = "swift-ocr/"


def option_keys() -> Tuple[str, ...]:
    """The options a dataset spec takes: the :class:`~swift_ocr.tasks.core.TaskConfig` fields (its
    ``codec_options`` field as one option per codec option of the registered families, e.g. ``max_pixels``), the
    :class:`~swift_ocr.formats.checks.ReadOptions` fields, every registered format's own options and ``rejects``
    (asked when called, so a format or family registered at run time brings its options)."""
    keys = []
    for f in fields(TaskConfig):
        keys += list(codec_options()) if f.metadata.get("codec_options") else [f.name]
    keys += [f.name for f in fields(ReadOptions)]
    keys += [name for name in all_format_options() if name not in keys]
    return tuple(keys) + ("rejects",)

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
    known = option_keys()
    unknown = set(options) - set(known)
    if unknown:
        raise ValueError(f"unknown swift-ocr dataset option(s) {sorted(unknown)}; known: {', '.join(known)}")
    if "family" not in options:
        raise ValueError(f"swift-ocr dataset {path!r}: add '?family=<model family>' ({', '.join(family_names())}) "
                         "so the right prompt is used")
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


def spec_values(cls, options: Dict[str, str]) -> Dict[str, Any]:
    """The fields of the dataclass ``cls`` that a parsed dataset spec's ``options`` give, converted from their text
    by each field's type: ``bool`` -- ``1``/``true``/``yes`` or ``0``/``false``/``no``; ``int`` -- a decimal integer;
    a tuple -- the values separated by ``,``; otherwise the text. A missing or empty value is left out (the field's
    default applies).

    Raises:
        ValueError: a value that is not of its field's type.
    """
    hints = typing.get_type_hints(cls)
    out: Dict[str, Any] = {}
    for f in fields(cls):
        if f.metadata.get("codec_options"):  # TaskConfig.codec_options: one spec option per codec option
            given = {name: options[name] for name in codec_options() if options.get(name)}
            for name, raw in given.items():
                try:
                    given[name] = codec_options()[name][0].type(raw)
                except ValueError:
                    raise ValueError(f"swift-ocr dataset option {name}={raw!r} is not a valid "
                                     f"{getattr(codec_options()[name][0].type, '__name__', 'value')}") from None
            if given:
                out[f.name] = given
            continue
        raw = options.get(f.name)
        if raw is None or raw == "":
            continue
        kind = hints[f.name]
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if typing.get_origin(kind) is Union and len(args) == 1:  # Optional[X]
            kind = args[0]
        if kind is bool:
            out[f.name] = _flag(options, f.name, False)
        elif kind is int:
            try:
                out[f.name] = int(raw)
            except ValueError:
                raise ValueError(f"swift-ocr dataset option {f.name}={raw!r} is not an integer") from None
        elif typing.get_origin(kind) is tuple:
            out[f.name] = tuple(raw.split(","))
        else:
            out[f.name] = raw
    return out


def read_options(options: Dict[str, str]) -> ReadOptions:
    """The :class:`~swift_ocr.formats.checks.ReadOptions` of a parsed dataset spec (:func:`spec_values`; the same
    defaults as the converter).

    Raises:
        ValueError: a bad value.
    """
    return ReadOptions(**spec_values(ReadOptions, options))


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
    """Counts from a tally file: ``{"rejected": {kind: n}, "fixes": {key: n}, "all_fixes": {key: n}}``: ``fixes``
    the shared :data:`~swift_ocr.sample.FIX_KEYS` (0 when absent), ``all_fixes`` every key counted, including a
    format's own (e.g. ICDAR label files read as MLT, :data:`swift_ocr.formats.icdar.VARIANT_FIX_KEYS`, which the
    format's :meth:`~swift_ocr.formats.registry.LabelFormat.report_extras` reads)."""
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
            "all_fixes": dict(sorted(fixes.items()))}


def task_config(options: Dict[str, str]) -> TaskConfig:
    """The :class:`~swift_ocr.tasks.core.TaskConfig` of a dataset spec's options (:func:`spec_values`). Raises
    ValueError for bad options."""
    return TaskConfig(**spec_values(TaskConfig, options))


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
            row[TILE_META_KEY] = det_meta(s)
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

    Rows in: what the format's loader gives (:meth:`~swift_ocr.formats.registry.LabelFormat.loader_rows` or
    :meth:`~swift_ocr.formats.registry.LabelFormat.hf_dataset`): for pair formats
    ``{image_path, label_path, list_file, line, ...}`` (one per pair), for file formats ``{item, index, source}``,
    for ``parquet`` the file's own columns and ``__row``. ``fmt`` is a registered format's name or the format.
    """

    def __init__(self, fmt: Union[str, LabelFormat], options: Optional[Dict[str, str]] = None,
                 source: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.label_format = fmt if isinstance(fmt, LabelFormat) else get_format(fmt)
        self.fmt = self.label_format.name
        self.options = options or {}
        self.source = source
        self.tally: Optional[str] = None  # set by the loader for its summary
        self.strict = False  # ms-swift's --strict: stop at the first rejection
        self._recorded: set = set()  # rejections recorded by this process (each once, see _reject)

    def read(self, row: Dict[str, Any]) -> Sample:
        """Read the source item of one row with swift-ocr's readers and shared checks
        (:func:`~swift_ocr.formats.checks.finish_sample`). Raises OcrFormatError."""
        ropts = read_options(self.options)
        sample = self.label_format.read_row(row, self.source or f"<{self.fmt}>", format_params(self.label_format,
                                                                                               self.options), ropts)
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
    label_format: Optional[LabelFormat] = None

    def load(self, dataset_syntax=None, dataset_meta=None, *, use_hf=None) -> HfDataset:
        path, options = parse_spec("/".join(dataset_syntax.subsets))
        fmt = self.label_format or get_format(self.fmt)
        if not path:
            raise ValueError(f"swift-ocr/{fmt.name}: give a path, e.g. 'swift-ocr/{fmt.name}:data/train?family=got'")
        path = os.path.abspath(path)
        try:
            check_format_options(fmt, options, lambda name: f"the {name} option")
        except ValueError as e:
            raise ValueError(f"swift-ocr/{fmt.name}: {e}") from None
        for opt in fmt.options:
            if opt.path and options.get(opt.name):
                options[opt.name] = os.path.abspath(options[opt.name])  # the map's workers may run elsewhere
        if self.streaming:  # preprocessed lazily while training: rejections are logged, no summary
            return self._load(path, fmt, options, read_options(options), None)
        fd, tally = tempfile.mkstemp(prefix="swift-ocr-tally.", suffix=".jsonl")
        os.close(fd)
        try:
            return self._load(path, fmt, options, read_options(options), tally)
        finally:
            os.unlink(tally)

    def _load(self, path: str, fmt: LabelFormat, options, ropts, tally) -> HfDataset:
        name = fmt.name
        params = format_params(fmt, options)
        dataset = fmt.hf_dataset(path, params, bool(self.streaming))
        if dataset is None:
            rows, rejections = fmt.loader_rows(path, params, ropts)
            for rej in rejections:
                record_rejection(rej, options, tally)
                if self.strict:
                    raise rej.to_error()
            if not rows:  # nothing to preprocess: stop here, not in ms-swift (ZeroDivisionError for '#N')
                raise empty_dataset_error(name, path, options, 0, tally)
            opts = json.dumps(options, sort_keys=True)  # in the rows so that ms-swift's map cache notices options
            dataset = HfDataset.from_list([{**row, "options": opts} for row in rows])
        preprocessor = OcrPreprocessor(fmt, options, source=path)
        preprocessor.tally, preprocessor.strict = tally, bool(self.strict)
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
            raise empty_dataset_error(name, path, options, n_items, tally)
        if self.remove_unused_columns:
            dataset = RowPreprocessor.remove_useless_columns(dataset)
        if tally is not None and isinstance(dataset, HfDataset):
            summary = summarise_tally(tally)
            rejected = sum(summary["rejected"].values())
            kinds = ", ".join(f"{k} {n}" for k, n in summary["rejected"].items()) or "none"
            fixes = summary["fixes"]
            logger.info(f"swift-ocr/{name}:{path}: {n_items} item(s) preprocessed -> {len(dataset)} row(s); "
                        f"{rejected} rejection(s) logged ({kinds}); clipped {fixes['clipped_coordinates']} "
                        f"coordinates in {fixes['clipped_regions']} regions, reordered "
                        f"{fixes['reordered_polygons']} polygons, reoriented {fixes['reoriented_quads']} "
                        f"counter-clockwise quads, composited {fixes['flattened_images']} transparent images on "
                        f"white, " + (f"NFKC changed {fixes['nfkc_texts']} texts (nfkc=1), " if ropts.nfkc else
                                      "texts kept as written (nfkc=0), ") +
                        f"{fixes['gb18030_files']} label files decoded as GB18030")
            for line in fmt.report_extras(summary["all_fixes"], None)[1]:
                logger.info(f"swift-ocr/{name}:{path}: {line}")
        return dataset


def format_params(fmt: LabelFormat, options: Dict[str, str]) -> Dict[str, Optional[str]]:
    """The format's own option values (:meth:`~swift_ocr.formats.registry.LabelFormat.params`) from a parsed dataset
    spec's ``options``."""
    return fmt.params({o.name: options.get(o.name) for o in fmt.options})


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
    """Register ``swift-ocr/<format>`` into ms-swift for every format registered now
    (:func:`swift_ocr.formats.registry.formats`); idempotent: call it again after registering a format at run time.
    Returns the names."""
    names = []
    for fmt in formats():
        name = DATASET_PREFIX + fmt.name
        loader = type(f"OcrDatasetLoader_{fmt.name}", (OcrDatasetLoader,), {"fmt": fmt.name, "label_format": fmt})
        register_dataset(DatasetMeta(ms_dataset_id=name, hf_dataset_id=name, dataset_name=name, loader=loader,
                                     preprocess_func=OcrPreprocessor(fmt),
                                     help=f"swift-ocr raw {fmt.name} dataset ({fmt.description}): "
                                          f"{name}:<path>?family=..."), exist_ok=True)
        names.append(name)
    return names
