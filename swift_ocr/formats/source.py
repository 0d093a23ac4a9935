"""One uniform reader over every registered input format (:mod:`swift_ocr.formats.registry`), used by the converter:
:func:`open_source` lists an input, :class:`SourceReader` reads its items. Every item it yields has been through
:func:`~swift_ocr.formats.checks.finish_sample` (image checks, NFKC, region geometry), the same checks the ms-swift
preprocessor applies.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

from swift_ocr.errors import OcrFormatError, Rejection
from swift_ocr.formats.checks import ReadOptions, finish_sample
from swift_ocr.formats.layout import FolderPairs, Pair
from swift_ocr.formats.registry import (PAIRS, LabelFormat, Params, all_format_options, check_format_options,
                                        get_format)
from swift_ocr.sample import Sample

Item = Union[Sample, OcrFormatError]


@dataclass
class SourceReader:
    """A dataset in one input format.

    ``keys`` identify source items for the train/val split, so that items showing one image share a split: the image
    path for pair layouts (cheap to list: no label is parsed); for file layouts the format's
    :meth:`~swift_ocr.formats.registry.LabelFormat.split_keys` (GOT JSON: the entry's image paths resolved against the
    image root; parquet: a hash of the row's image bytes, or its resolved path; ``file#row`` for an item without a
    usable image value). For folder pairs (``pairs`` a :class:`~swift_ocr.formats.layout.FolderPairs`) both are
    compact sequences built on access, not lists.
    ``rejections`` are the problems found while listing (unmatched files, bad list-file lines, paths outside the
    root); each is one input item not converted.
    ``path`` is the input file of a file layout (absolute); ``params`` the format's own option values
    (:meth:`~swift_ocr.formats.registry.LabelFormat.params`); ``options`` the shared read options
    (:class:`~swift_ocr.formats.checks.ReadOptions`). ``label_format`` is the format itself (default: the registered
    format named ``format``); it travels with the reader to worker processes.
    """

    format: str
    keys: Sequence[str]
    rejections: List[Rejection] = field(default_factory=list)
    pairs: Sequence[Pair] = field(default_factory=list)
    path: Optional[str] = None
    params: Params = field(default_factory=dict)
    options: ReadOptions = field(default_factory=ReadOptions)
    label_format: Optional[LabelFormat] = None

    def __post_init__(self):
        if self.label_format is None:
            self.label_format = get_format(self.format)

    def iter_samples(self) -> Iterator[Tuple[str, Item]]:
        """Yield ``(key, Sample)`` or ``(key, OcrFormatError)`` for every item, in key order; samples have been
        through :func:`~swift_ocr.formats.checks.finish_sample`.

        Raises:
            OcrFormatError: only when the whole input becomes unreadable (e.g. a parquet file that cannot be read).
        """
        for key, item in self._iter_raw():
            if isinstance(item, Sample):
                item = self.finish(item)
            yield key, item

    def read_one(self, index: int) -> Item:
        """Read and check the ``index``-th item of a pair layout (icdar, wordbox): a Sample that has been through
        :func:`~swift_ocr.formats.checks.finish_sample`, or the OcrFormatError that reading it gave.

        Raises:
            ValueError: the format is not a pair layout (file layouts are read as streams).
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
        """The ``index``-th item of a pair layout as its reader gives it, before
        :func:`~swift_ocr.formats.checks.finish_sample` (``image_size`` not read yet).

        Raises:
            OcrFormatError: the item cannot be read (the error :meth:`read_one` returns).
            ValueError: the format is not a pair layout (file layouts are read as streams).
        """
        pair = self.pairs[index]
        return self._pair_reader()(pair.image, pair.label)

    def read_raw_range(self, start: int, stop: int) -> List[Item]:
        """:meth:`read_raw` of the items ``start <= index < stop``, in order: each one's Sample, or the OcrFormatError
        reading it gave (the pairs of the range are listed at once).

        Raises:
            ValueError: the format is not a pair layout.
        """
        read = self._pair_reader()
        pairs = self.pairs
        paths = (pairs.paths(slice(start, stop)) if isinstance(pairs, FolderPairs)
                 else [(p.image, p.label) for p in pairs[start:stop]])
        out: List[Item] = []
        for image, label in paths:
            try:
                out.append(read(image, label))
            except OcrFormatError as e:
                out.append(e)
        return out

    def _pair_reader(self) -> Callable[[str, str], Sample]:
        read = self.__dict__.get("_read")
        if read is None:
            if self.label_format.layout != PAIRS:
                raise ValueError(f"read_one and read_raw are for pair layouts, not {self.format!r}")
            read = self.__dict__["_read"] = self.label_format.path_reader(self.options)
        return read

    def _iter_raw(self) -> Iterator[Tuple[str, Item]]:
        if self.label_format.layout == PAIRS:
            read = self._pair_reader()
            for pair in self.pairs:
                try:
                    yield pair.image, read(pair.image, pair.label)  # the key of a pair layout: the image path
                except OcrFormatError as e:
                    yield pair.image, e
            return
        yield from zip(self.keys, self.label_format.iter_items(self.path, self.params, self.options))


