"""Tests for swift_ocr/validate/token_budget.py: image-token arithmetic per family against hand-worked numbers and
against ms-swift 4.6.0's own code, the chat scaffolds against ms-swift's registered templates, and the
text-token heuristic. (Exact counts with the tiny GOT model are tested in tests/cli/test_validate.py.)"""
from __future__ import annotations

import pytest

from swift_ocr.families import deepseek_ocr, family_names, get_family, internvl, qwen2_vl
from swift_ocr.families.tiles import closest_tile_grid
from swift_ocr.validate import token_budget as tb


# ------------------------------------------------------------------------------------------ InternVL


def test_internvl_1280x720_hand_worked():
    # 1280x720: aspect 16/9 = 1.778. Grids with 1 <= i*j <= 12, by distance of i/j to 1.778:
    #   2/1 and 4/2 = 2.0 (diff 0.222), 3/2 = 1.5 (0.278), 4/3 = 1.333 (0.444); 5/3, 7/4 ... exceed 12 tiles.
    #   (2,1) comes first (2 tiles); (4,2) ties it and wins because 1280*720 = 921600 > 0.5 * 448^2 * 8 = 802816.
    #   -> 4 x 2 = 8 tiles + 1 thumbnail = 9 tiles, 9 * 256 = 2304 tokens.
    assert internvl.internvl_grid(1280, 720) == (4, 2)
    assert internvl.internvl_tiles(1280, 720) == 9
    assert internvl.internvl_tokens_per_tile() == 256
    assert internvl.internvl_image_tokens(1280, 720) == 2304
    assert tb.image_tokens("internvl", 1280, 720) == 2304


def test_internvl_other_hand_worked_grids():
    # 448x448: (1,1) exact; (2,2) ties but 448^2 = 200704 is not > 0.5 * 448^2 * 4 -> 1 tile, no thumbnail.
    assert internvl.internvl_tiles(448, 448) == 1
    assert internvl.internvl_image_tokens(448, 448) == 256
    # 1000x1000: (1,1), (2,2), (3,3) all exact; 1e6 > 401408 and > 903168 -> (3,3): 9 + 1 thumbnail = 10 tiles.
    assert internvl.internvl_grid(1000, 1000) == (3, 3)
    assert internvl.internvl_tiles(1000, 1000) == 10
    # 300x200: aspect 1.5, only (3,2) matches exactly -> even a small image becomes 6 tiles + thumbnail.
    assert internvl.internvl_grid(300, 200) == (3, 2)
    assert internvl.internvl_image_tokens(300, 200) == 7 * 256
    # SROIE receipt 463x1013: aspect 0.457; (1,2) = 0.5 (diff 0.043) beats (2,5) = 0.4 (0.057); (2,4) ties
    # (1,2) but 469019 < 0.5 * 448^2 * 8 -> (1,2): 2 tiles + thumbnail = 3 tiles = 768 tokens.
    assert internvl.internvl_grid(463, 1013) == (1, 2)
    assert internvl.internvl_image_tokens(463, 1013) == 768
    # MAX_NUM=6 limits the grid: 1280x720 -> (2,1) (4,2 has 8 tiles) -> 2 + 1 = 3 tiles.
    assert internvl.internvl_tiles(1280, 720, max_num=6) == 3


SIZES = [(1280, 720), (720, 1280), (463, 1013), (439, 1004), (448, 448), (1000, 1000), (300, 200), (1, 1),
         (5000, 40), (40, 5000), (2000, 1500), (1500, 2000), (640, 480), (3000, 1000), (896, 448), (1344, 896),
         (1792, 1344), (100, 700), (2480, 3508), (3508, 2480), (999, 1001), (1700, 8), (8, 600), (6000, 6000)]


