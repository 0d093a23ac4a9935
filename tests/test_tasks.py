"""Tasks: line crops rectify rotated quads; unusable regions are reported, never dropped silently."""
import io
import math

import pytest
from PIL import Image, ImageDraw

from swift_ocr.errors import OcrFormatError
from swift_ocr.sample import Region, Sample
from swift_ocr.tasks.core import line


def test_rotated_quad_is_rectified(tmp_path):
    # A 60x20 red rectangle rotated by 30 degrees around (100, 100) on a white 200x200 image.
    w, h, a = 60, 20, math.radians(30)
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]  # TL, TR, BR, BL
    quad = [(100 + x * math.cos(a) - y * math.sin(a), 100 + x * math.sin(a) + y * math.cos(a)) for x, y in corners]
    im = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(im).polygon(quad, fill=(255, 0, 0))
    path = tmp_path / "rot.png"
    im.save(path)
    sample = Sample(images=[str(path)], text="x", regions=[Region(quad, "RED", line=3), Region(quad, "###", True)],
                    source="gt.txt")
    (crop_sample,) = line(sample)
    assert crop_sample.text == "RED" and crop_sample.line == 3
    crop = Image.open(io.BytesIO(crop_sample.image_bytes)).convert("RGB")
    assert crop.size == (60, 20)
    # the interior (away from anti-aliased borders) is all red: the rotation was undone
    inner = crop.crop((3, 3, 57, 17))
    reds = sum(1 for px in inner.get_flattened_data() if px[0] > 200 and px[1] < 60 and px[2] < 60)
    assert reds == inner.size[0] * inner.size[1]


def drawn_image(tmp_path):
    im = Image.new("RGB", (200, 100), "white")
    ImageDraw.Draw(im).rectangle((20, 30, 79, 49), fill=(255, 0, 0))  # a 60x20 red box
    path = tmp_path / "drawn.png"
    im.save(path)
    return path


def test_line_keeps_good_regions_and_reports_the_others(tmp_path):
    from swift_ocr.formats.checks import finish_sample
    from swift_ocr.tasks.core import apply_task, run_task
    path = drawn_image(tmp_path)
    box = [(20, 30), (80, 30), (80, 50), (20, 50)]
    sample = finish_sample(Sample([str(path)], "RED\npoint\n\noff\n###", source="gt.txt", regions=[
        Region([box[0], box[1], box[3], box[2]], "RED", line=1),        # bow-tie order: repaired
        Region([(5, 5)] * 4, "point", line=2),                           # degenerate
        Region(box, "", line=3),                                         # empty transcription
        Region([(300, 0), (350, 0), (350, 20), (300, 20)], "off", line=4),  # outside the 200x100 image
        Region(box, "###", dont_care=True, line=5)]))
    assert sample.fixes == {"reordered_polygons": 1}
    out = run_task("line", sample)
    assert [(s.text, s.line, s.images[0]) for s in out.samples] == [("RED", 1, "drawn_l1.png")]
    crop = Image.open(io.BytesIO(out.samples[0].image_bytes)).convert("RGB")
    assert crop.size == (60, 20)
    assert crop.getpixel((30, 10)) == (255, 0, 0)  # the repaired quad crops the box, not a twisted strip
    assert [(r.line, r.kind) for r in out.region_rejections] == [(2, "degenerate_region"), (3, "empty_text"),
                                                                  (4, "outside_image")]
    assert out.failure is None
    # rec keeps every transcription: the boxes do not matter for the full-page text
    rec_out = run_task("rec", sample)
    assert rec_out.samples == [sample] and not rec_out.region_rejections
    # all or nothing: apply_task raises on the first rejected region instead of dropping it
    with pytest.raises(OcrFormatError, match=r"gt.txt:2: region at line 2 \('point'\)"):
        apply_task("line", sample)


def test_run_task_failures_are_rejections(tmp_path):
    from swift_ocr.tasks.core import run_task
    path = drawn_image(tmp_path)
    only_bad = Sample([str(path)], "point", source="gt.txt", regions=[Region([(5, 5)] * 4, "point", line=1)])
    from swift_ocr.formats.checks import finish_sample
    out = run_task("line", finish_sample(only_bad))
    assert out.samples == [] and out.failure.kind == "no_usable_region"
    assert [r.kind for r in out.region_rejections] == ["degenerate_region"]
    out = run_task("line", Sample([str(path)], "text only", source="t.parquet", line=3))
    assert out.failure.kind == "no_regions" and (out.failure.source, out.failure.line) == ("t.parquet", 3)
    (tmp_path / "cut.png").write_bytes(path.read_bytes()[:200])
    cut = Sample([str(tmp_path / "cut.png")], "RED", source="gt.txt",
                 regions=[Region([(20, 30), (80, 30), (80, 50), (20, 50)], "RED", line=1)])
    out = run_task("line", cut)
    assert out.failure.kind == "image_truncated" and str(tmp_path / "cut.png") in out.failure.reason
    assert run_task("rec", Sample(["x"], " \n ", source="s")).failure.kind == "empty_text"
    with pytest.raises(ValueError, match="unknown task"):
        run_task("ocr", cut)
    with pytest.raises(ValueError, match="needs a TaskConfig with the model family"):
        run_task("det", cut)
