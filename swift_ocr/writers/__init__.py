"""Output writers of the converter (samples -> training files), one self-registering module per output format, and
their registry (:mod:`swift_ocr.writers.registry`). Importing this package imports every module in it
(:func:`swift_ocr.registry.import_package_modules`), so that each writer registers itself, the built-in ones in this
order: swift (ms-swift jsonl, the default), got (GOT conversation JSON), paddle_det and paddle_rec (PaddleOCR
labels)."""
from __future__ import annotations

from swift_ocr.registry import import_package_modules
from swift_ocr.writers.registry import (DEFAULT_WRITER, OutputWriter, RowSpec, get_writer, register_writer,
                                        unregister_writer, writer_for_output, writer_names)

# each writer module registers its writer (adding one is adding its module); these first, in the CLI's order
import_package_modules(__name__, __path__, ("swift_jsonl", "got_json", "paddle_det", "paddle_rec"))

__all__ = ["DEFAULT_WRITER", "OutputWriter", "RowSpec", "get_writer", "register_writer", "unregister_writer",
           "writer_for_output", "writer_names"]
