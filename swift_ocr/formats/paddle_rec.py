"""PaddleOCR recognition labels (``--format paddle_rec``): one cropped text image per line, ::

    crop_img/img_1_crop_0.jpg<TAB>Genaxis Theatre

(PaddleOCR ``doc/doc_en/dataset/ocr_datasets_en.md``, "text recognition"; written by ``ppocr/utils/gen_label.py
--mode rec`` and by PPOCRLabel's "Export Recognition Result": ``rec_gt.txt`` next to ``Label.txt`` with the crops in
``crop_img/``, and ``rec_gt_train.txt``/``rec_gt_test.txt`` of its dataset split). The lines are listed by
:mod:`swift_ocr.formats.paddle_list` (paths relative to the label file's folder or ``--image-root``, duplicates,
encodings).

The text is everything after the tab, exactly (spaces included); a line with a second tab is rejected (kind
``bad_list_line``): PaddleOCR's ``SimpleDataSet`` keeps only the field after the first tab. Each image is already one
text line: task ``rec`` (the ``line`` and ``det`` tasks need regions; such items are rejected with ``no_regions``).
An empty text is rejected by the task (``empty_text``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from swift_ocr.sample import Sample
from swift_ocr.formats.checks import ReadOptions
from swift_ocr.formats.image_lists import item_error
from swift_ocr.formats.paddle_det import IMAGE_ROOT
from swift_ocr.formats.paddle_list import item_key, list_items
from swift_ocr.formats.registry import FileFormat, register_format


def sample_from_item(item: Dict[str, Any], source: str) -> Sample:
    """The raw :class:`Sample` of one listed line (:func:`swift_ocr.formats.paddle_list.list_items`): ``images`` the
    resolved crop path, ``text`` the label, no regions, ``line`` the file line.

    Raises:
        OcrFormatError: the problem stored with the line when listing it.
    """
    item_error(item["error"], source, item["line"])
    sample = Sample(images=[item["image"]], text=item["label"], source=source, line=item["line"])
    sample.fixes.update(item.get("fixes") or {})
    return sample


class PaddleRecFormat(FileFormat):
    """``paddle_rec``: a PaddleOCR recognition label file (see module docstring)."""

    name = "paddle_rec"
    description = "PaddleOCR recognition labels: 'image<TAB>text' per line (rec_gt.txt)"
    options = (IMAGE_ROOT,)

    def load_items(self, path: str, params, options: ReadOptions) -> List[Dict[str, Any]]:
        return list_items(path, options, params.get("image_root"), tabs_in_label=False)

    def item_key(self, item, path, index, params) -> str:
        return item_key(item, path)

    def item_sample(self, item, path, index, params, options: Optional[ReadOptions] = None) -> Sample:
        return sample_from_item(item, path)


register_format(PaddleRecFormat())
