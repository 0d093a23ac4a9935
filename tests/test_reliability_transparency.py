"""Issue 19, defect 4: images with a transparent background gave all-black crops.

``open_rgb`` did ``convert("RGB")``, which drops the alpha channel and keeps the colour the transparent pixels
store -- black in the usual RGBA PNG -- so dark text on a transparent background became black on black. Now
every image we decode is composited on white (``swift_ocr.images.to_rgb``), and a one-image item whose image has
transparent pixels is handed on (rows, extracted parquet images, ms-swift bytes) as a PNG composited on white,
counted as ``flattened_images``.

The test images are real: a line of a SROIE receipt (``../shared/data``), whose dark ink is kept opaque and whose
paper is made transparent (stored black), in RGBA, LA and palette (``tRNS``) modes.
"""
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from swift_ocr.convert.api import ConvertOptions, convert
from swift_ocr.eval.draw import draw_regions
from swift_ocr.formats import open_source
from swift_ocr.images import flatten_transparency, open_rgb, probe_image_opaque, rectify_quad, to_rgb

INK = 110  # grey level below which a receipt pixel is ink
BOX = (40, 10, 360, 80)  # around SROIE 000's first line, 72,25,326,25,326,64,72,64 (TAN WOON YANN)
QUAD = [(32, 15), (286, 15), (286, 54), (32, 54)]  # that line in the cut-out's pixels


def _receipt_line(shared_data: Path):
    """The receipt cut-out (RGB array) and its ink mask."""
    with Image.open(shared_data / "sroie" / "img" / "000.jpg") as im:
        rgb = np.asarray(im.convert("RGB").crop(BOX))
    ink = np.asarray(Image.fromarray(rgb).convert("L")) < INK
    assert 0.02 < ink.mean() < 0.5  # there is text, on a mostly light background
    return rgb, ink


def _transparent(shared_data: Path, mode: str):
    """(PIL image of ``mode`` with the paper transparent and stored black, expected RGB array on white)."""
    rgb, ink = _receipt_line(shared_data)
    alpha = np.where(ink, 255, 0).astype(np.uint8)
    if mode == "RGBA":
        stored = np.where(ink[..., None], rgb, 0).astype(np.uint8)
        image = Image.fromarray(np.dstack([stored, alpha]))
        expected = np.where(ink[..., None], rgb, 255)
    elif mode == "LA":
        grey = np.where(ink, np.asarray(Image.fromarray(rgb).convert("L")), 0).astype(np.uint8)
        image = Image.merge("LA", [Image.fromarray(grey), Image.fromarray(alpha)])
        expected = np.repeat(np.where(ink, grey, 255)[..., None], 3, axis=2)
    elif mode == "P":  # palette entry 0: black, transparent (tRNS); entry 1: the ink colour
        image = Image.fromarray(ink.astype(np.uint8), "L").convert("P")
        image.putpalette([0, 0, 0, 40, 40, 40] + [0, 0, 0] * 254)
        image.info["transparency"] = 0
        expected = np.where(ink[..., None], np.array([40, 40, 40]), 255)
    else:
        raise ValueError(mode)
    return image, expected.astype(np.uint8)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _dark_on_white(crop: np.ndarray) -> None:
    grey = crop.mean(axis=2)
    assert (grey > 200).mean() > 0.5, "the background is not white"
    assert 0.02 < (grey < INK).mean() < 0.5, "no dark text"


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_line_crop_of_transparent_png_is_dark_text_on_white(tmp_path, shared_data, mode):
    """The reproduction: an ICDAR folder whose image has a transparent background and dark text; ``--task line``
    crops it as dark text on white, equal to the crop of the same picture composited on white by hand."""
    image, expected = _transparent(shared_data, mode)
    root = tmp_path / "data"
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    (root / "imgs" / "line.png").write_bytes(_png(image))
    assert Image.open(root / "imgs" / "line.png").mode == mode
    (root / "gts" / "gt_line.txt").write_text(",".join(f"{v}" for p in QUAD for v in p) + ",TAN WOON YANN\n",
                                              encoding="utf-8")
    out = tmp_path / "out" / "line.jsonl"
    report = convert(open_source("icdar", input_path=str(root)), ConvertOptions(task="line", workers=1), str(out))
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    with Image.open(row["images"][0]) as im:
        crop = np.asarray(im.convert("RGB"))
    _dark_on_white(crop)
    assert np.array_equal(crop, np.asarray(rectify_quad(Image.fromarray(expected), QUAD)))
    assert report.fixes["flattened_images"] == 1


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_open_rgb_and_to_rgb_composite_on_white(shared_data, mode):
    image, expected = _transparent(shared_data, mode)
    assert np.array_equal(np.asarray(open_rgb(_png(image))), expected)
    assert np.array_equal(np.asarray(to_rgb(image)), expected)


