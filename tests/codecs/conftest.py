"""Fixtures for the detection codec tests: the real ICDAR 2015 / SROIE samples and ms-swift's own rendering."""
from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

import pytest

from swift_ocr.formats.icdar import read_icdar_file


@pytest.fixture(scope="session")
def real_samples(shared_data):
    """Every ICDAR 2015 and SROIE sample: ``Sample`` with regions (quads, pixels) and ``image_size``."""
    samples = []
    for label in sorted((shared_data / "icdar2015" / "gts").glob("gt_img_*.txt")):
        image = shared_data / "icdar2015" / "imgs" / (label.stem[len("gt_"):] + ".jpg")
        samples.append(read_icdar_file(label, image))
    for label in sorted((shared_data / "sroie" / "box").glob("*.csv")):
        samples.append(read_icdar_file(label, shared_data / "sroie" / "img" / (label.stem + ".jpg")))
    assert len(samples) == 30 and all(s.regions and s.image_size for s in samples)
    return samples


@lru_cache(maxsize=None)
def processor_resized_size(width: int, height: int, min_pixels: int, max_pixels: int):
    """(W', H') of the image transformers' Qwen2-VL/2.5-VL image processor actually feeds the model.

    Runs the real processor on a blank image and reads ``image_grid_thw`` (patches of 14 pixels).
    """
    from PIL import Image
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    proc = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    thw = proc(images=[Image.new("RGB", (width, height))], return_tensors="np")["image_grid_thw"][0]
    return int(thw[2]) * proc.patch_size, int(thw[1]) * proc.patch_size


@pytest.fixture(scope="session")
def resized_size():
    return processor_resized_size


@pytest.fixture(scope="session")
def swift_render():
    """Render one ``objects`` entry the way ms-swift 4.6.0's template for a family does, without a model.

    Calls ms-swift's own ``Template._get_height_width``, ``Template.normalize_bbox`` and the template
    class's ``replace_ref`` / ``replace_bbox`` (with a stub ``self`` carrying only the attributes they read),
    in the order ``Template._preprocess_inputs`` / ``_pre_tokenize`` do. ``seen_size`` is the size of the
    image after the template's own resize (Qwen2.5-VL's ``fetch_image``), default the original size.

    Returns ``(ref_text, bbox_text, normalised_bbox)``.
    """
    from PIL import Image
    from swift.template.base import Template
    from swift.template.template_inputs import StdTemplateInputs

    def render(template_cls, ref, bbox, image_size, seen_size=None):
        inputs = StdTemplateInputs(messages=[{"role": "assistant", "content": "<ref-object><bbox>"}],
                                   images=[Image.new("RGB", tuple(image_size))],
                                   objects={"ref": [ref], "bbox": [list(bbox)]})
        Template._get_height_width(inputs)  # original width/height, as in _preprocess_inputs
        if seen_size is not None:
            inputs.images = [Image.new("RGB", tuple(seen_size))]  # what replace_tag leaves (fetch_image)
        stub = SimpleNamespace(norm_bbox=template_cls.norm_bbox, bbox_format="legacy",
                               _get_bbox_str=Template._get_bbox_str)
        Template.normalize_bbox(stub, inputs)
        norm = inputs.objects["bbox"][0]
        ref_text = "".join(template_cls.replace_ref(stub, ref, 0, inputs))
        bbox_text = "".join(template_cls.replace_bbox(stub, norm, 0, inputs))
        return ref_text, bbox_text, norm

    return render
