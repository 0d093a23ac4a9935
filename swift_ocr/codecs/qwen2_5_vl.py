"""Qwen2.5-VL text-spotting format (JSON, absolute pixels of the resized image), as detection-as-text.

Text written (``fence=True``, the default, as Qwen2.5-VL itself answers)::

    ```json
    [
      {"bbox_2d": [x1, y1, x2, y2], "text_content": "TEXT"},
      ...
    ]
    ```

Coordinates: **absolute pixels of the image as the model sees it**, i.e. after Qwen2-VL/Qwen2.5-VL's
``smart_resize`` (both sides rounded to multiples of 28 = patch 14 x merge 2, total pixels kept within
``[min_pixels, max_pixels]``). With ``(W', H') = smart_resize(W, H)``: ``x' = round(x * W' / W)``,
decoded as ``x = x' * W / W'``; a round trip is within ``0.5 * W / W'`` pixels.

Sources:

* Qwen2.5-VL technical report (arXiv:2502.13923), sec. 2.2: grounding uses absolute coordinates of the
  input (resized) image, not 0-1000; the Qwen2.5-VL cookbook ``cookbooks/ocr.ipynb`` prompt "Spotting all
  the text in the image with line-level, and output in JSON format." answers a ``json``-fenced list of
  ``{"bbox_2d": [x1, y1, x2, y2], "text_content": "..."}`` (object grounding uses ``"label"`` instead of
  ``"text_content"``; the parser accepts both).
* ``smart_resize``: transformers ``models/qwen2_vl/image_processing_pil_qwen2_vl.py`` (the processor
  Qwen2.5-VL uses; imported lazily, it pulls in torch). Defaults of that processor: ``min_pixels =
  56*56 = 3136``, ``max_pixels = 28*28*1280 = 1003520``.

**ms-swift resizes differently by default.** ms-swift 4.6.0's Qwen2.5-VL template resizes every image
with ``qwen_vl_utils.fetch_image`` *before* the processor (which then runs with ``do_resize=False``).
qwen-vl-utils 0.0.14 defaults to ``min_pixels = 4*28*28 = 3136`` and ``max_pixels = 16384*28*28 =
12845056``; ms-swift overrides them from the ``MAX_PIXELS`` / ``MIN_PIXELS`` environment variables
(converted to token counts ``MAX_PIXELS // 784``). So for targets to match what the model sees in
``swift sft``, build the codec with :meth:`Qwen25VLCodec.for_ms_swift` under the training environment (what
``swift-ocr convert --task det`` does unless ``--min-pixels``/``--max-pixels`` are given; it records the bounds in
each row, :data:`swift_ocr.tasks.tiling.CODEC_META_KEY`, which ``validate`` and ``eval det`` read back). Images up to
~1M pixels (e.g. 1280x720) get the same size under this codec's default and ms-swift's.
(qwen-vl-utils' own ``smart_resize`` differs from transformers' only for sides under 14 pixels or extreme
aspect ratios, where one clamps a side to 28 and the other does not.)
"""
from __future__ import annotations

import json
import math
import os
import re
from functools import lru_cache
from typing import Mapping, Optional, Sequence, Tuple

from swift_ocr.codecs.base import Codec
from swift_ocr.codecs.grid import BoxFormat, Grid, ImageSize, ObjectEncoder, bbox_on_grid, check_image_size
from swift_ocr.codecs.parsing import ParseResult, line_of, scan
from swift_ocr.sample import Region

# patch factor 28, the processor's and qwen-vl-utils' default bounds, ms-swift's environment rules: the family's
from swift_ocr.families.qwen2_vl import (FACTOR, PROCESSOR_MAX_PIXELS, PROCESSOR_MIN_PIXELS,  # noqa: F401
                                         QWEN_VL_UTILS_MAX_TOKENS, QWEN_VL_UTILS_MIN_TOKENS, ms_swift_pixel_bounds)

_START_RE = re.compile(r'\{\s*"(?:bbox_2d|text_content|label)"')
#: what may surround the objects without being prose: code fences, list brackets, commas, blanks.
_JUNK = re.compile(r"```(?:json)?|[\[\],\s]")
_DECODER = json.JSONDecoder()
#: the string encoder of ``json.dumps(..., ensure_ascii=False)`` (C version when available).
_JSON_STRING = json.encoder.encode_basestring


@lru_cache(maxsize=4096)
def smart_resize(width: int, height: int, min_pixels: int = PROCESSOR_MIN_PIXELS,
                 max_pixels: int = PROCESSOR_MAX_PIXELS) -> Tuple[int, int]:
    """``(width', height')`` of the image Qwen2.5-VL sees for an original of ``(width, height)`` pixels.

    Calls transformers' ``smart_resize`` (note its ``(height, width)`` argument order) with factor 28.

    Raises:
        ValueError: aspect ratio over 200 (from transformers).
        ImportError: transformers without the Qwen2-VL image processor.
    """
    try:
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as _hf
    except ImportError:  # older transformers: the torchvision module holds it
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize as _hf
    h, w = _hf(int(height), int(width), factor=FACTOR, min_pixels=min_pixels, max_pixels=max_pixels)
    return int(w), int(h)