def test_partial_alpha_is_blended_and_opaque_pixels_are_kept(shared_data):
    """Alpha between 0 and 255 blends with white ("over"); an opaque RGBA image keeps its RGB values exactly."""
    rgb, _ = _receipt_line(shared_data)
    alpha = np.linspace(0, 255, rgb.shape[1]).round().astype(np.uint8)[None, :].repeat(rgb.shape[0], axis=0)
    out = np.asarray(to_rgb(Image.fromarray(np.dstack([rgb, alpha])))).astype(float)
    a = alpha[..., None] / 255.0
    assert np.abs(out - (rgb * a + 255 * (1 - a))).max() <= 1
    opaque = Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))
    assert np.array_equal(np.asarray(to_rgb(opaque)), rgb)
    assert flatten_transparency(_png(opaque)) is None  # nothing to composite: handed on as it is


def _folder(root: Path, shared_data: Path) -> None:
    """An ICDAR folder: a transparent PNG, an opaque RGBA PNG, and a real JPEG."""
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    label = ",".join(f"{v}" for p in QUAD for v in p) + ",TAN WOON YANN\n"
    image, _ = _transparent(shared_data, "RGBA")
    (root / "imgs" / "clear.png").write_bytes(_png(image))
    opaque = image.copy()
    opaque.putalpha(255)
    (root / "imgs" / "opaque.png").write_bytes(_png(opaque))
    shutil.copy(shared_data / "sroie" / "img" / "000.jpg", root / "imgs" / "photo.jpg")
    for stem in ("clear", "opaque", "photo"):
        (root / "gts" / f"gt_{stem}.txt").write_text(label, encoding="utf-8")


@pytest.mark.parametrize("task, family", [("rec", "got"), ("det", "internvl")])
@pytest.mark.parametrize("check", ["header", "verify"])
def test_whole_images_handed_on_are_flattened_and_both_paths_agree(monkeypatch, tmp_path, shared_data, task, family,
                                                                   check):
    """rec/det rows hand the image on to ms-swift (which drops alpha): a transparent one is written as a PNG
    composited on white into the images folder, the others keep their own files; the batch fast path declines the
    images that may be transparent, so both paths write the same bytes."""
    _folder(tmp_path / "data", shared_data)
    _, expected = _transparent(shared_data, "RGBA")
    outs = {}
    for batch in (True, False):
        out = tmp_path / ("batch" if batch else "careful") / "x.jsonl"
        reader = open_source("icdar", input_path=str(tmp_path / "data"), check_images=check)
        report = convert(reader, ConvertOptions(task=task, family=family, workers=1, fast_path=batch),
                         str(out)).to_dict()
        report.pop("outputs")
        rows = {Path(r["images"][0]).stem.split("_", 1)[-1]: r for r in map(json.loads, out.read_text(
            encoding="utf-8").splitlines())}
        assert set(rows) == {"clear", "opaque", "photo"} and report["fixes"]["flattened_images"] == 1
        written = rows["clear"]["images"][0]
        assert Path(written).parent == out.parent / "x_images"
        with Image.open(written) as im:
            assert im.format == "PNG" and im.mode == "RGB"
            assert np.array_equal(np.asarray(im), expected)
        assert rows["opaque"]["images"][0] == str(tmp_path / "data" / "imgs" / "opaque.png")
        assert rows["photo"]["images"][0] == str(tmp_path / "data" / "imgs" / "photo.jpg")
        outs[batch] = report, out.read_text(encoding="utf-8").replace(str(out.parent), "OUT")
    assert outs[True] == outs[False]


