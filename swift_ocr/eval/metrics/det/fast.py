"""The fast matcher of the ICDAR 2015 detection protocol (:mod:`swift_ocr.eval.metrics.det`, "fast path" in its
docstring): many images at once with numpy -- a sort-and-sweep bounding-box prefilter, a closed form for pairs of
axis-aligned rectangles in general position, an IoU upper bound before a vectorised exact ``shapely.intersection``,
the greedy matching in the reference's order -- and the per-image vectorised path for the images the batch does not
take (:func:`match_image_general`).

Reference: :func:`swift_ocr.eval.metrics.det.naive.match_image_naive`. Equivalence test:
``tests/metrics/test_det_fast.py`` (every count, every index list, bit-identical IoU values, the same first error;
on real ICDAR 2015 / SROIE ground truth and generated ties). Chosen by the caller: :func:`match_image` and
:func:`~swift_ocr.eval.metrics.det.dataset.evaluate` use it, ``evaluate(naive=True)`` the reference.
"""
from __future__ import annotations

from itertools import chain
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import shapely

from swift_ocr.eval.metrics.det.protocol import check_params, finish_image, setup_image
from swift_ocr.eval.metrics.det.scores import ImageMatch, Match
from swift_ocr.eval.metrics.det.spotting import (TextNorm, apply_text_norm, resolve_spotting, text_ok, in_dictionary,
                                                 dictionary_transcription)
from swift_ocr.sample import Region


def _touching_pairs(a: np.ndarray, b: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Index pairs (row-major order) of bounding boxes ``a[i]`` and ``b[j]`` that overlap or touch."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    hit = ((a[:, None, 0] <= b[None, :, 2]) & (b[None, :, 0] <= a[:, None, 2])
           & (a[:, None, 1] <= b[None, :, 3]) & (b[None, :, 1] <= a[:, None, 3]))
    return np.nonzero(hit)


def match_image_general(gt: Sequence[Region], det: Sequence[Region], iou_threshold: float,
                        dont_care_threshold: float, spotting: Union[bool, str], invalid: str,
                        truncate_coords: bool, image_id: Optional[str]) -> ImageMatch:
    """One image, any polygons: bounding-box prefilter, then shapely on every touching pair (vectorised).

    The fallback of the batch path for images it does not handle (polygons of other than 4 vertices, malformed
    input, invalid polygons under ``invalid="raise"``); raises exactly what
    :func:`~swift_ocr.eval.metrics.det.naive.match_image_naive` raises.
    """
    mode, g, d, dont_care, gt_texts = setup_image(gt, det, image_id, spotting, invalid, truncate_coords)
    discarded = np.zeros(len(det), dtype=bool)

    # 2. do-not-care discarding, only for boxes that touch
    dc_idx = np.flatnonzero(dont_care & g.valid)
    det_idx = np.flatnonzero(d.valid)
    gi, dj = _touching_pairs(g.bounds[dc_idx], d.bounds[det_idx])
    if len(gi):
        gi, dj = dc_idx[gi], det_idx[dj]
        inter = shapely.area(shapely.intersection(g.geoms[gi], d.geoms[dj]))
        darea = d.area[dj]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(darea == 0, 0.0, inter / darea)
        discarded[dj[ratio > dont_care_threshold]] = True

    # 3. IoU only where boxes touch; greedy matching over the surviving pairs in (gt, det) order
    care_idx = np.flatnonzero(~dont_care & g.valid)
    kept_idx = np.flatnonzero(d.valid & ~discarded)
    gi, dj = _touching_pairs(g.bounds[care_idx], d.bounds[kept_idx])
    matches: List[Match] = []
    if len(gi):
        gi, dj = care_idx[gi], kept_idx[dj]
        inter = shapely.area(shapely.intersection(d.geoms[dj], g.geoms[gi]))
        union = d.area[dj] + g.area[gi] - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.where(union == 0, 0.0, inter / union)
        sel = iou > iou_threshold
        gt_used = np.zeros(len(gt), dtype=bool)
        det_used = np.zeros(len(det), dtype=bool)
        for i, j, v in zip(gi[sel].tolist(), dj[sel].tolist(), iou[sel].tolist()):
            if not gt_used[i] and not det_used[j]:
                gt_used[i] = det_used[j] = True
                matches.append(Match(i, j, v, text_ok(mode, gt_texts[i], det[j].text)))
    return finish_image(image_id, gt, det, g, d, dont_care, discarded, matches, invalid)


