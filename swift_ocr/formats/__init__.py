"""Format readers (files -> :class:`~swift_ocr.sample.Sample`) and writers (samples -> target formats).

:func:`open_source` gives one uniform reader for every input format, used by the converter. Every item it yields
has been through :func:`~swift_ocr.formats.checks.finish_sample` (image checks, NFKC, region geometry), the same
checks the ms-swift preprocessor applies.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Iterator, List, Optional, Sequence, Tuple, Union

from swift_ocr.errors import OcrFormatError, Rejection
from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS
from swift_ocr.sample import Sample
from swift_ocr.formats import got_json, icdar, parquet, wordbox
from swift_ocr.formats.checks import ReadOptions, finish_sample
from swift_ocr.formats.layout import FolderPairs, Pair, discover_pairs

FORMATS = ("wordbox", "icdar", "parquet", "got")
Item = Union[Sample, OcrFormatError]


@dataclass
class SourceReader:
    """A dataset in one input format.

    ``keys`` identify source items for the train/val split, so that items showing one image share a split: the image
    path for folder layouts (cheap to list: no label is parsed); for GOT JSON the entry's image paths resolved against
    the image root (:func:`~swift_ocr.formats.got_json.image_key`); for parquet a hash of the row's image bytes, or
    its resolved path (:func:`~swift_ocr.formats.parquet.image_keys`: one pass over the image column); ``file#row``
    for an item without a usable image value. For folder pairs (``pairs`` a
    :class:`~swift_ocr.formats.layout.FolderPairs`) both are compact sequences built on access, not lists.
    ``rejections`` are the problems found while listing (unmatched files, bad list-file lines, paths outside the
    root); each is one input item not converted.
    ``options`` are the shared read options (:class:`~swift_ocr.formats.checks.ReadOptions`).
    """

    format: str
    keys: Sequence[str]
    rejections: List[Rejection] = field(default_factory=list)
    pairs: Sequence[Pair] = field(default_factory=list)
    path: Optional[str] = None
    encoding: Optional[str] = None
    image_column: str = "image"
    text_column: str = "text"
    image_root: Optional[str] = None
    options: ReadOptions = field(default_factory=ReadOptions)

    def __post_init__(self):
        if self.encoding and not self.options.encoding:  # the older ``encoding=`` field still works
            self.options = replace(self.options, encoding=self.encoding)

    def iter_samples(self) -> Iterator[Tuple[str, Item]]:
        """Yield ``(key, Sample)`` or ``(key, OcrFormatError)`` for every item, in key order; samples have been
        through :func:`~swift_ocr.formats.checks.finish_sample`.

        Raises:
            OcrFormatError: only when the whole input becomes unreadable (e.g. a parquet file that cannot be read).
        """
        for key, item in self._iter_raw():
            if isinstance(item, Sample):
                try:
                    item = finish_sample(item, self.options)
                except OcrFormatError as e:
                    item = e
            yield key, item

    def read_one(self, index: int) -> Item:
        """Read and check the ``index``-th item of a folder layout (icdar, wordbox): a Sample that has been through
        :func:`~swift_ocr.formats.checks.finish_sample`, or the OcrFormatError that reading it gave.

        Raises:
            ValueError: the format is not a folder layout (parquet and GOT JSON are read as streams).
        """
        try:
            sample = self.read_raw(index)
        except OcrFormatError as e:
            return e
        return self.finish(sample)

    def finish(self, sample: Sample) -> Item:
        """:func:`~swift_ocr.formats.checks.finish_sample` with this reader's options: the checked sample, or the
        OcrFormatError it raised."""
        try:
            return finish_sample(sample, self.options)
        except OcrFormatError as e:
            return e

    def read_raw(self, index: int) -> Sample:
        """The ``index``-th item of a folder layout as its reader gives it, before
        :func:`~swift_ocr.formats.checks.finish_sample` (``image_size`` not read yet).

        Raises:
            OcrFormatError: the item cannot be read (the error :meth:`read_one` returns).
            ValueError: the format is not a folder layout (parquet and GOT JSON are read as streams).
        """
        return self._module().read_pair(self.pairs[index], *self._read_args())

    def read_raw_range(self, start: int, stop: int) -> List[Union[Sample, OcrFormatError]]:
        """:meth:`read_raw` of the items ``start <= index < stop``, in order: each one's Sample, or the OcrFormatError
        reading it gave (the pairs of the range are listed at once).

        Raises:
            ValueError: the format is not a folder layout.
        """
        read_paths, args = self._module().read_paths, self._read_args()
        pairs = self.pairs
        paths = (pairs.paths(slice(start, stop)) if isinstance(pairs, FolderPairs)
                 else [(p.image, p.label) for p in pairs[start:stop]])
        out: List[Union[Sample, OcrFormatError]] = []
        for image, label in paths:
            try:
                out.append(read_paths(image, label, *args))
            except OcrFormatError as e:
                out.append(e)
        return out

    def _read_args(self) -> tuple:
        """The folder reader's arguments after the pair: the encoding, and for ``icdar`` the variant and scripts."""
        opts = self.options
        return (opts.encoding, opts.icdar_variant, opts.scripts) if self.format == "icdar" else (opts.encoding,)

    def _module(self):
        if self.format not in ("icdar", "wordbox"):
            raise ValueError(f"read_one and read_raw are for folder layouts, not {self.format!r}")
        return icdar if self.format == "icdar" else wordbox

    def _iter_raw(self) -> Iterator[Tuple[str, Item]]:
        opts = self.options
        if self.format in ("icdar", "wordbox"):
            module = icdar if self.format == "icdar" else wordbox
            for pair in self.pairs:
                key = pair.image  # = the key of a folder layout
                try:
                    sample = module.read_pair(pair, *self._read_args())
                except OcrFormatError as e:
                    yield key, e
                else:
                    yield key, sample
        elif self.format == "parquet":
            for (row_no, row), key in zip(parquet.iter_parquet_rows(self.path, self.image_column, self.text_column),
                                          self.keys):
                try:
                    sample = parquet.sample_from_row(row, self.path, row_no, self.image_column, self.text_column,
                                                     allow_outside_root=opts.allow_outside_root)
                except OcrFormatError as e:
                    yield key, e
                else:
                    yield key, sample
        elif self.format == "got":
            for (no, item), key in zip(got_json.iter_got_samples(self.path, self.image_root, opts.allow_outside_root),
                                       self.keys):
                yield key, item
        else:
            raise ValueError(f"unknown format {self.format!r}")


