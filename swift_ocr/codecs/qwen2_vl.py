"""Qwen2-VL grounding format, used here as detection-as-text.

Text written per object, one object per line::

    <|object_ref_start|>TEXT<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>

Coordinates: 0-1000 of the original image, ``x_norm = round(x / W * 1000)``, decoded as
``x = x_norm / 1000 * W``.

Sources:

* Qwen2-VL technical report (arXiv:2409.12191), "Visual grounding": boxes normalised to [0, 1000),
  written ``(X_top-left, Y_top-left), (X_bottom-right, Y_bottom-right)`` between ``<|box_start|>`` and
  ``<|box_end|>``, the referred text between ``<|object_ref_start|>`` and ``<|object_ref_end|>``.
* ms-swift 4.6.0 ``Qwen2VLTemplate.replace_ref/replace_bbox`` (``QWENVL_BBOX_FORMAT=legacy``, the default)
  with ``Template._get_bbox_str`` and ``Template.normalize_bbox`` ('norm1000', rounding) render exactly
  this string for an ``objects`` box (checked in tests/codecs/test_qwen2_vl.py).

The parser also accepts 4 points (8 numbers) in the box tokens, which is what ms-swift renders for an
8-value ``bbox``; they come back as a quadrilateral.
"""
from __future__ import annotations

from typing import Optional, Sequence

from swift_ocr.codecs.base import TaggedCodec
from swift_ocr.codecs.grid import Grid, ImageSize, normalised_grid

SCALE = 1000


class Qwen2VLCodec(TaggedCodec):
    """Qwen2-VL ``<|object_ref_start|>..<|box_start|>(x1,y1),(x2,y2)<|box_end|>`` text on the 0-1000 grid.

    Args:
        dedupe: drop exact duplicate objects when parsing (counted in the report).
    """

    family = "qwen2_vl"
    ref_tags = ("<|object_ref_start|>", "<|object_ref_end|>")
    shape_tags = {"box": ("<|box_start|>", "<|box_end|>")}
    body_style = "points"

    def __init__(self, dedupe: bool = True):
        super().__init__(shape="box", dedupe=dedupe)

    def grid(self, image_size: ImageSize) -> Grid:
        return normalised_grid(image_size, SCALE)

    def render_body(self, coords: Sequence[int]) -> str:
        return ",".join(f"({coords[i]},{coords[i + 1]})" for i in range(0, len(coords), 2))

    def body_template(self, n: int) -> Optional[str]:
        return ",".join(["(%d,%d)"] * (n // 2))
