"""Image checks on real receipts and ICDAR photos, and on broken copies of them."""
import io
import struct
import zlib

import pytest
from PIL import Image

from swift_ocr.errors import OcrFormatError
from swift_ocr.images import DEFAULT_MAX_IMAGE_PIXELS, image_size, open_rgb, probe_image


def png_chunks(data: bytes):
    pos, out = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        out.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]))
        pos += 12 + n
    return out


def make_png(chunks) -> bytes:
    body = b"".join(struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d)) for t, d in chunks)
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture(scope="module")
def receipt(shared_data):
    return shared_data / "sroie/img/000.jpg"


def kind_of(src, check="verify", **kw):
    with pytest.raises(OcrFormatError) as e:
        probe_image(src, check, **kw)
    return e.value.kind, str(e.value)


def test_real_images_pass_every_level(receipt, shared_data):
    assert Image.open(receipt).size == (463, 1013)
    for check in ("header", "verify", "decode"):
        assert probe_image(receipt, check) == (463, 1013)
        assert probe_image(receipt.read_bytes(), check) == (463, 1013)
    assert image_size(shared_data / "icdar2015/imgs/img_1.jpg") == (1280, 720)
    assert open_rgb(receipt).size == (463, 1013)


def test_missing_empty_corrupt(tmp_path):
    assert kind_of(tmp_path / "nope.jpg")[0] == "image_missing"
    (tmp_path / "empty.jpg").write_bytes(b"")
    kind, msg = kind_of(tmp_path / "empty.jpg", "header")
    assert kind == "image_empty" and msg.startswith(str(tmp_path / "empty.jpg"))
    assert kind_of(b"")[0] == "image_empty"
    assert kind_of(b"GIF89a not really" * 10, "header")[0] == "image_corrupt"
    assert kind_of(b"\x00" * 500, name="row#3")[1].startswith("row#3:")


def test_truncated_jpeg_passes_header_but_not_verify(receipt):
    data = receipt.read_bytes()
    for keep in (0.3, 0.9, 0.999):
        cut = data[: int(len(data) * keep)]
        assert probe_image(cut, "header") == (463, 1013)  # what a header-only reader would accept
        assert kind_of(cut, "verify")[0] == "image_truncated"
        assert kind_of(cut, "decode")[0] == "image_truncated"
        with pytest.raises(OcrFormatError, match="truncated"):
            open_rgb(cut)


