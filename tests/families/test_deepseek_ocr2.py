"""The DeepSeek-OCR-2 family (swift_ocr/families/deepseek_ocr2.py): its image-token arithmetic against ms-swift 4.6.0's
own ``DeepseekOCR2`` template code, and its box format (DeepSeek-OCR's, under its own family name)."""
from __future__ import annotations

import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.families import family_for_template, get_family
from swift_ocr.families.tiles import closest_tile_grid

SIZES = [(600, 400), (768, 768), (769, 500), (1280, 720), (463, 1013), (2480, 3508), (4000, 300)]


class _Transform:
    """Stands in for the remote code's ``BasicImageTransform`` (needs the model files): a tensor of the image's size."""

    mean = (0.5, 0.5, 0.5)

    def __init__(self, mean=None, std=None, normalize=True):
        pass

    def __call__(self, image):
        import torch

        return torch.zeros(3, image.size[1], image.size[0])


def _dynamic_preprocess(image):
    """The remote ``dynamic_preprocess(image, min_num=2, max_num=6, image_size=768)``: its grid and that many crops."""
    cols, rows = closest_tile_grid(*image.size, 2, 6, 768)
    return [image.crop((0, 0, 768, 768))] * (cols * rows), (cols, rows)


def _ms_swift_tokens(size, crop_mode, base_size=1024, image_size=None) -> int:
    """Image tokens ms-swift 4.6.0's ``DeepseekOCR2._preprocess_image`` writes for one blank image of ``size``."""
    from PIL import Image
    from swift.template.templates.deepseek import DeepseekOCR2

    template = object.__new__(DeepseekOCR2)  # no processor / model dir: only what _preprocess_image reads
    template.crop_mode, template.base_size, template._image_size_override = crop_mode, base_size, image_size
    template._BasicImageTransform, template._dynamic_preprocess = _Transform, _dynamic_preprocess
    tokenized, *_ = template._preprocess_image([Image.new("RGB", size)], image_token_id=7)
    return len(tokenized[0])


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("env", [{}, {"CROP_MODE": "false"}, {"CROP_MODE": "false", "IMAGE_SIZE": "1024"},
                                 {"BASE_SIZE": "1280"}])
def test_image_tokens_are_ms_swifts(size, env):
    spec = get_family("deepseek_ocr2")
    settings = spec.image_settings(env)
    want = _ms_swift_tokens(size, settings.crop_mode, settings.base_size, int(env["IMAGE_SIZE"]) if "IMAGE_SIZE"
                            in env else None)
    assert spec.image_tokens(*size, settings) == want


def test_hand_worked():
    spec = get_family("deepseek_ocr2")
    default = spec.image_settings({})
    assert spec.image_tokens(600, 400, default) == 16 * 16 + 1  # the 1024 global view only
    assert spec.image_tokens(1280, 720, default) == 257 + (12 * 2) * (12 * 1)  # + 2x1 crops of 12 x 12 queries
    assert spec.image_tokens(600, 400, spec.image_settings({"CROP_MODE": "0"})) == 12 * 12 + 1


def test_box_format_is_deepseek_ocrs():
    regions = get_codec("deepseek_ocr").parse("<|ref|>TOTAL<|/ref|><|det|>[[10, 20, 500, 60]]<|/det|>",
                                              (1280, 720)).regions
    assert get_codec("deepseek_ocr2").encode(regions, (1280, 720)) == get_codec("deepseek_ocr").encode(
        regions, (1280, 720))
    assert family_for_template("deepseek_ocr2") == "deepseek_ocr2" and family_for_template("deepseek_ocr") == \
        "deepseek_ocr"
