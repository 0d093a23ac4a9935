"""MMOCR 1.x annotation files (``--format mmocr``): one JSON object holding the whole split (MMOCR docs, "Dataset
Preparer" / "Text Detection / Recognition / Spotting annotation format"; written by MMOCR's dataset preparer
packers, ``mmocr/datasets/preparers/packers/{textdet,textrecog,textspotting}_packer.py``)::

    {"metainfo": {"dataset_type": "TextSpottingDataset", "task_name": "textspotting", ...},
     "data_list": [{"img_path": "imgs/img_1.jpg", "height": 720, "width": 1280,
                    "instances": [{"polygon": [x1, y1, ..., xn, yn], "bbox": [x1, y1, x2, y2], "bbox_label": 0,
                                   "text": "Genaxis Theatre", "ignore": false}, ...]}, ...]}

* ``textrecog`` (``TextRecogDataset``): each entry is a cropped word or line image with exactly one instance
  ``{"text": ...}``; the sample is the image with that text, no regions (task ``rec``).
* ``textspotting`` / ``textdet``: each instance is a region: ``polygon`` (flat ``[x1, y1, ..., xn, yn]``, at least 3
  vertices; 4 give a quad, more a polygon, as the ICDAR polygon layout) or else ``bbox`` (``[x1, y1, x2, y2]``,
  top-left and bottom-right corner: the box's 4 corners clockwise from the top-left), pixels of the image; ``text``;
  ``ignore: true`` (or a ``###`` text, :func:`swift_ocr.sample.is_dont_care`) makes it do-not-care. ``Sample.text`` is
  the readable texts in entry order joined by ``\\n``. Tasks ``rec``, ``line``, ``det``. MMOCR's ``textdet`` packer
  writes no ``text``: a readable instance without one is rejected (kind ``bad_record``), since no OCR target can be
  made of it.

The task is ``metainfo.task_name`` when the file has one, else it is told per entry: instances with a ``polygon`` or
``bbox`` are regions, instances with only ``text`` a recognition crop. ``height``/``width`` are not trusted: the
image's own header gives its size. ``img_path`` is relative to the JSON file's folder (MMOCR's ``data_root``) or
``--image-root`` and must stay inside it (:mod:`swift_ocr.formats.image_lists`); an image named by several entries:
kind ``duplicate_image``. ``Sample.line`` is the 1-based entry number in ``data_list``.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from swift_ocr.errors import OcrFormatError
from swift_ocr.sample import DONT_CARE, Point, Region, Sample, is_dont_care, join_lines
from swift_ocr.formats.checks import ReadOptions
from swift_ocr.formats.coordinates import flat_numbers, polygon_from_flat
from swift_ocr.formats.image_lists import duplicate_reasons, image_root_for, item_error, resolve_listed_image
from swift_ocr.formats.paddle_det import IMAGE_ROOT
from swift_ocr.formats.registry import FileFormat, register_format
from swift_ocr.formats.text_io import load_json_bytes, read_label_bytes

#: ``metainfo.task_name`` values (MMOCR 1.x).
MMOCR_TASKS = ("textrecog", "textdet", "textspotting")


def load_annotation(path) -> Dict[str, Any]:
    """The decoded annotation object of an MMOCR 1.x JSON file, checked for its shape (``data_list`` a list;
    ``metainfo`` an object, optional; ``metainfo.task_name``, when given, one of :data:`MMOCR_TASKS`).

    Raises:
        OcrFormatError: ``file_not_found``/``unreadable_file``, ``invalid_json`` (with its line), ``bad_record``
            (not an object with a ``data_list`` list, or an unknown ``task_name``).
    """
    source = str(path)
    data = load_json_bytes(read_label_bytes(source), source)
    if not isinstance(data, dict) or not isinstance(data.get("data_list"), list):
        raise OcrFormatError(source, None, "expected an MMOCR 1.x annotation object {\"metainfo\": {...}, "
                             "\"data_list\": [...]}", "bad_record")
    meta = data.get("metainfo", {})
    if not isinstance(meta, dict):
        raise OcrFormatError(source, None, f"'metainfo' must be an object, got {type(meta).__name__}", "bad_record")
    task = meta.get("task_name")
    if task is not None and task not in MMOCR_TASKS:
        raise OcrFormatError(source, None, f"metainfo.task_name {task!r} is not one of {', '.join(MMOCR_TASKS)}",
                             "bad_record")
    return data


def list_items(path, options: ReadOptions, image_root: Optional[str] = None) -> List[Dict[str, Any]]:
    """The entries of an MMOCR file as JSON-serialisable items, in ``data_list`` order::

        {"entry": the entry as in the file, "task": metainfo.task_name or None, "image": absolute image path or None,
         "error": [kind, reason] or None}

    ``error``: an entry without a string ``img_path`` (``bad_record``), a path leaving the root (``outside_root``),
    an image named by several entries (``duplicate_image``: the same instances, repeats left out; different ones,
    all rejected).

    Raises:
        OcrFormatError: as :func:`load_annotation`.
    """
    source = str(path)
    data = load_annotation(source)
    task = data.get("metainfo", {}).get("task_name")
    root = image_root_for(source, image_root)
    items: List[Dict[str, Any]] = []
    for no, entry in enumerate(data["data_list"], 1):
        item: Dict[str, Any] = {"entry": entry, "task": task, "image": None, "error": None}
        items.append(item)
        img = entry.get("img_path") if isinstance(entry, dict) else None
        if not isinstance(img, str) or not img:
            item["error"] = ["bad_record", f"entry {no}: expected an object with an 'img_path' string, got "
                                           f"{json.dumps(entry, ensure_ascii=False)[:80]}"]
            continue
        try:
            item["image"] = resolve_listed_image(img, root, options.allow_outside_root, source, no)
        except OcrFormatError as e:
            item["error"] = [e.kind, e.reason]
    keyed = [(it["image"], json.dumps(it["entry"].get("instances"), sort_keys=True), no)
             for no, it in enumerate(items, 1) if not it["error"]]
    dups = duplicate_reasons(keyed, "entry")
    for no, it in enumerate(items, 1):
        if no in dups:
            it["error"] = ["duplicate_image", dups[no]]
    return items


def _region(inst: Dict[str, Any], source: str, no: int, i: int) -> Region:
    """One textdet/textspotting instance as a :class:`Region` (polygon in pixels)."""
    what = f"instance #{i}"
    if inst.get("polygon") is not None:
        polygon: List[Point] = polygon_from_flat(inst["polygon"], source, no, f"{what}: 'polygon'")
    elif inst.get("bbox") is not None:
        c = flat_numbers(inst["bbox"], 4, source, no, f"{what}: 'bbox'")
        if len(c) != 4:
            raise OcrFormatError(source, no, f"{what}: 'bbox' must be [x1, y1, x2, y2], got {len(c)} numbers",
                                 "bad_coordinates")
        x1, y1, x2, y2 = c
        polygon = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
    else:
        raise OcrFormatError(source, no, f"{what}: no 'polygon' or 'bbox'", "bad_coordinates")
    ignore, text = inst.get("ignore", False), inst.get("text")
    if not isinstance(ignore, bool):
        raise OcrFormatError(source, no, f"{what}: 'ignore' must be true or false, got {json.dumps(ignore)[:40]}",
                             "bad_record")
    if text is None and not ignore:
        raise OcrFormatError(source, no, f"{what} has no 'text' (MMOCR textdet annotations carry boxes only; an OCR "
                             "target needs textspotting annotations, with the text of each instance)", "bad_record")
    if text is not None and not isinstance(text, str):
        raise OcrFormatError(source, no, f"{what}: 'text' must be a string, got {json.dumps(text)[:40]}",
                             "bad_record")
    text = DONT_CARE if text is None else text
    return Region(polygon=polygon, text=text, dont_care=ignore or is_dont_care(text), line=no)


def sample_from_item(item: Dict[str, Any], source: str, index: int) -> Sample:
    """The raw :class:`Sample` of the ``index``-th (0-based) listed entry (:func:`list_items`); ``line`` is
    ``index + 1``. A ``textrecog`` entry gives the crop and its text (no regions); a ``textdet``/``textspotting``
    one the image, its regions and their readable texts joined by ``\\n``.

    Raises:
        OcrFormatError: the problem stored when listing; ``bad_record`` (no ``instances`` list, a textrecog entry
            without exactly one instance with a string ``text``, an instance that is not an object, see
            :func:`_region`), ``bad_coordinates``, ``empty_label`` (no instances).
    """
    no = index + 1
    item_error(item["error"], source, no)
    entry = item["entry"]
    instances = entry.get("instances")
    if not isinstance(instances, list) or not all(isinstance(i, dict) for i in instances):
        raise OcrFormatError(source, no, "'instances' must be a list of objects", "bad_record")
    if not instances:
        raise OcrFormatError(source, no, "no instances (no text in this image)", "empty_label")
    task = item.get("task")
    if task is None:
        task = "textspotting" if any("polygon" in i or "bbox" in i for i in instances) else "textrecog"
    if task == "textrecog":
        text = instances[0].get("text")
        if len(instances) != 1 or not isinstance(text, str):
            raise OcrFormatError(source, no, "a textrecog entry needs exactly one instance with a 'text' string, got "
                                 f"{json.dumps(instances, ensure_ascii=False)[:80]}", "bad_record")
        return Sample(images=[item["image"]], text=text, source=source, line=no)
    regions = [_region(inst, source, no, i) for i, inst in enumerate(instances, 1)]
    return Sample(images=[item["image"]], text=join_lines([r.text for r in regions if not r.dont_care]),
                  regions=regions, source=source, line=no)


class MmocrFormat(FileFormat):
    """``mmocr``: an MMOCR 1.x annotation JSON file (see module docstring)."""

    name = "mmocr"
    description = "MMOCR 1.x annotation JSON (metainfo + data_list): textrecog, textspotting or textdet with text"
    options = (IMAGE_ROOT,)

    def load_items(self, path: str, params, options: ReadOptions) -> List[Dict[str, Any]]:
        return list_items(path, options, params.get("image_root"))

    def item_key(self, item, path, index, params) -> str:
        return item["image"] or f"{path}#{index + 1}"

    def item_sample(self, item, path, index, params, options: Optional[ReadOptions] = None) -> Sample:
        return sample_from_item(item, path, index)


register_format(MmocrFormat())
