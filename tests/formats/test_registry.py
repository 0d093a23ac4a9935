"""The label-format registry (swift_ocr/formats/registry.py): the built-in formats register themselves, callers ask the
registry when they run (so a format registered later is a choice everywhere), and options of one format are refused
for another."""
from __future__ import annotations

import json

import pytest

from swift_ocr.errors import OcrFormatError, read_error
from swift_ocr.formats import (FileFormat, FormatOption, PairFormat, format_names, get_format, open_source,
                               register_format, unregister_format)
from swift_ocr.formats.registry import check_format_options


class _Lines(FileFormat):
    """A throwaway file format for these tests: ``<image path>|<text>`` per line, paths relative to the file."""

    name = "test_bar_lines"
    description = "image|text lines (test)"
    options = (FormatOption("separator", "|", "field separator"),)

    def load_items(self, path, params, options):
        try:
            with open(path, encoding="utf-8") as f:
                return [[no, line.rstrip("\n")] for no, line in enumerate(f, 1) if line.strip()]
        except OSError as e:
            raise read_error(path, e) from e

    def item_sample(self, item, path, index, params, options):
        from swift_ocr.formats.checks import resolve_inside_root
        from swift_ocr.sample import Sample
        import os

        no, line = item
        image, sep, text = line.partition(params["separator"])
        if not sep:
            raise OcrFormatError(path, no, "no separator", "bad_list_line")
        full = resolve_inside_root(image, os.path.dirname(path), options.allow_outside_root, path, no)
        return Sample(images=[full], text=text, source=path, line=no)


@pytest.fixture
def lines_format():
    fmt = register_format(_Lines())
    yield fmt
    unregister_format(fmt.name)


def test_builtin_formats_are_registered_in_order():
    names = format_names()
    assert names[:4] == ("wordbox", "icdar", "parquet", "got")
    assert get_format("icdar").label_exts == (".txt", ".csv") and get_format("icdar").list_files
    assert get_format("wordbox").label_exts == (".json",)
    assert get_format("parquet").embeds_images and not get_format("got").embeds_images
    with pytest.raises(ValueError, match="unknown format 'nope'; choose from wordbox, icdar"):
        get_format("nope")


def test_register_refuses_bad_formats(lines_format):
    with pytest.raises(ValueError, match="already registered"):
        register_format(_Lines())
    assert register_format(_Lines(), replace=True).name == "test_bar_lines"

    class Bad(PairFormat):
        name = "Bad-Name"
        label_exts = (".txt",)

    with pytest.raises(ValueError, match="lower case"):
        register_format(Bad())

    class NoExts(PairFormat):
        name = "no_exts"

    with pytest.raises(ValueError, match="label_exts"):
        register_format(NoExts())
    with pytest.raises(TypeError):
        register_format(object())


def test_a_runtime_format_converts_through_the_api_and_the_cli(lines_format, tmp_path, shared_data, capsys):
    from swift_ocr.cli.main import main
    from swift_ocr.convert.api import ConvertOptions, convert

    imgs = shared_data / "icdar2015" / "imgs"
    (tmp_path / "img_1.jpg").symlink_to(imgs / "img_1.jpg")
    (tmp_path / "img_2.jpg").symlink_to(imgs / "img_2.jpg")
    src = tmp_path / "labels.txt"
    src.write_text("img_1.jpg|first\nno separator here\nimg_2.jpg|second\n", encoding="utf-8")
    report = convert(open_source("test_bar_lines", input_path=str(src)), ConvertOptions(), str(tmp_path / "a.jsonl"))
    assert (report.sources, report.converted_sources, dict(report.reasons)) == (3, 2, {"bad_list_line": 1})
    rows = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["messages"][-1]["content"] for r in rows] == ["first", "second"]
    assert rows[0]["images"] == [str(tmp_path / "img_1.jpg")]
    rejects = [json.loads(line) for line in (tmp_path / "a.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rejects == [{"source": str(src), "line": 2, "kind": "bad_list_line", "reason": "no separator"}]
    # the CLI's --format choices and the format's own option flag are built from the registry when parsing
    src.write_text("img_1.jpg;one\n", encoding="utf-8")
    assert main(["convert", "--format", "test_bar_lines", "--input", str(src), "--separator", ";",
                 "--output", str(tmp_path / "b.jsonl"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["train"] == 1
    # another format's option is refused, naming the formats that take it
    assert main(["convert", "--format", "test_bar_lines", "--input", str(src), "--image-column", "img",
                 "--output", str(tmp_path / "c.jsonl")]) == 2
    assert "--image-column is for --format parquet, not test_bar_lines" in capsys.readouterr().err


def test_options_of_other_formats_are_refused():
    icdar = get_format("icdar")
    check_format_options(icdar, {"image_column": "image", "image_root": None, "icdar_variant": "mlt"})  # defaults
    with pytest.raises(ValueError, match=r"image_root is for --format (\w+, )*got(, \w+)*, not icdar"):
        check_format_options(icdar, {"image_root": "/x"})
    with pytest.raises(ValueError, match="icdar_variant and scripts are for --format icdar, not got"):
        check_format_options(get_format("got"), {"icdar_variant": "mlt", "scripts": ("Latin",)})
    with pytest.raises(ValueError, match="unknown option"):
        open_source("got", input_path="x.json", no_such_option=1)


def test_pair_formats_refuse_list_files_they_cannot_read(tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("a.jpg a.json\n", encoding="utf-8")
    with pytest.raises(ValueError, match="list file is not supported for --format wordbox"):
        open_source("wordbox", input_path=str(listing))


def test_read_error_is_the_one_oserror_mapping(tmp_path):
    missing = read_error(tmp_path / "x", FileNotFoundError(2, "No such file"), "cannot read label file")
    assert (missing.kind, missing.source, missing.line) == ("file_not_found", str(tmp_path / "x"), None)
    assert missing.reason.startswith("cannot read label file: ")
    assert read_error("f", PermissionError(13, "denied")).kind == "unreadable_file"
    with pytest.raises(OcrFormatError) as e:
        get_format("got").split_keys(str(tmp_path), {"image_root": None}, None)  # a folder, not a file
    assert e.value.kind == "unreadable_file"


def test_loader_rows_read_back_to_the_same_samples(data_templates):
    """The ms-swift loader stores a file format's items as JSON rows and reads each back with the same reader."""
    from swift_ocr.formats.checks import ReadOptions

    got = get_format("got")
    path = str(data_templates / "got" / "train.json")
    params, options = got.params(), ReadOptions()
    rows, rejections = got.loader_rows(path, params, options)
    assert not rejections and [r["index"] for r in rows] == list(range(len(rows)))
    direct = list(got.iter_items(path, params, options))
    assert [got.read_row(r, path, params, options) for r in rows] == direct