_BOUND_MARGIN = 1e-3
"""A pair whose IoU (or do-not-care ratio) upper bound is at most ``threshold - _BOUND_MARGIN`` is not
intersected exactly. The bound is >= the true value and shapely's value is within ~1e-12 of the true value
for any sane polygon, so the margin only trades a few extra exact intersections for safety; it never decides
a result."""
_RECT_MAX_ABS = 1e100   # rectangles with larger coordinates take the polygon path (products could overflow)
_RECT_MIN_AREA = 1e-200  # ... and so do rectangles whose area would be subnormal
_BLOCK_PAIRS = 1 << 20  # candidate (gt, det) pairs bounding-box-tested per numpy block


def _quads_flat(polys: list) -> Optional[np.ndarray]:
    """All polygons as one float64 ``(n, 4, 2)`` array, or None unless every polygon is 4 points of 2 numbers."""
    n = len(polys)
    if n == 0:
        return np.zeros((0, 4, 2))
    try:
        if set(map(len, polys)) != {4}:
            return None
        points = list(chain.from_iterable(polys))
        if set(map(len, points)) != {2}:
            return None
        arr = np.fromiter(chain.from_iterable(points), dtype=np.float64, count=8 * n)
    except (TypeError, ValueError):
        return None
    return arr.reshape(n, 4, 2)


def _quads_of(polys: list) -> Optional[np.ndarray]:
    """One image's polygons as a float64 ``(n, 4, 2)`` array, or None (see :func:`_quads_flat`)."""
    try:
        arr = np.array(polys, dtype=np.float64) if polys else np.zeros((0, 4, 2))
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == (len(polys), 4, 2) else None


@dataclass
class _Batch:
    """One side (ground truth or detections) of a batch of images, all regions concatenated in image order."""

    coords: np.ndarray   # (n, 4, 2) float64 (truncated if asked); rows of general-path images are zeros
    img: np.ndarray      # (n,) image index of each region
    first: np.ndarray    # (K + 1,) offset of each image's first region
    rect: np.ndarray     # (n,) bool: an axis-aligned rectangle handled in closed form
    valid: np.ndarray    # (n,) bool
    area: np.ndarray     # (n,) float64 (== shapely.area for valid regions)
    bounds: np.ndarray   # (n, 4) float64 (xmin, ymin, xmax, ymax)
    geoms: np.ndarray    # (n,) object: shapely polygons, built only where needed (None elsewhere)


