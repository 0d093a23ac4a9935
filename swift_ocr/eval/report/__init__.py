"""Before/after HTML report of OCR result files (``swift-ocr report``).

Modules: :mod:`.runs` (scoring each file as ``swift-ocr eval``), :mod:`.match` (rows across runs, rows shown
in detail, counts), :mod:`.diff` (character diffs), :mod:`.plots` (matplotlib PNGs), :mod:`.thumbs` (embedded
images), :mod:`.train_log` (``swift sft`` ``logging.jsonl``), :mod:`.page` (the HTML), :mod:`.build` (all
together).
"""
from __future__ import annotations

from swift_ocr.eval.report.build import ReportResult, build_report, default_names
from swift_ocr.eval.report.runs import DetOptions

__all__ = ["ReportResult", "build_report", "default_names", "DetOptions"]
