"""DeepSeek-OCR grounding format, used here as detection-as-text.

Text written per object, one object per line::

    <|ref|>TEXT<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|>

Coordinates: 0-999 of the original image. Upstream only shows the decoding side,
``x = int(x_norm / 999 * W)`` (deepseek-ai/DeepSeek-OCR ``DeepSeek-OCR-master/DeepSeek-OCR-vllm/
run_dpsk_ocr_image.py``, ``draw_bounding_boxes``; the same in the HF ``modeling_deepseekocr.py``). We
encode with its inverse, ``x_norm = round(x / W * 999)``, and decode to floats ``x_norm / 999 * W``
(no ``int``), so a round trip is within half a unit (``0.5 * W / 999`` pixels).

The same file's ``re_match`` parses ``<|ref|>(.*?)<|/ref|><|det|>(.*?)<|/det|>`` and reads the det part as a
Python list of boxes (``[[x1, y1, x2, y2], ...]``; several boxes per ref allowed - the parser here accepts
them). Prompts from ``DeepSeek-OCR-vllm/config.py``: ``<image>\\nLocate <|ref|>xxxx<|/ref|> in the image.``
returns this form with the located text inside ``<|ref|>``. In the ``<|grounding|>Convert the document to
markdown.`` / ``<|grounding|>OCR this image.`` modes the ref holds a layout label (``text``, ``title``,
``image``, ...) and the transcription follows ``<|/det|>``; that layout form is not what this codec writes.

ms-swift 4.6.0's ``deepseek_ocr`` template does not override ``replace_ref/replace_bbox``: an ``objects``
box renders as the bare ref text and ``[(x1,y1),(x2,y2)]`` on a 0-1000 grid - not DeepSeek-OCR's format
(checked in tests/codecs/test_deepseek_ocr.py).
"""
from __future__ import annotations

from swift_ocr.codecs.base import TaggedCodec
from swift_ocr.codecs.grid import Grid, ImageSize, normalised_grid

SCALE = 999


class DeepSeekOCRCodec(TaggedCodec):
    """DeepSeek-OCR ``<|ref|>..<|/ref|><|det|>[[..]]<|/det|>`` text on the 0-999 grid.

    Args:
        dedupe: drop exact duplicate objects when parsing (counted in the report).
    """

    family = "deepseek_ocr"
    ref_tags = ("<|ref|>", "<|/ref|>")
    shape_tags = {"box": ("<|det|>", "<|/det|>")}
    body_style = "lists"

    def __init__(self, dedupe: bool = True):
        super().__init__(shape="box", dedupe=dedupe)

    def grid(self, image_size: ImageSize) -> Grid:
        return normalised_grid(image_size, SCALE)
