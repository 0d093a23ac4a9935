"""The output-writer registry (swift_ocr/writers/registry.py): ``--output-format`` choices and the default by extension
come from it, and a writer registered at run time writes a conversion (line writers' rows rendered where items are
converted, in worker processes too)."""
from __future__ import annotations

import json

import pytest

from swift_ocr.writers import (DEFAULT_WRITER, OutputWriter, get_writer, register_writer, unregister_writer,
                               writer_for_output, writer_names)


class _TsvWriter(OutputWriter):
    """A throwaway line writer: ``<image>\\t<text>`` per sample."""

    name = "test_tsv"
    description = "image<TAB>text (test)"
    suffixes = (".tsv",)

    def check(self, row):
        if row.task.task == "det":
            raise ValueError("test_tsv has no boxes")

    def line(self, sample, images, row):
        return f"{images[0]}\t{json.dumps(sample.text, ensure_ascii=False)}\n"


@pytest.fixture
def tsv_writer():
    writer = register_writer(_TsvWriter())
    yield writer
    unregister_writer(writer.name)


def test_builtin_writers_and_the_default_by_extension():
    assert writer_names()[:2] == ("swift", "got") and DEFAULT_WRITER == "swift"
    assert writer_for_output("a/b.json") == "got" and writer_for_output("a/b.JSON") == "got"
    assert writer_for_output("a/b.jsonl") == "swift" and writer_for_output("a/b") == "swift"
    with pytest.raises(ValueError, match="unknown output format 'x'; choose from swift, got"):
        get_writer("x")
    with pytest.raises(ValueError, match="already registered"):
        register_writer(type("Other", (OutputWriter,), {"name": "got"})())


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_runtime_writer_writes_a_conversion(tsv_writer, tmp_path, shared_data, capsys, workers):
    from swift_ocr.cli.main import main

    assert writer_for_output("x.tsv") == "test_tsv"
    out = tmp_path / "x.tsv"  # chosen by its extension
    assert main(["convert", "--format", "icdar", "--input", str(shared_data / "sroie"), "--task", "line",
                 "--output", str(out), "--val-ratio", "0.25", "--workers", workers, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    lines = out.read_text(encoding="utf-8").splitlines() + (tmp_path / "x.val.tsv").read_text(
        encoding="utf-8").splitlines()
    assert len(lines) == report["train"] + report["val"] > 100
    image, text = lines[0].split("\t")
    assert image.startswith(str(tmp_path / "x_images") + "/") and json.loads(text)
    assert main(["convert", "--format", "icdar", "--input", str(shared_data / "sroie"), "--task", "det",
                 "--output", str(tmp_path / "d.tsv")]) == 2
    assert "test_tsv has no boxes" in capsys.readouterr().err
