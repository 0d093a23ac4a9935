"""Detection scoring as ``swift-ocr eval det`` does it, shared by the CLI (:mod:`swift_ocr.cli.eval_det`),
``swift-ocr draw`` and ``report`` (:mod:`swift_ocr.eval.report.runs`) and ms-swift's ``--eval_metric ocr_det``
(:mod:`swift_ocr.msswift.metrics`): which systems to score (``--results``/``--pred``), the codec that parses swift
rows, reading the predictions (:mod:`swift_ocr.eval.predictions`, :mod:`swift_ocr.eval.det_results`), scoring with the
ICDAR 2015 Challenge 4 protocol (:mod:`swift_ocr.eval.metrics.det`), and the ``--json`` / text reports.

``args`` is the ``eval det`` option namespace (an ``argparse.Namespace`` or any object with the same attributes):
``model_family`` and one attribute per family codec option (e.g. ``max_pixels``), ``results``, ``pred``,
``pred_format``, ``api``, ``gt``, ``allow_outside_root``, ``iou``, ``spotting``, ``score_threshold``, ``note``,
``worst`` (see ``swift-ocr eval det --help``). Boxes are polygons in pixels of the original image.
"""
from __future__ import annotations

import argparse
from typing import List, Optional


def explicit_codec_options(args: argparse.Namespace) -> dict:
    """``{option: value}`` of the codec options given on the command line (:func:`add_codec_arguments`).

    Raises:
        ValueError: an option ``args.model_family`` does not take (the message names the families that do).
    """
    from swift_ocr.families import codec_options

    params = {}
    for name, (option, owners) in codec_options().items():
        value = getattr(args, name, None)
        if value is not None:
            if args.model_family not in owners:
                raise ValueError(f"{option.flag} applies to --model-family {' or '.join(owners)} only")
            params[name] = value
    return params


def codec_from_args(args: argparse.Namespace):
    """The codec for ``args.model_family`` with the codec options given on the command line
    (:func:`explicit_codec_options`); result rows that record their codec settings are parsed with those instead
    (:mod:`swift_ocr.eval.det_results`).

    Raises:
        ValueError: an option the family does not take (the message names the families that do), bad values.
    """
    from swift_ocr.codecs import get_codec

    return get_codec(args.model_family, **explicit_codec_options(args))


def spotting_mode(value: Optional[str]):
    """``--spotting [MODE]`` -> the ``spotting=`` argument of :mod:`swift_ocr.eval.metrics.det`."""
    return False if value is None else value


def _clip(text: str, width: int = 40) -> str:
    shown = repr(text)
    return shown if len(shown) <= width else shown[: width - 3] + "..."


def image_record(item, match) -> dict:
    """One ``--per-image`` record: the image's rows, counts, scores and what went wrong (texts, lines).

    ``item`` is a :class:`~swift_ocr.eval.det_results.DetImage`, ``match`` its
    :class:`~swift_ocr.eval.metrics.det.ImageMatch`. Per-image precision/recall follow the official per-sample
    rules (no care ground truth: recall 1). Texts are as read (not normalised); ``duplicates`` are exact repeats
    (kept in ``n_det``), ``extra_text`` counts response fragments outside any object (listed in
    ``extra_text_fragments``), ``responses_without_detections`` the image's rows that gave no detection;
    ``pred_source`` where another detector's predictions for the image were read (None for result rows).
    """
    extra = item.extra_text
    return {
        "image": item.image,
        "lines": item.lines,
        "label_file": item.label_file,
        "pred_source": item.pred_source,
        "n_gt": match.n_gt,
        "n_det": match.n_det,
        "n_matched": match.n_matched,
        "precision": match.precision,
        "recall": match.recall,
        "hmean": match.hmean,
        "unparsed": len(item.unparsed),
        "unparsed_fragments": item.unparsed,
        "truncated": item.truncated,
        "duplicates": item.duplicates,
        "responses_without_detections": item.responses_without_detections,
        "extra_text": len(extra),
        "extra_text_fragments": extra,
        "missed": [item.gt[i].text for i in match.unmatched_gt],
        "false_positives": [item.det[j].text for j in match.unmatched_det],
        "wrong_text": [{"gt": item.gt[m.gt].text, "det": item.det[m.det].text} for m in match.wrong_text],
        "dont_care_gt": len(match.dont_care_gt),
        "discarded_det": len(match.discarded_det),
        "invalid_det": len(match.invalid_det),
    }