def _batch_side(polys_per_image: List[list], general: np.ndarray, truncate: bool) -> _Batch:
    """Arrays of one side; marks images whose polygons are not all finite 4-point polygons in ``general``."""
    sizes = np.fromiter(map(len, polys_per_image), dtype=np.intp, count=len(polys_per_image))
    first = np.zeros(len(sizes) + 1, dtype=np.intp)
    np.cumsum(sizes, out=first[1:])
    n = int(first[-1])
    coords = _quads_flat(list(chain.from_iterable(polys_per_image)))
    if coords is None:  # some image has other polygons: find it, keep the others
        coords = np.zeros((n, 4, 2))
        for k, polys in enumerate(polys_per_image):
            arr = _quads_of(polys)
            if arr is None:
                general[k] = True
            else:
                coords[first[k]:first[k + 1]] = arr
    img = np.repeat(np.arange(len(sizes)), sizes)
    finite = np.isfinite(coords).all(axis=(1, 2))
    if not finite.all():
        general[np.unique(img[~finite])] = True
        coords[~finite] = 0.0
    if truncate:
        coords = np.trunc(coords)
    x, y = coords[:, :, 0], coords[:, :, 1]
    bounds = np.stack([x.min(axis=1), y.min(axis=1), x.max(axis=1), y.max(axis=1)], axis=1)
    w = bounds[:, 2] - bounds[:, 0]
    h = bounds[:, 3] - bounds[:, 1]
    area = w * h
    pattern = (((x[:, 0] == x[:, 1]) & (y[:, 1] == y[:, 2]) & (x[:, 2] == x[:, 3]) & (y[:, 3] == y[:, 0]))
               | ((y[:, 0] == y[:, 1]) & (x[:, 1] == x[:, 2]) & (y[:, 2] == y[:, 3]) & (x[:, 3] == x[:, 0])))
    rect = (pattern & (w > 0) & (h > 0) & (area >= _RECT_MIN_AREA)
            & (np.abs(coords).max(axis=(1, 2), initial=0.0) <= _RECT_MAX_ABS))
    valid = rect.copy()
    geoms = np.full(n, None, dtype=object)
    other = np.flatnonzero(~rect & ~general[img])
    if len(other):
        geoms[other] = shapely.polygons(coords[other])
        ok = np.asarray(shapely.is_valid(geoms[other]), dtype=bool)
        valid[other] = ok
        area[other] = 0.0
        if ok.any():
            area[other[ok]] = shapely.area(geoms[other[ok]])
        geoms[other[~ok]] = None
    area[~valid] = 0.0
    return _Batch(coords, img, first, rect, valid, area, bounds, geoms)


def _ensure_geoms(side: _Batch, idx: np.ndarray) -> np.ndarray:
    """The shapely polygons of regions ``idx`` (built from the same coordinates as the reference's)."""
    missing = np.unique(idx[side.geoms[idx] == None])  # noqa: E711 (element-wise on an object array)
    if len(missing):
        side.geoms[missing] = shapely.polygons(side.coords[missing])
    return side.geoms[idx]


