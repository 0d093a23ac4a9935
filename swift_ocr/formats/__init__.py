"""Label formats: readers from files to :class:`~swift_ocr.sample.Sample`, one self-registering module per format
(:mod:`~swift_ocr.formats.icdar`, :mod:`~swift_ocr.formats.wordbox`, :mod:`~swift_ocr.formats.parquet`,
:mod:`~swift_ocr.formats.got_json`, :mod:`~swift_ocr.formats.paddle_det`, :mod:`~swift_ocr.formats.paddle_rec`,
:mod:`~swift_ocr.formats.mmocr`), the registry they join (:mod:`swift_ocr.formats.registry`), and the uniform
reader the converter uses (:func:`open_source`, :mod:`swift_ocr.formats.source`).

Importing this package imports every module in it (:func:`swift_ocr.registry.import_package_modules`), so that each
format module registers itself -- adding a format is adding its module --, the built-in formats in this order:
wordbox, icdar, parquet, got, paddle_det, paddle_rec, mmocr, then any other format module by name.
"""
from __future__ import annotations

from swift_ocr.formats.registry import (FormatOption, LabelFormat, FileFormat, PairFormat, format_names, formats,
                                        get_format, register_format, unregister_format)
from swift_ocr.formats.source import Item, SourceReader, open_source
from swift_ocr.registry import import_package_modules

# each format module registers its format; these first, in the order of the --format choices
import_package_modules(__name__, __path__, ("wordbox", "icdar", "parquet", "got_json", "paddle_det", "paddle_rec",
                                            "mmocr"))

__all__ = ["FormatOption", "LabelFormat", "FileFormat", "PairFormat", "format_names", "formats", "get_format",
           "register_format", "unregister_format", "Item", "SourceReader", "open_source"]