def summary(result, items, args, system=None) -> dict:
    """The ``--json`` object: dataset scores plus parse and input counts.

    ``system`` (a :class:`~swift_ocr.eval.predictions.PredInput` with its format decided; None: ``args.results``,
    swift rows) adds ``system`` (its name), ``format`` and ``predictions`` (its path); the parse counts are 0 for
    formats other than swift rows (their malformed input is an error, never a count).
    """
    out = result.summary()
    fmt = system.format if system is not None else "swift"
    if system is not None:
        out.update(system=system.name, format=fmt, predictions=system.path)
    out.update(
        unparsed=sum(len(it.unparsed) for it in items),
        truncated=sum(it.truncated for it in items),
        duplicates=sum(it.duplicates for it in items),
        responses_without_detections=sum(it.responses_without_detections for it in items),
        extra_text=sum(len(it.extra_text) for it in items),
        n_rows=sum(len(it.rows) for it in items),
        iou=args.iou,
        spotting=args.spotting or False,
        model_family=args.model_family if fmt == "swift" else None,
        gt=args.gt or "labels",
    )
    if getattr(args, "score_threshold", None) is not None:
        out["score_threshold"] = args.score_threshold
    if args.note:
        out["note"] = args.note
    return out


def format_table(result, items, summ: dict, args) -> str:
    """The human-readable report: note, metric table, then the worst images."""
    out: List[str] = []
    if args.note:
        out.append(f"NOTE: {args.note}")
    fmt = summ.get("format", "swift")
    if fmt == "swift":
        out.append(f"results: {summ.get('predictions', args.results)}  ({summ['n_rows']} rows, "
                   f"{summ['n_images']} images)")
    else:
        out.append(f"predictions: {summ['predictions']}  ({fmt}, {summ['n_images']} images)")
    out.append(f"ground truth: {args.gt or 'labels in the result rows (no ### regions)'}")
    family = f", model family {args.model_family}" if fmt == "swift" else ""
    out.append(f"protocol: {protocol_line(args)}{family}")
    out.append("")
    out.append(f"{'metric':<14}{'value':>10}  detail")
    table = [
        ("precision", f"{result.precision:.4f}", f"{result.n_matched} / {result.n_det} detections"),
        ("recall", f"{result.recall:.4f}", f"{result.n_matched} / {result.n_gt} ground-truth regions"),
        ("hmean", f"{result.hmean:.4f}", ""),
        ("unparsed", str(summ["unparsed"]), f"fragments; {summ['truncated']} cut-off responses"),
        ("duplicates", str(summ["duplicates"]), "exact repeats of an object in its response (repetition loops), "
                                                "scored as detections"),
        ("no detection", str(summ["responses_without_detections"]), f"of {summ['n_rows']} responses"),
        ("extra text", str(summ["extra_text"]), "response fragments outside any detection object"),
    ]
    if fmt != "swift":  # the response-parsing rows mean nothing for files of boxes
        table = table[:3]
    for name, value, detail in table:
        out.append(f"{name:<14}{value:>10}  {detail}")
    if args.worst > 0:
        ranked = sorted(
            range(len(items)),
            key=lambda k: (result.images[k].hmean,
                           -(len(result.images[k].unmatched_gt) + len(result.images[k].unmatched_det))))
        bad = [k for k in ranked if result.images[k].hmean < 1.0 or items[k].unparsed][: args.worst]
        out.append("")
        if not bad:
            out.append("every image is fully matched")
        else:
            out.append(f"worst {len(bad)} images (lowest Hmean):")
            for k in bad:
                m, it = result.images[k], items[k]
                lines = (f"line {','.join(str(n) for n in it.lines)}" if it.rows
                         else it.pred_source or "no predictions")
                wrong = f"  wrong text {len(m.wrong_text)}" if args.spotting else ""
                dup = f"  duplicates {it.duplicates}" if it.duplicates else ""
                out.append(f"  {it.image}  ({lines})  P {m.precision:.3f}  R {m.recall:.3f}  H {m.hmean:.3f}"
                           f"  missed {len(m.unmatched_gt)}/{m.n_gt}  false {len(m.unmatched_det)}/{m.n_det}{wrong}"
                           f"  unparsed {len(it.unparsed)}{dup}")
                if m.unmatched_gt:
                    out.append("    missed: " + ", ".join(_clip(it.gt[i].text) for i in m.unmatched_gt[:6])
                               + (" ..." if len(m.unmatched_gt) > 6 else ""))
                if m.unmatched_det:
                    out.append("    false : " + ", ".join(_clip(it.det[j].text) for j in m.unmatched_det[:6])
                               + (" ..." if len(m.unmatched_det) > 6 else ""))
                if m.wrong_text:
                    out.append("    text  : " + ", ".join(f"{_clip(it.gt[x.gt].text)} -> {_clip(it.det[x.det].text)}"
                                                          for x in m.wrong_text[:4]))
                if it.unparsed:
                    out.append("    unparsed: " + ", ".join(_clip(s) for s in it.unparsed[:3]))
                if it.extra_text and not it.det:
                    out.append("    extra text: " + ", ".join(_clip(s) for s in it.extra_text[:2]))
    return "\n".join(out)


