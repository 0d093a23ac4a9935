"""ms-swift chat templates that OCR users need and ms-swift 4.6 lacks (issue "Detection as text", part 3).

Registered into ms-swift by :func:`register_templates` (called from :func:`swift_ocr.msswift.plugin.register_all`, so any
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
      ours). The box is given in pixels of the original image and drawn scaled to the image as fed, so it still
      surrounds the same text when ``--max_pixels`` rescales the image. A ``ref`` that is not a colour is written
      as it is.

    ms-swift's ``--norm_bbox`` is ignored by these two templates: GOT's grid is always 0-1000.
``paddle_ocr_1_5_compat``
    ms-swift's ``paddle_ocr_1_5`` template (PaddleOCR-VL 1.5 / 1.6, ``--model_type paddleocr_vl``) made to work with
    transformers 5.19, where ``PaddleOCRVLModel.get_image_features(...).pooler_output`` is a tuple of per-image
    tensors (``torch.split``) and ms-swift 4.6.0's training forward (``PaddleOCR1_5Template._post_encode``) calls
    ``.to()`` on it (``AttributeError: 'tuple' object has no attribute 'to'`` at the first training step): the
    tensors are concatenated first (:class:`PaddleOCR15CompatTemplate`). At inference it also leaves the row's
    extra columns (kept with ``--remove_unused_columns false``, e.g. the det task's ``swift_ocr`` tile field) out
    of the model's inputs: ms-swift passes them on to ``generate``, and PaddleOCR-VL's ``generate`` refuses unknown
    keyword arguments (``ValueError: The following `model_kwargs` are not used by the model``). The chat markup is
    ``paddle_ocr_1_5``'s.

Importing this module imports ms-swift (only the plugin and the tests do). Names are checked before registering:
a name that ms-swift (or another plugin) already uses for a template that is not ours raises ``ValueError``
instead of replacing it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch
from PIL import Image as PILImage
from swift.template import register_template
from swift.template.register import TEMPLATE_MAPPING
from swift.template.template_inputs import StdTemplateInputs
from swift.template.templates.baidu import ERNIETemplateMeta, PaddleOCR1_5Template
from swift.template.templates.internvl import Internvl2Template, InternvlhfTemplate
from swift.template.templates.qwen import QwenTemplateMeta
from swift.template.templates.stepfun import GOT_OCR2HfTemplate, GOT_OCR2Template
from swift.template.templates.utils import ChatmlTemplateMeta

from swift_ocr.codecs.base import format_list
from swift_ocr.codecs.grid import rect_polygon
from swift_ocr.codecs.got import COLOURS, draw_colour_box, got_grid
from swift_ocr.families.got import SYSTEM as GOT_SYSTEM
from swift_ocr.families.internvl import det_system
from swift_ocr.sample import Region

#: System prompt of the InternVL OCR-detection templates (ours): the targets of ``convert --task det`` with the
#: default options (boxes, top to bottom and left to right). Rows written with other options carry their own
#: (:func:`swift_ocr.families.internvl.det_system`).
OCR_DET_SYSTEM = det_system()


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
        """The ref as it is; a colour name also draws box ``index`` on its image in that colour.

        The box is drawn in pixels of the image that is fed to the model: ms-swift records each image's
        ``width``/``height`` into ``objects`` *before* ``--max_pixels`` rescales it (``Template._preprocess_inputs``,
        ms-swift 4.6 ``swift/template/base.py``), so a box in pixels of the original image is scaled by
        ``fed_size / recorded_size`` per axis (:func:`scale_box_to_image`) before drawing.

        Raises:
            ValueError: the image to draw on is not a decoded PIL image (ms-swift did not load it).
        """
        boxes = getattr(inputs, "swift_ocr_pixel_boxes", [])
        if ref in COLOURS and index < len(boxes):
            image_id, box = boxes[index]
            image = inputs.images[image_id]
            if not isinstance(image, PILImage.Image):
                raise ValueError(f"GOT colour prompt: image {image_id} is not a loaded PIL image "
                                 f"({type(image).__name__}); cannot draw the box on it")
            recorded = (inputs.objects["width"][image_id], inputs.objects["height"][image_id])
            x1, y1, x2, y2 = scale_box_to_image(box, recorded, image.size)
            region = Region(polygon=rect_polygon(x1, y1, x2, y2), text="")
            inputs.images[image_id] = draw_colour_box(image, region, ref)
        return [ref]


def scale_box_to_image(box: List[float], recorded_size: Tuple[int, int], fed_size: Tuple[int, int]) -> List[float]:
    """``[x1, y1, x2, y2]`` in pixels of an image of ``recorded_size`` -> pixels of the same image resized to
    ``fed_size`` (both ``(width, height)``): x scaled by ``fed_w / recorded_w``, y by ``fed_h / recorded_h``.

    ms-swift's ``--max_pixels`` (``rescale_image``, ``swift/template/vision_utils.py``) resizes proportionally, so
    the two factors agree up to the rounding of the new size. Unchanged size: the box is returned as it is.

    Raises:
        ValueError: a non-positive size.
    """
    (rw, rh), (fw, fh) = recorded_size, fed_size
    if min(rw, rh, fw, fh) <= 0:
        raise ValueError(f"image sizes must be positive, got recorded {recorded_size!r}, fed {fed_size!r}")
    if (rw, rh) == (fw, fh):
        return list(box)
    sx, sy = fw / rw, fh / rh
    x1, y1, x2, y2 = box
    return [x1 * sx, y1 * sy, x2 * sx, y2 * sy]


class GotOcr2HfFineGrainedTemplate(GotFineGrainedMixin, GOT_OCR2HfTemplate):
    """``got_ocr2_hf_finegrained``."""


class GotOcr2FineGrainedTemplate(GotFineGrainedMixin, GOT_OCR2Template):
    """``got_ocr2_finegrained``."""


class PaddleOCR15CompatTemplate(PaddleOCR1_5Template):
    """``paddle_ocr_1_5_compat``: ms-swift 4.6.0's ``paddle_ocr_1_5`` (``swift/template/templates/baidu.py``) with the
    two fixes of the module docstring; everything else (prompt, image tokens, inference forward) is ms-swift's."""

    def _post_encode(self, model, inputs: Dict[str, Any]) -> Dict[str, Any]:
        """Training: ``inputs_embeds`` with the image features scattered into the ``<|IMAGE_PLACEHOLDER|>`` positions,
        as ms-swift's ``PaddleOCR1_5Template._post_encode``, with a tuple ``pooler_output`` (one ``(tokens_i,
        hidden)`` tensor per image) concatenated to ``(sum tokens_i, hidden)`` first. Inference: ``inputs`` as they
        are (the model embeds the images itself)."""
        if not self.is_training:
            return inputs
        base_model = self.get_base_model(model)
        input_ids = inputs["input_ids"]
        pixel_values = inputs.pop("pixel_values", None)
        inputs_embeds = base_model.model.language_model.embed_tokens(input_ids)
        if pixel_values is not None:
            image_embeds = base_model.model.get_image_features(
                pixel_values, inputs.get("image_grid_thw"), return_dict=True).pooler_output
            if isinstance(image_embeds, (list, tuple)):
                image_embeds = torch.cat(list(image_embeds), dim=0)
            image_embeds = image_embeds.to(inputs_embeds.device, inputs_embeds.dtype)
            image_mask = base_model.model.get_placeholder_mask(input_ids, inputs_embeds=inputs_embeds,
                                                               image_features=image_embeds)
            inputs_embeds = inputs_embeds.masked_scatter(image_mask, image_embeds)
        return {"inputs_embeds": inputs_embeds}

    def data_collator(self, batch: List[Dict[str, Any]], *, padding_to: Optional[int] = None) -> Dict[str, Any]:
        """ms-swift's collator; at inference without the rows' extra columns (``_extra_kwargs``), which would reach
        ``generate`` (the result rows keep them: ``swift infer`` writes them from the dataset rows)."""
        if not self.is_training:
            batch = [{k: v for k, v in row.items() if k != "_extra_kwargs"} for row in batch]
        return super().data_collator(batch, padding_to=padding_to)


#: name -> (TemplateMeta class, template class, meta keyword arguments)
TEMPLATES: Dict[str, Tuple[type, type, dict]] = {
    "internvl2_ocr_det": (ChatmlTemplateMeta, InternVL2OcrDetTemplate, {"default_system": OCR_DET_SYSTEM}),
    "internvl_hf_ocr_det": (ChatmlTemplateMeta, InternVLHfOcrDetTemplate, {"default_system": OCR_DET_SYSTEM}),
    "got_ocr2_hf_finegrained": (QwenTemplateMeta, GotOcr2HfFineGrainedTemplate,
                                {"default_system": GOT_SYSTEM, "agent_template": None}),
    "got_ocr2_finegrained": (QwenTemplateMeta, GotOcr2FineGrainedTemplate,
                             {"default_system": GOT_SYSTEM, "agent_template": None}),
    # ms-swift's own registration of paddle_ocr_1_5: ERNIETemplateMeta with this prompt
    "paddle_ocr_1_5_compat": (ERNIETemplateMeta, PaddleOCR15CompatTemplate,
                              {"prompt": ["User: {{QUERY}}\nAssistant:\n"]}),
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
