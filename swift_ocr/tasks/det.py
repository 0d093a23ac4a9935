"""The ``det`` task: one source :class:`~swift_ocr.sample.Sample` -> detection-as-text training samples
(issue "Detection as text", part 2).

Each output sample's ``text`` is the family codec's target (:mod:`swift_ocr.codecs`) for the sample's **care**
regions, in reading order; its image is the whole source image or, when a page has more boxes than ``max_boxes``,
one tile of it. ``###`` (do-not-care) regions never enter a target; they stay in the original label files, which
``swift-ocr eval det --gt`` scores against (ICDAR 2015 protocol: detections on them are ignored).

Inputs: any sample with regions -- ICDAR/SROIE quads (:mod:`swift_ocr.formats.icdar`) or word-box characters,
which the word-box reader already groups into line regions (:func:`swift_ocr.formats.wordbox.group_lines`).
Polygons are in pixels of the original image (:mod:`swift_ocr.sample`).

Reading order (``order``): ``"tb-lr"`` (default), ``"tb-rl"`` or ``"source"``, the rules of
:mod:`swift_ocr.tasks.order`.

Capping boxes per sample (``max_boxes``), so that a target fits ``--max_length`` (an InternVL box costs about
20 tokens plus its text):

* ``tiling="strips"`` (default): the image is cut into full-width horizontal strips of whole lines, each holding
  at most ``max_boxes`` regions; a strip boundary lies half-way between the last line of one strip and the first
  line of the next, so the strips cover the image without overlap. A single line with more than ``max_boxes``
  regions gets its own strip, cut into side-by-side pieces between regions. Each tile is cropped out of the image
  (PNG bytes in ``Sample.image_bytes``, file name ``<image stem>_t<k>.png`` in ``Sample.images``) and its regions
  are shifted into the tile and clipped to it (a region that crosses a boundary -- only when lines overlap
  vertically -- is clipped; one left with no area is rejected, kind ``degenerate_region``);
* ``tiling="none"``: a page with more than ``max_boxes`` care regions is rejected (kind ``too_many_boxes``).

(The strip cutting and the tile metadata: :mod:`swift_ocr.tasks.tiling`.)

Tile metadata: every output sample carries, as the attribute ``swift_ocr``
(:data:`~swift_ocr.tasks.tiling.TILE_META_KEY`; read it with :func:`~swift_ocr.tasks.tiling.det_meta`), the
dict ``{"image_size": [w, h], "offset": [x, y], "source_image": path}``: the size in pixels of the image the
target's coordinates refer to (the tile, or the whole image), the tile's top-left corner in pixels of the source
image, and the source image path (absolute; for images that came as bytes, e.g. parquet rows, their display
name); for a family with codec options also ``"codec": {option: value}``, the settings the target was written
with (:func:`codec_record`; qwen2_5_vl: the ``smart_resize`` bounds, whose resized image the boxes are pixels of).
Writers put it in each ms-swift row under the key ``"swift_ocr"``; ``swift-ocr eval det`` reads it to map a
tile's boxes back to its source image (:mod:`swift_ocr.eval.det_results`). ``swift infer`` keeps that
column only with ``--remove_unused_columns false``.

Nothing is dropped silently: a region that cannot be used (``Region.issue`` set by the readers' geometry checks,
an empty transcription, a text the family format cannot carry) is a region rejection; a sample that gives no
target is an :class:`~swift_ocr.errors.OcrFormatError`.

Fast paths, each beside its reference:

* :func:`_usable_fast` (each region encoded once, by the codec's per-region encoder, while it is checked) beside
  :func:`_usable` (``codec.encode`` per region). :func:`det` takes the reference with ``careful=True`` (and when the
  codec refuses the image size). Equivalence tests: ``tests/test_det_task.py::test_fast_path_*``;
* :func:`plain_target` (the target of a page that gives one untiled sample and rejects nothing, from objects and a
  reading sequence the caller may already have) beside :func:`det`; the batch converter chooses it
  (:mod:`swift_ocr.convert`); equivalence tests: ``tests/test_batch.py`` (byte-identical conversions).
"""
from __future__ import annotations

