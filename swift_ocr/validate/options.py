"""What ``swift-ocr validate`` checks and how: :class:`ValidateOptions` (the CLI's flags) and the row kinds its
``--task`` takes (:data:`VALIDATE_TASKS`).

Errors: :class:`ValidateOptions` raises ``ValueError`` for an unknown family or task and out-of-range limits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from swift_ocr.families import check_family
from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS
from swift_ocr.validate.token_budget import ImageTokenParams

#: ``--task`` of ``swift-ocr validate``: the kind of rows to expect (``auto``: det when a target holds boxes). Not the
#: conversion tasks (:data:`swift_ocr.tasks.core.TASKS`).
VALIDATE_TASKS = ("auto", "rec", "det")


@dataclass(frozen=True)
class ValidateOptions:
    """What :func:`~swift_ocr.validate.validator.validate_files` checks and how.

    Attributes:
        family: model family (:func:`swift_ocr.families.family_names`): box codec and image-token arithmetic.
        max_length: token limit (``swift sft --max_length``); None: lengths are measured, not checked.
        task: ``auto``, ``rec`` or ``det`` (box checks; see :mod:`swift_ocr.validate.det`).
        decode: fully decode every image (else read the header only).
        max_pixels: ``image_too_large`` above this many pixels (width x height).
        min_side: ``image_too_small`` below this many pixels on either side.
        max_aspect: ``extreme_aspect_ratio`` above this long/short side ratio.
        strict: warnings count as errors.
        root_image_dir: ms-swift's ``ROOT_IMAGE_DIR`` (relative image paths missing from the current directory
            are looked up under it); None: the environment variable, if set.
        token_params: image-token settings (default: ms-swift's, from the environment).
        system: the system prompt ``swift sft --system`` would use (None: the template's default).
        template: ms-swift ``--template`` whose chat markup and default system prompt the estimate uses (None: the
            family's; :func:`swift_ocr.validate.token_budget.scaffold_for`).

    Raises:
        ValueError: an unknown family or task, ``max_length`` under 1, ``max_pixels``/``min_side``/``max_aspect``
            under 1.
    """

    family: str
    max_length: Optional[int] = None
    task: str = "auto"
    decode: bool = True
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    min_side: int = 8
    max_aspect: float = 200.0
    strict: bool = False
    root_image_dir: Optional[str] = None
    token_params: Optional[ImageTokenParams] = None
    system: Optional[str] = None
    template: Optional[str] = None

    def __post_init__(self):
        check_family(self.family)
        if self.task not in VALIDATE_TASKS:
            raise ValueError(f"unknown task {self.task!r}; choose from {', '.join(VALIDATE_TASKS)}")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {self.max_length}")
        if self.max_pixels < 1 or self.min_side < 1 or self.max_aspect < 1:
            raise ValueError("max_pixels and min_side must be >= 1 and max_aspect >= 1")
