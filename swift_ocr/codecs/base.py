"""The detection-as-text codec: :class:`Codec` (one per model family, :mod:`swift_ocr.codecs`), the tagged formats
most families share (:class:`TaggedCodec`), and the text helpers of their objects.

A *codec* turns text regions into the text a model family is trained to emit for "read and locate
the text" and parses such text (a real, possibly broken generation) back into regions. Coordinates and grids:
:mod:`swift_ocr.codecs.grid`; the parse policy and its report: :mod:`swift_ocr.codecs.parsing`.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Optional, Sequence, Tuple

from swift_ocr.codecs.grid import Box, BoxFormat, Grid, ImageSize, ObjectEncoder, bbox_on_grid, quad_on_grid
from swift_ocr.codecs.parsing import Collector, ParseResult, line_of, scan, strict_numbers
from swift_ocr.sample import Region


def object_text(region: Region, family: str, forbidden: Sequence[str]) -> str:
    """The region's text as it goes into a box object, refused when it contains a delimiter the family's format
    cannot carry. (Whether a label text is valid at all -- controls, surrogates -- is
    :func:`swift_ocr.formats.text_io.check_text`, applied by the readers before.)

    Raises:
        ValueError: the text contains one of ``forbidden`` (the message names the region's line).
    """
    for tok in forbidden:
        if tok in region.text:
            raise ValueError(f"region (line {region.line}) text {region.text!r} contains {tok!r}, which the "
                             f"{family} detection format cannot carry")
    return region.text


def format_list(values: Sequence[int]) -> str:
    """``[1, 2, 3]`` - Python's ``str(list)`` spelling used by InternVL, GOT and DeepSeek-OCR."""
    return "[" + ", ".join(str(v) for v in values) + "]"


def list_template(n: int) -> str:
    """:func:`format_list` of ``n`` ints as a ``%`` template: ``list_template(2) == '[%d, %d]'``."""
    return "[" + ", ".join(["%d"] * n) + "]"


def percent_escape(s: str) -> str:
    """``s`` as literal text inside a ``%`` template."""
    return s.replace("%", "%%")


# ---------------------------------------------------------------------------------------------- codec


class Codec(ABC):
    """A model family's detection-as-text format.

    Subclasses set :attr:`family` and implement :meth:`grid`, :meth:`encode` and :meth:`parse`.
    """

    family: str = ""

    def __init__(self, dedupe: bool = True):
        self.dedupe = dedupe

    @abstractmethod
    def grid(self, image_size: ImageSize) -> Grid:
        """The family's coordinate grid over an image of ``image_size`` = (width, height) pixels."""

    @abstractmethod
    def encode(self, regions: Sequence[Region], image_size: ImageSize) -> str:
        """The target text for ``regions`` (polygons in pixels of the original image of ``image_size``).

        Every region given is encoded, in the order given (pass ``Sample.care_regions()`` to leave out
        ``###`` regions). Coordinates outside the image are clipped to its border.

        Raises:
            ValueError: bad ``image_size``, or a text the format cannot carry.
        """

    @abstractmethod
    def parse(self, text: str, image_size: ImageSize) -> ParseResult:
        """Regions (polygons in pixels of the original image of ``image_size``) found in ``text``.

        Never raises on bad text: what could not be parsed is in the report.

        Raises:
            ValueError: bad ``image_size`` only.
        """

    def object_encoder(self, image_size: ImageSize) -> ObjectEncoder:
        """:meth:`encode` one region at a time, for many regions of one image of ``image_size`` = (W, H) pixels
        (the det task encodes each region once, while checking it, and joins the objects it keeps).

        Returns ``encode(region, box=None) -> str``: the region's object text, such that
        ``self.join_objects([encode(r) for r in regions]) == self.encode(regions, image_size)``; a region the
        format cannot carry raises the ``ValueError`` that ``self.encode([region], image_size)`` raises. ``box``,
        when given, must be ``region.bbox()`` (pixels of the original image; saves computing it again).

        This default calls :meth:`encode` and suits formats that write one object per line; the families
        override it with encoders that do the grid arithmetic of a box in one go (:meth:`Grid.box_formatter`).
        Reference: :meth:`encode`. Equivalence tests: ``tests/codecs/test_base.py::test_object_encoder_*`` (real
        data of every family; the same refusals).

        Raises:
            ValueError: bad ``image_size`` (when the encoder is built).
        """
        self.grid(image_size)

        def encode(region: Region, box: Optional[Box] = None) -> str:
            return self.encode([region], image_size)

        return encode

    def box_format(self, image_size: ImageSize) -> Optional[BoxFormat]:
        """How this codec writes a box object for images of ``image_size`` (:class:`BoxFormat`), when its objects
        are a template over the four grid corners of the region's bounding box; None otherwise (the default, and
        quad shapes). Then ``object_encoder(image_size)`` is ``box_format(image_size).encoder()``. Equivalence test:
        ``tests/codecs/test_base.py::test_box_format_renders_the_object_encoders_objects``.

        Raises:
            ValueError: bad ``image_size``.
        """
        return None

    def join_objects(self, objects: Sequence[str]) -> str:
        """The target text made of per-region object texts (from :meth:`object_encoder`), in the order given."""
        return "\n".join(objects)

    def tolerance(self, image_size: ImageSize) -> Tuple[float, float]:
        """Largest encode->parse error, pixels of the original image ``(tx, ty)``: half a grid unit."""
        return self.grid(image_size).tolerance()

    def collector(self, image_size: ImageSize) -> Collector:
        return Collector(self.grid(image_size), self.dedupe)



# ------------------------------------------------------------------------------------- tagged formats

_INNER_LIST_RE = re.compile(r"\[([^\[\]]*)\]")


class TaggedCodec(Codec):
    """Formats of the shape ``REF_OPEN text REF_CLOSE SHAPE_OPEN coordinates SHAPE_CLOSE``, one per line.

    Subclasses set:

    * ``ref_tags``: ``(open, close)`` around the text;
    * ``shape_tags``: ``{shape: (open, close)}``; ``shape`` is ``'box'`` (4 coordinates) or ``'quad'``
      (8 coordinates, 4 vertices in the region's order);
    * ``body_style``: ``'lists'`` - the body holds one or more ``[x1, y1, ...]`` lists, each one object
      (InternVL, DeepSeek-OCR: ``[[x1, y1, x2, y2], [...]]``) - or ``'points'`` - the body's numbers
      are one object (Qwen2-VL: ``(x1,y1),(x2,y2)``);
    * :meth:`render_body` (and :meth:`body_template`) for encoding, where ``body_style`` is not ``'lists'``
      (for ``'lists'`` the body is one ``[[x1, y1, ...]]``, as InternVL and DeepSeek-OCR write it).

    Parsing accepts any shape tag of the family and 4 or 8 numbers per object either way.
    """

    ref_tags: Tuple[str, str] = ("", "")
    shape_tags: dict = {}
    body_style: str = "lists"
    #: the shape :meth:`encode` writes.
    shape: str = "box"

    def __init__(self, shape: str = "box", dedupe: bool = True):
        super().__init__(dedupe=dedupe)
        if shape not in self.shape_tags:
            raise ValueError(f"{self.family}: shape must be one of {sorted(self.shape_tags)}, got {shape!r}")
        self.shape = shape
        ro, rc = (re.escape(t) for t in self.ref_tags)
        alts = "|".join(f"(?P<{name}>{re.escape(o)}(?P<{name}_body>[^<]*?){re.escape(c)})"
                        for name, (o, c) in self.shape_tags.items())
        self._object_re = re.compile(ro + rf"(?P<text>(?:(?!{ro}|{rc}).)*?)" + rc + r"\s*(?:" + alts + ")",
                                     re.DOTALL)
        opens = "|".join(re.escape(o) for o, _ in self.shape_tags.values())
        self._start_re = re.compile(rf"{ro}|(?<!{rc})(?:{opens})")

    def render_body(self, coords: Sequence[int]) -> str:
        """Grid coordinates ``[x1, y1, x2, y2]`` or ``[x1, y1, ..., x4, y4]`` -> the text between the shape tags:
        ``[[x1, y1, ...]]`` for ``body_style`` ``'lists'``; other styles override this.

        Raises:
            NotImplementedError: another ``body_style`` without its own ``render_body``.
        """
        if self.body_style != "lists":
            raise NotImplementedError(f"{type(self).__name__} must define render_body for body_style "
                                      f"{self.body_style!r}")
        return "[" + format_list(coords) + "]"

    def object_encoder(self, image_size: ImageSize) -> ObjectEncoder:
        fmt = self.box_format(image_size)
        if fmt is not None:
            return fmt.encoder()
        grid = self.grid(image_size)
        forbidden = (*self.ref_tags, "\n")
        family = self.family
        (ro, rc), (o, c) = self.ref_tags, self.shape_tags[self.shape]

        # quads (and bodies without a template): encode's own steps, one region at a time
        def encode(region: Region, box: Optional[Box] = None) -> str:
            text = object_text(region, family, forbidden)
            coords = quad_on_grid(region, grid) if self.shape == "quad" else bbox_on_grid(region, grid)
            return f"{ro}{text}{rc}{o}{self.render_body(coords)}{c}"

        return encode

    def box_format(self, image_size: ImageSize) -> Optional[BoxFormat]:
        body = self.body_template(4) if self.shape == "box" else None
        grid = self.grid(image_size)
        if body is None:
            return None
        forbidden = (*self.ref_tags, "\n")
        family = self.family
        (ro, rc), (o, c) = self.ref_tags, self.shape_tags[self.shape]
        f1, f2, f3 = forbidden

        def text(region: Region) -> str:
            t = region.text
            if f1 in t or f2 in t or f3 in t:
                object_text(region, family, forbidden)  # raises
            return t

        return BoxFormat(grid, percent_escape(ro) + "%s" + percent_escape(rc + o) + body + percent_escape(c), False,
                         text, forbidden)

    def body_template(self, n: int) -> Optional[str]:
        """:meth:`render_body` of ``n`` grid values as a ``%`` template of ``%d`` fields (None: there is none)."""
        return "[" + list_template(n) + "]" if self.body_style == "lists" else None

    def encode(self, regions: Sequence[Region], image_size: ImageSize) -> str:
        grid = self.grid(image_size)
        forbidden = (*self.ref_tags, "\n")
        lines = []
        for r in regions:
            text = object_text(r, self.family, forbidden)
            coords = quad_on_grid(r, grid) if self.shape == "quad" else bbox_on_grid(r, grid)
            o, c = self.shape_tags[self.shape]
            lines.append(f"{self.ref_tags[0]}{text}{self.ref_tags[1]}{o}{self.render_body(coords)}{c}")
        return "\n".join(lines)

    def parse(self, text: str, image_size: ImageSize) -> ParseResult:
        col = self.collector(image_size)
        for m in scan(text, self._object_re, self._start_re, col.report):
            shape = next(name for name in self.shape_tags if m.group(name) is not None)
            body = m.group(f"{shape}_body")
            snippet, line = m.group(0), line_of(text, m.start())
            if self.body_style == "lists":
                lists = _INNER_LIST_RE.findall(body)
                if not lists:
                    col.report.unparsed.append(snippet)
                for lst in lists:
                    values = strict_numbers(lst)
                    if values is None:  # an item that is not a number (NaN, inf, 1e999, "a"): unparsed
                        col.report.unparsed.append(snippet)
                    else:
                        col.add(m.group("text"), values, line, snippet)
            else:
                values = strict_numbers(body)
                if values is None:
                    col.report.unparsed.append(snippet)
                else:
                    col.add(m.group("text"), values, line, snippet)
        return col.result()