def text_norm(args: argparse.Namespace):
    """The text normalisation of ``--spotting`` (None without it): :func:`swift_ocr.eval.metrics.rec.normalize_text`
    with its default options (NFKC, whitespace runs -> one space), as ``swift-ocr eval rec``, applied to ground
    truth and detections alike."""
    from swift_ocr.eval.metrics.rec import normalize_text

    return normalize_text if args.spotting else None


def score(items, args):
    """:func:`swift_ocr.eval.metrics.det.evaluate` over the images (ValueError for bad thresholds/polygons)."""
    from swift_ocr.eval.metrics.det import evaluate

    return evaluate(((it.image, it.gt, it.det) for it in items), iou_threshold=args.iou,
                    spotting=spotting_mode(args.spotting), text_norm=text_norm(args))


def format_warning(summ: dict, args) -> Optional[str]:
    """The stderr warning when most responses (more than half of the rows) gave no detection, else None."""
    n_rows, empty = summ["n_rows"], summ["responses_without_detections"]
    if not n_rows or 2 * empty <= n_rows:
        return None
    why = (f"; {summ['extra_text']} fragment(s) of text outside any {args.model_family} object: wrong "
           f"--model-family, or not a detection model?" if summ["extra_text"] else "")
    return (f"swift-ocr eval det: warning: {empty} of {n_rows} responses gave no detection with --model-family "
            f"{args.model_family}{why} (see 'extra_text' with --per-image)")


def protocol_line(args: argparse.Namespace) -> str:
    """``ICDAR 2015 Challenge 4 <mode>, IoU > <iou>[, score >= T]`` for the report headers."""
    mode = (f"end-to-end spotting ({args.spotting}; texts compared case-insensitively after NFKC and "
            f"whitespace normalisation)" if args.spotting else "detection")
    threshold = getattr(args, "score_threshold", None)
    kept = f", detections with score >= {threshold}" if threshold is not None else ""
    return f"ICDAR 2015 Challenge 4 {mode}, IoU > {args.iou}{kept}"