def test_parquet_image_extraction_is_flattened(tmp_path, shared_data):
    """Parquet rows carry encoded bytes, which the converter writes out as image files: a transparent PNG is written
    composited on white; a JPEG row keeps its own bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    image, expected = _transparent(shared_data, "RGBA")
    jpeg = (shared_data / "sroie" / "img" / "001.jpg").read_bytes()
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    rows = [{"bytes": _png(image), "path": "clear.png"}, {"bytes": jpeg, "path": "photo.jpg"}]
    src = tmp_path / "lines.parquet"
    pq.write_table(pa.table({"image": pa.array(rows, type=image_type), "text": ["TAN WOON YANN", "receipt"]}), src)
    out = tmp_path / "out" / "x.jsonl"
    report = convert(open_source("parquet", input_path=str(src)), ConvertOptions(task="rec", workers=1), str(out))
    written = {json.loads(line)["messages"][-1]["content"]: json.loads(line)["images"][0]
               for line in out.read_text(encoding="utf-8").splitlines()}
    with Image.open(written["TAN WOON YANN"]) as im:
        assert im.mode == "RGB" and np.array_equal(np.asarray(im), expected)
    assert Path(written["receipt"]).read_bytes() == jpeg
    assert report.fixes["flattened_images"] == 1


@pytest.mark.parametrize("mode, transparency", [("RGB", None), ("RGBA", None), ("LA", None), ("P", None), ("P", 0),
                                                ("L", None), ("L", 0), ("RGB", (0, 0, 0))])
def test_png_header_opacity_agrees_with_pillow(tmp_path, shared_data, mode, transparency):
    """The header-level answer (PNG colour type and tRNS chunk, from the file's first bytes) is Pillow's
    has_transparency_data, as the verify level reads it."""
    rgb, _ = _receipt_line(shared_data)
    image = Image.fromarray(rgb).convert(mode)
    if transparency is not None:
        image.info["transparency"] = transparency
    path = tmp_path / "x.png"
    path.write_bytes(_png(image))
    with Image.open(path) as im:
        want = not im.has_transparency_data
    assert probe_image_opaque(path, "header")[1] == want
    assert probe_image_opaque(path, "verify") == (image.size, want)
    assert probe_image_opaque(shared_data / "sroie" / "img" / "000.jpg", "header")[1] is True


def test_draw_shows_a_transparent_image_on_white(shared_data):
    image, expected = _transparent(shared_data, "RGBA")
    drawn = np.asarray(draw_regions(image, []))
    below_legend = slice(40, None)  # the legend band is drawn over the top rows
    assert np.array_equal(drawn[below_legend], expected[below_legend])


def test_ms_swift_route_hands_on_the_flattened_image(tmp_path, shared_data):
    """The registered ms-swift dataset reads items with the same shared checks: its row for the transparent image
    carries the PNG composited on white as bytes (ms-swift's loader would otherwise drop the alpha channel)."""
    from swift_ocr.msswift.datasets import OcrPreprocessor, task_rows

    _folder(tmp_path / "data", shared_data)
    imgs, gts = tmp_path / "data" / "imgs", tmp_path / "data" / "gts"
    _, expected = _transparent(shared_data, "RGBA")
    options = {"family": "got", "task": "rec"}
    pre = OcrPreprocessor("icdar", options)
    sample = pre.read({"image_path": str(imgs / "clear.png"), "label_path": str(gts / "gt_clear.txt")})
    assert sample.fixes["flattened_images"] == 1
    _, rows = task_rows(sample, options)
    (entry,) = rows[0]["images"]
    assert entry["path"] is None
    with Image.open(io.BytesIO(entry["bytes"])) as im:
        assert im.mode == "RGB" and np.array_equal(np.asarray(im), expected)
    photo = pre.read({"image_path": str(imgs / "photo.jpg"), "label_path": str(gts / "gt_photo.txt")})
    assert not photo.fixes and task_rows(photo, options)[1][0]["images"][0]["path"] == str(imgs / "photo.jpg")
