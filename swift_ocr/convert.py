"""The converter: a source reader -> task -> prompt -> ms-swift jsonl (or GOT JSON), with a seeded
train/val split and a rejects file, so that no input item disappears without a recorded reason.

Outputs for ``--output DIR/name.jsonl``:

* ``DIR/name.jsonl`` -- training rows (all rows when there is no split);
* ``DIR/name.val.jsonl`` -- validation rows (only with ``val_ratio > 0``);
* ``DIR/name.rejects.jsonl`` -- one ``{"source", "line", "reason"}`` per item not converted (always written);
* ``DIR/name_images/`` -- image files for samples that have no file of their own (line crops, parquet rows).

Every file is written under a temporary name and renamed when complete; the same input and seed give
byte-identical outputs.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set

from PIL import Image

from .errors import OcrFormatError, Rejection
from .formats import SourceReader, got_json
from .formats.swift_jsonl import to_swift_row
from .io_utils import atomic_write, dumps_line
from .prompts import build_query, check_family, rec_prompt
from .sample import Sample
from .tasks import apply_task


@dataclass
class ConvertOptions:
    """How to convert. ``family`` picks the default prompt (see :mod:`swift_ocr.prompts`)."""

    task: str = "rec"
    family: str = "got"
    prompt: Optional[str] = None
    prompt_style: str = "plain"
    val_ratio: float = 0.0
    seed: int = 42
    strict: bool = False
    output_format: str = "swift"  # or "got"
    system: Optional[str] = None


@dataclass
class ConvertReport:
    """Counts of one conversion. ``sources`` = input items (images, rows, entries) seen."""

    sources: int = 0
    converted_sources: int = 0
    train: int = 0
    val: int = 0
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)
    outputs: Dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"sources": self.sources, "converted_sources": self.converted_sources, "train": self.train,
                "val": self.val, "rejected": self.rejected, "reasons": dict(sorted(self.reasons.items())),
                "outputs": self.outputs}


def split_keys(keys: Iterable[str], val_ratio: float, seed: int) -> Set[str]:
    """Choose the validation keys: ``round(val_ratio * n)`` of them (at least 1 and at most n-1 when
    ``0 < val_ratio < 1`` and n >= 2), drawn with ``random.Random(seed)`` from the sorted keys, so the split
    depends only on the set of keys and the seed. Split by source item, so crops of one image stay together.

    Raises:
        ValueError: ``val_ratio`` outside [0, 1).
    """
    if not 0 <= val_ratio < 1:
        raise ValueError(f"val_ratio must be in [0, 1), got {val_ratio}")
    keys = sorted(set(keys))
    if val_ratio == 0 or len(keys) < 2:
        return set()
    k = min(max(round(val_ratio * len(keys)), 1), len(keys) - 1)
    return set(random.Random(seed).sample(keys, k))


def output_paths(output: str) -> Dict[str, str]:
    """The files a conversion writes for ``output`` (see module docstring)."""
    stem, ext = os.path.splitext(os.path.abspath(output))
    ext = ext or ".jsonl"
    return {"train": stem + ext, "val": f"{stem}.val{ext}", "rejects": f"{stem}.rejects.jsonl",
            "images": f"{stem}_images"}


def _short_reason(reason: str) -> str:
    return reason.split(":")[0].split("(")[0].strip()[:60]


def _image_ext(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = (im.format or "png").lower()
    except Exception:
        return ".bin"
    return {"jpeg": ".jpg"}.get(fmt, "." + fmt)


class _Sink:
    """Collects rows for one split; in-memory bytes become files under the images folder."""

    def __init__(self, images_dir: str):
        self.images_dir = images_dir
        self.count = 0

    def materialise(self, sample: Sample, index: int) -> List[str]:
        if sample.image_bytes is None:
            return [os.path.abspath(p) for p in sample.images]
        name = os.path.splitext(os.path.basename(sample.images[0]))[0] if sample.images else "image"
        path = os.path.join(self.images_dir, f"{index:07d}_{name}{_image_ext(sample.image_bytes)}")
        with atomic_write(path, "wb") as f:
            f.write(sample.image_bytes)
        return [path]


def convert(reader: SourceReader, options: ConvertOptions, output: str) -> ConvertReport:
    """Convert everything ``reader`` yields and write the outputs.

    Raises:
        OcrFormatError: with ``options.strict``, the first problem (naming file and line).
        ValueError: bad options.
    """
    check_family(options.family)
    if options.output_format not in ("swift", "got"):
        raise ValueError(f"unknown output format {options.output_format!r}; choose swift or got")
    instruction = rec_prompt(options.family, options.prompt, options.prompt_style)
    paths = output_paths(output)
    report = ConvertReport()
    rejects: List[Rejection] = []

    def reject(rej: Rejection):
        if options.strict:
            raise OcrFormatError(rej.source, rej.line, rej.reason)
        rejects.append(rej)
        report.rejected += 1
        report.reasons[_short_reason(rej.reason)] += 1

    for rej in reader.rejections:
        reject(rej)
    val_keys = split_keys(reader.keys, options.val_ratio, options.seed)
    sink = _Sink(paths["images"])
    splits = ["train"] + (["val"] if options.val_ratio > 0 else [])
    got_rows: Dict[str, List[Sample]] = {split: [] for split in splits}
    counts = Counter()
    index = 0
    with contextlib.ExitStack() as stack:
        files = {}
        if options.output_format == "swift":
            files = {split: stack.enter_context(atomic_write(paths[split])) for split in splits}
        for key, item in reader.iter_samples():
            report.sources += 1
            if isinstance(item, OcrFormatError):
                reject(Rejection.from_error(item))
                continue
            try:
                task_samples = apply_task(options.task, item)
            except OcrFormatError as e:
                reject(Rejection.from_error(e))
                continue
            report.converted_sources += 1
            split = "val" if key in val_keys else "train"
            for s in task_samples:
                index += 1
                counts[split] += 1
                images = sink.materialise(s, index)
                if options.output_format == "got":
                    got_rows[split].append(Sample(images=images, text=s.text, source=s.source, line=s.line))
                else:
                    row = to_swift_row(build_query(instruction, len(images)), s.text, images, options.system)
                    files[split].write(dumps_line(row))
    report.train, report.val = counts["train"], counts["val"]
    for split in splits:
        if options.output_format == "got":
            got_json.write_got_json(got_rows[split], paths[split], prompt="<image>\n" + instruction,
                                    image_root=os.path.dirname(paths[split]))
        report.outputs[split] = paths[split]
    with atomic_write(paths["rejects"]) as f:
        for rej in rejects:
            f.write(dumps_line(rej.to_dict()))
    report.outputs["rejects"] = paths["rejects"]
    if os.path.isdir(paths["images"]):
        report.outputs["images"] = paths["images"]
    return report


def format_report(report: ConvertReport) -> str:
    """A short human-readable summary."""
    lines = [f"sources read: {report.sources}, converted: {report.converted_sources}, "
             f"rejected: {report.rejected}",
             f"samples written: train {report.train}, val {report.val}"]
    for reason, n in sorted(report.reasons.items()):
        lines.append(f"  rejected {n:6d} x {reason}")
    for name, path in report.outputs.items():
        lines.append(f"{name}: {path}")
    return "\n".join(lines)


def report_json(report: ConvertReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True)
