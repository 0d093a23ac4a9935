"""Test helper: ``swift infer --result_path`` files written the way ms-swift 4.6.0 writes them, and the real
ICDAR 2015 / SROIE ground truth they are built from.

Used through the ``result_rows`` fixture of tests/conftest.py (test modules cannot import this file by name:
pytest runs with ``--import-mode=importlib`` and tests/ is no package).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.sample import Sample


def write_swift_results(path: Path, items) -> Path:
    """Write result rows as ms-swift 4.6.0 ``SwiftInfer._batch_infer`` does, with ms-swift's own helpers
    (``RowPreprocessor._cast_mm_data``, ``remove_response``, ``JsonlWriter``; see tests/test_results.py).

    ``items``: ``(image, target, response)`` or ``(image, target, response, extra_columns)``; ``target`` is the
    dataset's assistant answer, popped into ``labels`` by ``remove_response``; the response is appended to
    ``messages`` afterwards; ``extra_columns`` (a dict) are further dataset columns, kept in the row.
    An existing file at ``path`` is replaced (``JsonlWriter`` appends). Returns ``path``.
    """
    from swift.dataset.preprocessor import RowPreprocessor
    from swift.utils import JsonlWriter, remove_response

    out = []
    for image, target, response, *extra in items:
        row = {"messages": [{"role": "user", "content": "<image>Spot all the text with its boxes."},
                            {"role": "assistant", "content": target}],
               "images": [str(image)], **(extra[0] if extra else {})}
        RowPreprocessor._cast_mm_data(row)
        labels = remove_response(row["messages"])
        row["messages"].append({"role": "assistant", "content": response})
        out.append({"response": response, "labels": labels, "logprobs": None, **row})
    if path.exists():
        path.unlink()
    JsonlWriter(str(path)).append(out)
    return path


def icdar2015_samples(shared_data: Path) -> List[Tuple[Sample, Path]]:
    """``(Sample, label file)`` of every ICDAR 2015 image (``gts/gt_img_N.txt`` <-> ``imgs/img_N.jpg``), sorted by
    label path."""
    root = shared_data / "icdar2015"
    return [(read_icdar_file(label, root / "imgs" / (label.stem[3:] + ".jpg")), label)
            for label in sorted((root / "gts").glob("gt_img_*.txt"))]


def sroie_samples(shared_data: Path) -> List[Tuple[Sample, Path]]:
    """``(Sample, label file)`` of every SROIE receipt (``box/NNN.csv`` <-> ``img/NNN.jpg``), sorted by label path."""
    root = shared_data / "sroie"
    return [(read_icdar_file(label, root / "img" / (label.stem + ".jpg")), label)
            for label in sorted((root / "box").glob("*.csv"))]
