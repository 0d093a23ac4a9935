"""Writer for ms-swift's standard multimodal jsonl (ms-swift docs, "Custom Dataset"):
``{"messages": [{"role": "user", "content": "<image>..."}, {"role": "assistant", "content": "..."}],
"images": ["path", ...]}`` -- one ``<image>`` tag per entry of ``images``, in order."""
from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any, Callable, Dict, List, Optional

from swift_ocr.io_utils import dumps_line
from swift_ocr.writers.registry import OutputWriter, register_writer


def to_swift_row(query: str, response: str, images: List[str], system: Optional[str] = None) -> Dict:
    """One ms-swift row.

    Raises:
        ValueError: the number of ``<image>`` tags in ``query`` differs from ``len(images)``.
    """
    if query.count("<image>") != len(images):
        raise ValueError(f"{query.count('<image>')} <image> tag(s) for {len(images)} image(s)")
    messages = [{"role": "user", "content": query}, {"role": "assistant", "content": response}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return {"messages": messages, "images": list(images)}


def swift_row_line(query: str, response: str, images: List[str], system: Optional[str] = None,
                   extra: Optional[Dict[str, Any]] = None, extra_json: Optional[str] = None) -> str:
    """``dumps_line(to_swift_row(query, response, images, system) | extra)`` -- the same text, character for
    character (``json.dumps(..., ensure_ascii=False)``'s separators and string escaping, keys in that order), built
    from the encoded strings without the intermediate dicts: the converter writes one per sample.

    ``extra_json``: instead of ``extra``, its members already written as JSON text the same way
    (``'"key": value, ...'``, e.g. :func:`swift_ocr.tasks.det.untiled_meta_json`).

    Raises:
        ValueError: the number of ``<image>`` tags in ``query`` differs from ``len(images)``.
    """
    if query.count("<image>") != len(images):
        raise ValueError(f"{query.count('<image>')} <image> tag(s) for {len(images)} image(s)")
    return _row(_head(query, system), response, ", ".join(map(encode_basestring, images)), extra, extra_json)


def one_image_rows(query: str, system: Optional[str] = None) -> Callable[..., str]:
    """``row(response, image, extra_json=None)``: :func:`swift_row_line` ``(query, response, [image], system,
    extra_json=extra_json)`` for many rows with the same ``query`` and ``system`` (checked and encoded once).

    Raises:
        ValueError: ``query`` does not hold exactly one ``<image>`` tag.
    """
    if query.count("<image>") != 1:
        raise ValueError(f"{query.count('<image>')} <image> tag(s) for 1 image(s)")
    head = _head(query, system)

    def row(response: str, image: str, extra_json: Optional[str] = None) -> str:
        return _row(head, response, encode_basestring(image), None, extra_json)

    return row


def _head(query: str, system: Optional[str]) -> str:
    """The row's text up to the assistant's content."""
    head = '{"messages": ['
    if system is not None:
        head += '{"role": "system", "content": ' + encode_basestring(system) + '}, '
    return head + '{"role": "user", "content": ' + encode_basestring(query) + '}, {"role": "assistant", "content": '


def _row(head: str, response: str, images_json: str, extra: Optional[Dict[str, Any]], extra_json: Optional[str]
         ) -> str:
    line = head + encode_basestring(response) + '}], "images": [' + images_json + "]"
    if extra:
        return line + ", " + dumps_line(extra)[1:]  # '{"k": v, ...}\n' without its "{"
    if extra_json:
        return line + ", " + extra_json + "}\n"
    return line + "}\n"


class SwiftJsonlWriter(OutputWriter):
    """``--output-format swift`` (the default): one ms-swift jsonl row per sample (:func:`swift_row_line`); ``det``
    rows carry the tile metadata (:data:`swift_ocr.tasks.tiling.TILE_META_KEY`). The converter's batch fast path renders
    these rows too (:attr:`batch_rows`)."""

    name = "swift"
    description = "ms-swift multimodal jsonl ({messages, images})"
    suffixes = (".jsonl",)
    batch_rows = True

    def line(self, sample, images, row):
        """The row of ``sample``: the user turn is ``<image>`` per image + the sample's own prompt
        (``Sample.prompt``, e.g. a GOT JSON entry's) or else ``row.instruction``; ``images`` named as
        :meth:`~swift_ocr.writers.registry.RowSpec.image_ref` says (absolute, or relative with ``--relative-paths``)."""
        from swift_ocr.families.prompts import build_query
        from swift_ocr.tasks.tiling import TILE_META_KEY, det_meta

        extra = {TILE_META_KEY: det_meta(sample)} if row.task.task == "det" else None
        instruction = row.instruction if sample.prompt is None else sample.prompt
        if row.relative_to is not None:
            images = [row.image_ref(p) for p in images]
        return swift_row_line(build_query(instruction, len(images)), sample.text, images, row.system, extra)


register_writer(SwiftJsonlWriter())
