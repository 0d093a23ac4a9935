"""InternVL (1.5 / 2 / 2.5 / 3) grounding format, used here as detection-as-text.

Text written per object, one object per line::

    <ref>TEXT</ref><box>[[x1, y1, x2, y2]]</box>                     (shape="box", InternVL's own)
    <ref>TEXT</ref><quad>[[x1, y1, x2, y2, x3, y3, x4, y4]]</quad>   (shape="quad", OURS)

Coordinates: 0-1000 of the original image, ``x_norm = round(x / W * 1000)``, ``y_norm =
round(y / H * 1000)``, decoded as ``x = x_norm / 1000 * W``.

Sources:

* InternVL chat data format, "Grounding / Detection Data"
  (https://internvl.readthedocs.io/en/latest/get_started/chat_data_format.html): ``normalize_coordinates``
  with ``round(x1 / image_width * 1000)`` and responses ``<ref>class name</ref><box>[[x1, y1, x2, y2], ...]</box>``
  (several boxes per ref allowed; the parser accepts them).
* OpenGVLab/InternVL ``internvl_chat/eval/refcoco/evaluate_grounding.py``: predictions decoded as
  ``box / 1000 * (W, H)``.
* OpenGVLab/InternVL issue #239: OCR-with-boxes data used ``<ref>text1</ref><box>[[x1, y1, x2, y2]]</box>\\n
  <ref>text2</ref>...``.
* ms-swift 4.6.0 ``Internvl2Template.replace_ref/replace_bbox`` + ``Template.normalize_bbox``
  ('norm1000') render the same string for an ``objects`` box (checked in tests/codecs/test_internvl.py).

InternVL has no quadrilateral tag upstream (InternVL 1.x/2 grounding and OCR data use ``<box>`` only).
The ``<quad>`` tag is **this project's convention**: 4 vertices in the region's order (ICDAR: clockwise
from the top-left), each on the same 0-1000 grid. A model learns it only by fine-tuning.
"""
from __future__ import annotations

from swift_ocr.codecs.base import TaggedCodec
from swift_ocr.codecs.grid import Grid, ImageSize, normalised_grid

SCALE = 1000


class InternVLCodec(TaggedCodec):
    """InternVL ``<ref>/<box>`` (and our ``<quad>``) text on the 0-1000 grid.

    Args:
        shape: ``"box"`` (axis-aligned bounding box of each polygon) or ``"quad"`` (the 4 vertices).
        dedupe: drop exact duplicate objects when parsing (counted in the report).
    """

    family = "internvl"
    ref_tags = ("<ref>", "</ref>")
    shape_tags = {"box": ("<box>", "</box>"), "quad": ("<quad>", "</quad>")}
    body_style = "lists"

    def grid(self, image_size: ImageSize) -> Grid:
        return normalised_grid(image_size, SCALE)