def _candidate_pairs(g: _Batch, d: _Batch, g_rows: np.ndarray, d_rows: np.ndarray, n_images: int
                     ) -> Tuple[np.ndarray, np.ndarray]:
    """Global index pairs ``(gi, dj)`` of regions of the same image whose bounding boxes overlap or touch,
    for ``gi`` in ``g_rows`` and ``dj`` in ``d_rows`` (both ascending), ordered by gi, then dj.

    Sweep on one axis (the one giving fewer candidates): the detections of each image sorted by their lower
    bound; a ground-truth box ``[lo, hi]`` can only touch detections whose lower bound lies in
    ``[lo - E, hi]``, E = the image's largest detection extent on that axis. The window is widened by a few
    ulps of the sort key (``image * span + value``, images ``span`` apart so they never mix), then every
    candidate gets the exact bounding-box test.
    """
    empty = np.zeros(0, dtype=np.intp)
    if len(g_rows) == 0 or len(d_rows) == 0:
        return empty, empty
    d_img, g_img = d.img[d_rows], g.img[g_rows]
    seg = np.searchsorted(d_img, np.arange(n_images + 1))  # d_rows of image k: seg[k]:seg[k + 1]
    nonempty = np.flatnonzero(seg[1:] > seg[:-1])
    best = None
    for axis in (0, 1):
        d_lo, d_hi = d.bounds[d_rows, axis], d.bounds[d_rows, axis + 2]
        extent = np.zeros(n_images)
        extent[nonempty] = np.maximum.reduceat(d_hi - d_lo, seg[nonempty])
        g_lo = g.bounds[g_rows, axis] - extent[g_img]
        g_hi = g.bounds[g_rows, axis + 2]
        base = min(float(d_lo.min()), float(g_lo.min()))
        span = 2.0 * (max(float(d_lo.max()), float(g_hi.max())) - base) + 2.0
        tol = 16.0 * (np.spacing(span * (n_images + 1)) + np.spacing(abs(base) + span))
        d_key = d_img * span + (d_lo - base)
        order = np.argsort(d_key, kind="stable")
        keys = d_key[order]
        first = np.searchsorted(keys, g_img * span + (g_lo - base) - tol, side="left")
        last = np.searchsorted(keys, g_img * span + (g_hi - base) + tol, side="right")
        count = last - first
        total = int(count.sum())
        if best is None or total < best[0]:
            best = (total, order, first, count)
    total, order, first, count = best
    cum = np.cumsum(count)
    out_g, out_d = [], []
    start = 0
    while start < len(g_rows):
        base_n = int(cum[start - 1]) if start else 0
        end = max(int(np.searchsorted(cum, base_n + _BLOCK_PAIRS, side="right")), start + 1)
        c = count[start:end]
        n = int(c.sum())
        if n:
            gi = np.repeat(g_rows[start:end], c)
            row_start = np.cumsum(c) - c
            dj = d_rows[order[np.arange(n) - np.repeat(row_start - first[start:end], c)]]
            a, b = g.bounds[gi], d.bounds[dj]
            hit = ((a[:, 0] <= b[:, 2]) & (b[:, 0] <= a[:, 2]) & (a[:, 1] <= b[:, 3]) & (b[:, 1] <= a[:, 3])
                   & (g.img[gi] == d.img[dj]))
            out_g.append(gi[hit])
            out_d.append(dj[hit])
        start = end
    if not out_g:
        return empty, empty
    gi, dj = np.concatenate(out_g), np.concatenate(out_d)
    o = np.lexsort((dj, gi))
    return gi[o], dj[o]


