"""ms-swift chat templates that OCR users need and ms-swift 4.6 lacks (issue "Detection as text", part 3).

Registered into ms-swift by :func:`register_templates` (called from :func:`swift_ocr.plugin.register_all`, so any
``swift ... --custom_register_path $(swift-ocr plugin-path)`` run can pick them with ``--template NAME``):

``internvl2_ocr_det``
    ms-swift's ``internvl2`` template (``Internvl2Template``, ChatML, for ``--model_type internvl_chat``: InternVL2
    1B-76B, e.g. OpenGVLab/InternVL2-8B) with a system prompt for text detection (:data:`OCR_DET_SYSTEM`) instead of
    InternVL2's general-assistant one. The answer format it names is InternVL's grounding format, which
    :mod:`swift_ocr.codecs.internvl` writes (``<ref>text</ref><box>[[x1, y1, x2, y2]]</box>``, 0-1000).
``internvl_hf_ocr_det``
    the same system prompt on ms-swift's ``internvl_hf`` template (``InternvlhfTemplate``, for
    ``--model_type internvl``: transformers-native ``InternVLForConditionalGeneration`` checkpoints such as
    OpenGVLab/InternVL3-8B-hf, and ``swift-ocr tiny-model --arch internvl_hf``).
``got_ocr2_hf_finegrained`` / ``got_ocr2_finegrained``
    ms-swift's ``got_ocr2_hf`` / ``got_ocr2`` templates with GOT-OCR2.0's fine-grained prompts rendered from
    ms-swift's grounding ``objects`` column (Ucas-HaoranWei/GOT-OCR2.0 ``GOT/demo/run_ocr_2.0.py``):

    * box prompt: ``"<image><bbox> OCR: "`` with ``objects = {"bbox": [[x1, y1, x2, y2]], "bbox_type": "real"}``
      (pixels of the image; ``"norm1"``: 0-1 fractions) renders ``[x1, y1, x2, y2] OCR: `` on GOT's 0-1000 grid,
      **truncated** like GOT's demo (``int(x / W * 1000)``, :func:`swift_ocr.codecs.got.got_grid`), where ms-swift's
      own templates round and write ``[(x1,y1),(x2,y2)]``;
    * colour prompt: ``"<image>[<ref-object>] OCR: "`` with ``objects = {"ref": ["red"], "bbox": [[...]]}`` renders
      ``[red] OCR: `` and draws that box on the image in pure red (green, blue likewise) before the image processor
      sees it (:func:`swift_ocr.codecs.got.draw_colour_box`; GOT's paper names the colours, the line width is
      ours). A ``ref`` that is not a colour is written as it is.

    ms-swift's ``--norm_bbox`` is ignored by these two templates: GOT's grid is always 0-1000.

Importing this module imports ms-swift (only the plugin and the tests do). Names are checked before registering:
a name that ms-swift (or another plugin) already uses for a template that is not ours raises ``ValueError``
instead of replacing it.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from swift.template import register_template
from swift.template.register import TEMPLATE_MAPPING
from swift.template.template_inputs import StdTemplateInputs
from swift.template.templates.internvl import Internvl2Template, InternvlhfTemplate
from swift.template.templates.qwen import QwenTemplateMeta
from swift.template.templates.stepfun import GOT_OCR2HfTemplate, GOT_OCR2Template
from swift.template.templates.utils import ChatmlTemplateMeta

from .codecs.base import format_list, rect_polygon
from .codecs.got import COLOURS, draw_colour_box, got_grid
from .sample import Region

#: System prompt of the InternVL OCR-detection templates (ours).
OCR_DET_SYSTEM = (
    "You are an OCR text-detection engine. Find every line of text in the image, read it exactly as written, and "
    "answer with one line per text line, in reading order (top to bottom, left to right): "
    "<ref>the text</ref><box>[[x1, y1, x2, y2]]</box>, where the box is the text line's bounding box in "
    "coordinates from 0 to 1000 of the image width and height. Answer with nothing else.")


class InternVL2OcrDetTemplate(Internvl2Template):
    """``internvl2_ocr_det``: ms-swift's InternVL2 template; only the default system prompt differs."""


class InternVLHfOcrDetTemplate(InternvlhfTemplate):
    """``internvl_hf_ocr_det``: ms-swift's transformers-InternVL template; only the default system prompt differs."""


