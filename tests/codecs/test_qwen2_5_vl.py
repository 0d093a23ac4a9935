"""Qwen2.5-VL codec: JSON bbox_2d in pixels of the smart-resized image, checked against transformers' real
image processor and ms-swift's normalize_bbox('none')."""
from __future__ import annotations

import json
import re

import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.codecs.qwen2_5_vl import (PROCESSOR_MAX_PIXELS, PROCESSOR_MIN_PIXELS, Qwen25VLCodec,
                                         smart_resize)
from swift_ocr.sample import Region

SIZE = (1280, 720)


def test_processor_defaults_are_transformers_defaults():
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    size = Qwen2VLImageProcessorPil().size
    assert (size.shortest_edge, size.longest_edge) == (PROCESSOR_MIN_PIXELS, PROCESSOR_MAX_PIXELS) == (3136, 1003520)


@pytest.mark.parametrize("max_pixels", [PROCESSOR_MAX_PIXELS, 16384 * 28 * 28, 256 * 28 * 28])
def test_resized_size_is_what_the_real_processor_feeds(real_samples, resized_size, max_pixels):
    codec = get_codec("qwen2_5_vl", max_pixels=max_pixels)
    for w, h in sorted({s.image_size for s in real_samples}) + [(28, 2000), (33, 17), (5000, 4000)]:
        assert codec.resized_size((w, h)) == resized_size(w, h, PROCESSOR_MIN_PIXELS, max_pixels), (w, h)


def test_1280x720_is_seen_as_1288x728():
    assert smart_resize(1280, 720) == (1288, 728)


def test_encoded_json_holds_resized_pixels(real_samples):
    codec = get_codec("qwen2_5_vl")
    sample = next(s for s in real_samples if s.image_size == (1080, 1527))  # shrunk to 840x1176
    rw, rh = codec.resized_size(sample.image_size)
    assert (rw, rh) == (840, 1176)
    text = codec.encode(sample.regions, sample.image_size)
    m = re.fullmatch(r"```json\n(.*)\n```", text, re.DOTALL)
    items = json.loads(m.group(1))
    assert len(items) == len(sample.regions)
    for item, region in zip(items, sample.regions):
        x1, y1, x2, y2 = region.bbox()
        assert item == {"bbox_2d": [round(x1 * rw / 1080), round(y1 * rh / 1527), round(x2 * rw / 1080),
                                    round(y2 * rh / 1527)], "text_content": region.text}


def test_ms_swift_normalize_bbox_gives_the_same_numbers_but_legacy_tokens(real_samples, swift_render):
    """ms-swift's Qwen2_5VLTemplate (norm_bbox='none') scales objects to the image fetch_image resized to:
    the same numbers as ours for the same resize, but rendered as <|box_start|>(x1,y1),(x2,y2)<|box_end|>
    (QWENVL_BBOX_FORMAT=legacy), not Qwen2.5-VL's JSON."""
    from swift.template.templates.qwen import Qwen2_5VLTemplate

    codec = get_codec("qwen2_5_vl")
    for sample in (real_samples[0], real_samples[-1]):
        seen = codec.resized_size(sample.image_size)
        for region in sample.regions[:5]:
            ref, box, norm = swift_render(Qwen2_5VLTemplate, region.text, region.bbox(), sample.image_size, seen)
            ours = json.loads(codec.encode([region], sample.image_size).split("\n")[2].strip())
            assert norm == ours["bbox_2d"]
            assert ref == f"<|object_ref_start|>{region.text}<|object_ref_end|>"
            assert box == "<|box_start|>({},{}),({},{})<|box_end|>".format(*norm)


def test_for_ms_swift_follows_its_env_resolution(resized_size):
    assert Qwen25VLCodec.for_ms_swift({}).max_pixels == 16384 * 28 * 28
    assert Qwen25VLCodec.for_ms_swift({}).min_pixels == 4 * 28 * 28
    assert Qwen25VLCodec.for_ms_swift({"MAX_PIXELS": "1003520"}).max_pixels == 1003520
    assert Qwen25VLCodec.for_ms_swift({"MAX_PIXELS": "1000000"}).max_pixels == (1000000 // 784) * 784
    assert Qwen25VLCodec.for_ms_swift({"MAX_PIXELS": "5", "IMAGE_MAX_TOKEN_NUM": "1280"}).max_pixels == 1003520
    # a large receipt scan is seen bigger under ms-swift's default than under the processor's default
    big = Qwen25VLCodec.for_ms_swift({}).resized_size((1080, 1527))
    assert big == resized_size(1080, 1527, 3136, 16384 * 28 * 28) == (1092, 1540)
    assert get_codec("qwen2_5_vl").resized_size((1080, 1527)) == (840, 1176)


@pytest.mark.parametrize("text", ['say "hi"', "back\\slash", "多行\n文本", "{braces} [brackets]", ""])
def test_any_text_survives_json_escaping(text):
    codec = get_codec("qwen2_5_vl")
    region = Region([(10, 10), (100, 10), (100, 40), (10, 40)], text)
    res = codec.parse(codec.encode([region], SIZE), SIZE)
    assert res.report.ok and [r.text for r in res.regions] == [text]


def test_unfenced_label_key_and_bare_object_are_accepted():
    codec = get_codec("qwen2_5_vl", fence=False)
    text = codec.encode([Region([(10, 10), (100, 10), (100, 40), (10, 40)], "A")], SIZE)
    assert text.startswith("[") and "```" not in text
    res = codec.parse('{"bbox_2d": [10, 10, 100, 40], "label": "B"}', SIZE)
    assert [r.text for r in res.regions] == ["B"] and res.report.ok


@pytest.mark.parametrize("bad", ['{"bbox_2d": [1, 2, 3, 4], "text_content": 5}', '{"text_content": "no box"}',
                                 '{"bbox_2d": [1, 2, 3, 4], "text_content": "unclosed"\n'])
def test_broken_objects_in_the_middle_are_reported(bad):
    text = ('[{"bbox_2d": [1, 2, 30, 40], "text_content": "A"},\n' + bad + ',\n'
            '{"bbox_2d": [5, 6, 70, 80], "text_content": "C"}]')
    res = get_codec("qwen2_5_vl").parse(text, SIZE)
    assert [r.text for r in res.regions] == ["A", "C"]
    assert len(res.report.unparsed) == 1 and res.report.truncated == 0


def test_bad_pixel_bounds_are_refused():
    with pytest.raises(ValueError):
        get_codec("qwen2_5_vl", min_pixels=10, max_pixels=5)
