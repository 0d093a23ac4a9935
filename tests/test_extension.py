"""A new model family and a new label format need nothing but their own code (docs/architecture.md, "How to add a
family" / "How to add a label format"). A throwaway family (its own box text format on a 0-100 grid, its own prompts
and image-token arithmetic) and a throwaway label format (JSON lines of quads) are defined in this file alone -- as
the text of a plugin module written to a temporary folder, so that the same code is registered in this process and
in the CLI's -- and go through convert (API and ``python -m swift_ocr``), validate and eval det scoring on the real
ICDAR 2015 images; afterwards they are unregistered. No other module is edited for them.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from swift_ocr.families import family_names, unregister_family
from swift_ocr.formats import format_names, unregister_format

FAMILY, FORMAT = "toy_vlm", "toy_quads"

PLUGIN = '''
"""Test plugin (tests/test_extension.py): the toy_vlm model family and the toy_quads label format."""
import json
import os

from swift_ocr.codecs.base import TaggedCodec
from swift_ocr.codecs.grid import normalised_grid
from swift_ocr.errors import OcrFormatError
from swift_ocr.families import ModelFamily, family_names, register_family
from swift_ocr.families.scaffold import chatml
from swift_ocr.formats import format_names, register_format
from swift_ocr.formats.checks import resolve_inside_root
from swift_ocr.formats.registry import FileFormat
from swift_ocr.formats.text_io import decode_label_bytes, read_label_bytes
from swift_ocr.sample import Region, Sample


class ToyCodec(TaggedCodec):
    """``<w>TEXT</w><at>[[x1, y1, x2, y2]]</at>`` per object, on a 0-100 grid of the image."""

    family = "toy_vlm"
    ref_tags = ("<w>", "</w>")
    shape_tags = {"box": ("<at>", "</at>")}
    body_style = "lists"

    def __init__(self, dedupe=True):
        super().__init__(shape="box", dedupe=dedupe)

    def grid(self, image_size):
        return normalised_grid(image_size, 100)


class ToyQuads(FileFormat):
    """One JSON object per line: ``{"image": path, "words": [{"quad": [x1, y1, ..., x4, y4], "text": str}]}``,
    paths relative to the file's folder, quads in pixels, ``###`` = do-not-care."""

    name = "toy_quads"
    description = "JSON lines of {image, words: [{quad, text}]} (test only)"

    def load_items(self, path, params, options):
        text, _ = decode_label_bytes(read_label_bytes(path), path, options.encoding)
        return [[no, line] for no, line in enumerate(text.splitlines(), 1) if line.strip()]

    def item_key(self, item, path, index, params):
        return os.path.normpath(os.path.join(os.path.dirname(path), json.loads(item[1])["image"]))

    def item_sample(self, item, path, index, params, options):
        no, line = item
        try:
            entry = json.loads(line)
            words = [(w["quad"], w["text"]) for w in entry["words"]]
        except (ValueError, KeyError, TypeError) as e:
            raise OcrFormatError(path, no, f"bad toy_quads line: {e}", "bad_record") from None
        image = resolve_inside_root(entry["image"], os.path.dirname(path), options.allow_outside_root, path, no)
        regions = [Region(polygon=list(zip(q[0::2], q[1::2])), text=t, dont_care=t == "###", line=no)
                   for q, t in words]
        return Sample(images=[image], text=" ".join(t for _, t in words if t != "###"), regions=regions,
                      source=path, line=no)


