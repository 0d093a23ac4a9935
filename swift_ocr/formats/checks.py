"""The checks every item goes through after its reader, shared by ``swift-ocr convert`` and the ms-swift
preprocessor (:mod:`swift_ocr.msswift.datasets`) so that both routes accept, repair and reject exactly the same items.

:func:`finish_sample`, in order:

1. **text**: every transcription must be writable as UTF-8 (kind ``bad_text``);
2. **images**: each image is checked (:func:`swift_ocr.images.probe_image`: missing, empty, truncated, corrupt,
   over the pixel limit) and ``Sample.image_size`` is set from the first image's header. A bad image rejects the
   item; the rejection names the label/data file and line that refer to it, the image path is in the reason.
   The image of a one-image item that has transparent pixels (RGBA, LA, palette or colour-key transparency) is
   replaced by a PNG composited on white in ``Sample.image_bytes`` (:func:`swift_ocr.images.flatten_transparency`;
   writers then write that file), counted in ``Sample.fixes['flattened_images']``: ms-swift's image loader would
   drop the alpha channel and train on a black background;
3. **Unicode**: transcriptions are kept exactly as the label file writes them (default): labels are the user's
   data, and a target the model learns must be the text as written (NFKC would turn a Chinese label's full-width
   ``，`` and ``（２０２６）`` into ASCII ``,`` and ``(2026)`` and a circled ``①`` into ``1``). No NFC either: the
   label's code points are the target. Only with ``nfkc=True`` (an explicit opt-in: ``swift-ocr convert --nfkc``,
   dataset option ``nfkc=1``) are they NFKC-normalised, counted in ``Sample.fixes['nfkc_texts']`` (regions whose text
   changed, or 1 for a region-less sample whose text changed). Scoring normalises both sides instead
   (:mod:`swift_ocr.eval.metrics.rec`); do-not-care markers are recognised on the NFKC form whatever this option
   (:func:`swift_ocr.sample.is_dont_care`);
4. **geometry**: regions are repaired (reordered, clipped into the image) or flagged
   (:mod:`swift_ocr.formats.geometry`).

Image paths named inside data files (DBNet list files, GOT JSON, parquet path columns) must stay inside the
dataset root (:func:`resolve_inside_root`), unless ``allow_outside_root`` is set.
"""
from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from typing import Optional, Tuple

from swift_ocr.errors import OcrFormatError
from swift_ocr.images import CHECK_LEVELS, DEFAULT_MAX_IMAGE_PIXELS, flatten_transparency, probe_image, probe_image_opaque
from swift_ocr.sample import Sample
from swift_ocr.formats.geometry import check_regions
from swift_ocr.formats.text_io import check_text, nfkc


@dataclass(frozen=True)
class ReadOptions:
    """How items are read and checked.

    Attributes:
        encoding: label-file encoding (``icdar``); None: UTF-8 (BOM allowed), then GB18030.
        nfkc: NFKC-normalise transcriptions (see :func:`swift_ocr.formats.text_io.nfkc`). Default False: targets
            keep the label's text exactly as written (issue 15); scoring normalises instead.
        check_images: ``header``, ``verify`` (default) or ``decode`` (see :mod:`swift_ocr.images`).
        max_image_pixels: refuse images with more pixels than this (decompression-bomb protection); None/0: no limit.
        allow_outside_root: accept image paths in data files that point outside the dataset root.
        icdar_variant: layout of ``icdar`` label files (:data:`swift_ocr.formats.icdar.VARIANTS`; ``auto``: detected
            per file).
        scripts: ``icdar`` MLT files: the script names whose regions are targets (None: all; see
            :func:`swift_ocr.formats.icdar.read_icdar_file`).
    """

    encoding: Optional[str] = None
    nfkc: bool = False
    check_images: str = "verify"
    max_image_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS
    allow_outside_root: bool = False
    icdar_variant: str = "auto"
    scripts: Optional[Tuple[str, ...]] = None

    def __post_init__(self):
        from swift_ocr.formats.icdar import check_scripts, check_variant  # icdar imports this module

        check_variant(self.icdar_variant)
        object.__setattr__(self, "scripts", check_scripts(self.scripts))
        if self.encoding:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ValueError(f"unknown encoding {self.encoding!r}") from None
        if self.check_images not in CHECK_LEVELS:
            raise ValueError(f"unknown image check {self.check_images!r}; choose from {', '.join(CHECK_LEVELS)}")
        if self.max_image_pixels is not None and self.max_image_pixels < 0:
            raise ValueError(f"max_image_pixels must be >= 0, got {self.max_image_pixels}")