class Qwen25VLCodec(Codec):
    """Qwen2.5-VL ``[{"bbox_2d": [...], "text_content": ...}]`` text in pixels of the resized image.

    Args:
        min_pixels, max_pixels: ``smart_resize`` bounds; must equal what resizes the image at training and
            inference time (see the module docstring for ms-swift's different default).
        fence: wrap the encoded JSON in a ```` ```json ```` fence (as the model answers). Parsing accepts both.
        dedupe: drop exact duplicate objects when parsing (counted in the report).
    """

    family = "qwen2_5_vl"

    def __init__(self, min_pixels: int = PROCESSOR_MIN_PIXELS, max_pixels: int = PROCESSOR_MAX_PIXELS,
                 fence: bool = True, dedupe: bool = True):
        super().__init__(dedupe=dedupe)
        if not (0 < min_pixels <= max_pixels):
            raise ValueError(f"need 0 < min_pixels <= max_pixels, got {min_pixels}, {max_pixels}")
        self.min_pixels = int(min_pixels)
        self.max_pixels = int(max_pixels)
        self.fence = fence

    @classmethod
    def for_ms_swift(cls, environ: Optional[Mapping[str, str]] = None, **kwargs) -> "Qwen25VLCodec":
        """The codec matching ms-swift 4.6.0 + qwen-vl-utils 0.0.14 resizing under ``environ`` (default ``os.environ``):
        bounds by :func:`swift_ocr.families.qwen2_vl.ms_swift_pixel_bounds` (ms-swift's ``compat_qwen_vl_utils``
        rules for ``MAX_PIXELS`` / ``MIN_PIXELS`` / ``IMAGE_MAX_TOKEN_NUM`` / ``IMAGE_MIN_TOKEN_NUM``)."""
        min_pixels, max_pixels = ms_swift_pixel_bounds(os.environ if environ is None else environ)
        return cls(min_pixels=min_pixels, max_pixels=max_pixels, **kwargs)

    def resized_size(self, image_size: ImageSize) -> Tuple[int, int]:
        """``(W', H')``: size in pixels of the resized image the model sees."""
        w, h = check_image_size(image_size)
        return smart_resize(int(w), int(h), self.min_pixels, self.max_pixels)

    def grid(self, image_size: ImageSize) -> Grid:
        rw, rh = self.resized_size(image_size)
        return Grid(check_image_size(image_size), rw, rh, rw, rh)

    def encode(self, regions: Sequence[Region], image_size: ImageSize) -> str:
        grid = self.grid(image_size)
        items = [json.dumps({"bbox_2d": bbox_on_grid(r, grid), "text_content": r.text}, ensure_ascii=False)
                 for r in regions]
        return self.join_objects(items)

    def object_encoder(self, image_size: ImageSize) -> ObjectEncoder:
        """Each object is ``json.dumps({"bbox_2d": [..], "text_content": text}, ensure_ascii=False)``, spelt out:
        the ints as ``str``, the text quoted by the string encoder ``json.dumps`` uses for ``ensure_ascii=False``."""
        return self.box_format(image_size).encoder()

    def box_format(self, image_size: ImageSize) -> BoxFormat:
        quote = _JSON_STRING
        return BoxFormat(self.grid(image_size), '{"bbox_2d": [%d, %d, %d, %d], "text_content": %s}', True,
                         lambda region: quote(region.text))

    def join_objects(self, objects: Sequence[str]) -> str:
        body = "[\n" + ",\n".join("  " + it for it in objects) + "\n]" if objects else "[]"
        return f"```json\n{body}\n```" if self.fence else body

    def parse(self, text: str, image_size: ImageSize) -> ParseResult:
        """Objects are read with ``json.JSONDecoder.raw_decode`` one by one, so a cut-off or broken object
        costs only itself. Text may carry ```` ```json ```` fences and prose around the list."""
        col = self.collector(image_size)
        for m in scan(text, _ObjectFinder, _START_RE, col.report, junk=_JUNK):
            obj, snippet, line = m.obj, m.group(0), line_of(text, m.start())
            content = obj.get("text_content", obj.get("label"))
            bbox = obj.get("bbox_2d")
            if not isinstance(content, str) or not _is_number_list(bbox):
                col.report.unparsed.append(snippet)
                continue
            col.add(content, [_to_float(v) for v in bbox], line, snippet)  # non-finite: unparsed
        return col.result()


def _is_number_list(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)


def _to_float(v) -> float:
    """A JSON number as a float; an integer too large for a float (``9`` * 400) becomes ``inf`` instead of
    raising ``OverflowError``, so that the collector rejects it like ``NaN``, ``Infinity`` and ``1e999``."""
    try:
        return float(v)
    except OverflowError:
        return math.inf


class _Match:
    """The part of ``re.Match`` that :func:`swift_ocr.codecs.parsing.scan` uses, for a JSON object."""

    def __init__(self, text: str, start: int, end: int, obj: dict):
        self._text, self._start, self._end, self.obj = text, start, end, obj

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def group(self, _=0) -> str:
        return self._text[self._start:self._end]


class _ObjectFinder:
    """``finditer`` over the JSON objects (dicts) that start at an object opening in the text."""

    @staticmethod
    def finditer(text: str):
        pos = 0
        while True:
            m = _START_RE.search(text, pos)
            if m is None:
                return
            try:
                obj, end = _DECODER.raw_decode(text, m.start())
            except json.JSONDecodeError:
                pos = m.start() + 1
                continue
            if isinstance(obj, dict):
                yield _Match(text, m.start(), end, obj)
            pos = end
