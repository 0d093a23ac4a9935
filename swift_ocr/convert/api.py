"""The converter's public API (:func:`convert`): a source reader -> task -> prompt -> an output writer (ms-swift
jsonl, GOT JSON, ...: :mod:`swift_ocr.writers`), with a seeded train/val split (:mod:`swift_ocr.convert.split`) and
a rejects file, so that no input item disappears without a recorded reason.

Outputs for ``--output DIR/name.jsonl``:

* ``DIR/name.jsonl`` -- training rows (all rows when there is no split);
* ``DIR/name.val.jsonl`` -- validation rows (only with ``val_ratio > 0``; a stale one from an earlier run with a
  split is removed);
* ``DIR/name.rejects.jsonl`` -- one ``{"source", "line", "kind", "reason"}`` per input item or region not converted
  (always written; ``kind`` is a stable code from :data:`swift_ocr.errors.KINDS`);
* ``DIR/name_images/`` -- image files for samples that have no file of their own (line crops, parquet rows),
  marked as ours by a ``.swift-ocr-images`` file. It is replaced as a whole on every run (no stale crops from an
  earlier run with other options), and removed when a run writes no images. A folder of that name that swift-ocr
  did not make (e.g. DBNet's ``train_images/`` next to ``--output train.jsonl``) is never touched: a run that would
  have to write images there stops with an error before reading anything. Files are named
  ``<row index:07d>_<image stem>[_l<line>].<ext>``; a name over 255 bytes (a long source stem) is shortened
  deterministically (:func:`swift_ocr.convert.staging.image_file_name`).

Interrupted runs (:mod:`swift_ocr.convert.staging`): everything is first written under temporary names in the output folder (``.name.jsonl.*.tmp``,
``.name_images.*.tmp/``); only when all items are done are the outputs renamed into place (images folder first,
then the jsonl files). An interrupted run (Ctrl-C, an exception) removes its temporary files and leaves the
previous outputs untouched; a killed process can leave hidden ``*.tmp`` entries behind, which later runs ignore.

Counts (:class:`ConvertReport`): ``sources`` = every input item seen (items read + items rejected while listing,
such as an image without a label), ``sources == converted_sources + rejected``; ``rejected_regions`` counts regions
left out of converted items (``line`` task); the rejects file has ``rejected + rejected_regions`` rows.

The same input, options and seed give byte-identical outputs (rows, split, rejects, crops), with any number of
``workers``: items are read and run through the task in worker processes (:mod:`swift_ocr.convert.workers`: a
:mod:`concurrent.futures` process pool, results collected in input order), and written by the main process.

Pair layouts (icdar, wordbox) are converted in chunks of :data:`~swift_ocr.convert.workers.CHUNKSIZE` items: with
``ConvertOptions.fast_path`` (the default) the plain items of a chunk go through the fast path
(:mod:`swift_ocr.convert.outcome_fast`), every other item through the careful per-item path
(:func:`swift_ocr.convert.outcome.item_outcome`: :func:`~swift_ocr.formats.checks.finish_sample`,
:func:`~swift_ocr.tasks.core.run_task`, the row); both write the same bytes for a plain item.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional, Tuple

from swift_ocr.convert import workers
from swift_ocr.convert.outcome import Context, Run
from swift_ocr.convert.outcome_fast import FAST_TASKS
from swift_ocr.convert.split import val_positions
from swift_ocr.convert.staging import IMAGES_MARKER, Staging, image_ext, image_file_name, is_ours, output_paths
from swift_ocr.errors import Rejection
from swift_ocr.families import get_family
from swift_ocr.formats import SourceReader
from swift_ocr.io_utils import dumps_line
from swift_ocr.progress import Progress
from swift_ocr.sample import FIX_KEYS, Sample
from swift_ocr.tasks.core import TaskConfig, TaskFields
from swift_ocr.writers import DEFAULT_WRITER, RowSpec, get_writer


@dataclass
class ConvertOptions(TaskFields):
    """How to convert: the task fields of :class:`~swift_ocr.tasks.core.TaskFields` (``task``, ``family`` -- which
    picks the default prompt --, ``prompt``, ``prompt_style``, det options), and the converter's own below. Reading
    options (encoding, NFKC, image checks, pixel limit, paths outside the root) belong to the reader
    (:func:`swift_ocr.formats.open_source`).

    Attributes:
        val_ratio, seed: the train/val split (:func:`~swift_ocr.convert.split.split_keys`).
        strict: stop at the first problem instead of recording it.
        output_format: a registered output writer (:func:`swift_ocr.writers.writer_names`: ``swift``, ``got``, ...).
        system: the rows' system message; None: the task's own (det options other than the defaults:
            :meth:`~swift_ocr.tasks.core.TaskConfig.system`).
        workers: processes that read items and run the task (1: in this process; 0: auto, see
            :func:`~swift_ocr.convert.workers.effective_workers`).
        fast_path: convert the plain items of pair layouts by the fast path
            (:mod:`swift_ocr.convert.outcome_fast`; the same bytes as the careful per-item path, which ``False``
            uses for every item).
        relative_paths: line writers (ms-swift jsonl) name image files relative to the output file's folder instead
            of by absolute paths, so that the folder can move to another machine. ms-swift resolves a relative image
            path against the working directory, then ``$ROOT_IMAGE_DIR`` (``swift/template/vision_utils.py``,
            ``_check_path``): train with ``ROOT_IMAGE_DIR=<output folder>``. Images outside that folder are named
            with ``../``: move them along, keeping their place relative to it. The det rows' ``swift_ocr.
            source_image`` (the tile metadata, an identity) stays absolute; GOT JSON is written relative to its
            folder anyway (images inside it).
        progress: show a progress bar on standard error (:class:`swift_ocr.progress.Progress`: items, items per
            second, rejections so far).
    """

    val_ratio: float = 0.0
    seed: int = 42
    strict: bool = False
    output_format: str = DEFAULT_WRITER
    system: Optional[str] = None
    workers: int = 0
    fast_path: bool = True
    relative_paths: bool = False
    progress: bool = False

    def task_config(self) -> TaskConfig:
        """The :class:`~swift_ocr.tasks.core.TaskConfig` of these options. Raises ValueError for bad task options."""
        return TaskConfig(**{f.name: getattr(self, f.name) for f in fields(TaskFields)})


@dataclass
class ConvertReport:
    """Counts of one conversion (see module docstring).

    Attributes:
        sources: input items seen (images, rows, entries, and items rejected while listing).
        converted_sources / rejected: items that gave at least one sample / none.
        rejected_regions: regions left out of converted items.
        train, val: samples written per split.
        reasons: rejects-file rows per kind.
        fixes: changes made to converted items (keys of :data:`swift_ocr.sample.FIX_KEYS`).
        kept_region_issues: regions with an unusable box whose text was kept (``rec`` task), per kind.
        outputs: the files written, by name (``train``, ``val``, ``rejects``, ``images``).
        relative_to: the folder image paths are relative to (``ConvertOptions.relative_paths``), else None.
        codec: the codec settings every ``det`` row records (:attr:`~swift_ocr.tasks.core.TaskFields.codec_options`,
            e.g. qwen2_5_vl's ``{"min_pixels": 3136, "max_pixels": 1003520}``, pixels), else None (other tasks and
            families: not in :meth:`to_dict`).
        codec_env: the environment variables ms-swift reads those settings from (the family's
            :attr:`~swift_ocr.families.base.ModelFamily.env_vars`), for the summary.
    """

    sources: int = 0
    converted_sources: int = 0
    train: int = 0
    val: int = 0
    rejected: int = 0
    rejected_regions: int = 0
    reasons: Counter = field(default_factory=Counter)
    fixes: Counter = field(default_factory=Counter)
    kept_region_issues: Counter = field(default_factory=Counter)
    outputs: Dict[str, str] = field(default_factory=dict)
    relative_to: Optional[str] = None
    codec: Optional[Dict[str, Any]] = None
    codec_env: Tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"sources": self.sources, "converted_sources": self.converted_sources, "train": self.train,
                "val": self.val, "rejected": self.rejected, "rejected_regions": self.rejected_regions,
                "reasons": dict(sorted(self.reasons.items())),
                "fixes": {k: self.fixes.get(k, 0) for k in FIX_KEYS},
                "kept_region_issues": dict(sorted(self.kept_region_issues.items())), "outputs": self.outputs,
                **({"relative_to": self.relative_to} if self.relative_to is not None else {}),
                **({"codec": dict(self.codec)} if self.codec else {})}


def convert(reader: SourceReader, options: ConvertOptions, output: str) -> ConvertReport:
    """Convert everything ``reader`` yields and write the outputs (see module docstring).

    Raises:
        OcrFormatError: with ``options.strict``, the first problem (naming file and line); nothing is written.
        ValueError: bad options, or an images folder of the output name that swift-ocr did not make.
    """
    task = options.task_config()
    writer = get_writer(options.output_format)
    instruction = task.instruction()
    system = options.system if options.system is not None else task.system()
    paths = output_paths(output)
    row = RowSpec(task, instruction, system, output_dir=os.path.dirname(paths["train"]),
                  relative_to=os.path.dirname(paths["train"]) if options.relative_paths else None)
    writer.check(row)
    may_write_images = task.task in ("line", "det") or reader.label_format.embeds_images
    if may_write_images and os.path.exists(paths["images"]) and not is_ours(paths["images"]):
        raise ValueError(f"{paths['images']} exists and was not written by swift-ocr convert (no {IMAGES_MARKER}); "
                         "this conversion writes images there: choose another --output")
    report = ConvertReport()
    rejects: List[Rejection] = []
    max_pixels = reader.options.max_image_pixels

    def reject(rej: Rejection, region: bool = False):
        if options.strict:
            raise rej.to_error()
        rejects.append(rej)
        report.reasons[rej.kind] += 1
        if region:
            report.rejected_regions += 1
        else:
            report.rejected += 1

    for rej in reader.rejections:
        report.sources += 1
        reject(rej)
    val = val_positions(reader.keys, options.val_ratio, options.seed)
    splits = ["train"] + (["val"] if options.val_ratio > 0 else [])
    collected: Dict[str, List[Sample]] = {split: [] for split in splits}  # whole-file writers' samples
    counts: Counter = Counter()
    ctx = Context(row, max_pixels, writer,
                  fast_path=options.fast_path and writer.batch_rows and task.task in FAST_TASKS,
                  val=frozenset(val) if reader.pairs else frozenset())
    index = 0
    position = -1
    staging = Staging(paths)
    progress = Progress(options.progress, total=len(reader.keys) + len(reader.rejections), desc="convert")
    progress.update(len(reader.rejections), report.rejected)
    try:
        # line writers' rows are written as UTF-8 bytes: chunks come back from the workers encoded (see Run)
        files = {split: staging.open(split, binary=True) for split in splits} if writer.line_based else {}
        for out in workers.outcomes(reader, ctx, options.workers):
            if type(out) is Run:  # plain converted items of a chunk, all of one split
                progress.update(out.items)
                report.sources += out.items
                report.converted_sources += out.items
                position += out.items
                split = "val" if out.val else "train"
                index += out.rows
                counts[split] += out.rows
                files[split].write(out.data)
                continue
            position += 1
            report.sources += 1
            if progress:
                progress.update(1, report.rejected + report.rejected_regions + (0 if type(out) is str
                                                                                else len(out.rejections)))
            if type(out) is str:  # plain converted item (see item_outcome)
                report.converted_sources += 1
                split = "val" if position in val else "train"
                n = out.count("\n")
                index += n
                counts[split] += n
                files[split].write(out.encode("utf-8"))
                continue
            for rej, region in out.rejections:
                reject(rej, region)
            if not out.converted:
                continue
            report.converted_sources += 1
            if out.fixes:
                report.fixes.update(out.fixes)
            if out.kept_issues:
                report.kept_region_issues.update(out.kept_issues)
            split = "val" if position in val else "train"
            if out.lines is not None:
                index += len(out.lines)
                counts[split] += len(out.lines)
                files[split].write("".join(out.lines).encode("utf-8"))
                continue
            for s in out.samples:
                index += 1
                counts[split] += 1
                if s.image_bytes is None:
                    images = [os.path.abspath(p) for p in s.images]
                else:
                    name = os.path.splitext(os.path.basename(s.images[0]))[0] if s.images else "image"
                    images = [staging.write_image(s.image_bytes, image_file_name(index, name,
                                                                                 image_ext(s.image_bytes)))]
                if writer.line_based:
                    files[split].write(writer.line(s, images, row).encode("utf-8"))
                else:
                    collected[split].append(Sample(images=images, text=s.text, source=s.source, line=s.line,
                                                   prompt=s.prompt))
        report.train, report.val = counts["train"], counts["val"]
        for split in splits:
            if not writer.line_based:
                writer.write_file(staging.open(split), collected[split], paths[split], row)
            report.outputs[split] = paths[split]
        f = staging.open("rejects")
        for rej in rejects:
            f.write(dumps_line(rej.to_dict()))
        report.outputs["rejects"] = paths["rejects"]
        staging.commit()
    finally:
        progress.close()
        staging.discard()
    if "val" not in splits and os.path.isfile(paths["val"]):
        os.unlink(paths["val"])  # a stale split of an earlier run
    if os.path.isdir(paths["images"]) and is_ours(paths["images"]):
        report.outputs["images"] = paths["images"]
    report.relative_to = row.relative_to
    if task.codec_options:
        report.codec = dict(task.codec_options)
        report.codec_env = get_family(task.family).env_vars
    return report


def format_report(report: ConvertReport) -> str:
    """A short human-readable summary."""
    lines = [f"sources read: {report.sources}, converted: {report.converted_sources}, "
             f"rejected: {report.rejected}",
             f"samples written: train {report.train}, val {report.val}"]
    if report.rejected_regions:
        lines.append(f"regions rejected in converted sources: {report.rejected_regions}")
    fx = report.fixes
    if fx.get("clipped_coordinates"):
        lines.append(f"clipped {fx['clipped_coordinates']} coordinates in {fx['clipped_regions']} regions "
                     "into the image")
    if fx.get("reordered_polygons"):
        lines.append(f"reordered the points of {fx['reordered_polygons']} self-intersecting polygons")
    if fx.get("reoriented_quads"):
        lines.append(f"put the points of {fx['reoriented_quads']} counter-clockwise quads in clockwise order from "
                     "the top-left")
    if fx.get("flattened_images"):
        lines.append(f"composited {fx['flattened_images']} images with transparent pixels on white (written as PNG)")
    if fx.get("nfkc_texts"):
        lines.append(f"NFKC-normalised {fx['nfkc_texts']} transcriptions")
    if fx.get("gb18030_files"):
        lines.append(f"decoded {fx['gb18030_files']} label files as GB18030 (not valid UTF-8; pass --encoding if "
                     "that is wrong)")
    if report.kept_region_issues:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.kept_region_issues.items()))
        lines.append(f"regions with unusable boxes, text kept for rec: {sum(report.kept_region_issues.values())} "
                     f"({kinds})")
    for reason, n in sorted(report.reasons.items()):
        lines.append(f"  rejected {n:6d} x {reason}")
    for name, path in report.outputs.items():
        lines.append(f"{name}: {path}")
    if report.codec:
        settings = ", ".join(f"{k}={v}" for k, v in report.codec.items())
        env = f" (ms-swift reads them from {', '.join(report.codec_env)})" if report.codec_env else ""
        lines.append(f"det targets written for codec settings {settings}, recorded in each row: training and "
                     f"inference must resize the images with the same{env}")
    if report.relative_to is not None:
        lines.append(f"image paths are relative to {report.relative_to}: ms-swift resolves relative paths against "
                     f"the working directory, then $ROOT_IMAGE_DIR -- train with ROOT_IMAGE_DIR={report.relative_to} "
                     "(or the folder's new place after moving it)")
    return "\n".join(lines)


def report_json(report: ConvertReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True)