def test_internvl_tiles_equal_ms_swift_dynamic_preprocess():
    """ms-swift's own _dynamic_preprocess (the code the internvl2 template runs) cuts the same number of tiles."""
    from PIL import Image
    from swift.template.vision_utils import _dynamic_preprocess

    for w, h in SIZES:
        tiles = _dynamic_preprocess(Image.new("RGB", (w, h)), image_size=448, use_thumbnail=True, max_num=12)
        assert len(tiles) == internvl.internvl_tiles(w, h), (w, h)


def test_tile_grid_equals_ms_swift_find_closest_aspect_ratio():
    """Same grid (columns, rows) as ms-swift's _find_closest_aspect_ratio, for InternVL's and DeepSeek-OCR's limits."""
    from swift.template.vision_utils import _find_closest_aspect_ratio

    for min_num, max_num, tile in ((1, 12, 448), (1, 6, 448), (2, 9, 640)):
        ratios = sorted({(i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1)
                         for j in range(1, n + 1) if min_num <= i * j <= max_num}, key=lambda x: x[0] * x[1])
        for w, h in SIZES:
            assert closest_tile_grid(w, h, min_num, max_num, tile) == \
                _find_closest_aspect_ratio(w / h, ratios, w, h, tile), (w, h, max_num)


# ------------------------------------------------------------------------------------------ Qwen2-VL


def test_qwen_vl_1280x720_hand_worked():
    # 1280 / 28 = 45.7 -> 46 * 28 = 1288; 720 / 28 = 25.7 -> 26 * 28 = 728; 1288 * 728 = 937664 pixels lies within
    # [4 * 784, 16384 * 784] -> no rescale. Tokens = 46 * 26 = 1196.
    assert qwen2_vl.qwen_vl_resized(1280, 720, 4 * 784, 16384 * 784) == (1288, 728)
    assert qwen2_vl.qwen_vl_image_tokens(1280, 720) == 1196
    assert tb.image_tokens("qwen2_5_vl", 1280, 720) == tb.image_tokens("qwen2_vl", 1280, 720) == 1196


def test_qwen_vl_max_pixels_hand_worked():
    # 4000x3000 with ms-swift's default bound 16384 * 784 = 12845056: 4000/28 = 142.9 -> 143 (4004),
    # 3000/28 = 107.1 -> 107 (2996); 4004 * 2996 = 11995984 <= bound -> 143 * 107 = 15301 tokens.
    assert qwen2_vl.qwen_vl_image_tokens(4000, 3000) == 15301
    # MAX_PIXELS=1003520 (1280 tokens): beta = sqrt(12e6 / 1003520) = 3.458; floor(3000 / 3.458 / 28) = 30,
    # floor(4000 / 3.458 / 28) = 41 -> 1148 x 840 -> 41 * 30 = 1230 tokens.
    params = tb.ImageTokenParams.from_env({"MAX_PIXELS": "1003520"})
    assert params.settings("qwen2_5_vl").max_pixels == 1003520
    assert tb.image_tokens("qwen2_5_vl", 4000, 3000, params) == 1230


def test_qwen_vl_refuses_aspect_over_200():
    with pytest.raises(ValueError, match="aspect ratio"):
        qwen2_vl.qwen_vl_image_tokens(5000, 20)


# -------------------------------------------------------------------------------------- DeepSeek-OCR


