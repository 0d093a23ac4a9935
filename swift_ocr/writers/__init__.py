"""Output writers of the converter (samples -> training files), one self-registering module per output format, and
their registry (:mod:`swift_ocr.writers.registry`). Importing this package registers the built-in writers, in this
order: swift (ms-swift jsonl, the default), got (GOT conversation JSON), paddle_det and paddle_rec (PaddleOCR
labels)."""
from __future__ import annotations

from swift_ocr.writers import swift_jsonl, got_json, paddle_det, paddle_rec  # noqa: F401  (each registers its writer)
from swift_ocr.writers.registry import (DEFAULT_WRITER, OutputWriter, RowSpec, get_writer, register_writer,
                                        unregister_writer, writer_for_output, writer_names)

__all__ = ["DEFAULT_WRITER", "OutputWriter", "RowSpec", "get_writer", "register_writer", "unregister_writer",
           "writer_for_output", "writer_names"]
