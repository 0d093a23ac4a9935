"""PaddleOCR detection results (``--pred-format paddle``): one image per line, ``<image><TAB><JSON list>``, as
PaddleOCR's inference tools write them (PaddleOCR 2.x):

* ``tools/infer_det.py`` (``Global.save_res_path``, e.g. ``predicts_db.txt``): ``<image path><TAB>[{"points":
  [[x, y], ...]}, ...]`` (some versions add ``"transcription": ""``);
* ``tools/infer/predict_system.py`` (``system_results.txt``): ``<image file name><TAB>[{"transcription": ...,
  "points": [[x, y], ...]}, ...]``, detection with recognition;
* ``tools/infer/predict_det.py`` (``det_results.txt``): ``<image file name><TAB>[[[x, y], ...], ...]``, the boxes
  alone;
* a detection label file (``paddleocr_det_gt.txt``, PPOCRLabel's ``Label.txt``) read as predictions.

``points`` are the vertices in pixels of the original image (at least 3). ``transcription`` (optional) is the
detection's text (``""`` when absent); ``###`` has no special meaning in predictions (see
:mod:`swift_ocr.eval.predictions.common`). ``score`` (optional, a number) is the detection's confidence, used only
with ``--score-threshold``; other keys are ignored. An empty list is an image without detections.

The image is the field before the first tab: a path relative to the file's folder, an absolute path, or a file name;
it is matched to the ground truth by path, else by stem. Lines are split as PaddleOCR reads them
(:func:`swift_ocr.formats.paddle_list.split_lines`); files are UTF-8 with or without BOM (GB18030 accepted).
"""
from __future__ import annotations

import json
import os
from typing import List

from swift_ocr.errors import OcrFormatError
from swift_ocr.eval.predictions.common import ImagePredictions, number_or_none
from swift_ocr.formats.coordinates import polygon_from_pairs
from swift_ocr.formats.paddle_list import split_lines
from swift_ocr.formats.text_io import check_text, decode_label_bytes, read_label_bytes
from swift_ocr.sample import Region

__all__ = ["looks_like_paddle", "parse_paddle_line", "read_paddle_results"]


def looks_like_paddle(line: str) -> bool:
    """A line that reads as ``<image><TAB>[...]`` (for format detection)."""
    image, tab, rest = line.partition("\t")
    return bool(tab and image.strip() and rest.lstrip().startswith("["))


def parse_paddle_line(line: str, source: str, no: int) -> ImagePredictions:
    """One ``<image><TAB><JSON list>`` line.

    Raises:
        OcrFormatError: ``bad_list_line`` (no tab, empty image), ``invalid_json``, ``bad_record`` (not a list of
            point lists or objects with ``points``; a non-string ``transcription``; a score that is not a number),
            ``bad_coordinates`` (see :func:`~swift_ocr.formats.coordinates.polygon_from_pairs`).
    """
    image, tab, label = line.partition("\t")
    if not tab or not image.strip():
        raise OcrFormatError(source, no, f"expected '<image><TAB>[detections]' (PaddleOCR results), got "
                             f"{line[:80]!r}", "bad_list_line")
    try:
        data = json.loads(label)
    except (json.JSONDecodeError, RecursionError) as e:
        why = e.msg if isinstance(e, json.JSONDecodeError) else "nested too deeply"
        raise OcrFormatError(source, no, f"invalid JSON after the tab: {why}", "invalid_json") from None
    if not isinstance(data, list):
        raise OcrFormatError(source, no, f"expected a JSON list of detections after the tab, got "
                             f"{type(data).__name__}", "bad_record")
    regions, scores = [], []
    for i, entry in enumerate(data, 1):
        what = f"detection #{i}"
        if isinstance(entry, dict):
            if "points" not in entry:
                raise OcrFormatError(source, no, f"{what}: an object without 'points': "
                                     f"{json.dumps(entry, ensure_ascii=False)[:80]}", "bad_record")
            text = entry.get("transcription", "")
            if not isinstance(text, str):
                raise OcrFormatError(source, no, f"{what}: 'transcription' must be a string, got {text!r:.40}",
                                     "bad_record")
            check_text(text, source, no)
            polygon = polygon_from_pairs(entry["points"], source, no, what, "'points'")
            score = number_or_none(entry.get("score"), source, no, f"{what}: 'score'")
        elif isinstance(entry, list):
            polygon, text, score = polygon_from_pairs(entry, source, no, what), "", None
        else:
            raise OcrFormatError(source, no, f"{what}: expected {{\"points\": ...}} or a list of [x, y] points, got "
                                 f"{json.dumps(entry)[:60]}", "bad_record")
        regions.append(Region(polygon=polygon, text=text))
        scores.append(score)
    return ImagePredictions(image=image, regions=regions, scores=scores, source=source, line=no,
                            base_dir=os.path.dirname(os.path.abspath(source)))


def read_paddle_results(path: str) -> List[ImagePredictions]:
    """Every line of a PaddleOCR results file, in file order.

    Raises:
        OcrFormatError: an unreadable file, a malformed line (naming file and line), or no line at all.
    """
    text, _ = decode_label_bytes(read_label_bytes(path), path)
    records = [parse_paddle_line(line, path, no) for no, line in split_lines(text)]
    if not records:
        raise OcrFormatError(path, None, "no result lines ('<image><TAB>[detections]')")
    return records
