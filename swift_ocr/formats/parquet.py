"""Reader for Hugging Face image datasets stored as parquet (e.g. the OCR sets DeepSeek-OCR/Unsloth users
fine-tune on).

Columns (names configurable):

* ``image``: either a struct ``{bytes: binary, path: string}`` (how ``datasets.Image()`` stores images) or
  raw encoded image bytes. When ``bytes`` is null, ``path`` is read relative to the parquet file's folder.
* ``text``: the ground-truth text.

The file is read one row group at a time (``pyarrow.parquet.ParquetFile.iter_batches``), never all at once.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterator, Optional, Tuple

from ..errors import OcrFormatError
from ..sample import Sample
from .checks import resolve_inside_root


def sample_from_row(row: Dict[str, Any], source: str, row_no: int, image_column: str = "image",
                    text_column: str = "text", base_dir: Optional[str] = None,
                    allow_outside_root: bool = False) -> Sample:
    """Turn one parquet / Hugging Face dataset row into a :class:`Sample`.

    Args:
        row: the row as a dict (pyarrow ``to_pylist`` or ``datasets`` row).
        source: the parquet file, for error messages; ``row_no``: 1-based row number in it.
        base_dir: folder for relative image paths (default: the parquet file's folder); a path-only row must
            stay inside it unless ``allow_outside_root``.

    Returns:
        A sample whose ``image_bytes`` holds the encoded image (``images[0]`` is then only a display name),
        or whose ``images[0]`` is a real path when the row stores a path only.

    Raises:
        OcrFormatError: kind ``bad_record``: missing column, no image bytes or path, non-string text; kind
            ``outside_root``: an image path outside ``base_dir``.
    """
    for col in (image_column, text_column):
        if col not in row:
            raise OcrFormatError(source, row_no, f"missing column {col!r} (columns: {', '.join(map(str, row))})",
                                 "bad_record")
    image, text = row[image_column], row[text_column]
    if not isinstance(text, str):
        raise OcrFormatError(source, row_no, f"column {text_column!r} is not a string: {text!r:.80}", "bad_record")
    name = f"{os.path.basename(source)}#row{row_no}"
    if isinstance(image, (bytes, bytearray)):
        return Sample(images=[name], text=text, source=source, line=row_no, image_bytes=bytes(image))
    if isinstance(image, dict):
        if image.get("bytes"):
            path = image.get("path")
            return Sample(images=[path or name], text=text, source=source, line=row_no,
                          image_bytes=bytes(image["bytes"]))
        if image.get("path"):
            root = base_dir or os.path.dirname(os.path.abspath(source))
            path = resolve_inside_root(str(image["path"]), root, allow_outside_root, source, row_no)
            return Sample(images=[path], text=text, source=source, line=row_no)
    raise OcrFormatError(source, row_no, f"column {image_column!r} has neither image bytes nor a path", "bad_record")


def count_rows(path) -> int:
    """Number of rows, from the parquet footer (no data is read).

    Raises:
        OcrFormatError: the file is missing or not parquet.
    """
    import pyarrow.parquet as pq
    try:
        return pq.ParquetFile(str(path)).metadata.num_rows
    except Exception as e:  # pyarrow raises ArrowInvalid (a ValueError) or OSError
        kind = "file_not_found" if isinstance(e, FileNotFoundError) else "unreadable_file"
        raise OcrFormatError(str(path), None, f"cannot read parquet: {e}", kind) from e


def iter_parquet_rows(path, image_column: str = "image", text_column: str = "text",
                      batch_size: int = 64) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """Yield ``(row_no, row)`` (1-based) reading at most ``batch_size`` rows of one row group at a time.

    Raises:
        OcrFormatError: the file is not readable parquet or lacks a column.
    """
    import pyarrow.parquet as pq
    source = str(path)
    try:
        # pre_buffer=False: pyarrow's default pre-buffering reads far beyond the current row group, which breaks
        # "files larger than memory" (measured by benchmarks/parquet_stream.py).
        pf = pq.ParquetFile(source, pre_buffer=False)
    except (OSError, Exception) as e:  # pyarrow raises ArrowInvalid (a ValueError) or OSError
        kind = "file_not_found" if isinstance(e, FileNotFoundError) else "unreadable_file"
        raise OcrFormatError(source, None, f"cannot read parquet: {e}", kind) from e
    names = pf.schema_arrow.names
    for col in (image_column, text_column):
        if col not in names:
            raise OcrFormatError(source, None, f"missing column {col!r} (columns: {', '.join(names)})", "bad_record")
    row_no = 0
    for batch in pf.iter_batches(batch_size=batch_size, columns=[image_column, text_column]):
        for row in batch.to_pylist():
            row_no += 1
            yield row_no, row