class GotFineGrainedMixin:
    """GOT-OCR2.0 fine-grained prompts from ms-swift ``objects`` (see module docstring); mixed into GOT templates."""

    def normalize_bbox(self, inputs: StdTemplateInputs) -> None:
        """Boxes -> GOT's truncated 0-1000 grid, in place; the pixel boxes are kept for colour prompts.

        Raises:
            ValueError: a box that is not ``[x1, y1, x2, y2]``, or a ``bbox_type`` other than real/norm1.
        """
        objects = inputs.objects
        bbox_type = objects.pop("bbox_type", None) or "real"
        if bbox_type not in ("real", "norm1"):
            raise ValueError(f"GOT fine-grained prompts: bbox_type must be 'real' or 'norm1', got {bbox_type!r}")
        image_ids = list(objects.pop("image_id", None) or [])
        image_ids += [0] * (len(objects["bbox"]) - len(image_ids))
        pixel_boxes = []
        for bbox, image_id in zip(objects["bbox"], image_ids):
            if len(bbox) != 4:
                raise ValueError(f"GOT fine-grained prompts need boxes [x1, y1, x2, y2], got {bbox!r}")
            w, h = objects["width"][image_id], objects["height"][image_id]
            scale = (w, h) if bbox_type == "norm1" else (1, 1)
            px = [float(v) * scale[i % 2] for i, v in enumerate(bbox)]
            pixel_boxes.append((image_id, px))
            grid = got_grid((w, h))
            bbox[:] = [*grid.encode(px[0], px[1]), *grid.encode(px[2], px[3])]
        inputs.swift_ocr_pixel_boxes = pixel_boxes

    def replace_bbox(self, bbox: List[int], index: int, inputs: StdTemplateInputs) -> List[str]:
        """``[x1, y1, x2, y2]`` as GOT's demo writes it (``str`` of a Python list)."""
        return [format_list(bbox)]

    def replace_ref(self, ref: str, index: int, inputs: StdTemplateInputs) -> List[str]:
        """The ref as it is; a colour name also draws box ``index`` on its image in that colour."""
        boxes = getattr(inputs, "swift_ocr_pixel_boxes", [])
        if ref in COLOURS and index < len(boxes):
            image_id, (x1, y1, x2, y2) = boxes[index]
            region = Region(polygon=rect_polygon(x1, y1, x2, y2), text="")
            inputs.images[image_id] = draw_colour_box(inputs.images[image_id], region, ref)
        return [ref]


class GotOcr2HfFineGrainedTemplate(GotFineGrainedMixin, GOT_OCR2HfTemplate):
    """``got_ocr2_hf_finegrained``."""


class GotOcr2FineGrainedTemplate(GotFineGrainedMixin, GOT_OCR2Template):
    """``got_ocr2_finegrained``."""


_GOT_SYSTEM = "        You should follow the instructions carefully and explain your answers in detail."  # ms-swift's

#: name -> (TemplateMeta class, template class, meta keyword arguments)
TEMPLATES: Dict[str, Tuple[type, type, dict]] = {
    "internvl2_ocr_det": (ChatmlTemplateMeta, InternVL2OcrDetTemplate, {"default_system": OCR_DET_SYSTEM}),
    "internvl_hf_ocr_det": (ChatmlTemplateMeta, InternVLHfOcrDetTemplate, {"default_system": OCR_DET_SYSTEM}),
    "got_ocr2_hf_finegrained": (QwenTemplateMeta, GotOcr2HfFineGrainedTemplate,
                                {"default_system": _GOT_SYSTEM, "agent_template": None}),
    "got_ocr2_finegrained": (QwenTemplateMeta, GotOcr2FineGrainedTemplate,
                             {"default_system": _GOT_SYSTEM, "agent_template": None}),
}
TEMPLATE_NAMES = tuple(TEMPLATES)


def register_templates() -> List[str]:
    """Register :data:`TEMPLATE_NAMES` into ms-swift's ``TEMPLATE_MAPPING`` (idempotent). Returns the names.

    Raises:
        ValueError: a name is already registered for a template that is not ours.
    """
    for name in TEMPLATE_NAMES:
        existing = TEMPLATE_MAPPING.get(name)
        if existing is not None:
            if getattr(existing.template_cls, "__module__", None) == __name__:
                continue
            raise ValueError(f"ms-swift already has a template named {name!r} that swift-ocr did not register")
        meta_cls, template_cls, kwargs = TEMPLATES[name]
        register_template(meta_cls(name, template_cls=template_cls, **kwargs))
    return list(TEMPLATE_NAMES)
