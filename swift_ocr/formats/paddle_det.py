"""PaddleOCR / PPOCRLabel detection labels (``--format paddle_det``): one image per line, ::

    imgs/img_1.jpg<TAB>[{"transcription": "CC22", "points": [[743, 145], [779, 146], [780, 163], [746, 163]]}, ...]

(PaddleOCR ``doc/doc_en/dataset/ocr_datasets_en.md``, "text detection"; written by ``ppocr/utils/gen_label.py --mode
det``, PPOCRLabel's ``Label.txt`` and ``det_gt_train.txt``/``det_gt_test.txt`` of its dataset split). The lines are
listed by :mod:`swift_ocr.formats.paddle_list` (paths, duplicates, encodings). Each label is a JSON list of regions:

* ``points``: the region's vertices ``[[x, y], ...]`` in pixels of the image, as the file gives them (4 for
  PaddleOCR's converter and PPOCRLabel's rectangle and 4-point modes; more for PPOCRLabel's polygon mode, kept as a
  polygon like the ICDAR polygon layout). Numbers only (JSON integers or floats), at least 3 vertices.
* ``transcription``: the text. ``###`` (on its NFKC form, :func:`swift_ocr.sample.is_dont_care`) and ``*`` mark a
  do-not-care region, as PaddleOCR's ``DetLabelEncode`` (``ppocr/data/imaug/label_ops.py``: ``txt in ["*",
  "###"]`` -> ignore tag).
* ``difficult`` (PPOCRLabel, a boolean): ``true`` makes the region do-not-care. PPOCRLabel's own export of
  recognition crops leaves difficult boxes out (``PPOCRLabel.py``, ``saveRecResult``: ``if label['difficult']:
  continue``), so their text is not meant to be read; the box stays in the file for detection's ignore regions.
* other keys (PPOCRLabel's KIE ``key_cls``, ``id``, ``linking``; ``score``) are ignored.

``Sample.text`` is the readable transcriptions in file order joined by ``\\n`` (as for ICDAR files: both routes give
the same ``rec``/``line``/``det`` samples for the same ground truth); every region's ``Region.line`` is the line of
the label file. Tasks ``rec``, ``line`` and ``det``.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from swift_ocr.errors import OcrFormatError
from swift_ocr.sample import Region, Sample, is_dont_care, join_lines
from swift_ocr.formats.checks import ReadOptions
from swift_ocr.formats.coordinates import polygon_from_pairs
from swift_ocr.formats.image_lists import item_error
from swift_ocr.formats.paddle_list import item_key, json_key, list_items
from swift_ocr.formats.registry import FileFormat, FormatOption, register_format

#: The transcriptions PaddleOCR's ``DetLabelEncode`` ignores, besides ``###``'s look-alikes (:func:`is_dont_care`).
PADDLE_IGNORE = "*"


def parse_det_label(label: str, source: str, line: int) -> List[Region]:
    """The regions of one detection label (the JSON after the tab), in file order; polygons in pixels of the image.

    Raises:
        OcrFormatError: ``invalid_json`` (the label does not parse), ``bad_record`` (not a list of objects each with
            a string ``transcription``, a ``difficult`` that is not a boolean), ``bad_coordinates`` (see
            :func:`~swift_ocr.formats.coordinates.polygon_from_pairs`), ``empty_label`` (an empty list).
    """
    try:
        data = json.loads(label)
    except json.JSONDecodeError as e:
        raise OcrFormatError(source, line, f"invalid JSON after the tab: {e.msg} at column {e.colno}",
                             "invalid_json") from None
    except RecursionError:
        raise OcrFormatError(source, line, "invalid JSON after the tab: nested too deeply", "invalid_json") from None
    if not isinstance(data, list):
        raise OcrFormatError(source, line, f"expected a JSON list of regions after the tab, got "
                             f"{type(data).__name__}", "bad_record")
    if not data:
        raise OcrFormatError(source, line, "empty region list (no text in this image)", "empty_label")
    regions = []
    for i, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or "points" not in entry or "transcription" not in entry:
            raise OcrFormatError(source, line, f"region #{i}: expected an object with 'transcription' and 'points', "
                                 f"got {json.dumps(entry, ensure_ascii=False)[:80]}", "bad_record")
        text, difficult = entry["transcription"], entry.get("difficult", False)
        if not isinstance(text, str):
            raise OcrFormatError(source, line, f"region #{i}: 'transcription' must be a string, got "
                                 f"{json.dumps(text)[:40]}", "bad_record")
        if not isinstance(difficult, bool):
            raise OcrFormatError(source, line, f"region #{i}: 'difficult' must be true or false, got "
                                 f"{json.dumps(difficult)[:40]}", "bad_record")
        polygon = polygon_from_pairs(entry["points"], source, line, f"region #{i}", "'points'")
        dont_care = difficult or text == PADDLE_IGNORE or is_dont_care(text)
        regions.append(Region(polygon=polygon, text=text, dont_care=dont_care, line=line))
    return regions


def sample_from_item(item: Dict[str, Any], source: str) -> Sample:
    """The raw :class:`Sample` of one listed line (:func:`swift_ocr.formats.paddle_list.list_items`): ``images`` the
    resolved image path, ``text`` the readable transcriptions joined by ``\\n``, ``line`` the file line.

    Raises:
        OcrFormatError: the problem stored with the line when listing it, or one of :func:`parse_det_label`'s.
    """
    line = item["line"]
    item_error(item["error"], source, line)
    regions = parse_det_label(item["label"], source, line)
    sample = Sample(images=[item["image"]], text=join_lines([r.text for r in regions if not r.dont_care]),
                    regions=regions, source=source, line=line)
    sample.fixes.update(item.get("fixes") or {})
    return sample


IMAGE_ROOT = FormatOption("image_root", None, "the folder the image paths of a PaddleOCR / MMOCR label file are "
                          "relative to (PaddleOCR's data_dir, MMOCR's data_root; default: the label file's folder)",
                          path=True)


class PaddleDetFormat(FileFormat):
    """``paddle_det``: a PaddleOCR / PPOCRLabel detection label file (see module docstring)."""

    name = "paddle_det"
    description = "PaddleOCR / PPOCRLabel detection labels: 'image<TAB>[{\"transcription\", \"points\"}, ...]' per line"
    options = (IMAGE_ROOT,)

    def load_items(self, path: str, params, options: ReadOptions) -> List[Dict[str, Any]]:
        return list_items(path, options, params.get("image_root"), label_key=json_key)

    def item_key(self, item, path, index, params) -> str:
        return item_key(item, path)

    def item_sample(self, item, path, index, params, options: Optional[ReadOptions] = None) -> Sample:
        return sample_from_item(item, path)


register_format(PaddleDetFormat())