def test_deepseek_ocr_hand_worked():
    # Global view 1024: 1024 // 16 = 64 patches / 4 = 16 queries per side -> (16 + 1) * 16 + 1 = 273.
    # 640x640 (no side over 640): no crops -> 273.
    assert deepseek_ocr.deepseek_ocr_grid(640, 640) == (1, 1)
    assert deepseek_ocr.deepseek_ocr_image_tokens(640, 640) == 273
    # 1280x720: grids with 2..9 crops; (2,1) = 2.0 is closest to 1.778 (3/2 = 1.5 is 0.278 away); (4,2) ties but
    # 921600 is not > 0.5 * 640^2 * 8 = 1638400 -> (2,1). Crops: 640 // 16 / 4 = 10 queries per side ->
    # (10 * 2 + 1) * (10 * 1) = 210; total 273 + 210 = 483.
    assert deepseek_ocr.deepseek_ocr_grid(1280, 720) == (2, 1)
    assert deepseek_ocr.deepseek_ocr_image_tokens(1280, 720) == 483
    # 600x800: aspect 0.75; (3,4) has 12 crops > 9; (2,3) = 0.667 (diff 0.083) is closest -> 273 + 21 * 30 = 903.
    assert deepseek_ocr.deepseek_ocr_grid(600, 800) == (2, 3)
    assert deepseek_ocr.deepseek_ocr_image_tokens(600, 800) == 903
    # no crop mode (e.g. CROP_MODE=0): one 640 view -> (10 + 1) * 10 + 1 = 111.
    assert deepseek_ocr.deepseek_ocr_image_tokens(1280, 720, crop_mode=False) == 111
    params = tb.ImageTokenParams.from_env({"CROP_MODE": "false"})
    assert tb.image_tokens("deepseek_ocr", 1280, 720, params) == 111


def test_deepseek_ocr_tokens_equal_ms_swift_preprocess_image():
    """ms-swift's DeepseekOCR._preprocess_image builds the image token sequence; only DeepSeek's own
    dynamic_preprocess (shipped with the model) is replaced, by ms-swift's identical InternVL copy with DeepSeek's
    limits (min 2, max 9 crops of 640)."""
    import torch
    from PIL import Image
    from swift.template.templates.deepseek import DeepseekOCR
    from swift.template.vision_utils import _dynamic_preprocess

    class Transform:
        mean = (0.5, 0.5, 0.5)

        def __init__(self, **kwargs):
            pass

        def __call__(self, image):
            return torch.zeros(3, 1, 1)

    def dynamic_preprocess(image):
        crops = _dynamic_preprocess(image, min_num=2, max_num=9, image_size=640, use_thumbnail=False)
        return crops, deepseek_ocr.deepseek_ocr_grid(*image.size)

    template = DeepseekOCR.__new__(DeepseekOCR)
    template.crop_mode, template.base_size, template._image_size_override = True, 1024, None
    template._BasicImageTransform, template._dynamic_preprocess = Transform, dynamic_preprocess
    for w, h in [(640, 640), (1280, 720), (600, 800), (463, 1013), (2000, 300), (100, 100)]:
        tokenized, *_ = template._preprocess_image([Image.new("RGB", (w, h))], image_token_id=7)
        cols, rows = deepseek_ocr.deepseek_ocr_grid(w, h)
        if cols * rows > 1:
            assert len(_dynamic_preprocess(Image.new("RGB", (w, h)), min_num=2, max_num=9,
                                           image_size=640)) == cols * rows
        assert len(tokenized[0]) == deepseek_ocr.deepseek_ocr_image_tokens(w, h), (w, h)


# ------------------------------------------------------------------------------------------------ GOT


def test_got_is_256_whatever_the_size():
    for w, h in SIZES:
        assert tb.image_tokens("got", w, h) == 256


def test_bad_sizes_and_families():
    with pytest.raises(ValueError):
        tb.image_tokens("got", 0, 10)
    with pytest.raises(ValueError):
        tb.image_tokens("llava", 10, 10)


def test_params_from_env_follow_ms_swift_names():
    p = tb.ImageTokenParams.from_env({"MAX_NUM": "6", "INPUT_SIZE": "448", "IMAGE_MAX_TOKEN_NUM": "1024",
                                      "BASE_SIZE": "1280", "IMAGE_SIZE": "640", "CROP_MODE": "1"})
    assert p.settings("internvl").max_num == 6
    assert p.settings("qwen2_vl").max_pixels == p.settings("qwen2_5_vl").max_pixels == 1024 * 28 * 28
    assert p.settings("deepseek_ocr").base_size == 1280 and p.settings("deepseek_ocr").crop_mode is True
    assert tb.ImageTokenParams.from_env({}) == tb.ImageTokenParams()


# ----------------------------------------------------------------------------------------- scaffolds


