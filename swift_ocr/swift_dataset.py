"""Train straight from raw OCR formats in ms-swift: dataset loaders and row preprocessors registered into
ms-swift's dataset registry (``swift.dataset.register_dataset``).

Dataset syntax (``--dataset`` / ``--val_dataset``), after ``--custom_register_path $(swift-ocr plugin-path)``::

    swift-ocr/<format>:<path>[?key=value&...]

* ``<format>``: ``icdar``, ``wordbox``, ``parquet`` or ``got`` (the converter's ``--format``);
* ``<path>``: ``icdar``/``wordbox``: a dataset root (``imgs/``+``gts/``, ``img/``+``box/``, ``images/``+``labels/``) or,
  for ``icdar``, a DBNet list file; ``parquet``/``got``: the file. Relative to the working directory.
* options: ``task`` (``rec``/``line``, default ``rec``), ``family`` (required: ``got``, ``internvl``, ``qwen2_vl``,
  ``qwen2_5_vl``, ``deepseek_ocr``), ``prompt``, ``prompt_style``, ``encoding``, ``image_column``, ``text_column``,
  ``rejects`` (a jsonl file that rejected items are appended to; default: ``$SWIFT_OCR_REJECTS`` if set).

e.g. ``--dataset 'swift-ocr/icdar:data/sroie?family=got'``. ms-swift's own ``#N`` sampling suffix still works.
(The path travels in the part ms-swift calls "subsets": ms-swift splits it at ``/`` and we join it back.)

The loader lists the (image, label) pairs or reads the parquet file with ``datasets``; the preprocessor's
``preprocess(row)`` reads one item with the same readers, task and prompts as ``swift-ocr convert``, so both
routes give the same samples. Items that cannot be read are logged one by one with file, line and reason
(never hidden behind ms-swift's limit of 10 tracebacks) and appended to the rejects file when one is set.
ms-swift runs ``preprocess`` in ``datasets.map`` worker processes, so a file, not a counter in memory, is
what carries rejections back.
"""
from __future__ import annotations

import json
import os
import urllib.parse
from typing import Any, Dict, List, Optional

from datasets import Dataset as HfDataset

from swift.dataset import DatasetLoader, DatasetMeta, RowPreprocessor, register_dataset
from swift.utils import get_logger

from .errors import OcrFormatError
from .formats import FORMATS, got_json, icdar, parquet, wordbox
from .formats.layout import Pair, discover_pairs
from .formats.swift_jsonl import to_swift_row
from .prompts import build_query, check_family, rec_prompt
from .sample import Sample
from .tasks import apply_task

logger = get_logger()
DATASET_PREFIX = "swift-ocr/"
OPTION_KEYS = ("task", "family", "prompt", "prompt_style", "encoding", "image_column", "text_column", "rejects")
# Where rejections are appended when the dataset spec has no ``rejects=`` option.
REJECTS_ENV = "SWIFT_OCR_REJECTS"


def parse_spec(path_and_query: str) -> tuple:
    """Split ``'<path>?k=v&...'`` into ``(path, options)``.

    Raises:
        ValueError: unknown option, or a missing/unknown ``family``.
    """
    path, _, query = path_and_query.partition("?")
    options = {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
    unknown = set(options) - set(OPTION_KEYS)
    if unknown:
        raise ValueError(f"unknown swift-ocr dataset option(s) {sorted(unknown)}; known: {', '.join(OPTION_KEYS)}")
    if "family" not in options:
        raise ValueError(f"swift-ocr dataset {path!r}: add '?family=<model family>' (got, internvl, qwen2_vl, "
                         "qwen2_5_vl, deepseek_ocr) so the right prompt is used")
    check_family(options["family"])
    options.setdefault("task", "rec")
    return path, options


def record_rejection(err: OcrFormatError, options: Dict[str, str]) -> None:
    """Log one rejection and append ``{"source", "line", "reason"}`` to the rejects file, if any (one ``write`` on
    an ``O_APPEND`` file per record, so concurrent worker processes do not interleave lines)."""
    logger.warning(f"swift-ocr: rejected {err}")
    path = options.get("rejects") or os.environ.get(REJECTS_ENV)
    if path:
        line = json.dumps({"source": err.source, "line": err.line, "reason": err.reason}, ensure_ascii=False) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)