def pred_inputs(args: argparse.Namespace) -> list:
    """The systems to score, formats decided: ``--results`` (or the file ``--api`` wrote, swift rows) first, then
    every ``--pred``, as :class:`~swift_ocr.eval.predictions.PredInput`.

    Raises:
        ValueError: a bad ``--pred`` value, or two systems with one name.
        OcrFormatError: a path that does not exist, or whose format cannot be told (``--pred-format auto``).
    """
    import os

    from swift_ocr.eval.predictions import PredInput, detect_format, parse_pred_arg

    fmt = getattr(args, "pred_format", "auto")
    raw = []
    if args.results:
        raw.append(PredInput(os.path.basename(os.path.normpath(args.results)) or args.results, args.results,
                             "swift" if getattr(args, "api", None) else fmt))
    for value in getattr(args, "pred", None) or []:
        p = parse_pred_arg(value)
        raw.append(PredInput(p.name, p.path, fmt))
    out = [PredInput(p.name, p.path, detect_format(p.path) if p.format == "auto" else p.format) for p in raw]
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise ValueError(f"two systems named alike ({', '.join(names)}): name them with --pred NAME=PATH")
    return out


def codec_for(args: argparse.Namespace, swift_sources: List[str]) -> object:
    """The family codec when some systems are swift rows (``swift_sources``: their paths, or ``--api``); None
    otherwise (the family options are still checked).

    Raises:
        ValueError: swift rows without ``--model-family``, or a codec option without it / for another family.
    """
    from swift_ocr.families import codec_options

    if args.model_family:
        return codec_from_args(args)
    given = [option.flag for name, (option, _) in codec_options().items() if getattr(args, name, None) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} need(s) --model-family")
    if swift_sources:
        raise ValueError(f"{swift_sources[0]}: swift infer result rows need --model-family (the codec that parses "
                         "the responses); other detectors' files: --pred-format icdar|paddle|mmocr")
    return None


def load_system(system, args: argparse.Namespace, codec, gt):
    """``(items, result)`` of one system: its predictions read (:func:`swift_ocr.eval.predictions.load_predictions`)
    and scored (:func:`score`).

    Raises:
        OcrFormatError, OSError, ValueError: unreadable or malformed input, nothing to score, bad thresholds.
    """
    from swift_ocr.errors import OcrFormatError
    from swift_ocr.eval.predictions import load_predictions

    items = load_predictions(system.path, system.format, gt=gt, codec=codec, family=args.model_family,
                             allow_outside_root=args.allow_outside_root,
                             score_threshold=getattr(args, "score_threshold", None),
                             codec_options=explicit_codec_options(args) if codec is not None else None)
    if not items:
        raise OcrFormatError(system.path, None, "no result rows to score" if system.is_swift_rows
                             else "no predictions to score")
    return items, score(items, args)


def format_comparison(loaded, summaries: List[dict], args: argparse.Namespace) -> str:
    """The table of several systems scored against one ground truth: one row per system (name, format, images,
    precision, recall, Hmean, kept detections, ground-truth regions, unparsed fragments), and a note when the
    systems were not scored on the same images."""
    out: List[str] = []
    if args.note:
        out.append(f"NOTE: {args.note}")
    out.append(f"ground truth: {args.gt}")
    out.append(f"protocol: {protocol_line(args)}")
    out.append("")
    width = max(6, *(len(s["system"]) for s in summaries)) + 2
    out.append(f"{'system':<{width}}{'format':<8}{'images':>7}{'precision':>11}{'recall':>9}{'hmean':>9}"
               f"{'n_det':>8}{'n_gt':>7}{'unparsed':>10}")
    for s in summaries:
        out.append(f"{s['system']:<{width}}{s['format']:<8}{s['n_images']:>7}{s['precision']:>11.4f}"
                   f"{s['recall']:>9.4f}{s['hmean']:>9.4f}{s['n_det']:>8}{s['n_gt']:>7}{s['unparsed']:>10}")
    images = [frozenset(it.label_file or it.image for it in items) for _, items, _ in loaded]
    if len(set(images)) > 1:
        common = frozenset.intersection(*images)
        out.append("")
        out.append(f"note: the systems were scored on different images ({', '.join(str(len(i)) for i in images)}; "
                   f"{len(common)} in common): compare their scores with care")
    for system, items, _ in loaded:
        if system.is_swift_rows:
            out.append(f"{system.name}: {system.path} (swift rows, model family {args.model_family})")
        else:
            out.append(f"{system.name}: {system.path} ({system.format})")
    return "\n".join(out)