def open_source(fmt: str, images=None, labels=None, list_file=None, input_path=None, encoding: Optional[str] = None,
                image_column: str = "image", text_column: str = "text",
                image_root: Optional[str] = None, nfkc: bool = True, check_images: str = "verify",
                max_image_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS,
                allow_outside_root: bool = False, icdar_variant: str = "auto",
                scripts: Optional[Sequence[str]] = None) -> SourceReader:
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
        nfkc, check_images, max_image_pixels, allow_outside_root, icdar_variant, scripts: see
            :class:`~swift_ocr.formats.checks.ReadOptions` (``icdar_variant``/``scripts``: ``icdar`` only).

    Raises:
        ValueError: unknown format, wrong combination of inputs, or a bad option value.
        OcrFormatError: the input cannot be opened at all.
    """
    options = ReadOptions(encoding=encoding, nfkc=nfkc, check_images=check_images, max_image_pixels=max_image_pixels,
                          allow_outside_root=allow_outside_root, icdar_variant=icdar_variant,
                          scripts=tuple(scripts) if scripts is not None else None)
    if fmt in ("icdar", "wordbox"):
        exts = (".txt", ".csv") if fmt == "icdar" else (".json",)
        if input_path is not None and os.path.isfile(input_path):
            if fmt != "icdar":
                raise ValueError("a list file is only supported for --format icdar")
            list_file, input_path = input_path, None
        pairs, rejections = discover_pairs(images=images, labels=labels, list_file=list_file, root=input_path,
                                           label_exts=exts, encoding=encoding, allow_outside_root=allow_outside_root)
        keys = pairs.keys if isinstance(pairs, FolderPairs) else [p.image for p in pairs]
        return SourceReader(fmt, keys, rejections, pairs=pairs, encoding=encoding, options=options)
    if fmt in ("parquet", "got"):
        if input_path is None or images is not None or labels is not None or list_file is not None:
            raise ValueError(f"--format {fmt} takes --input FILE only")
        path = os.path.abspath(input_path)
        # split keys name the image, not the row: rows/entries showing one image must not straddle train and val
        if fmt == "parquet":
            n = parquet.count_rows(path) if os.path.isfile(path) else _missing(path)
            try:
                keys = parquet.image_keys(path, image_column)
            except OcrFormatError:  # e.g. no such column: reported when the rows are read
                keys = [f"{path}#{i}" for i in range(1, n + 1)]
        else:
            keys = [got_json.image_key(e, path, i, image_root) for i, e in enumerate(got_json.load_entries(path))]
        return SourceReader(fmt, keys, path=path, image_column=image_column,
                            text_column=text_column, image_root=image_root, encoding=encoding, options=options)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def _missing(path):
    raise OcrFormatError(path, None, "file does not exist", "file_not_found")