def resolve_inside_root(path: str, root: str, allow_outside: bool, source: Optional[str],
                        line: Optional[int]) -> str:
    """``path`` (relative to ``root``, or absolute) as an absolute, normalised path that must lie inside ``root``.

    The test is lexical (``..`` segments are resolved, symbolic links are not followed): a dataset whose image folder
    is a symlink to another disk still works, while a label that says ``../../home/me/.ssh/id_rsa`` is refused.

    Raises:
        OcrFormatError: kind ``outside_root``, unless ``allow_outside`` (then the path is returned as it is).
    """
    root_abs = os.path.normpath(os.path.abspath(root))
    full = os.path.normpath(os.path.join(root_abs, path))
    if not allow_outside:
        try:
            inside = os.path.commonpath([root_abs, full]) == root_abs
        except ValueError:  # different drives (Windows)
            inside = False
        if not inside:
            raise OcrFormatError(source, line, f"image path {path!r} escapes the dataset root {root_abs} (refused; "
                                 "pass --allow-outside-root to accept paths outside it)", "outside_root")
    return full


def image_size_for(image_path, source: Optional[str], line: Optional[int] = None) -> Tuple[int, int]:
    """The image's ``(width, height)`` from its header (no pixel limit here: :func:`finish_sample` applies the
    configured one). A bad image is reported against ``source`` (the file naming it), with the path in the reason.

    Raises:
        OcrFormatError: kind ``image_*``.
    """
    try:
        return probe_image(image_path, "header", None)
    except OcrFormatError as e:
        raise OcrFormatError(source, line, f"image {image_path}: {e.reason}", e.kind) from e


def check_images(sample: Sample, options: ReadOptions) -> Sample:
    """Check every image of ``sample`` and set ``sample.image_size`` from the first one; a one-image sample whose image
    has transparent pixels gets it composited on white as PNG bytes in ``sample.image_bytes`` (``images[0]`` is
    then its name only), counted in ``sample.fixes['flattened_images']``. Samples with several images keep theirs.

    Raises:
        OcrFormatError: kind ``image_*``, naming ``sample.source``/``sample.line`` and the image.
    """
    if not sample.images and sample.image_bytes is None:
        raise OcrFormatError(sample.source, sample.line, "no image", "image_missing")
    sizes = []
    if sample.image_bytes is not None:
        name = sample.images[0] if sample.images else "<bytes>"
        todo = [(sample.image_bytes, name)] + [(p, p) for p in sample.images[1:]]
    else:
        todo = [(p, p) for p in sample.images]
    for k, (src, name) in enumerate(todo):
        try:
            if k == 0 and len(todo) == 1:
                size, opaque = probe_image_opaque(src, options.check_images, options.max_image_pixels, str(name))
                if not opaque:
                    flat = flatten_transparency(src, options.max_image_pixels, str(name))
                    if flat is not None:
                        sample.image_bytes = flat
                        sample.fixes["flattened_images"] += 1
            else:
                size = probe_image(src, options.check_images, options.max_image_pixels, name=str(name))
            sizes.append(size)
        except OcrFormatError as e:
            raise OcrFormatError(sample.source, sample.line, f"image {name}: {e.reason}", e.kind) from e
    sample.image_size = sizes[0]
    return sample


def normalise_texts(sample: Sample) -> Sample:
    """NFKC-normalise ``sample.text`` and every region's text, counting changes in ``sample.fixes['nfkc_texts']``
    (only called with the opt-in ``ReadOptions.nfkc``)."""
    changed = 0
    for region in sample.regions:
        new = nfkc(region.text)
        if new != region.text:
            region.text = new
            changed += 1
    new = nfkc(sample.text)
    if new != sample.text:
        sample.text = new
        if not sample.regions:
            changed += 1
    if changed:
        sample.fixes["nfkc_texts"] += changed
    return sample


def finish_sample(sample: Sample, options: Optional[ReadOptions] = None) -> Sample:
    """Run the shared checks on a sample fresh from its reader (see module docstring); modifies and returns it.

    Raises:
        OcrFormatError: ``bad_text`` or an ``image_*`` kind; the item is then rejected as a whole. Region-level
            problems do not raise: they are set on ``Region.issue``.
    """
    options = options or ReadOptions()
    check_text(sample.text, sample.source, sample.line)
    for region in sample.regions:
        check_text(region.text, sample.source, region.line if region.line is not None else sample.line)
    check_images(sample, options)
    if options.nfkc:
        normalise_texts(sample)
    return check_regions(sample)
