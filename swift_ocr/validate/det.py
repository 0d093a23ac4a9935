"""Checks of detection targets against their image: :func:`box_problems` and :func:`codec_record_problems`.

Which rows are checked (``task`` of :class:`~swift_ocr.validate.options.ValidateOptions`): ``det``: every row;
``auto``: rows whose target the family's box codec (:func:`swift_ocr.codecs.get_codec`) finds at least one box in;
``rec``: none. Targets are parsed against the first image's size (``(width, height)`` in pixels of the original
image): boxes with a coordinate outside the family's grid, i.e. outside the image [``box_outside_image``],
object-like text that does not parse or is cut off [``box_unparsed``], and with ``task='det'`` a target with no box
at all [``no_boxes``].

A row that records the codec settings its target was written with (``swift_ocr.codec``,
:data:`swift_ocr.tasks.tiling.CODEC_META_KEY`: Qwen2.5-VL's ``min_pixels``/``max_pixels``) is checked against the
family's codec under the environment ms-swift will train with (the family's
:attr:`~swift_ocr.families.base.ModelFamily.env_vars`, e.g. ``MAX_PIXELS``/``MIN_PIXELS``:
:meth:`~swift_ocr.families.base.ModelFamily.codec_for_env`): when the two settings put the boxes of this row's image
on different grids (Qwen: different smart-resized sizes) its boxes do not match the image the model sees
[``resize_mismatch``, naming both settings and both sizes]; settings that differ without changing this image's grid
are no problem for this row. Settings the family does not take (rows written for another family) are a
``resize_mismatch`` too, malformed ones a ``bad_row``. So run validate under the environment ``swift sft`` runs in
(the recipes: ``MAX_PIXELS``/``MIN_PIXELS`` exported, as they pass them to ms-swift).

Both functions return ``(kind, message)`` problems in report order and never raise for a bad row; the codec is
passed as a zero-argument callable, built only when a check needs it (building it raises ``ValueError`` for bad
environment values).
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple

from swift_ocr.tasks.tiling import CODEC_META_KEY, TILE_META_KEY

Size = Optional[Tuple[int, int]]
Problems = List[Tuple[str, str]]


def box_problems(target: str, size: Size, codec: Callable[[], Any], task: str) -> Problems:
    """Problems of the boxes in ``target`` (a non-blank assistant target) on the image of ``size``, parsed by
    ``codec()`` (the family's codec for the training environment); ``task``: ``auto`` or ``det``. None ``size``
    (an image problem reported already): nothing checked."""
    problems: Problems = []
    if size is None:
        return problems  # no image size to check against (the image problem is reported already)
    codec = codec()
    try:
        result = codec.parse(target, size)
    except ValueError as e:  # only bad sizes raise (e.g. Qwen's aspect-ratio limit)
        if task == "det":
            problems.append(("box_unparsed", f"boxes not checked: {e}"))
        return problems
    report = result.report
    if report.objects == 0 and task == "auto":
        return problems
    if report.objects == 0:
        problems.append(("no_boxes", f"--task det, but the {codec.family} codec finds no box in the target"))
    grid = codec.grid(size)
    if report.clipped:
        problems.append(("box_outside_image",
                         f"{report.clipped} of {report.objects} box(es) have coordinates outside the image "
                         f"({codec.family} grid 0..{grid.max_x} x 0..{grid.max_y} over the {size[0]}x{size[1]} "
                         f"image)"))
    if report.unparsed:
        first = report.unparsed[0]
        problems.append(("box_unparsed",
                         f"{len(report.unparsed)} object(s) the {codec.family} codec cannot parse"
                         + (" (the target ends inside an object)" if report.truncated else "")
                         + f", first: {first[:80]!r}"))
    return problems


def codec_record_problems(recorded: Any, size: Size, spec, codec: Callable[[], Any],
                          environ: Sequence[Tuple[str, str]]) -> Problems:
    """``resize_mismatch`` when the codec settings the row's target was written with (``recorded``) put this image
    (``size``: width, height in pixels of the row's image) on another grid than ``codec()``, the settings ms-swift
    will use; ``bad_row`` for a malformed record. Nothing without an image size (its problem is reported already).

    Args:
        spec: the :class:`~swift_ocr.families.base.ModelFamily` validated for.
        environ: ``(name, value)`` of the environment the codec was built from (named in the message).
    """
    where = f"{TILE_META_KEY}.{CODEC_META_KEY}"
    if not isinstance(recorded, dict) or not recorded:
        return [("bad_row", f"'{where}' must be an object of codec settings, got {recorded!r:.80}")]
    try:
        params = spec.check_codec_options(recorded)
        written = spec.make_codec(**params)
    except ValueError as e:
        declared = {opt.name for opt in spec.codec_options}
        kind = "resize_mismatch" if set(recorded) - declared else "bad_row"
        return [(kind, f"'{where}' {recorded}: {e} (written for another --model-family?)"
                 if kind == "resize_mismatch" else f"'{where}' {recorded}: {e}")]
    if size is None:
        return []
    used = codec()
    try:
        same = written.grid(size) == used.grid(size)
    except ValueError:
        return []  # a size the codec refuses: reported by the box and token checks
    if same:
        return []
    mine = ", ".join(f"{k}={v}" for k, v in spec.codec_settings(used).items())
    env = ", ".join(f"{k}={v}" for k, v in environ if k in spec.env_vars) or "none set"
    theirs = ", ".join(f"{k}={v}" for k, v in params.items())
    g_written, g_used = written.grid(size), used.grid(size)
    return [("resize_mismatch",
             f"target written for {theirs} ('{where}'): its boxes are on a {g_written.max_x}x{g_written.max_y} "
             f"grid over the {size[0]}x{size[1]} image, but ms-swift will use {mine} (environment: {env}), a "
             f"{g_used.max_x}x{g_used.max_y} grid: convert again with these settings, or train with the "
             "recorded ones")]
