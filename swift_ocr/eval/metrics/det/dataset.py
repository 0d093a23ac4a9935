"""Dataset scores of the ICDAR 2015 detection protocol (:mod:`swift_ocr.eval.metrics.det`): :func:`evaluate` matches
every image (in batches on the fast path, :mod:`swift_ocr.eval.metrics.det.fast`; one by one with the reference,
``naive=True``) and computes precision, recall and Hmean from sums over the images, as the official script does."""
from __future__ import annotations

import contextlib
import gc
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from swift_ocr.eval.metrics.det.fast import match_batch
from swift_ocr.eval.metrics.det.naive import match_image_naive
from swift_ocr.eval.metrics.det.protocol import check_params
from swift_ocr.eval.metrics.det.scores import DetResult, ImageMatch, harmonic_mean
from swift_ocr.eval.metrics.det.spotting import TextNorm, apply_text_norm, resolve_spotting
from swift_ocr.sample import Region, Sample

_CHUNK_REGIONS = 200_000  # evaluate(): images are batched until they hold this many regions ...
_CHUNK_IMAGES = 4096      # ... or this many images


@contextlib.contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector while a batch creates its many small acyclic objects (matches,
    index lists): with a large dataset in memory, collections triggered by those allocations would traverse
    every region again and again. Restores the previous state."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


ImagePair = Union[Tuple[Union[Sequence[Region], Sample], Sequence[Region]],
                  Tuple[Optional[str], Union[Sequence[Region], Sample], Sequence[Region]]]


def evaluate(pairs: Iterable[ImagePair], iou_threshold: float = 0.5, dont_care_threshold: float = 0.5,
             spotting: Union[bool, str] = False, invalid: str = "count", truncate_coords: bool = False,
             naive: bool = False, text_norm: TextNorm = None) -> DetResult:
    """Score a dataset: one ``(gt, det)`` or ``(image_id, gt, det)`` tuple per image.

    ``gt`` is a list of :class:`Region` or a :class:`Sample` (its ``regions``; ``image_id`` then defaults
    to ``Sample.where()``); ``det`` is a list of :class:`Region` in the same pixel space. An image with no
    detections must still be passed (with ``det=[]``): its ground truth counts as missed, as in the
    official script. Scores are computed from dataset sums (module docstring). Images are matched in batches
    (the fast path of the module docstring; results identical to :func:`match_image` per image);
    ``naive=True`` uses :func:`match_image_naive` instead. Other arguments (``text_norm`` included) as
    :func:`match_image`. Every detection passed counts (no de-duplication).

    Raises:
        ValueError: a tuple that is not of length 2 or 3, or any error of :func:`match_image`.
    """
    check_params(iou_threshold, dont_care_threshold, invalid)
    resolve_spotting(spotting)
    params = dict(iou_threshold=iou_threshold, dont_care_threshold=dont_care_threshold, spotting=spotting,
                  invalid=invalid, truncate_coords=truncate_coords)
    images: List[ImageMatch] = []
    chunk: List[Tuple[str, Sequence[Region], Sequence[Region]]] = []
    chunk_regions = 0

    def flush():
        nonlocal chunk_regions
        if chunk:
            with _gc_paused():
                images.extend(match_batch(chunk, **params))
            chunk.clear()
            chunk_regions = 0

    for k, item in enumerate(pairs):
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            flush()  # earlier images first: their errors come first, as in a per-image loop
            raise ValueError(f"evaluate: item #{k} must be (gt, det) or (image_id, gt, det), got {type(item).__name__}")
        image_id, gt, det = (None, *item) if len(item) == 2 else item
        if isinstance(gt, Sample):
            if image_id is None:
                image_id = gt.where() if gt.source is not None else (gt.images[0] if gt.images else None)
            gt = gt.regions
        if image_id is None:
            image_id = f"image #{k}"
        gt, det = apply_text_norm(gt, spotting, text_norm), apply_text_norm(det, spotting, text_norm)
        if naive:
            images.append(match_image_naive(gt, det, image_id=str(image_id), **params))
            continue
        chunk.append((str(image_id), gt, det))
        try:
            chunk_regions += len(gt) + len(det)
        except TypeError:
            pass  # not sized: the per-image path reports it
        if chunk_regions >= _CHUNK_REGIONS or len(chunk) >= _CHUNK_IMAGES:
            flush()
    flush()
    n_gt = sum(m.n_gt for m in images)
    n_det = sum(m.n_det for m in images)
    n_matched = sum(m.n_matched for m in images)
    recall = 0.0 if n_gt == 0 else n_matched / n_gt
    precision = 0.0 if n_det == 0 else n_matched / n_det
    return DetResult(precision=precision, recall=recall, hmean=harmonic_mean(precision, recall),
                     n_images=len(images), n_gt=n_gt, n_det=n_det, n_matched=n_matched, images=images)
