"""Reader for Hugging Face image datasets stored as parquet (e.g. the OCR sets DeepSeek-OCR/Unsloth users
fine-tune on).

Columns (names configurable):

* ``image``: a struct ``{bytes: binary, path: string}`` (how ``datasets.Image()`` stores images: with the bytes
  embedded, or -- as ``Dataset.to_parquet`` writes images cast from file paths -- with ``bytes`` null and the
  file's path), raw encoded image bytes, or a plain path string. A path (when ``bytes`` is null, or a string) is
  relative to the parquet file's folder or absolute, and must lie inside that folder unless
  ``allow_outside_root`` (:func:`~swift_ocr.formats.checks.resolve_inside_root`).
* ``text``: the ground-truth text.

The train/val split of the converter puts rows that show the same image into the same split: :func:`image_keys`
names each row's image by a hash of its bytes (SHA-256) or by its resolved path.

The file is read one row group at a time (``pyarrow.parquet.ParquetFile.iter_batches``), never all at once.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

from swift_ocr.errors import OcrFormatError, read_error
from swift_ocr.sample import Sample
from swift_ocr.formats.checks import resolve_inside_root
from swift_ocr.formats.registry import FILE, FormatOption, LabelFormat, register_format


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
        or whose ``images[0]`` is a real path when the row stores a path only (a ``{bytes: null, path}`` struct or
        a path string).

    Raises:
        OcrFormatError: kind ``bad_record``: missing column, no image bytes or path, an image already decoded to a
            PIL image (read the file with ``datasets.Image(decode=False)``), non-string text; kind
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
    if isinstance(image, str) and image:
        root = base_dir or os.path.dirname(os.path.abspath(source))
        path = resolve_inside_root(image, root, allow_outside_root, source, row_no)
        return Sample(images=[path], text=text, source=source, line=row_no)
    if hasattr(image, "getpixel") and hasattr(image, "mode"):  # a PIL image: datasets decoded the column
        raise OcrFormatError(source, row_no, f"column {image_column!r} holds a decoded {type(image).__name__}, not "
                             "the encoded file: read the parquet with datasets.Image(decode=False) so the original "
                             "bytes are kept", "bad_record")
    raise OcrFormatError(source, row_no, f"column {image_column!r} has neither image bytes nor a path", "bad_record")


def image_identity(image: Any, base_dir: str) -> Optional[str]:
    """The identity of one row's ``image`` value (see :func:`sample_from_row` for the shapes): ``"sha256:<hex>"``
    (SHA-256 of the encoded bytes) when the row embeds them, else the path resolved against ``base_dir``
    (absolute, normalised, lexical: as :func:`sample_from_row` resolves it); None when the row has neither (it is
    rejected when read)."""
    if isinstance(image, dict):
        data, path = image.get("bytes"), image.get("path")
    elif isinstance(image, (bytes, bytearray)):
        data, path = image, None
    else:
        data, path = None, image if isinstance(image, str) else None
    if data:
        return "sha256:" + hashlib.sha256(data).hexdigest()
    if path:
        return os.path.normpath(os.path.join(os.path.abspath(base_dir), str(path)))
    return None


def image_keys(path, image_column: str = "image", base_dir: Optional[str] = None,
               batch_size: int = 64) -> List[str]:
    """One split key per row (in row order): the row's :func:`image_identity`, or ``"<file>#<row>"`` (1-based) for a
    row without image bytes or path. Reads the image column only, one batch at a time (a pass over the image bytes,
    hashed, not kept).

    Args:
        base_dir: folder relative paths are resolved against (default: the parquet file's folder).

    Raises:
        OcrFormatError: the file is not readable parquet or lacks the image column.
    """
    source = str(path)
    base = base_dir or os.path.dirname(os.path.abspath(source))
    keys = []
    for row_no, row in iter_parquet_rows(source, image_column, None, batch_size):
        keys.append(image_identity(row[image_column], base) or f"{source}#{row_no}")
    return keys


def count_rows(path) -> int:
    """Number of rows, from the parquet footer (no data is read).

    Raises:
        OcrFormatError: the file is missing or not parquet.
    """
    import pyarrow.parquet as pq
    try:
        return pq.ParquetFile(str(path)).metadata.num_rows
    except Exception as e:  # pyarrow raises ArrowInvalid (a ValueError) or OSError
        raise read_error(path, e, "cannot read parquet") from e


def iter_parquet_rows(path, image_column: str = "image", text_column: Optional[str] = "text",
                      batch_size: int = 64) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """Yield ``(row_no, row)`` (1-based) reading at most ``batch_size`` rows of one row group at a time; rows hold the
    image and text columns (the image column only when ``text_column`` is None).

    Raises:
        OcrFormatError: the file is not readable parquet or lacks a column (kinds ``unreadable_file``,
            ``file_not_found``, ``bad_record``); while iterating, a data page that cannot be read (kind
            ``unreadable_file``, naming the first row not read).
    """
    import pyarrow.parquet as pq
    source = str(path)
    try:
        # pre_buffer=False: pyarrow's default pre-buffering reads far beyond the current row group, which breaks
        # "files larger than memory" (measured by benchmarks/parquet_stream.py).
        pf = pq.ParquetFile(source, pre_buffer=False)
    except Exception as e:  # pyarrow raises ArrowInvalid (a ValueError) or OSError
        raise read_error(source, e, "cannot read parquet") from e
    names = pf.schema_arrow.names
    columns = [image_column] + ([text_column] if text_column is not None else [])
    for col in columns:
        if col not in names:
            raise OcrFormatError(source, None, f"missing column {col!r} (columns: {', '.join(names)})", "bad_record")
    row_no = 0
    batches = pf.iter_batches(batch_size=batch_size, columns=columns)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as e:  # pyarrow: ArrowInvalid / OSError for corrupt or truncated data pages
            raise OcrFormatError(source, row_no + 1, f"cannot read parquet data from row {row_no + 1} on: {e}",
                                 "unreadable_file") from e
        for row in batch.to_pylist():
            row_no += 1
            yield row_no, row


class ParquetFormat(LabelFormat):
    """``--format parquet``: a Hugging Face image dataset stored as parquet (module docstring), read as a stream;
    own options ``image_column`` and ``text_column``. Rows may embed their images (:attr:`embeds_images`)."""

    name = "parquet"
    description = "Hugging Face image datasets stored as parquet (image + text columns)"
    layout = FILE
    options = (FormatOption("image_column", "image", "the image column"),
               FormatOption("text_column", "text", "the text column"))
    embeds_images = True

    def split_keys(self, path, params, options):
        """:func:`image_keys`; every row its own key (``file#row``) when the image column cannot be read (the rows'
        reading then reports why).

        Raises:
            OcrFormatError: the file does not exist or is not parquet."""
        if not os.path.isfile(path):
            raise OcrFormatError(path, None, "file does not exist", "file_not_found")
        n = count_rows(path)
        try:
            return image_keys(path, params["image_column"])
        except OcrFormatError:  # e.g. no such column: reported when the rows are read
            return [f"{path}#{i}" for i in range(1, n + 1)]

    def iter_items(self, path, params, options):
        image_column, text_column = params["image_column"], params["text_column"]
        for row_no, row in iter_parquet_rows(path, image_column, text_column):
            try:
                yield sample_from_row(row, path, row_no, image_column, text_column,
                                      allow_outside_root=options.allow_outside_root)
            except OcrFormatError as e:
                yield e

    def hf_dataset(self, path, params, streaming):
        """The file loaded by ``datasets.load_dataset("parquet")`` with a 1-based ``__row`` column; an ``Image()``
        column is cast to ``Image(decode=False)``, so rows carry the stored ``{bytes, path}`` as the converter reads
        them (not decoded PIL images)."""
        from datasets import Dataset as HfDataset
        from datasets import Image as HfImage
        from datasets import load_dataset as hf_load_dataset

        dataset = hf_load_dataset("parquet", data_files=path, split="train", streaming=streaming)
        column = params["image_column"]
        feature = (dataset.features or {}).get(column)
        if isinstance(feature, HfImage) and feature.decode:
            dataset = dataset.cast_column(column, HfImage(decode=False))
        if isinstance(dataset, HfDataset):
            return dataset.add_column("__row", list(range(1, len(dataset) + 1)))
        return dataset.map(lambda _, i: {"__row": i + 1}, with_indices=True)  # streamed: numbered as they come

    def read_row(self, row, source, params, options):
        return sample_from_row(row, source, row.get("__row", 0) or 0, params["image_column"], params["text_column"],
                               allow_outside_root=options.allow_outside_root)


register_format(ParquetFormat())
