"""The per-image steps of the ICDAR 2015 detection protocol that every matcher of :mod:`swift_ocr.eval.metrics.det`
shares: checking the parameters, turning regions into shapely polygons with areas and bounds (validity,
the ``invalid=`` policy, error messages naming image, side, index and line), the do-not-care flags and the texts to
compare, and assembling an :class:`~swift_ocr.eval.metrics.det.scores.ImageMatch` from the matches.

Coordinates: polygons ``[(x, y), ...]`` in pixels of the original image; boxes ``(x1, y1, x2, y2)`` in pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
import shapely
from shapely.validation import explain_validity

from swift_ocr.eval.metrics.det.scores import ImageMatch
from swift_ocr.eval.metrics.det.spotting import resolve_spotting, in_dictionary, dictionary_transcription
from swift_ocr.sample import Point, Region

INVALID_POLICIES = ("count", "skip", "raise")


def box_to_polygon(box: Sequence[float]) -> List[Point]:
    """Axis-aligned box ``(x1, y1, x2, y2)`` (pixels, ``x1 <= x2``, ``y1 <= y2``) to its 4 corners
    ``[(x1, y1), (x2, y1), (x2, y2), (x1, y2)]``, clockwise from the top-left in image coordinates (y down).

    Coordinates are not truncated (the official script's ``LTRB`` mode applies ``int()``; see
    ``truncate_coords``). A zero-width or zero-height box is accepted here and is an invalid polygon for
    scoring.

    Raises:
        ValueError: not 4 finite numbers, or ``x2 < x1`` / ``y2 < y1``.
    """
    if len(box) != 4:
        raise ValueError(f"box must be (x1, y1, x2, y2), got {len(box)} value(s): {box!r}")
    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        raise ValueError(f"box has a non-finite coordinate: {box!r}")
    if x2 < x1 or y2 < y1:
        raise ValueError(f"box must have x1 <= x2 and y1 <= y2, got {box!r}")
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


def box_region(box: Sequence[float], text: str = "", dont_care: bool = False) -> Region:
    """A :class:`Region` from an axis-aligned box ``(x1, y1, x2, y2)`` in pixels (see :func:`box_to_polygon`)."""
    return Region(polygon=box_to_polygon(box), text=text, dont_care=dont_care)


def check_params(iou_threshold: float, dont_care_threshold: float, invalid: str) -> None:
    """Raises ValueError unless both thresholds are in ``[0, 1]`` and ``invalid`` is one of :data:`INVALID_POLICIES`."""
    for name, v in (("iou_threshold", iou_threshold), ("dont_care_threshold", dont_care_threshold)):
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"{name} must be in [0, 1], got {v!r}")
    if invalid not in INVALID_POLICIES:
        raise ValueError(f"invalid must be one of {INVALID_POLICIES}, got {invalid!r}")


def region_label(image_id: Optional[str], side: str, index: int, region) -> str:
    """``'<image>: gt #3 (line 4)'``: where a region is, for error messages (``side``: ``'gt'`` or ``'det'``)."""
    line = getattr(region, "line", None)
    img = image_id if image_id is not None else "<image>"
    return f"{img}: {side} #{index}" + (f" (line {line})" if line is not None else "")


@dataclass
class Side:
    """Polygons of one side of one image. ``geoms[i]`` is None for invalid polygons."""

    geoms: np.ndarray  # object array of shapely Polygons / None
    valid: np.ndarray  # bool
    area: np.ndarray  # float64, 0.0 where invalid
    bounds: np.ndarray  # (n, 4) float64 (xmin, ymin, xmax, ymax), nan where invalid


def prepare_side(regions: Sequence[Region], side: str, image_id: Optional[str], invalid: str,
                 truncate: bool) -> Side:
    """One side of one image as shapely polygons (``truncate``: ``int()`` of every coordinate first, as the official
    script), with validity, areas and bounds (pixels).

    Raises:
        ValueError: a polygon that is not at least 3 finite ``(x, y)`` points, or an invalid one under
            ``invalid="raise"`` (the message names image, side, index and line).
    """
    n = len(regions)
    coords = []
    for i, r in enumerate(regions):
        try:
            arr = np.asarray(r.polygon, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{region_label(image_id, side, i, r)}: polygon is not a list of (x, y) points: "
                             f"{e}") from None
        if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 3:
            raise ValueError(f"{region_label(image_id, side, i, r)}: polygon must be at least 3 (x, y) points, "
                             f"got {r.polygon!r}")
        coords.append(arr)
    # one vectorised shapely call per vertex count (all 4 for quads and boxes)
    geoms = np.empty(n, dtype=object)
    sizes = np.array([len(c) for c in coords], dtype=np.intp)
    for k in np.unique(sizes):
        idx = np.flatnonzero(sizes == k)
        stacked = np.stack([coords[i] for i in idx])
        finite = np.isfinite(stacked).all(axis=(1, 2))
        if not finite.all():
            i = int(idx[np.flatnonzero(~finite)[0]])
            raise ValueError(f"{region_label(image_id, side, i, regions[i])}: polygon has a non-finite coordinate: "
                             f"{regions[i].polygon!r}")
        if truncate:
            stacked = np.trunc(stacked)
        geoms[idx] = shapely.polygons(stacked)
    valid = shapely.is_valid(geoms) if n else np.zeros(0, dtype=bool)
    valid = np.asarray(valid, dtype=bool)
    if invalid == "raise" and not valid.all():
        i = int(np.flatnonzero(~valid)[0])
        raise ValueError(f"{region_label(image_id, side, i, regions[i])}: invalid polygon "
                         f"({explain_validity(geoms[i])}): {regions[i].polygon!r}")
    geoms[~valid] = None
    area = np.zeros(n, dtype=np.float64)
    bounds = np.full((n, 4), np.nan)
    if valid.any():
        area[valid] = shapely.area(geoms[valid])
        bounds[valid] = shapely.bounds(geoms[valid])
    return Side(geoms, valid, area, bounds)


def setup_image(gt, det, image_id, spotting, invalid, truncate):
    """Shared by the matchers: ``(mode, gt side, det side, do-not-care flags, ground-truth texts to compare)``
    (word spotting turns non-dictionary ground truth into do-not-care and normalises the others)."""
    mode = resolve_spotting(spotting)
    g = prepare_side(gt, "gt", image_id, invalid, truncate)
    d = prepare_side(det, "det", image_id, invalid, truncate)
    dont_care = np.array([bool(r.dont_care) for r in gt], dtype=bool)
    gt_texts = [r.text for r in gt]
    if mode == "word_spotting":
        for i, r in enumerate(gt):
            if not dont_care[i]:
                if in_dictionary(r.text):
                    gt_texts[i] = dictionary_transcription(r.text)
                else:
                    dont_care[i] = True
    return mode, g, d, dont_care, gt_texts


def finish_image(image_id, gt, det, g, d, dont_care, discarded, matches, invalid) -> ImageMatch:
    """The :class:`ImageMatch` of one image from its sides, flags and matches (counts under the ``invalid`` policy)."""
    counted_gt = ~dont_care
    counted_det = ~discarded
    if invalid == "skip":
        counted_gt &= g.valid
        counted_det &= d.valid
    matched_g = {m.gt for m in matches}
    matched_d = {m.det for m in matches}
    return ImageMatch(
        image_id=image_id,
        n_gt=int(counted_gt.sum()),
        n_det=int(counted_det.sum()),
        n_matched=sum(1 for m in matches if m.text_ok),
        matches=matches,
        unmatched_gt=[i for i in range(len(gt)) if counted_gt[i] and i not in matched_g],
        unmatched_det=[j for j in range(len(det)) if counted_det[j] and j not in matched_d],
        dont_care_gt=[int(i) for i in np.flatnonzero(dont_care)],
        discarded_det=[int(j) for j in np.flatnonzero(discarded)],
        invalid_gt=[int(i) for i in np.flatnonzero(~g.valid)],
        invalid_det=[int(j) for j in np.flatnonzero(~d.valid)],
    )
