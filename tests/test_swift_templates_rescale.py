"""GOT colour prompts under ms-swift's ``--max_pixels`` (issue 20, defect 4): ms-swift records the image size into
``objects`` and then rescales the image (``Template._preprocess_inputs``, ``swift/template/base.py``); the red box
must be drawn in pixels of the image that is fed, around the same text as in the original.

The encode runs through the real ms-swift ``got_ocr2_hf_finegrained`` template built from the tiny random GOT model
with ``max_pixels`` set. ms-swift's ``rescale_image`` (``swift/template/vision_utils.py``) resizes with
``torchvision.transforms.Resize``; where torchvision is not installed (the CPU test machine) the test gives it a
stand-in ``torchvision.transforms`` whose ``Resize(size)`` is a PIL bilinear resize to that size, so ms-swift's own
size arithmetic still decides the fed size.
"""
from __future__ import annotations

import importlib.util
import sys
import types

import numpy as np
import pytest
from PIL import Image

from swift_ocr.codecs.got import COLOURS
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.msswift.plugin import register_all
from swift_ocr.msswift.templates import scale_box_to_image
from swift_ocr.tiny.models import build_tiny_model


@pytest.fixture(scope="module")
def got_dir(tmp_path_factory):
    return build_tiny_model("got_ocr2_hf", tmp_path_factory.mktemp("tiny") / "tiny-random-got", seed=0)


@pytest.fixture()
def resize_calls(monkeypatch):
    """The sizes ``rescale_image`` asked torchvision for; a PIL stand-in when torchvision is missing."""
    calls = []
    if importlib.util.find_spec("torchvision") is not None:
        import torchvision.transforms as T

        real = T.Resize

        def resize(size, *args, **kwargs):
            calls.append(tuple(size))
            return real(size, *args, **kwargs)

        monkeypatch.setattr(T, "Resize", resize)
        return calls

    class Resize:  # torchvision.transforms.Resize((h, w)) on a PIL image: bilinear resize to (w, h)
        def __init__(self, size):
            self.size = tuple(size)
            calls.append(self.size)

        def __call__(self, img):
            return img.resize((self.size[1], self.size[0]), Image.BILINEAR)

    tv = types.ModuleType("torchvision")
    tv.transforms = types.ModuleType("torchvision.transforms")
    tv.transforms.Resize = Resize
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.transforms", tv.transforms)
    return calls


def _template(model_dir, max_pixels):
    import torch
    from swift.model import get_model_processor
    from swift.template import get_template

    register_all()
    _, processor = get_model_processor(str(model_dir), model_type="got_ocr2_hf", torch_dtype=torch.float32,
                                       load_model=False)
    template = get_template(processor, template_type="got_ocr2_hf_finegrained", max_pixels=max_pixels)
    template.set_mode("train")
    return template, processor


def _colour_bbox(image: Image.Image, rgb):
    """(x1, y1, x2, y2) of the pixels of exactly ``rgb`` (inclusive), or None."""
    a = np.asarray(image.convert("RGB"))
    ys, xs = np.nonzero(np.all(a == np.array(rgb, dtype=a.dtype), axis=-1))
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_colour_box_follows_max_pixels_rescaling(got_dir, shared_data, resize_calls):
    sroie = shared_data / "sroie"
    receipt = read_icdar_file(sroie / "box" / "002.csv", sroie / "img" / "002.jpg")
    original = Image.open(receipt.images[0]).convert("RGB")
    w, h = original.size
    max_pixels = (w * h) // 4  # about half of each side
    template, processor = _template(got_dir, max_pixels)
    region = max(receipt.care_regions(), key=lambda r: (r.bbox()[2] - r.bbox()[0]) * (r.bbox()[3] - r.bbox()[1]))
    x1, y1, x2, y2 = region.bbox()

    def encode(ref):
        row = {"messages": [{"role": "user", "content": "<image>[<ref-object>] OCR: "},
                            {"role": "assistant", "content": region.text}],
               "images": [receipt.images[0]], "objects": {"ref": [ref], "bbox": [[x1, y1, x2, y2]]}}
        return template.encode(row)

    encoded = encode("red")
    assert "</img>\n[red] OCR: <|im_end|>" in processor.tokenizer.decode(encoded["input_ids"])
    (fed,) = encoded["images"]
    # ms-swift did rescale, to the size its own arithmetic asked for
    assert resize_calls and fed.size == (resize_calls[-1][1], resize_calls[-1][0])
    fw, fh = fed.size
    assert fw * fh <= max_pixels and fw < w * 0.6 and fh < h * 0.6
    sx, sy = fw / w, fh / h
    expected = (x1 * sx, y1 * sy, x2 * sx, y2 * sy)  # the text region in pixels of the fed image

    found = _colour_bbox(fed, COLOURS["red"])
    assert found is not None
    line = max(2, round(max(fed.size) / 300))  # draw_colour_box's default width, centred on the edge
    for got, want in zip(found, expected):
        assert abs(got - want) <= line + 1, (found, expected)
    # the old bug: a box drawn at the original pixel coordinates on the smaller image
    assert abs(found[0] - x1) > line + 1 or abs(found[1] - y1) > line + 1

    # inside the box the fed image is the plain rescaled image: the text is untouched
    (plain,) = encode("not-a-colour")["images"]
    assert plain.size == fed.size and _colour_bbox(plain, COLOURS["red"]) != found
    a, b = np.asarray(fed.convert("RGB")), np.asarray(plain.convert("RGB"))
    inner = (slice(int(expected[1]) + line + 2, int(expected[3]) - line - 1),
             slice(int(expected[0]) + line + 2, int(expected[2]) - line - 1))
    assert a[inner].size > 0 and (a[inner] == b[inner]).all()


def test_scale_box_to_image():
    assert scale_box_to_image([10, 20, 30, 40], (100, 200), (100, 200)) == [10, 20, 30, 40]
    assert scale_box_to_image([10, 20, 30, 40], (100, 200), (50, 100)) == [5.0, 10.0, 15.0, 20.0]
    with pytest.raises(ValueError, match="positive"):
        scale_box_to_image([0, 0, 1, 1], (0, 10), (5, 5))
