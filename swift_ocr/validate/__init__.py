"""Pre-flight checks of ms-swift jsonl training data (``swift-ocr validate``), before any GPU time is spent.

Input: ms-swift's standard multimodal jsonl (ms-swift docs, "Custom Dataset"), one row per line::

    {"messages": [{"role": "user", "content": "<image>OCR: "}, {"role": "assistant", "content": "..."}],
     "images": ["path.jpg" | {"path": "path.jpg", "bytes": null}, ...]}

Blank lines are skipped (they hold no row). Every problem found is a :class:`~swift_ocr.validate.problems.Problem`
with a stable short ``kind`` (:data:`~swift_ocr.validate.problems.PROBLEM_KINDS`), a severity, the jsonl file and
1-based line, and a message. Image paths are resolved as ms-swift 4.6.0 resolves them, against the **current
directory** then ``$ROOT_IMAGE_DIR`` (:mod:`swift_ocr.validate.image_refs`): run ``swift-ocr validate`` from the
folder ``swift sft`` will run in.

Checks, in order, for each row (kinds in brackets), one module each:

1. the line is JSON [``bad_json``] holding a well-formed row [``bad_row``] (:func:`~swift_ocr.validate.rows.row_shape`;
   a bad row gets no further checks);
2. the number of ``<image>`` tags equals the number of images [``image_tag_mismatch``]
   (:func:`~swift_ocr.validate.rows.image_tag_problem`);
3. every image exists [``missing_image``], is not a URL [``remote_image``], opens in Pillow
   [``decompression_bomb``], has a sane size [``image_too_large``, ``image_too_small``, ``extreme_aspect_ratio``] and
   decodes [``undecodable_image``] (:mod:`swift_ocr.validate.image_checks`; each distinct image is checked once);
4. the last message is a non-blank assistant message [``empty_target``]
   (:func:`~swift_ocr.validate.rows.target_problem`);
5. detection targets' boxes fit the image [``box_outside_image``, ``box_unparsed``, ``no_boxes``] and recorded codec
   settings match the training environment [``resize_mismatch``] (:mod:`swift_ocr.validate.det`);
6. the same images and messages as an earlier row (in any of the files checked together) [``duplicate``];
7. the token length (:mod:`swift_ocr.validate.token_budget`: exact with a
   :class:`~swift_ocr.validate.token_budget.SwiftTokenCounter`, else estimated) is at most ``max_length``
   [``too_long``]; a row that ms-swift's template cannot encode, or (estimates) an image the family's resizing
   refuses [``encode_error``] (:mod:`swift_ocr.validate.tokens`).

Severities: warnings are ``remote_image``, ``box_unparsed`` and ``duplicate``; everything else is an error.
``strict=True`` makes every warning an error. Options: :mod:`swift_ocr.validate.options`; the driver over files:
:mod:`swift_ocr.validate.validator`; its result: :mod:`swift_ocr.validate.report`.
"""
from __future__ import annotations

from swift_ocr.validate.image_checks import ImageCheck, check_image
from swift_ocr.validate.image_refs import ImageRef, resolve_image
from swift_ocr.validate.options import VALIDATE_TASKS, ValidateOptions
from swift_ocr.validate.problems import ERROR, PROBLEM_KINDS, WARNING, Problem
from swift_ocr.validate.report import ValidationReport
from swift_ocr.validate.tokens import TokenStats
from swift_ocr.validate.validator import Validator, validate_files

__all__ = ["ERROR", "ImageCheck", "ImageRef", "PROBLEM_KINDS", "Problem", "TokenStats", "VALIDATE_TASKS",
           "ValidateOptions", "ValidationReport", "Validator", "WARNING", "check_image", "resolve_image",
           "validate_files"]