import os
from dataclasses import replace
from operator import attrgetter
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from swift_ocr.codecs import Codec, get_codec
from swift_ocr.codecs.grid import BoxFormat, ObjectEncoder, region_bbox
from swift_ocr.errors import KINDS, OcrFormatError, Rejection
from swift_ocr.families import get_family
from swift_ocr.formats.polygons import min_area_quad
from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS, encode_png, image_size as read_image_size, open_rgb
from swift_ocr.sample import Region, Sample
from swift_ocr.tasks.order import ORDERS, Box, PlacedRegion, check_order, ordered_lines, reading_sequence
from swift_ocr.tasks.tiling import TILE_META_KEY, TILINGS, region_in_tile, strips, tile_meta

#: Rejection kinds this task adds (also listed in :data:`swift_ocr.errors.KINDS`).
DET_KINDS = {k: KINDS[k] for k in ("unencodable_text", "too_many_boxes")}


#: Codecs :func:`det` has built, by family and parameters (a codec holds only its parameters).
_CODECS: Dict[Any, Codec] = {}


def _codec(family: str, params: Optional[Dict[str, Any]]) -> Codec:
    """``get_codec(family, **params)``, built once per family and parameters."""
    try:
        key = (family, tuple(sorted(params.items())) if params else ())
        codec = _CODECS.get(key)
    except TypeError:  # unhashable parameter values
        return get_codec(family, **(params or {}))
    if codec is None:
        codec = get_codec(family, **(params or {}))
        if len(_CODECS) >= 64:
            _CODECS.clear()
        _CODECS[key] = codec
    return codec


#: Per-region encoders and box formats of :func:`_codec`'s codecs, by codec and image size (a page size recurs across
#: a data set).
_ENCODERS: Dict[Any, Optional[ObjectEncoder]] = {}
_BOX_FORMATS: Dict[Any, Optional[BoxFormat]] = {}


def _per_size(cache: Dict[Any, Any], codec: Codec, size: Tuple[int, int], build: Callable[[Tuple[int, int]], Any]):
    """``build(size)``, kept in ``cache`` for the next sample of that size (and value types: ``1280`` and ``1280.0``
    hash alike, a codec may refuse one of them); None when the codec refuses ``size`` (``ValueError``)."""
    try:
        key = (codec, size, *map(type, size))
        if key in cache:
            return cache[key]
    except TypeError:  # not a tuple of hashable values: let the codec judge it, uncached
        key = None
    try:
        value = build(size)
    except ValueError:
        value = None
    if key is not None:
        if len(cache) >= 256:
            cache.clear()
        cache[key] = value
    return value