def match_batch(items: Sequence[Tuple[Optional[str], Sequence[Region], Sequence[Region]]],
                 iou_threshold: float, dont_care_threshold: float, spotting: Union[bool, str],
                 invalid: str, truncate_coords: bool) -> List[ImageMatch]:
    """:func:`match_image` for many images at once (module docstring, "fast path"); parameters already checked.

    Images the batch does not handle go through :func:`match_image_general` in input order, so the first
    error raised is the one the per-image loop would raise.
    """
    mode = resolve_spotting(spotting)
    n_images = len(items)
    general = np.zeros(n_images, dtype=bool)
    g_polys: List[list] = []
    d_polys: List[list] = []
    for k, (_, gt, det) in enumerate(items):
        try:
            gp, dp = [r.polygon for r in gt], [r.polygon for r in det]
        except Exception:  # not Regions: the per-image path raises what the reference raises
            general[k] = True
            gp, dp = [], []
        g_polys.append(gp)
        d_polys.append(dp)
    g = _batch_side(g_polys, general, truncate_coords)
    d = _batch_side(d_polys, general, truncate_coords)
    if invalid == "raise":
        for side in (g, d):
            bad = ~side.valid & ~general[side.img]
            general[np.unique(side.img[bad])] = True

    # do-not-care flags and the ground-truth texts to compare (word spotting turns non-words into ###)
    dont_care = np.zeros(len(g.img), dtype=bool)
    gt_texts: List[Optional[List[str]]] = [None] * n_images
    for k, (_, gt, _) in enumerate(items):
        if general[k]:
            continue
        base = g.first[k]
        if mode == "word_spotting":
            texts = [r.text for r in gt]
            for i, r in enumerate(gt):
                if r.dont_care:
                    dont_care[base + i] = True
                elif in_dictionary(r.text):
                    texts[i] = dictionary_transcription(r.text)
                else:
                    dont_care[base + i] = True
            gt_texts[k] = texts
        else:
            flags = [bool(r.dont_care) for r in gt]
            if any(flags):
                dont_care[base:base + len(flags)] = flags

    active_g = g.valid & ~general[g.img]
    active_d = d.valid & ~general[d.img]
    gi, dj = _candidate_pairs(g, d, np.flatnonzero(active_g), np.flatnonzero(active_d), n_images)

    # per pair: bounding-box intersection, closed-form rectangles in general position, bounds for the rest
    a, b = g.bounds[gi], d.bounds[dj]
    iw = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    box_inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    closed = (g.rect[gi] & d.rect[dj]
              & (a[:, 0] != b[:, 0]) & (a[:, 0] != b[:, 2]) & (a[:, 2] != b[:, 0]) & (a[:, 2] != b[:, 2])
              & (a[:, 1] != b[:, 1]) & (a[:, 1] != b[:, 3]) & (a[:, 3] != b[:, 1]) & (a[:, 3] != b[:, 3]))
    ga, da = g.area[gi], d.area[dj]
    bound = np.minimum(box_inter, np.minimum(ga, da))  # >= the true intersection area (== it where closed)

    # 2. do-not-care discarding: intersection / detection area > threshold with any one ### region
    discarded = np.zeros(len(d.img), dtype=bool)
    is_dc = dont_care[gi]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(da == 0, 0.0, bound / da)
    exact = np.flatnonzero(is_dc & ~closed & (ratio > dont_care_threshold - _BOUND_MARGIN))
    if len(exact):
        inter = shapely.area(shapely.intersection(_ensure_geoms(g, gi[exact]), _ensure_geoms(d, dj[exact])))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio[exact] = np.where(da[exact] == 0, 0.0, inter / da[exact])
    decided = closed.copy()
    decided[exact] = True  # elsewhere ratio holds a bound <= threshold - margin: never a discard
    discarded[dj[is_dc & decided & (ratio > dont_care_threshold)]] = True

    # 3. IoU of care ground truth x kept detections; exact where the bound allows a match
    care = ~is_dc & ~discarded[dj]
    with np.errstate(divide="ignore", invalid="ignore"):
        union = (da + ga) - bound
        iou = np.where(union == 0, 0.0, bound / union)
    exact = np.flatnonzero(care & ~closed & (iou > iou_threshold - _BOUND_MARGIN))
    if len(exact):
        inter = shapely.area(shapely.intersection(_ensure_geoms(d, dj[exact]), _ensure_geoms(g, gi[exact])))
        union_x = d.area[dj[exact]] + g.area[gi[exact]] - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            iou[exact] = np.where(union_x == 0, 0.0, inter / union_x)
    decided = closed.copy()
    decided[exact] = True  # elsewhere iou holds a bound <= threshold - margin: never a match
    sel = np.flatnonzero(care & decided & (iou > iou_threshold))

    # 4. greedy one-to-one matching in (image, gt, det) order
    matches: List[List[Match]] = [[] for _ in range(n_images)]
    g_used = bytearray(len(g.img))
    d_used = bytearray(len(d.img))
    sg, sd = gi[sel], dj[sel]
    ks = g.img[sg]
    for i, j, v, k, li, lj in zip(sg.tolist(), sd.tolist(), iou[sel].tolist(), ks.tolist(),
                                  (sg - g.first[ks]).tolist(), (sd - d.first[ks]).tolist()):
        if g_used[i] or d_used[j]:
            continue
        g_used[i] = d_used[j] = 1
        if mode is None:
            matches[k].append(Match(li, lj, v))
        else:
            texts = gt_texts[k]
            ok = text_ok(mode, texts[li] if texts is not None else items[k][1][li].text, items[k][2][lj].text)
            matches[k].append(Match(li, lj, v, ok))
    g_used = np.frombuffer(g_used, dtype=np.uint8).astype(bool)
    d_used = np.frombuffer(d_used, dtype=np.uint8).astype(bool)

    counted_g = ~dont_care
    counted_d = ~discarded
    if invalid == "skip":
        counted_g &= g.valid
        counted_d &= d.valid
    lists_g = _split(g, [counted_g & ~g_used, dont_care, ~g.valid])
    lists_d = _split(d, [counted_d & ~d_used, discarded, ~d.valid])
    cum_g = np.concatenate([[0], np.cumsum(counted_g)])[g.first]
    cum_d = np.concatenate([[0], np.cumsum(counted_d)])[d.first]

    out: List[ImageMatch] = []
    for k, (image_id, gt, det) in enumerate(items):
        if general[k]:
            out.append(match_image_general(gt, det, iou_threshold, dont_care_threshold, spotting, invalid,
                                            truncate_coords, image_id))
            continue
        ms = matches[k]
        out.append(ImageMatch(
            image_id=image_id,
            n_gt=int(cum_g[k + 1] - cum_g[k]),
            n_det=int(cum_d[k + 1] - cum_d[k]),
            n_matched=sum(m.text_ok for m in ms),
            matches=ms,
            unmatched_gt=lists_g[0][k], dont_care_gt=lists_g[1][k], invalid_gt=lists_g[2][k],
            unmatched_det=lists_d[0][k], discarded_det=lists_d[1][k], invalid_det=lists_d[2][k],
        ))
    return out