def test_scaffolds_match_ms_swift_registered_templates():
    from swift.template import TEMPLATE_MAPPING

    for family in family_names():
        sc = get_family(family).scaffold
        meta = TEMPLATE_MAPPING[sc.template]
        assert "".join(meta.prefix) == sc.prefix, family
        assert "".join(meta.prompt) == sc.prompt, family
        assert "".join(meta.chat_sep or []) == sc.chat_sep, family
        assert meta.default_system == sc.default_system, family
        assert ("".join(meta.system_prefix) if meta.system_prefix else None) == sc.system_prefix, family
        assert bool(meta.auto_add_bos) == (sc.bos_tokens > 0), family
        if family in ("deepseek_ocr", "deepseek_ocr2"):
            assert meta.suffix == [["eos_token_id"]]
        else:
            assert "".join(meta.suffix) == sc.suffix, family


# ----------------------------------------------------------------------------------- text estimates


def test_text_heuristic_hand_worked():
    # TOTAL -> ceil(5/3) = 2, ':' 1, space before a digit 1, '9' 1, '.' 1, '00' 2 -> 8
    assert tb.estimate_text_tokens("TOTAL: 9.00") == 8
    # 中 国 2, space before digit 1, 2018 4, 年 1 -> 8
    assert tb.estimate_text_tokens("中国 2018年") == 8
    # 'ab' 1, newline run 1, 'cd' 1, two spaces 1, 'e' 1 -> 5
    assert tb.estimate_text_tokens("ab\n\ncd  e") == 5
    assert tb.estimate_text_tokens("") == 0
    # 'é' is 2 UTF-8 bytes: 'café' = 5 bytes -> 2
    assert tb.estimate_text_tokens("café") == 2


def test_estimate_row_got_layout():
    messages = [{"role": "user", "content": "<image>OCR: "}, {"role": "assistant", "content": "TOTAL: 9.00"}]
    count = tb.estimate_row("got", messages, [(463, 1013)])
    assert count.image == 256 and not count.exact
    sc = get_family("got").scaffold
    # markup: <|im_start|> 'system' '\n' <default system> <|im_end|> '\n' <|im_start|> 'user' '\n' <img> ... </img>
    # '\n' 'OCR: ' <|im_end|> '\n' <|im_start|> 'assistant' '\n' 'TOTAL: 9.00' <|im_end|> '\n'
    system_tokens = tb.estimate_text_tokens(sc.default_system)
    expected_text = (1 + 2 + 1 + system_tokens + 1 + 1      # system part: 'system' = ceil(6/3) = 2
                     + 1 + 2 + 1 + 1 + 1 + 1              # <|im_start|> user \n <img> </img> \n
                     + 1 + 1                              # 'OCR' ceil(3/3) = 1, ':' 1 (trailing space free)
                     + 1 + 1 + 1 + 3 + 1                  # <|im_end|> \n <|im_start|> 'assistant' 3 \n
                     + 8 + 1 + 1)                         # target, <|im_end|> \n
    assert count.text == expected_text
    assert count.total == expected_text + 256
    # a missing tag is added like ms-swift does: same count as with the tag
    untagged = [{"role": "user", "content": "OCR: "}, messages[1]]
    assert tb.estimate_row("got", untagged, [(463, 1013)]) == count
    # two images -> 512 image tokens
    two = [{"role": "user", "content": "<image><image>OCR: "}, messages[1]]
    assert tb.estimate_row("got", two, [(463, 1013), (1280, 720)]).image == 512


def test_estimate_row_internvl_and_qwen_use_image_sizes():
    messages = [{"role": "user", "content": "<image>Read all the text in the image."},
                {"role": "assistant", "content": "x"}]
    assert tb.estimate_row("internvl", messages, [(1280, 720)]).image == 2304
    assert tb.estimate_row("qwen2_5_vl", messages, [(1280, 720)]).image == 1196
    assert tb.estimate_row("deepseek_ocr", messages, [(1280, 720)]).image == 483