def _image_entry(sample: Sample) -> Dict[str, Any]:
    if sample.image_bytes is not None:
        return {"bytes": sample.image_bytes, "path": None}
    return {"bytes": None, "path": os.path.abspath(sample.images[0])}


def sample_rows(sample: Sample, options: Dict[str, str]) -> List[Dict[str, Any]]:
    """The ms-swift rows (``messages`` + ``images`` as ``{bytes, path}``) for one source sample: task + prompt.

    Raises:
        OcrFormatError: the task cannot be applied (e.g. empty target).
    """
    instruction = rec_prompt(options["family"], options.get("prompt"), options.get("prompt_style", "plain"))
    rows = []
    for s in apply_task(options.get("task", "rec"), sample):
        images = [_image_entry(s)] if s.image_bytes is not None else [
            {"bytes": None, "path": os.path.abspath(p)} for p in s.images]
        row = to_swift_row(build_query(instruction, len(images)), s.text, [str(i) for i in range(len(images))])
        row["images"] = images
        rows.append(row)
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

    def read(self, row: Dict[str, Any]) -> Sample:
        """Read the source item of one row with swift-ocr's readers. Raises OcrFormatError."""
        opts = self.options
        if self.fmt in ("icdar", "wordbox"):
            pair = Pair(row["image_path"], row["label_path"], row.get("list_file"), row.get("line"))
            module = icdar if self.fmt == "icdar" else wordbox
            return module.read_pair(pair, opts.get("encoding"))
        if self.fmt == "parquet":
            return parquet.sample_from_row(row, self.source or "<parquet>", row.get("__row", 0) or 0,
                                           opts.get("image_column", "image"), opts.get("text_column", "text"))
        if self.fmt == "got":
            return got_json.sample_from_entry(json.loads(row["entry"]), row["source"], row["index"])
        raise ValueError(f"unknown format {self.fmt!r}")

    def preprocess(self, row: Dict[str, Any]) -> List[Dict[str, Any]]:
        try:
            return sample_rows(self.read(row), self.options)
        except OcrFormatError as e:
            record_rejection(e, self.options)
            return []


class OcrDatasetLoader(DatasetLoader):
    """ms-swift dataset loader for ``swift-ocr/<format>:<path>?options`` (see module docstring)."""

    fmt: str = ""

    def load(self, dataset_syntax=None, dataset_meta=None, *, use_hf=None) -> HfDataset:
        path, options = parse_spec("/".join(dataset_syntax.subsets))
        if not path:
            raise ValueError(f"swift-ocr/{self.fmt}: give a path, e.g. 'swift-ocr/{self.fmt}:data/train?family=got'")
        path = os.path.abspath(path)
        fmt = self.fmt
        source = None
        if fmt in ("icdar", "wordbox"):
            exts = (".txt", ".csv") if fmt == "icdar" else (".json",)
            if os.path.isfile(path):
                pairs, rejections = discover_pairs(list_file=path, label_exts=exts)
            else:
                pairs, rejections = discover_pairs(root=path, label_exts=exts)
            for rej in rejections:
                record_rejection(OcrFormatError(rej.source, rej.line, rej.reason), options)
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
            source = path
            dataset = hf_load_dataset("parquet", data_files=path, split="train", streaming=self.streaming)
        elif fmt == "got":
            source = path
            entries = got_json.load_entries(path)
            dataset = HfDataset.from_list([{"entry": json.dumps(e, ensure_ascii=False), "index": i, "source": path,
                                            "options": json.dumps(options, sort_keys=True)}
                                           for i, e in enumerate(entries)])
        else:
            raise ValueError(f"unknown format {fmt!r}")
        preprocessor = OcrPreprocessor(fmt, options, source=source)
        if fmt == "parquet" and isinstance(dataset, HfDataset):
            dataset = dataset.add_column("__row", list(range(1, len(dataset) + 1)))
        dataset = preprocessor(dataset, num_proc=self.num_proc, load_from_cache_file=self.load_from_cache_file,
                               strict=self.strict, enable_auto_mapping=False)
        if self.remove_unused_columns:
            dataset = RowPreprocessor.remove_useless_columns(dataset)
        return dataset


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
