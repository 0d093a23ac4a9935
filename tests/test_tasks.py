"""Tasks: line crops rectify rotated quads."""
import io
import math

from PIL import Image, ImageDraw

from swift_ocr.sample import Region, Sample
from swift_ocr.tasks import line


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
