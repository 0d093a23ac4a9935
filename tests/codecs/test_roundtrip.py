"""Every real ICDAR 2015 / SROIE quad, encoded by each codec and parsed back, matches its ground truth.

Tolerance = half a unit of the family's grid mapped back to pixels of the original image (derived here,
not taken from the codec): 0.5*W/1000 for 0-1000 grids (InternVL, Qwen2-VL; GOT decodes its truncated
values to unit centres), 0.5*W/999 for DeepSeek-OCR, 0.5*W/W' for Qwen2.5-VL where W' is the width the
real transformers image processor resizes the image to.
"""
from __future__ import annotations

import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.codecs.qwen2_5_vl import PROCESSOR_MAX_PIXELS, PROCESSOR_MIN_PIXELS

EPS = 1e-9


def grid_units(family, image_size, resized_size):
    w, h = image_size
    if family == "qwen2_5_vl":
        return resized_size(w, h, PROCESSOR_MIN_PIXELS, PROCESSOR_MAX_PIXELS)
    if family == "deepseek_ocr":
        return 999, 999
    return 1000, 1000


def rect(region):
    x1, y1, x2, y2 = region.bbox()
    return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]


@pytest.mark.parametrize("family,params", [
    ("internvl", {}), ("internvl", {"shape": "quad"}), ("qwen2_vl", {}), ("qwen2_5_vl", {}), ("got", {}),
    ("deepseek_ocr", {}),
])
def test_real_quads_round_trip(family, params, real_samples, resized_size):
    codec = get_codec(family, **params)
    quad = params.get("shape") == "quad"
    n = 0
    for sample in real_samples:
        w, h = sample.image_size
        ux, uy = grid_units(family, sample.image_size, resized_size)
        tx, ty = 0.5 * w / ux + EPS, 0.5 * h / uy + EPS
        text = codec.encode(sample.regions, sample.image_size)
        result = codec.parse(text, sample.image_size)
        rep = result.report
        assert rep.ok and rep.extra_text == [], (sample.source, rep)
        assert (rep.clipped, rep.swapped, rep.duplicates) == (0, 0, 0), (sample.source, rep)
        assert len(result.regions) == len(sample.regions), sample.source
        for gt, got in zip(sample.regions, result.regions):
            assert got.text == gt.text, (sample.source, gt.line)
            assert got.dont_care == gt.dont_care
            expected = gt.polygon if quad else rect(gt)
            assert len(got.polygon) == len(expected) == 4
            for (ex, ey), (px, py) in zip(expected, got.polygon):
                assert abs(px - ex) <= tx and abs(py - ey) <= ty, (sample.source, gt.line, expected, got.polygon)
            n += 1
    assert n == 996  # every quad of the 30 files (61 of them ###)


def test_sroie_exercises_the_qwen_resize(real_samples, resized_size):
    """The large SROIE scans are shrunk by smart_resize (so the resized grid is really tested)."""
    sizes = {s.image_size for s in real_samples}
    shrunk = [sz for sz in sizes
              if resized_size(*sz, PROCESSOR_MIN_PIXELS, PROCESSOR_MAX_PIXELS)[0] < sz[0] - 28]
    assert shrunk
