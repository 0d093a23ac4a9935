"""Tests for swift_ocr.eval.draw on real images: outlines land on the region edges in the documented colours."""
from __future__ import annotations

import pytest
from PIL import Image, ImageFont

from swift_ocr.eval.draw import FONT_PATH, draw_regions, font_size, load_font, save_png
from swift_ocr.formats.icdar import read_icdar_file
from swift_ocr.eval.metrics.det import box_region, match_image
from swift_ocr.sample import Region


def edge_midpoints(region: Region):
    pts = region.polygon
    return [((pts[i][0] + pts[(i + 1) % len(pts)][0]) / 2, (pts[i][1] + pts[(i + 1) % len(pts)][1]) / 2)
            for i in range(len(pts))]


@pytest.fixture(scope="module")
def receipt(shared_data):
    return read_icdar_file(shared_data / "sroie" / "box" / "003.csv", shared_data / "sroie" / "img" / "003.jpg")


def test_colours_on_a_real_receipt(receipt, tmp_path, draw_checks):
    dc = draw_checks
    image = Image.open(receipt.images[0])
    size = image.size
    font = ImageFont.truetype(FONT_PATH, font_size(size))
    care = receipt.care_regions()
    # predictions: every 2nd region's box (matched); the others are missed; one false positive in a blank corner
    det = [box_region(r.bbox(), r.text) for r in care[::2]]
    w, h = size
    fp = box_region(dc.blank_box(receipt.regions, size, font), "ghost")
    det.append(fp)
    match = match_image(receipt.regions, det)
    assert match.n_matched == len(care[::2]) and match.unmatched_det == [len(det) - 1]

    out = draw_regions(image, receipt.regions, det, match, title="003.jpg")
    assert out.size == size and out.mode == "RGB"
    x, y = edge_midpoints(fp)[0]
    assert image.getpixel((round(x), round(y))) != out.getpixel((round(x), round(y)))  # the input is left alone
    path = tmp_path / "003.png"
    save_png(out, path)
    out = Image.open(path).convert("RGB")  # PNG is lossless: the same pixels come back
    assert list(tmp_path.iterdir()) == [path]

    # false positive: red on its edges
    assert all(dc.is_red(out.getpixel((round(x), round(y)))) for x, y in edge_midpoints(fp))
    # missed ground truth: green on an edge that nothing else covers
    missed = care[1::2]
    checked = 0
    for r in missed:
        others = [o for o in receipt.regions if o is not r] + det
        pt = dc.free_point(edge_midpoints(r), others, size, font)
        if pt is not None:
            assert dc.is_green(out.getpixel(pt)), (r.text, pt, out.getpixel(pt))
            checked += 1
    assert checked >= 3
    # matched predictions: blue on their left edge
    checked = 0
    for j, d in enumerate(det[:-1]):
        others = [o for o in receipt.regions if o.text != d.text] + [o for k, o in enumerate(det) if k != j]
        x1, y1, x2, y2 = d.bbox()
        pt = dc.free_point([(x1, (y1 + y2) / 2)], others, size, font)
        if pt is not None:
            assert dc.is_blue(out.getpixel(pt)), (d.text, pt, out.getpixel(pt))
            checked += 1
    assert checked >= 3


def test_dont_care_dashed_grey_and_ground_truth_alone(shared_data, draw_checks):
    dc = draw_checks
    # the ICDAR 2015 image whose longest ### region edge is the longest of all
    samples = [read_icdar_file(lbl, shared_data / "icdar2015" / "imgs" / (lbl.stem[3:] + ".jpg"))
               for lbl in sorted((shared_data / "icdar2015" / "gts").glob("gt_img_*.txt"))]

    def top_edge(r):
        (ax, ay), (bx, by) = r.polygon[0], r.polygon[1]
        return ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5

    s, r = max(((s, r) for s in samples for r in s.regions if r.dont_care), key=lambda sr: top_edge(sr[1]))
    assert top_edge(r) > 60
    image = Image.open(s.images[0])
    out = draw_regions(image, s.regions)  # no predictions: ground truth alone
    assert out.size == image.size
    (ax, ay), (bx, by) = r.polygon[0], r.polygon[1]
    pts = [(round(ax + (bx - ax) * t / 40), round(ay + (by - ay) * t / 40)) for t in range(4, 37)]
    rgb = image.convert("RGB")
    drawn = [out.getpixel(p) for p in pts if out.getpixel(p) != rgb.getpixel(p)]
    assert 0.3 * len(pts) <= len(drawn) <= 0.7 * len(pts), drawn  # dashes and gaps
    assert all(dc.is_grey(p) for p in drawn), drawn
    # nothing is drawn in prediction colours
    assert not any(dc.is_red(p) or dc.is_blue(p) for r in s.regions for p in
                   (out.getpixel((round(x), round(y))) for x, y in edge_midpoints(r)))


def test_font_falls_back_to_pillow_default(tmp_path):
    font = load_font(20, str(tmp_path / "no-such-font.ttf"))
    left, top, right, bottom = font.getbbox("TEXT")
    assert right > left and bottom > top
    assert isinstance(load_font(20), ImageFont.FreeTypeFont)  # DejaVu Sans is installed here
