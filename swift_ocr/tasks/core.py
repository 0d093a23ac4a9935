"""Tasks turn one source :class:`~swift_ocr.sample.Sample` into the samples a model is trained on.

* ``rec``: the whole image -> its full text (ICDAR: non-``###`` lines in file order joined by ``\\n``).
  Only the transcriptions are used: a region whose *box* is unusable (``Region.issue``: degenerate, outside the
  image, self-intersecting) still has a valid transcription of text in the image, so its text stays in the target
  and nothing is rejected. An item that brings its own prompt (``Sample.prompt``: a GOT JSON human turn) keeps it,
  carried to the target family (:func:`carried_prompt`); a GOT region prompt that the family cannot carry rejects
  the item (kind ``unsupported_prompt``).
* ``det``: detection as text -- the care regions' boxes and texts in the family's format (:mod:`swift_ocr.tasks.det`,
  :mod:`swift_ocr.codecs`), optionally tiled so that long pages fit ``--max_length``.
* ``line``: every non-``###`` region cropped out of the image (4-point quads rectified with a perspective
  transform; other polygons -- curved text, clipped quads -- by their minimum-area rectangle,
  :func:`swift_ocr.formats.polygons.min_area_quad`, or their bounding box when that has no area) -> that region's
  text. Crops are PNG bytes in ``Sample.image_bytes``; ``Sample.images[0]`` is a file name
  ``<image stem>_l<line>.png`` for writers.
  A region with an unusable box or an empty transcription is left out and recorded as a region rejection (its
  own kind, file and line) while the image's other regions are kept; an image none of whose readable regions
  can be cropped is rejected as a whole (kind ``no_usable_region``) in addition.

:func:`run_task` is what the converter and the ms-swift preprocessor call: it never drops anything silently.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional

from swift_ocr.errors import OcrFormatError, Rejection
from swift_ocr.formats.polygons import min_area_quad
from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS, encode_png, open_rgb, rectify_quad
from swift_ocr.families import DEFAULT_FAMILY, families, family_names, get_family
from swift_ocr.families.prompts import carry_prompt, det_prompt, det_system, prompt_styles, rec_prompt
from swift_ocr.tasks.order import ORDERS
from swift_ocr.tasks.tiling import TILINGS
from swift_ocr.sample import Region, Sample

TASKS = ("rec", "line", "det")


@dataclass
class TaskOutput:
    """What a task made of one source item.

    Attributes:
        samples: the training samples (empty exactly when ``failure`` is set).
        region_rejections: regions of the item that were left out (the item itself may still be converted).
        failure: why the item gave no sample at all (the item is rejected), else None.
    """

    samples: List[Sample] = field(default_factory=list)
    region_rejections: List[Rejection] = field(default_factory=list)
    failure: Optional[Rejection] = None


def rec(sample: Sample) -> List[Sample]:
    """The sample itself, with its full text as target.

    Raises:
        OcrFormatError: kind ``empty_text``: the target text is empty (e.g. every region is ``###``).
    """
    if not sample.text.strip():
        raise OcrFormatError(sample.source, sample.line, "empty target text (no readable region)", "empty_text")
    return [sample]


def _region_label(region: Region) -> str:
    where = f"region at line {region.line}" if region.line is not None else "region"
    return f"{where} ({region.text[:40]!r})"


def line(sample: Sample, rejected: Optional[List[Rejection]] = None,
         max_image_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS) -> List[Sample]:
    """One cropped sample per readable region, in source order.

    Args:
        sample: a sample whose regions are in pixels of its (first) image, preferably checked by
            :func:`swift_ocr.formats.checks.finish_sample` (clipped into the image, ``Region.issue`` set).
        rejected: region rejections (unusable box, empty transcription) are appended here; when None, the first
            one is raised instead, so nothing is dropped silently.
        max_image_pixels: decompression-bomb limit for decoding the image (None/0: none).

    Raises:
        OcrFormatError: the sample has no regions (kind ``no_regions``, e.g. parquet rows), only ``###`` regions
            (``no_readable_region``), an image that cannot be decoded (``image_*``), no region that could be
            cropped (``no_usable_region``), or, with ``rejected=None``, the first rejected region.
    """
    regions = sample.care_regions()
    if not sample.regions:
        raise OcrFormatError(sample.source, sample.line, "the line task needs text regions; this source has none",
                             "no_regions")
    if not regions:
        raise OcrFormatError(sample.source, sample.line, "no readable region (all are ###)", "no_readable_region")
    src = sample.image_bytes if sample.image_bytes is not None else sample.images[0]
    name = sample.images[0] if sample.images else "<bytes>"
    try:
        image = open_rgb(src, max_image_pixels, name=name)
    except OcrFormatError as e:
        raise OcrFormatError(sample.source, sample.line, f"image {name}: {e.reason}", e.kind) from e
    stem = os.path.splitext(os.path.basename(sample.images[0]))[0] if sample.images else "image"
    out = []
    for i, region in enumerate(regions, start=1):
        problem = region.issue
        if not region.text.strip():
            problem = Rejection(sample.source, region.line, f"{_region_label(region)}: empty transcription",
                                "empty_text")
        elif problem is None and len(region.polygon) != 4:
            x1, y1, x2, y2 = (round(v) for v in region.bbox())
            if x2 <= x1 or y2 <= y1:
                problem = Rejection(sample.source, region.line, f"{_region_label(region)}: bounding box is empty "
                                    "after rounding to whole pixels", "degenerate_region")
        if problem is not None:
            if rejected is None:
                raise problem.to_error()
            rejected.append(problem)
            continue
        if len(region.polygon) == 4:
            crop = rectify_quad(image, region.polygon)
        else:  # a polygon (curved text, or a clipped quad): its minimum-area rectangle, rectified
            quad = min_area_quad(region.polygon)
            crop = rectify_quad(image, quad) if quad is not None else image.crop((x1, y1, x2, y2))
        tag = region.line if region.line is not None else i
        out.append(Sample(images=[f"{stem}_l{tag}.png"], text=region.text, source=sample.source,
                          line=region.line if region.line is not None else sample.line,
                          image_size=crop.size, image_bytes=encode_png(crop)))
    if not out:
        raise OcrFormatError(sample.source, sample.line, f"none of the {len(regions)} readable region(s) could be "
                             "cropped (each is listed as a region rejection)", "no_usable_region")
    return out


@dataclass
class TaskFields:
    """The fields of a :class:`TaskConfig`, with their defaults and no checks: the one declaration that
    ``swift-ocr convert``'s options (:class:`swift_ocr.convert.api.ConvertOptions` extends it, ``cli/convert.py`` makes
    one flag per field from its ``metadata``) and the ms-swift dataset spec
    (:func:`swift_ocr.msswift.datasets.task_config`) derive from (``dataclasses.fields``).

    Field metadata: ``help`` (one line, or a function giving it), ``choices`` (the allowed values, or a function giving them when called, so
    that families registered later count), ``flag`` (the command-line flag when it is not ``--<name>``), ``group``
    (``det``: options of the det task).

    Attributes:
        task: one of :data:`TASKS`.
        family: model family (:func:`swift_ocr.families.family_names`; default
            :data:`swift_ocr.families.DEFAULT_FAMILY`): default prompt and, for ``det``, the box codec.
        prompt: instruction replacing the default (``<image>`` tags are added by the writer).
        prompt_style: ``plain`` or one of the family's prompt styles (GOT's ``format``: ``OCR with format: ``;
            ``rec``/``line`` only).
        lang: ``en`` or ``zh``, language of the default ``det`` prompt.
        order, max_boxes, tiling: ``det`` reading order, cap of boxes per sample and what to do above it
            (:func:`swift_ocr.tasks.det.det`).
        det_shape: ``box`` (axis-aligned, every family) or ``quad`` (4-point, families whose codec has a quad
            form: internvl).
        codec_options: ``{option: value}`` of the family's codec options
            (:attr:`swift_ocr.families.base.ModelFamily.codec_options`; qwen2_5_vl: ``min_pixels``/``max_pixels``,
            pixels of the smart-resized image) for the ``det`` targets; one flag per option (``--max-pixels``) and
            one dataset-spec option per option (``max_pixels=``), not one for the field. None or a missing option:
            the value ms-swift uses under the environment (:meth:`~swift_ocr.families.base.ModelFamily.codec_for_env`;
            qwen2_5_vl: ``MAX_PIXELS``/``MIN_PIXELS``), so that targets and training agree by default.
    """

    task: str = field(default="rec", metadata={
        "choices": TASKS, "help": "rec: whole image -> text; line: one crop per region; det: text with boxes in the "
                                  "family's detection format (see docs/detection_codecs.md)"})
    family: str = field(default=DEFAULT_FAMILY, metadata={
        "flag": "--model-family", "choices": family_names, "help": "picks the default prompt"})
    prompt: Optional[str] = field(default=None, metadata={
        "help": "instruction replacing the family default (<image> tags are added for you)"})
    prompt_style: str = field(default="plain", metadata={
        "choices": prompt_styles, "help": lambda: "plain: the family's default instruction; " + "; ".join(
            f"{style}: {spec.name} only, {text!r}" for spec in families() for style, text in spec.prompt_styles.items())})
    lang: str = field(default="en", metadata={
        "group": "det", "choices": ("en", "zh"), "help": "language of the default det prompt"})
    order: str = field(default="tb-lr", metadata={
        "group": "det", "choices": ORDERS, "help": "reading order of the boxes in the target (top-bottom then "
                                                   "left-right, right-left, or as in the label file)"})
    max_boxes: Optional[int] = field(default=None, metadata={
        "group": "det", "help": "at most N boxes per sample; longer pages are tiled (--tiling)"})
    tiling: str = field(default="strips", metadata={
        "group": "det", "choices": TILINGS, "help": "strips: cut long pages into horizontal strips of whole lines; "
                                                    "none: reject them"})
    det_shape: str = field(default="box", metadata={
        "group": "det", "choices": ("box", "quad"), "help": "box: axis-aligned boxes (every family); quad: 4-point "
                                                            "quads (families whose codec has a quad form, see "
                                                            "docs/detection_codecs.md)"})
    codec_options: Optional[Dict[str, Any]] = field(default=None, metadata={
        "group": "det", "codec_options": True,
        "help": "Det targets are written with it and record it in each row; default: what ms-swift uses under "
                "this environment ({env})"})


@dataclass
class TaskConfig(TaskFields):
    """Which task to run for which model family, and how (shared by ``swift-ocr convert`` and the ms-swift
    preprocessors, so both routes make the same samples): the fields of :class:`TaskFields`, checked.

    After checking, :attr:`codec_options` of a ``det`` task of a family that declares codec options holds every one
    of them: the given values, the others as ms-swift uses them under ``os.environ`` now
    (:meth:`~swift_ocr.families.base.ModelFamily.codec_for_env`); otherwise None.

    Raises:
        ValueError: an unknown task, family, det shape, prompt style or language; a codec option the family does not
            declare, or given to a task other than ``det``; a bad codec option value or environment value
            (``MAX_PIXELS=abc``).
    """

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; choose from {', '.join(TASKS)}")
        spec = get_family(self.family)
        if self.det_shape not in ("box", "quad"):
            raise ValueError(f"unknown det shape {self.det_shape!r}; choose box or quad")
        self.instruction()  # validates prompt style / language
        given = spec.check_codec_options(self.codec_options or {})
        if given and self.task != "det":
            raise ValueError(f"codec option(s) {', '.join(given)} apply to the det task only (task {self.task!r})")
        if self.task != "det" or not spec.codec_options:
            self.codec_options = None
            return
        missing = [opt.name for opt in spec.codec_options if opt.name not in given]
        if missing:  # as ms-swift would resize under this environment
            try:
                from_env = spec.codec_settings(spec.codec_for_env())
            except ValueError as e:
                raise ValueError(f"cannot read the {self.family} codec settings ({', '.join(missing)}) from the "
                                 f"environment ({', '.join(spec.env_vars)}): {e}") from None
            given.update((name, from_env[name]) for name in missing)
        self.codec_options = spec.check_codec_options(given)  # in the declared order
        spec.make_codec(**self.codec_options)  # refuses bad combinations (min_pixels > max_pixels) now

    def codec_params(self) -> Optional[Dict[str, Any]]:
        """The keyword parameters of the ``det`` task's codec (:func:`swift_ocr.codecs.get_codec`): ``shape='quad'``
        for ``det_shape='quad'``, and :attr:`codec_options`; None when there are none (the codec's defaults)."""
        params: Dict[str, Any] = {"shape": "quad"} if self.det_shape == "quad" else {}
        params.update(self.codec_options or {})
        return params or None

    def system(self) -> Optional[str]:
        """The system message the rows of this task carry, or None (the template's default system is right).

        ``det`` rows of a family with a detection system prompt (:func:`swift_ocr.families.prompts.det_system`) carry it
        when the options differ from the ones that prompt's template default describes (boxes, ``tb-lr``), so the
        system prompt always describes exactly the target format and order the row is trained on.
        """
        if self.task != "det" or (self.det_shape, self.order) == ("box", "tb-lr"):
            return None
        return det_system(self.family, self.det_shape, self.order)

    def instruction(self) -> str:
        """The instruction (without ``<image>`` tags) for this task and family."""
        if self.task == "det":
            return det_prompt(self.family, self.lang, self.prompt)
        return rec_prompt(self.family, self.prompt, self.prompt_style)


def carried_prompt(config: "TaskConfig", sample: Sample) -> str:
    """The instruction for ``config.family`` of a sample that brings its own (``Sample.prompt``, e.g. a GOT JSON
    entry's human turn): see :func:`swift_ocr.families.prompts.carry_prompt` (whole-page prompts become the family's, a
    user ``prompt`` replacing the plain one; other prompts are kept; region prompts are kept only for a family with
    ``keeps_region_prompts``, GOT).

    Raises:
        OcrFormatError: kind ``unsupported_prompt``: a GOT box or colour prompt for another family.
    """
    try:
        return carry_prompt(sample.prompt, config.family, config.prompt)
    except ValueError as e:
        raise OcrFormatError(sample.source, sample.line, str(e), "unsupported_prompt") from None


def run_task(task, sample: Sample, max_image_pixels: Optional[int] = DEFAULT_MAX_IMAGE_PIXELS) -> TaskOutput:
    """Run a task on one source item and account for everything it leaves out.

    Args:
        task: a :class:`TaskConfig`, or a task name (``rec``/``line``; ``det`` needs a config for its family).

    Raises:
        ValueError: unknown task (a problem with the options, not with the data).
    """
    config = task if isinstance(task, TaskConfig) else TaskConfig(task=task)
    if not isinstance(task, TaskConfig) and config.task == "det":
        raise ValueError("the det task needs a TaskConfig with the model family")
    rejected: List[Rejection] = []
    try:
        if config.task == "rec":
            samples = rec(sample)
            if sample.prompt is not None:
                samples = [replace(s, prompt=carried_prompt(config, sample)) for s in samples]
        elif config.task == "line":
            samples = line(sample, rejected, max_image_pixels)
        else:
            from swift_ocr.tasks.det import det
            samples = det(sample, config.family, config.order, config.max_boxes, config.tiling, rejected=rejected,
                          codec_params=config.codec_params(), max_image_pixels=max_image_pixels)
    except OcrFormatError as e:
        return TaskOutput([], rejected, Rejection.from_error(e))
    return TaskOutput(samples, rejected)


def apply_task(task: str, sample: Sample) -> List[Sample]:
    """Run task ``task`` (one of :data:`TASKS`) on a sample; all or nothing: any rejected region raises (use
    :func:`run_task` to keep the other regions and get the rejections).

    Raises:
        ValueError: unknown task. OcrFormatError: see the task functions.
    """
    if task == "rec":
        return rec(sample)
    if task == "line":
        return line(sample)
    raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
