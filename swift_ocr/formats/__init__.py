"""Label formats: readers from files to :class:`~swift_ocr.sample.Sample`, one self-registering module per format
(:mod:`~swift_ocr.formats.icdar`, :mod:`~swift_ocr.formats.wordbox`, :mod:`~swift_ocr.formats.parquet`,
:mod:`~swift_ocr.formats.got_json`, :mod:`~swift_ocr.formats.paddle_det`, :mod:`~swift_ocr.formats.paddle_rec`,
:mod:`~swift_ocr.formats.mmocr`), the registry they join (:mod:`swift_ocr.formats.registry`), and the uniform
reader the converter uses (:func:`open_source`, :mod:`swift_ocr.formats.source`).

Importing this package registers the built-in formats, in this order: wordbox, icdar, parquet, got, paddle_det,
paddle_rec, mmocr.
"""
from __future__ import annotations

# each module registers its format; this line sets the order of the --format choices
from swift_ocr.formats import wordbox, icdar, parquet, got_json, paddle_det, paddle_rec, mmocr  # noqa: F401
from swift_ocr.formats.registry import (FormatOption, LabelFormat, FileFormat, PairFormat, format_names, formats,
                                        get_format, register_format, unregister_format)
from swift_ocr.formats.source import Item, SourceReader, open_source

__all__ = ["FormatOption", "LabelFormat", "FileFormat", "PairFormat", "format_names", "formats", "get_format",
           "register_format", "unregister_format", "Item", "SourceReader", "open_source"]