def test_png_verify_and_decode(receipt):
    buf = io.BytesIO()
    Image.open(receipt).save(buf, "PNG")
    png = buf.getvalue()
    assert kind_of(png[: len(png) // 2])[0] == "image_truncated"
    broken_crc = bytearray(png)
    broken_crc[len(png) // 2] ^= 0xFF
    assert kind_of(bytes(broken_crc))[0] == "image_corrupt"
    # IDAT replaced by garbage with a correct CRC: every chunk checks out, only decoding finds it
    chunks = [(t, d if t != b"IDAT" else b"\x00garbage" * 100) for t, d in png_chunks(png)]
    garbage = make_png(chunks)
    assert probe_image(garbage, "verify") == (463, 1013)
    assert kind_of(garbage, "decode")[0] in ("image_corrupt", "image_truncated")


def test_decompression_bomb_limit():
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    chunks = png_chunks(buf.getvalue())
    ihdr = struct.pack(">II", 20000, 10000) + chunks[0][1][8:]
    bomb = make_png([(b"IHDR", ihdr)] + chunks[1:])
    kind, msg = kind_of(bomb, "header")
    assert kind == "image_too_large"
    assert f"200000000 pixels (20000x10000), over the limit {DEFAULT_MAX_IMAGE_PIXELS}" in msg
    assert "--max-image-pixels" in msg
    # our limit applies, not Pillow's global one (which would refuse 2x its default outright)
    assert probe_image(bomb, "header", max_pixels=300_000_000) == (20000, 10000)
    assert probe_image(bomb, "header", max_pixels=None) == (20000, 10000)
    assert kind_of(bomb, "header", max_pixels=1000)[0] == "image_too_large"
    assert Image.MAX_IMAGE_PIXELS == DEFAULT_MAX_IMAGE_PIXELS  # Pillow's global is restored
    with pytest.raises(OcrFormatError, match="over the limit 5"):
        open_rgb(bomb, max_pixels=5)


def _variants(receipt, tmp_path):
    """Encodings the fast header reader meets in OCR datasets: baseline/progressive/CMYK/grey JPEG, JPEG with a
    large EXIF block before the frame header, PNG (RGB, palette, 16-bit grey), and a PNG named .jpg."""
    im = Image.open(receipt)
    out = []
    for name, kw, mode in [("base.jpg", {}, "RGB"), ("prog.jpg", {"progressive": True}, "RGB"),
                           ("cmyk.jpg", {}, "CMYK"), ("grey.jpg", {}, "L"),
                           ("exif.jpg", {"exif": b"Exif\x00\x00" + b"\x00" * 60000}, "RGB"),
                           ("rgb.png", {}, "RGB"), ("pal.png", {}, "P"), ("grey16.png", {}, "I;16"),
                           ("png_named.jpg", {"format": "PNG"}, "RGB")]:
        path = tmp_path / name
        im.convert(mode).save(path, **kw)
        out.append(path)
    return out


@pytest.mark.parametrize("public_api", [False, True])
def test_fast_header_sizes_equal_pillow_on_real_images(shared_data, receipt, tmp_path, monkeypatch, public_api):
    from swift_ocr import images
    from swift_ocr.images import header_size_fast

    if public_api:  # imagesize without its private parser entry point: imagesize.get is used
        monkeypatch.setattr(images, "_read_image_metadata", None)

    paths = sorted(shared_data.glob("*/img*/*")) + sorted((shared_data / "zh").glob("*.*g"))
    paths += _variants(receipt, tmp_path)
    decided = 0
    for p in paths:
        with Image.open(p) as im:
            expected = im.size
        fast = header_size_fast(p)
        assert fast in (None, expected), p
        decided += fast is not None
        assert probe_image(p, "header") == expected
    # every real JPEG/PNG is decided by the fast reader; the JPEG whose first scan starts after a 60 kB EXIF block,
    # beyond the bytes it reads, is left to Pillow (and sized right above)
    assert decided == len(paths) - 1
    assert header_size_fast(tmp_path / "exif.jpg") is None


def test_fast_header_never_accepts_what_pillow_refuses(shared_data, tmp_path):
    """Real JPEG and PNG headers with 1-3 random bytes overwritten in their markers: whenever the fast reader gives a
    size, Pillow opens the same bytes and gives that size (it declines the rest, which Pillow then judges)."""
    import random

    from swift_ocr.images import HEAD_BYTES, header_size_fast

    rng = random.Random(5)
    heads = [p.read_bytes()[:HEAD_BYTES] for p in sorted(shared_data.glob("*/img*/*"))]
    path = tmp_path / "damaged.img"
    decided = refused = 0
    for _ in range(1500):
        data = bytearray(rng.choice(heads))
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(700)] = rng.randrange(256)
        try:
            with Image.open(io.BytesIO(bytes(data))) as im:
                expected = im.size
        except Exception:
            expected = None
        path.write_bytes(data)
        fast = header_size_fast(path)
        if fast is not None:
            assert fast == expected
            decided += 1
        refused += expected is None
    assert decided > 500 and refused > 100  # both outcomes were exercised


def test_fast_header_declines_what_pillow_must_judge(receipt, tmp_path):
    from swift_ocr.images import header_size_fast

    data = receipt.read_bytes()
    cases = {"garbage.gif": b"GIF89a not really" * 10, "empty.jpg": b"", "soi_only.jpg": data[:3],
             "cut_before_frame.jpg": data[:40], "text.jpg": b"hello"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        assert header_size_fast(tmp_path / name) is None, name
        with pytest.raises(OcrFormatError):
            probe_image(tmp_path / name, "header")  # Pillow's verdict, as before the fast path
    assert header_size_fast(tmp_path / "missing.jpg") is None
    assert kind_of(tmp_path / "missing.jpg", "header")[0] == "image_missing"


def test_fast_header_applies_the_pixel_limit(receipt):
    assert kind_of(receipt, "header", max_pixels=1000)[0] == "image_too_large"
    assert probe_image(receipt, "header", max_pixels=463 * 1013) == (463, 1013)