if "toy_vlm" not in family_names():
    register_family(ModelFamily(
        name="toy_vlm", title="Toy VLM (test only)", model_type="qwen2_vl", template="qwen2_vl",
        rec_prompt="Read it.", det_prompts={"en": "Find every word."}, codec=ToyCodec,
        scaffold=chatml("qwen2_vl", "Be brief.", "<v>", "</v>"),
        image_tokens=lambda width, height, settings: (width // 100) * (height // 100)))
if "toy_quads" not in format_names():
    register_format(ToyQuads())
'''


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The plugin module file, imported here (registering both); unregistered after the module's tests."""
    folder = tmp_path_factory.mktemp("plugin")
    path = folder / "swift_ocr_toy_plugin.py"
    path.write_text(PLUGIN, encoding="utf-8")
    assert FAMILY not in family_names() and FORMAT not in format_names()
    spec = importlib.util.spec_from_file_location("swift_ocr_toy_plugin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    unregister_family(FAMILY)
    unregister_format(FORMAT)
    assert FAMILY not in family_names() and FORMAT not in format_names()


@pytest.fixture(scope="module")
def toy_file(tmp_path_factory, shared_data):
    """The real ICDAR 2015 samples of ../shared/data as a toy_quads file (absolute image paths, so read with
    ``allow_outside_root``), written from the label files with a plain parser of the ICDAR 2015 line format; returns
    (file, {image: words})."""
    folder = tmp_path_factory.mktemp("toy")
    root = shared_data / "icdar2015"
    lines, truth = [], {}
    for image in sorted((root / "imgs").glob("*.jpg")):
        words = []
        raw = (root / "gts" / f"gt_{image.stem}.txt").read_text(encoding="utf-8-sig")
        for line in raw.splitlines():
            if line.strip():
                fields = line.split(",", 8)
                words.append({"quad": [int(v) for v in fields[:8]], "text": fields[8]})
        lines.append(json.dumps({"image": str(image), "words": words}))  # absolute: outside the file's folder
        truth[str(image)] = words
    path = folder / "labels.toy.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, truth


def _convert_api(toy_file, output: Path):
    from swift_ocr.convert.api import ConvertOptions, convert
    from swift_ocr.formats import open_source

    reader = open_source(FORMAT, input_path=str(toy_file), allow_outside_root=True)
    return convert(reader, ConvertOptions(task="det", family=FAMILY, workers=1), str(output))


def _rows(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_convert_with_a_registered_family_and_format(plugin, toy_file, tmp_path):
    from swift_ocr.codecs import get_codec
    from swift_ocr.tasks.tiling import TILE_META_KEY

    path, truth = toy_file
    report = _convert_api(path, tmp_path / "train.jsonl")
    readable = [image for image, words in truth.items() if any(w["text"] != "###" for w in words)]
    assert report.converted_sources == report.train == len(readable) == 8  # two images hold only ### words
    assert report.rejected == 2 and report.reasons == {"no_readable_region": 2}
    codec = get_codec(FAMILY)
    assert isinstance(codec, plugin.ToyCodec)
    for row in _rows(tmp_path / "train.jsonl"):
        (image,) = row["images"]
        user, answer = row["messages"][-2:]
        assert user["content"] == "<image>Find every word."  # the family's det prompt
        meta = row[TILE_META_KEY]
        parsed = codec.parse(answer["content"], tuple(meta["image_size"]))
        assert parsed.report.ok and parsed.report.objects > 0
        want = sorted(w["text"] for w in truth[image] if w["text"] != "###")
        assert sorted(r.text for r in parsed.regions) == want
        # boxes on the 0-100 grid: each decoded box within half a grid unit of a word of that text's own box
        tx, ty = codec.tolerance(tuple(meta["image_size"]))
        w, h = meta["image_size"]
        for r in parsed.regions:
            boxes = [(max(0, min(q[0::2])), max(0, min(q[1::2])), min(w, max(q[0::2])), min(h, max(q[1::2])))
                     for q in (word["quad"] for word in truth[image] if word["text"] == r.text)]
            assert any(all(abs(a - b) <= t + 1e-9 for a, b, t in zip(r.bbox(), box, (tx, ty, tx, ty)))
                       for box in boxes), (r, boxes)


def test_the_cli_sees_a_plugin_module(plugin, toy_file, tmp_path):
    """``python -m swift_ocr convert`` in a process that imported the plugin module first (runpy runs the package's
    __main__ as ``-m`` does) writes what the API writes; its --format / --model-family choices list the toys."""
    path, _ = toy_file
    _convert_api(path, tmp_path / "api.jsonl")
    code = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); import swift_ocr_toy_plugin; "
            "sys.argv[0] = 'swift-ocr'; runpy.run_module('swift_ocr', run_name='__main__', alter_sys=True)")
    args = [sys.executable, "-c", code, str(Path(plugin.__file__).parent)]
    proc = subprocess.run(args + ["convert", "--format", FORMAT, "--input", str(path), "--allow-outside-root",
                                  "--task", "det", "--model-family", FAMILY, "--workers", "1", "--json",
                                  "--output", str(tmp_path / "cli.jsonl")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["converted_sources"] == 8
    assert (tmp_path / "cli.jsonl").read_bytes() == (tmp_path / "api.jsonl").read_bytes()
    # without the plugin the console command does not know them
    bare = subprocess.run([sys.executable, "-m", "swift_ocr", "convert", "--format", FORMAT, "--input", str(path),
                           "--output", str(tmp_path / "x.jsonl")], capture_output=True, text=True)
    assert bare.returncode == 2 and "invalid choice: 'toy_quads'" in bare.stderr


def test_validate_uses_the_family_codec_and_token_arithmetic(plugin, toy_file, tmp_path):
    from swift_ocr.validate import ValidateOptions, validate_files

    path, truth = toy_file
    _convert_api(path, tmp_path / "train.jsonl")
    report = validate_files([tmp_path / "train.jsonl"], ValidateOptions(family=FAMILY, task="det"))
    assert report.errors == 0 and not report.problems
    # the family's image tokens: (1280 // 100) * (720 // 100) per ICDAR 2015 image
    assert report.row_tokens and all(count.image == 12 * 7 for _, _, count in report.row_tokens)
    # a box off the 0-100 grid is outside the image for this family (not for a 0-1000 one)
    rows = _rows(tmp_path / "train.jsonl")
    answer = rows[0]["messages"][-1]
    head, sep, rest = answer["content"].partition("<at>[[")
    answer["content"] = head + sep + "150" + rest[rest.index(","):]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    report = validate_files([bad], ValidateOptions(family=FAMILY, task="det"))
    assert [(p.kind, p.line) for p in report.problems] == [("box_outside_image", 1)]
    assert validate_files([bad], ValidateOptions(family="internvl", task="auto")).problems == []


def test_eval_det_scores_rows_with_the_family_codec(plugin, toy_file, tmp_path, write_swift_results):
    from swift_ocr.codecs import get_codec
    from swift_ocr.eval.det_results import load_det_images
    from swift_ocr.eval.metrics.det import evaluate

    path, truth = toy_file
    _convert_api(path, tmp_path / "train.jsonl")
    items, n_care, n_kept = [], 0, 0
    for row in _rows(tmp_path / "train.jsonl"):
        target = row["messages"][-1]["content"]
        objects = target.split("\n")
        kept = objects[::2]  # the "model" finds every other word
        n_care += len(objects)
        n_kept += len(kept)
        items.append((row["images"][0], target, "\n".join(kept)))
    results = write_swift_results(tmp_path / "results.jsonl", items)
    images = load_det_images(results, get_codec(FAMILY))
    result = evaluate((im.image, im.gt, im.det) for im in images)
    assert (result.n_images, result.n_gt, result.n_det, result.n_matched) == (8, n_care, n_kept, n_kept)
    assert result.precision == 1.0 and result.recall == pytest.approx(n_kept / n_care)
    # the same through the CLI, with the plugin imported first
    code = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); import swift_ocr_toy_plugin; "
            "sys.argv[0] = 'swift-ocr'; runpy.run_module('swift_ocr', run_name='__main__', alter_sys=True)")
    proc = subprocess.run([sys.executable, "-c", code, str(Path(plugin.__file__).parent), "eval", "det",
                           "--results", str(results), "--model-family", FAMILY, "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["n_gt"], summary["n_det"]) == (n_care, n_kept) and summary["precision"] == 1.0
    assert summary["recall"] == pytest.approx(result.recall)