def _split(side: _Batch, masks: List[np.ndarray]) -> List[List[List[int]]]:
    """For each mask over the side's regions: per image, the local indices where it is True (ascending)."""
    n_images = len(side.first) - 1
    out = []
    for mask in masks:
        idx = np.flatnonzero(mask)
        cuts = np.searchsorted(idx, side.first).tolist()
        local = (idx - side.first[side.img[idx]]).tolist()
        out.append([local[cuts[k]:cuts[k + 1]] for k in range(n_images)])
    return out


def match_image(gt: Sequence[Region], det: Sequence[Region], iou_threshold: float = 0.5,
                dont_care_threshold: float = 0.5, spotting: Union[bool, str] = False,
                invalid: str = "count", truncate_coords: bool = False,
                image_id: Optional[str] = None, text_norm: TextNorm = None) -> ImageMatch:
    """Match one image's detections to its ground truth under the ICDAR 2015 protocol (module docstring).

    Args:
        gt: ground-truth regions (polygons in pixels of the original image; ``dont_care`` = ``###``).
        det: detected regions in the same pixel space (``text`` used only in spotting modes; may be "").
        iou_threshold: a pair matches when IoU is strictly greater (official ``IOU_CONSTRAINT`` 0.5).
        dont_care_threshold: a detection is discarded when its intersection with one do-not-care region is
            strictly greater than this fraction of its own area (official ``AREA_PRECISION_CONSTRAINT`` 0.5).
        spotting: False (detection only), True / ``"end_to_end"``, or ``"word_spotting"``.
        invalid: ``"count"``, ``"skip"`` or ``"raise"`` for polygons shapely finds invalid.
        truncate_coords: apply ``int()`` truncation to coordinates like the official script.
        image_id: name used in error messages and stored in the result.
        text_norm: spotting modes only: ``str -> str`` applied to the texts of both sides before comparing
            (module docstring); None (default, the official script) compares the raw texts.

    Returns:
        :class:`ImageMatch`, identical to :func:`match_image_naive`'s. To score many images use
        :func:`evaluate`, which batches them (much faster than calling this per image).

    Raises:
        ValueError: bad thresholds / mode / policy, a polygon with < 3 points or non-finite coordinates,
            or an invalid polygon under ``invalid="raise"``.
    """
    check_params(iou_threshold, dont_care_threshold, invalid)
    resolve_spotting(spotting)
    gt, det = apply_text_norm(gt, spotting, text_norm), apply_text_norm(det, spotting, text_norm)
    return match_batch([(image_id, gt, det)], iou_threshold, dont_care_threshold, spotting, invalid,
                        truncate_coords)[0]
