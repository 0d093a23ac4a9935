"""Format readers (files -> :class:`~swift_ocr.sample.Sample`) and writers (samples -> target formats).

:func:`open_source` gives one uniform reader for every input format, used by the converter.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Tuple, Union

from ..errors import OcrFormatError, Rejection
from ..sample import Sample
from . import got_json, icdar, parquet, wordbox
from .layout import Pair, discover_pairs

FORMATS = ("wordbox", "icdar", "parquet", "got")
Item = Union[Sample, OcrFormatError]


@dataclass
class SourceReader:
    """A dataset in one input format.

    ``keys`` are cheap to list (no label is parsed) and identify source items for the train/val split: the image
    path for folder layouts, ``file#row`` for parquet and GOT JSON. ``rejections`` are the problems found while
    listing (unmatched files, bad list-file lines).
    """

    format: str
    keys: List[str]
    rejections: List[Rejection] = field(default_factory=list)
    pairs: List[Pair] = field(default_factory=list)
    path: Optional[str] = None
    encoding: Optional[str] = None
    image_column: str = "image"
    text_column: str = "text"
    image_root: Optional[str] = None

    def iter_samples(self) -> Iterator[Tuple[str, Item]]:
        """Yield ``(key, Sample)`` or ``(key, OcrFormatError)`` for every item, in key order."""
        if self.format in ("icdar", "wordbox"):
            module = icdar if self.format == "icdar" else wordbox
            for key, pair in zip(self.keys, self.pairs):
                try:
                    yield key, module.read_pair(pair, self.encoding)
                except OcrFormatError as e:
                    yield key, e
        elif self.format == "parquet":
            for (row_no, row), key in zip(parquet.iter_parquet_rows(self.path, self.image_column, self.text_column),
                                          self.keys):
                try:
                    yield key, parquet.sample_from_row(row, self.path, row_no, self.image_column, self.text_column)
                except OcrFormatError as e:
                    yield key, e
        elif self.format == "got":
            for (no, item), key in zip(got_json.iter_got_samples(self.path, self.image_root), self.keys):
                yield key, item
        else:
            raise ValueError(f"unknown format {self.format!r}")


def open_source(fmt: str, images=None, labels=None, list_file=None, input_path=None, encoding: Optional[str] = None,
                image_column: str = "image", text_column: str = "text",
                image_root: Optional[str] = None) -> SourceReader:
    """Open a dataset for reading.

    Args:
        fmt: one of :data:`FORMATS`.
        images, labels: image and label folders (``wordbox``, ``icdar``).
        list_file: a DBNet list file (``icdar``).
        input_path: ``icdar``/``wordbox``: a dataset root folder (or, for ``icdar``, a list file);
            ``parquet``/``got``: the file.
        encoding: label-file encoding (``icdar``); default UTF-8 (BOM allowed) then GB18030.
        image_column, text_column: parquet column names.
        image_root: folder GOT JSON image paths are relative to (default: the JSON file's folder).

    Raises:
        ValueError: unknown format or wrong combination of inputs.
        OcrFormatError: the input cannot be opened at all.
    """
    if fmt in ("icdar", "wordbox"):
        exts = (".txt", ".csv") if fmt == "icdar" else (".json",)
        if input_path is not None and os.path.isfile(input_path):
            if fmt != "icdar":
                raise ValueError("a list file is only supported for --format icdar")
            list_file, input_path = input_path, None
        pairs, rejections = discover_pairs(images=images, labels=labels, list_file=list_file, root=input_path,
                                           label_exts=exts)
        return SourceReader(fmt, [p.image for p in pairs], rejections, pairs=pairs, encoding=encoding)
    if fmt in ("parquet", "got"):
        if input_path is None or images is not None or labels is not None or list_file is not None:
            raise ValueError(f"--format {fmt} takes --input FILE only")
        path = os.path.abspath(input_path)
        if fmt == "parquet":
            n = parquet.count_rows(path) if os.path.isfile(path) else _missing(path)
        else:
            n = len(got_json.load_entries(path))
        return SourceReader(fmt, [f"{path}#{i}" for i in range(1, n + 1)], path=path, image_column=image_column,
                            text_column=text_column, image_root=image_root)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def _missing(path):
    raise OcrFormatError(path, None, "file does not exist")
