"""MMOCR 1.x detection predictions (``--pred-format mmocr``).

What MMOCR writes (``mmocr/apis/inferencers/``, MMOCR 1.0):

* ``MMOCRInferencer(det=...)(images, out_dir=OUT, save_pred=True)`` writes one JSON per image,
  ``OUT/preds/<image stem>.json`` (``mmocr_inferencer.py``, ``postprocess``), holding
  ``{"det_polygons": [[x1, y1, x2, y2, ...], ...], "det_scores": [...]}`` and, with a recogniser,
  ``"rec_texts": [...]``, ``"rec_scores": [...]``;
* ``TextDetInferencer`` alone writes the same files with ``{"polygons": [...], "scores": [...]}``
  (``textdet_inferencer.py``, ``pred2dict``).

Accepted here:

* a **folder** of such ``<image stem>.json`` files (``OUT/preds``); each file is one image, matched to the ground
  truth by stem;
* one **JSON file** holding a list of per-image entries, or ``{"predictions": [...]}`` (the inferencer's return
  value dumped with ``json.dump``), where each entry carries ``img_path`` (the image; MMOCR's inferencer output itself
  does not record it, so add it, or use the per-image files) and its detections either as the inferencer keys
  above or as ``"pred_instances": {"polygons": [...], "scores": [...], "texts"?: [...]}`` (an MMOCR
  ``TextDetDataSample`` / ``TextSpottingDataSample`` turned into a dict, e.g. from ``tools/test.py --save-preds``).

Polygons are flat ``[x1, y1, ..., xn, yn]`` lists (``[[x, y], ...]`` pairs accepted too) in pixels of the original
image (MMOCR's postprocessors rescale them to it); scores (one per polygon, or none) are used only with
``--score-threshold``; texts (one per polygon, optional) are the detections' transcriptions. Lengths that disagree
are an error naming the file (and entry).
"""
from __future__ import annotations

import os
from typing import Any, List, Optional

from swift_ocr.errors import OcrFormatError
from swift_ocr.eval.predictions.common import ImagePredictions, number_or_none
from swift_ocr.formats.coordinates import polygon_from_flat, polygon_from_pairs
from swift_ocr.formats.text_io import check_text, load_json_bytes, read_label_bytes
from swift_ocr.sample import Region

__all__ = ["parse_mmocr_prediction", "read_mmocr_folder", "read_mmocr_file"]

#: (polygons key, scores key, texts key) of each accepted layout, in the order they are tried.
_LAYOUTS = (("det_polygons", "det_scores", "rec_texts"), ("polygons", "scores", "texts"))


def _list(value: Any, n: Optional[int], source: str, line: Optional[int], key: str) -> Optional[list]:
    if value is None:
        return None
    if not isinstance(value, list) or (n is not None and len(value) != n):
        want = f"a list of {n}" if n is not None else "a list"
        got = f"{len(value)} values" if isinstance(value, list) else type(value).__name__
        raise OcrFormatError(source, line, f"'{key}' must be {want} (one per polygon), got {got}", "bad_record")
    return value