def codec_record(family: str, codec_params: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
    """The codec settings a det sample of ``family`` written with ``codec_params`` records in its tile metadata
    (:data:`~swift_ocr.tasks.tiling.CODEC_META_KEY`): ``{option: value}`` of the family's codec options as the built
    codec holds them (:meth:`~swift_ocr.families.base.ModelFamily.codec_settings`: given values and the codec's
    defaults alike; qwen2_5_vl: ``min_pixels``/``max_pixels``, pixels), or None for a family that declares none.

    Raises:
        ValueError: unknown family, bad ``codec_params``.
    """
    settings = get_family(family).codec_settings(_codec(family, codec_params))
    return settings or None


def _object_encoder(codec: Codec, size: Tuple[int, int]) -> Optional[ObjectEncoder]:
    """``codec.object_encoder(size)``, kept per size (:func:`_per_size`); None when the codec refuses ``size``."""
    return _per_size(_ENCODERS, codec, size, codec.object_encoder)


# ------------------------------------------------------------------------------------------------ det task


def _label(region: Region) -> str:
    where = f"region at line {region.line}" if region.line is not None else "region"
    return f"{where} ({region.text[:40]!r})"


def _text_problem(sample: Sample, region: Region) -> Optional[Rejection]:
    """The region's geometry issue from the reader, else a rejection for an empty transcription, else None."""
    if region.issue is None and not region.text.strip():
        return Rejection(sample.source, region.line, f"{_label(region)}: empty transcription", "empty_text")
    return region.issue


def _reject(problem: Rejection, rejected: Optional[List[Rejection]]) -> None:
    """Record ``problem`` in ``rejected``, or raise it when there is no list (the all-or-nothing callers)."""
    if rejected is None:
        raise problem.to_error()
    rejected.append(problem)


def _usable(sample: Sample, codec: Codec, size: Tuple[int, int],
            rejected: Optional[List[Rejection]]) -> List[PlacedRegion]:
    """The care regions that can be targets; the others become rejections (or the first one is raised)."""
    items = []
    for i, region in enumerate(sample.care_regions()):
        problem = _text_problem(sample, region)
        if problem is None:
            try:
                codec.encode([region], size)
            except ValueError as e:
                problem = Rejection(sample.source, region.line, str(e), "unencodable_text")
        if problem is not None:
            _reject(problem, rejected)
            continue
        items.append(PlacedRegion(i, region, region.bbox()))
    return items


def _usable_fast(sample: Sample, care: List[Region], encode: ObjectEncoder, rejected: Optional[List[Rejection]]):
    """Fast sibling of :func:`_usable` (its reference), with the codec's per-region encoder
    (:meth:`Codec.object_encoder`): the same regions and rejections, as parallel lists ``(indices, regions, boxes,
    objects)`` -- index into ``care``, region, its bounding box and its object text (for the image size the encoder
    was built for). Equivalence tests: ``tests/test_det_task.py::test_fast_path_*`` (``det(careful=True)`` against
    the default)."""
    indices, regions, boxes, objects = [], [], [], []
    for i, region in enumerate(care):
        problem = _text_problem(sample, region)
        if problem is None:
            try:
                box = region_bbox(region)
            except Exception:  # a broken polygon: the encoder (then Region.bbox) meets it in the careful order
                box = None
            try:
                obj = encode(region, box)
            except ValueError as e:
                problem = Rejection(sample.source, region.line, str(e), "unencodable_text")
        if problem is not None:
            _reject(problem, rejected)
            continue
        indices.append(i)
        regions.append(region)
        boxes.append(box if box is not None else region.bbox())
        objects.append(obj)
    return indices, regions, boxes, objects


def _sample_size(sample: Sample, max_image_pixels: Optional[int]) -> Tuple[int, int]:
    if sample.image_size is not None:
        return tuple(sample.image_size)
    if sample.image_bytes is not None:
        return open_rgb(sample.image_bytes, max_image_pixels, name=sample.images[0] if sample.images else None).size
    return read_image_size(sample.images[0], max_image_pixels)


def _source_image(sample: Sample) -> str:
    name = sample.images[0]
    return name if sample.image_bytes is not None else os.path.abspath(name)


def box_format(family: str, size: Tuple[int, int], codec_params: Optional[Dict[str, Any]] = None
               ) -> Optional[BoxFormat]:
    """The family codec's :class:`~swift_ocr.codecs.grid.BoxFormat` for images of ``size`` (kept for the next page
    of that size), or None: the codec has none (quads), or refuses the size.

    Raises:
        ValueError: unknown family, bad ``codec_params``.
    """
    codec = _codec(family, codec_params)
    return _per_size(_BOX_FORMATS, codec, size, codec.box_format)


_text = attrgetter("text")


def plain_target(care: Sequence[Region], boxes: Sequence[Box], size: Tuple[int, int], family: str,
                 order: str = "tb-lr", max_boxes: Optional[int] = None,
                 codec_params: Optional[Dict[str, Any]] = None,
                 objects: Optional[Sequence[str]] = None, sequence: Optional[Sequence[int]] = None) -> Optional[str]:
    """The target :func:`det` gives a page when it gives one untiled sample and rejects nothing: the care regions'
    objects in reading order. Fast sibling of :func:`det` (its reference) for the batch converter
    (:mod:`swift_ocr.convert`), which calls it for pages whose regions all passed the geometry checks unchanged;
    equivalence tests: ``tests/test_batch.py`` (the batch path writes the careful path's bytes).

    Args:
        care: the page's care (not ``###``) regions in source order, unchanged by the geometry checks.
        boxes: each care region's bounding box ``(x1, y1, x2, y2)``, pixels of the image (as :meth:`Region.bbox`);
            only read when ``objects`` or ``sequence`` is not given.
        size: the image's ``(width, height)`` in pixels.
        family, order, max_boxes, codec_params: as for :func:`det`.
        objects: each care region's object, when the caller rendered them already (with the family's
            :func:`box_format`, whose text check has passed for every region); else they are encoded here.
        sequence: the reading ``order`` of ``care`` (indices), when the caller knows it already (e.g. from
            :func:`single_region_lines`); else it is found from ``boxes``.

    Returns:
        The target text, or None when :func:`det` would do anything else -- no care region, a region it rejects
        (empty transcription, a text the codec cannot carry), more than ``max_boxes`` regions (tiles), a size the
        codec refuses -- and the caller must run :func:`det` itself.

    Raises:
        ValueError: unknown family or order, bad ``codec_params``.
    """
    codec = _codec(family, codec_params)
    check_order(order)
    if not care or (max_boxes is not None and len(care) > max_boxes):
        return None
    if not all(map(str.strip, map(_text, care))):  # C-level loops: the batch converter calls this for every page
        return None
    if objects is None:
        encode = _object_encoder(codec, size)
        if encode is None:
            return None
        try:
            objects = [encode(region, box) for region, box in zip(care, boxes)]
        except ValueError:
            return None
    if sequence is None:
        sequence = reading_sequence(boxes, order)
    return codec.join_objects([objects[j] for j in sequence])


def _polygons_as_quads(sample: Sample) -> Sample:
    """A copy of ``sample`` whose regions of more than 4 vertices (polygon label files, clipped quads) are their
    minimum-area rectangle (:func:`~swift_ocr.formats.polygons.min_area_quad`; kept as they are when it has no
    area): the quad form of a target carries exactly 4 vertices. Pixels of the original image."""
    regions = []
    for r in sample.regions:
        quad = min_area_quad(r.polygon) if len(r.polygon) > 4 and r.issue is None else None
        regions.append(replace(r, polygon=quad) if quad is not None else r)
    return replace(sample, regions=regions)


def det(sample: Sample, family: str, order: str = "tb-lr", max_boxes: Optional[int] = None,
        tiling: str = "strips", *, rejected: Optional[List[Rejection]] = None,
        codec_params: Optional[Dict[str, Any]] = None,
        max_image_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS, careful: bool = False) -> List[Sample]:
    """Detection-as-text samples for one source sample.

    The image is not opened when ``sample.image_size`` is known (readers set it from the header check) and the
    page needs no tiles. Each care region is encoded once, by the codec's per-region encoder
    (:meth:`~swift_ocr.codecs.base.Codec.object_encoder`), while it is checked; an untiled target joins those
    objects. Tiles (and a size the codec refuses) take the careful way: ``codec.encode`` per region and per tile.

    Args:
        sample: a sample with regions in pixels of its (first) image, preferably checked by
            :func:`swift_ocr.formats.checks.finish_sample` (regions clipped into the image, ``Region.issue`` set).
        family: codec family (a registered family, :func:`swift_ocr.families.family_names`): the target's text
            format and coordinate grid.
        order: reading order of the objects in the target, one of :data:`ORDERS`.
        max_boxes: at most this many regions per output sample (None: no cap).
        tiling: what to do with pages over ``max_boxes``, one of :data:`TILINGS`.
        rejected: region rejections are appended here; when None the first one is raised instead.
        codec_params: passed to :func:`swift_ocr.codecs.get_codec` (e.g. ``{"shape": "quad"}`` for internvl).
        max_image_pixels: decompression-bomb limit when the image must be decoded (tiles).
        careful: check and encode every region with ``codec.encode`` (the reference path, :func:`_usable`) instead
            of the per-region encoder (:func:`_usable_fast`); the same result either way (the equivalence tests).

    Returns:
        Samples whose ``text`` is the codec target, ``regions`` the target's regions (pixels of the sample's own
        image: the tile for tiles), ``image_size`` that image's size, and the :data:`TILE_META_KEY` attribute
        (:func:`det_meta`). Untiled: ``images``/``image_bytes`` are the source's own. Tiles: PNG bytes, with
        ``images = ["<stem>_t<k>.png"]``.

    Raises:
        ValueError: unknown family, order or tiling, bad ``codec_params``, ``max_boxes`` < 1.
        OcrFormatError: no regions (kind ``no_regions``), only ``###`` regions (``no_readable_region``), no usable
            care region (``no_usable_region``), more than ``max_boxes`` regions with ``tiling="none"``
            (``too_many_boxes``), an image that cannot be read (``image_*``), or, with ``rejected=None``, the first
            rejected region.
    """
    codec = _codec(family, codec_params)
    record = codec_record(family, codec_params)
    check_order(order)
    if (codec_params or {}).get("shape") == "quad" and any(len(r.polygon) > 4 for r in sample.regions):
        sample = _polygons_as_quads(sample)
    if tiling not in TILINGS:
        raise ValueError(f"unknown tiling {tiling!r}; choose from {', '.join(TILINGS)}")
    if max_boxes is not None and (not isinstance(max_boxes, int) or max_boxes < 1):
        raise ValueError(f"max_boxes must be a whole number >= 1, got {max_boxes!r}")
    if not sample.regions:
        raise OcrFormatError(sample.source, sample.line, "the det task needs text regions with boxes; this source "
                             "has none", "no_regions")
    care = sample.care_regions()
    if not care:
        raise OcrFormatError(sample.source, sample.line, "no readable region (all are ###)", "no_readable_region")
    if not sample.images:
        raise OcrFormatError(sample.source, sample.line, "the sample has no image", "image_missing")
    name = sample.images[0]
    try:
        size = _sample_size(sample, max_image_pixels)
    except OcrFormatError as e:
        raise OcrFormatError(sample.source, sample.line, f"image {name}: {e.reason}", e.kind) from e
    encode = None if careful else _object_encoder(codec, size)
    if encode is None:  # asked for, or a bad size: the careful path rejects every region with the codec's message
        items = _usable(sample, codec, size, rejected)
    else:
        indices, regions, boxes, objects = _usable_fast(sample, care, encode, rejected)
        if regions and (max_boxes is None or len(regions) <= max_boxes):
            # The whole image: the objects encoded while checking the regions make the target (same image size).
            chosen = reading_sequence(boxes, order)
            out = Sample(images=list(sample.images), text=codec.join_objects([objects[j] for j in chosen]),
                         regions=[regions[j] for j in chosen], source=sample.source, line=sample.line,
                         image_size=tuple(size), image_bytes=sample.image_bytes)
            setattr(out, TILE_META_KEY, tile_meta(size, (0, 0), _source_image(sample), record))
            return [out]
        items = [PlacedRegion(i, r, b) for i, r, b in zip(indices, regions, boxes)]
    if not items:
        raise OcrFormatError(sample.source, sample.line, f"none of the {len(care)} readable "
                             "region(s) can be a detection target (each is listed as a region rejection)",
                             "no_usable_region")
    source_image = _source_image(sample)

    def finish(regions: List[Region], images, image_bytes, tile_size, offset) -> Sample:
        out = Sample(images=list(images), text=codec.encode(regions, tile_size), regions=regions,
                     source=sample.source, line=sample.line, image_size=tuple(tile_size), image_bytes=image_bytes)
        setattr(out, TILE_META_KEY, tile_meta(tile_size, offset, source_image, record))
        return out

    def arrange(chosen: List[PlacedRegion]) -> List[PlacedRegion]:
        if order == "source":
            return sorted(chosen, key=lambda it: it.index)
        rank = {id(it): k for k, it in enumerate(it for line in lines for it in line)}
        return sorted(chosen, key=lambda it: rank[id(it)])

    lines = ordered_lines(items, "tb-rl" if order == "tb-rl" else "tb-lr")
    if max_boxes is None or len(items) <= max_boxes:
        regions = [it.region for it in arrange(items)]
        return [finish(regions, sample.images, sample.image_bytes, size, (0, 0))]

    if tiling == "none":
        raise OcrFormatError(sample.source, sample.line, f"{len(items)} care regions, more than max_boxes="
                             f"{max_boxes} (use tiling 'strips' or a larger cap)", "too_many_boxes")

    try:
        image = open_rgb(sample.image_bytes if sample.image_bytes is not None else name, max_image_pixels,
                         name=name)
    except OcrFormatError as e:
        raise OcrFormatError(sample.source, sample.line, f"image {name}: {e.reason}", e.kind) from e
    if image.size != tuple(size):  # regions are in pixels of the decoded image
        raise OcrFormatError(sample.source, sample.line, f"image {name} decodes to {image.size[0]}x{image.size[1]}, "
                             f"not the {size[0]}x{size[1]} its regions refer to", "image_corrupt")
    stem = os.path.splitext(os.path.basename(name))[0]
    out = []
    for k, (tile, chosen) in enumerate(strips(lines, max_boxes, size, rtl=order == "tb-rl"), start=1):
        regions = []
        for it in arrange(chosen):
            r = region_in_tile(it, tile)
            if r is None:
                problem = Rejection(sample.source, it.region.line, f"{_label(it.region)}: no area left inside tile "
                                    f"{k} {list(tile)} (lines overlap vertically)", "degenerate_region")
                _reject(problem, rejected)
                continue
            regions.append(r)
        if not regions:
            continue
        x0, y0, x1, y1 = tile
        crop = image.crop(tile)
        out.append(finish(regions, [f"{stem}_t{k}.png"], encode_png(crop), (x1 - x0, y1 - y0), (x0, y0)))
    if not out:
        raise OcrFormatError(sample.source, sample.line, "no tile kept a usable region", "no_usable_region")
    return out