def open_source(fmt: Union[str, LabelFormat], images=None, labels=None, list_file=None, input_path=None,
                encoding: Optional[str] = ReadOptions.encoding, *, nfkc: bool = ReadOptions.nfkc,
                check_images: str = ReadOptions.check_images,
                max_image_pixels: Optional[int] = ReadOptions.max_image_pixels,
                allow_outside_root: bool = ReadOptions.allow_outside_root,
                icdar_variant: str = ReadOptions.icdar_variant, scripts: Optional[Sequence[str]] = ReadOptions.scripts,
                **format_options: Optional[str]) -> SourceReader:
    """Open a dataset for reading.

    Args:
        fmt: a registered format's name (:func:`~swift_ocr.formats.registry.format_names`), or the format itself.
        images, labels: image and label folders (pair layouts).
        list_file: a DBNet list file (pair layouts that take one: ``icdar``).
        input_path: pair layouts: a dataset root folder (or a list file); file layouts: the file.
        encoding: label-file encoding; default UTF-8 (BOM allowed) then GB18030.
        nfkc, check_images, max_image_pixels, allow_outside_root, icdar_variant, scripts: see
            :class:`~swift_ocr.formats.checks.ReadOptions`, whose defaults they take (``icdar_variant``/``scripts``:
            ``icdar`` only).
        format_options: the format's own options (:attr:`~swift_ocr.formats.registry.LabelFormat.options`), e.g.
            ``image_column``/``text_column`` (parquet), ``image_root`` (got: the folder image paths are relative to,
            default the JSON file's folder). Options of other formats are ignored when None or at their default.

    Raises:
        ValueError: unknown format or option, wrong combination of inputs, an option of another format, or a bad
            option value.
        OcrFormatError: the input cannot be opened at all.
    """
    label_format = fmt if isinstance(fmt, LabelFormat) else get_format(fmt)
    unknown = sorted(set(format_options) - set(all_format_options()) - set(label_format.option_names()))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for --format {label_format.name}")
    check_format_options(label_format, {**format_options, "icdar_variant": icdar_variant, "scripts": scripts})
    own = set(label_format.option_names())
    params = label_format.params({k: v for k, v in format_options.items() if k in own})
    options = ReadOptions(encoding=encoding, nfkc=nfkc, check_images=check_images, max_image_pixels=max_image_pixels,
                          allow_outside_root=allow_outside_root, icdar_variant=icdar_variant,
                          scripts=tuple(scripts) if scripts is not None else None)
    name = label_format.name
    if label_format.layout == PAIRS:
        if input_path is not None and os.path.isfile(input_path):
            if not label_format.list_files:
                raise ValueError(f"a list file is not supported for --format {name}")
            list_file, input_path = input_path, None
        pairs, rejections = label_format.list_pairs(images=images, labels=labels, list_file=list_file,
                                                    root=input_path, options=options)
        keys = pairs.keys if isinstance(pairs, FolderPairs) else [p.image for p in pairs]
        return SourceReader(name, keys, rejections, pairs=pairs, params=params, options=options,
                            label_format=label_format)
    if input_path is None or images is not None or labels is not None or list_file is not None:
        raise ValueError(f"--format {name} takes --input FILE only")
    path = os.path.abspath(input_path)
    # split keys name the image, not the row: rows/entries showing one image must not straddle train and val
    keys = label_format.split_keys(path, params, options)
    return SourceReader(name, keys, path=path, params=params, options=options, label_format=label_format)