def parse_mmocr_prediction(pred: Any, image: str, source: str, line: Optional[int] = None,
                           base_dir: Optional[str] = None) -> ImagePredictions:
    """One image's prediction dict (inferencer keys, or ``pred_instances``) as an :class:`ImagePredictions`.

    Raises:
        OcrFormatError: ``bad_record`` (no polygons key, lists of the wrong length, a text that is not a string, a
            score that is not a number), ``bad_coordinates`` (a malformed polygon).
    """
    if not isinstance(pred, dict):
        raise OcrFormatError(source, line, f"expected a prediction object, got {type(pred).__name__}", "bad_record")
    if isinstance(pred.get("pred_instances"), dict):
        pred = pred["pred_instances"]
    for poly_key, score_key, text_key in _LAYOUTS:
        if poly_key in pred:
            break
    else:
        raise OcrFormatError(source, line, "no detections: expected 'det_polygons' (MMOCRInferencer), 'polygons' "
                             "(TextDetInferencer) or 'pred_instances.polygons'; keys found: "
                             f"{', '.join(sorted(map(str, pred)))[:120]}", "bad_record")
    polygons = _list(pred[poly_key], None, source, line, poly_key)
    scores = _list(pred.get(score_key), len(polygons), source, line, score_key)
    texts = _list(pred.get(text_key), len(polygons), source, line, text_key)
    regions, out_scores = [], []
    for i, poly in enumerate(polygons):
        what = f"{poly_key}[{i}]"
        if isinstance(poly, list) and poly and isinstance(poly[0], list):
            polygon = polygon_from_pairs(poly, source, line, what)
        else:
            polygon = polygon_from_flat(poly, source, line, what)
        text = "" if texts is None else texts[i]
        if not isinstance(text, str):
            raise OcrFormatError(source, line, f"{text_key}[{i}] must be a string, got {text!r:.40}", "bad_record")
        check_text(text, source, line)
        regions.append(Region(polygon=polygon, text=text))
        out_scores.append(None if scores is None else number_or_none(scores[i], source, line, f"{score_key}[{i}]"))
    return ImagePredictions(image=image, regions=regions, scores=out_scores, source=source, line=line,
                            base_dir=base_dir)


def read_mmocr_folder(path: str) -> List[ImagePredictions]:
    """One record per ``<image stem>.json`` of a folder (``save_pred``'s ``preds/``), sorted by name.

    Raises:
        OcrFormatError: another file in the folder (hidden ``.*`` files aside), an unreadable or malformed file, or
            no file at all.
    """
    names = sorted(n for n in os.listdir(path) if not n.startswith("."))
    other = [n for n in names if not n.lower().endswith(".json") or not os.path.isfile(os.path.join(path, n))]
    if other:
        raise OcrFormatError(path, None, f"{len(other)} entries that are not MMOCR per-image prediction files "
                             f"'<image stem>.json', first {other[0]!r}: move them away (nothing is skipped silently)")
    if not names:
        raise OcrFormatError(path, None, "no MMOCR prediction files '<image stem>.json' found")
    out = []
    for n in names:
        full = os.path.join(path, n)
        out.append(parse_mmocr_prediction(load_json_bytes(read_label_bytes(full), full), os.path.splitext(n)[0],
                                          full))
    return out


def read_mmocr_file(path: str) -> List[ImagePredictions]:
    """The entries of one JSON file (a list, or ``{"predictions": [...]}``), each with its ``img_path``, in order
    (``ImagePredictions.line`` = 1-based entry number; relative ``img_path`` are looked up next to the file first).

    Raises:
        OcrFormatError: not such a list, an entry without ``img_path``, a malformed entry (naming it).
    """
    data = load_json_bytes(read_label_bytes(path), path)
    entries: Any = data.get("predictions") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise OcrFormatError(path, None, "expected MMOCR predictions: a JSON list of per-image entries or "
                             "{\"predictions\": [...]}, each with 'img_path' (or pass the folder of per-image files "
                             "that MMOCRInferencer's save_pred writes)", "bad_record")
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for k, entry in enumerate(entries, 1):
        image = entry.get("img_path") if isinstance(entry, dict) else None
        if not isinstance(image, str) or not image:
            raise OcrFormatError(path, k, "entry has no 'img_path': MMOCR's inferencer output does not name the "
                                 "image; add 'img_path' to each entry, or pass the folder of per-image "
                                 "'<image stem>.json' files that save_pred writes", "bad_record")
        out.append(parse_mmocr_prediction(entry, image, path, k, base))
    if not out:
        raise OcrFormatError(path, None, "no predictions in the file")
    return out


def read_mmocr(path: str) -> List[ImagePredictions]:
    """:func:`read_mmocr_folder` for a folder, else :func:`read_mmocr_file`."""
    return read_mmocr_folder(path) if os.path.isdir(path) else read_mmocr_file(path)

