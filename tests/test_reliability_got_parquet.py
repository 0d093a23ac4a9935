"""Issue 19 regressions, built from the real SROIE receipts and word crops in ../shared/data, each through the
converter and through ms-swift's own ``load_dataset`` with the plugin registered (``--custom_register_path``):

1. GOT JSON entries keep their own prompt (box, colour, formatted), carried to the target family or rejected with
   kind ``unsupported_prompt`` -- never rewritten to "read the whole page";
5. GOT JSON and parquet are split by image, not by row;
13. parquet files written by Hugging Face ``datasets`` (``Image()`` columns, embedded or path-only) and plain path
    string columns are read by both routes;
and the plugin's ``image_root`` option for GOT JSON (the converter's ``--image-root``).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift.dataset import load_dataset  # noqa: E402
from swift.utils import import_external_file  # noqa: E402

from swift_ocr.convert.api import ConvertOptions, convert  # noqa: E402
from swift_ocr.formats import open_source  # noqa: E402
from swift_ocr.formats.icdar import read_icdar_file  # noqa: E402
from swift_ocr.msswift.plugin import plugin_path  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def plugin():
    import_external_file(plugin_path())


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def entry(image, human, gpt):
    return {"image": image, "conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": gpt}]}


def receipt_entries(shared_data, n):
    """Four GOT entries per real receipt, as GOT's own data has them: the whole page (``OCR: ``), its first line
    through a box prompt on GOT's 0-1000 grid (``int(x / w * 1000)``), the page as a LaTeX table
    (``OCR with format: ``) and the first line through a colour prompt. Image paths are relative to sroie/."""
    root = shared_data / "sroie"
    entries = []
    for label in sorted((root / "box").glob("*.csv"))[:n]:
        image = f"img/{label.stem}.jpg"
        sample = read_icdar_file(label, root / image)
        w, h = sample.image_size
        first = sample.care_regions()[0]
        x1, y1, x2, y2 = first.bbox()
        box = ",".join(str(int(v)) for v in (x1 / w * 1000, y1 / h * 1000, x2 / w * 1000, y2 / h * 1000))
        lines = sample.text.split("\n")
        latex = "\\begin{tabular}{l}\n" + " \\\\\n".join(lines) + "\n\\end{tabular}"
        entries += [entry(image, "<image>\nOCR: ", sample.text),
                    entry(image, f"<image>\n[{box}] OCR: ", first.text),
                    entry(image, "<image>\nOCR with format: ", latex),
                    entry(image, "<image>\n[red] OCR: ", first.text)]
    return entries


def write_got(tmp_path, entries, name="got.json"):
    path = tmp_path / name
    path.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def user_and_answer(rows):
    return [(r["messages"][0]["content"], r["messages"][1]["content"]) for r in rows]


# --- 1. GOT JSON prompts ---------------------------------------------------------------------------------------

def test_got_prompts_kept_for_got_family(tmp_path, shared_data):
    entries = receipt_entries(shared_data, 3)
    src = write_got(tmp_path, entries)
    root = str(shared_data / "sroie")
    report = convert(open_source("got", input_path=str(src), image_root=root), ConvertOptions(family="got"),
                     str(tmp_path / "out.jsonl"))
    assert report.rejected == 0 and report.train == len(entries)
    expected = [("<image>" + e["conversations"][0]["value"][len("<image>\n"):], e["conversations"][1]["value"])
                for e in entries]
    assert user_and_answer(read_jsonl(tmp_path / "out.jsonl")) == expected
    # the region prompts are there, not the whole-page one
    assert sum(q.endswith("] OCR: ") for q, _ in expected) == 6

    # GOT JSON out: every human turn exactly as it came in
    convert(open_source("got", input_path=str(src), image_root=root), ConvertOptions(family="got", output_format="got"),
            str(tmp_path / "back.json"))
    back = json.loads((tmp_path / "back.json").read_text(encoding="utf-8"))
    assert [b["conversations"] for b in back] == [e["conversations"] for e in entries]


def test_got_region_prompts_rejected_for_other_families(tmp_path, shared_data):
    entries = receipt_entries(shared_data, 3)
    src = write_got(tmp_path, entries)
    report = convert(open_source("got", input_path=str(src), image_root=str(shared_data / "sroie")),
                     ConvertOptions(family="qwen2_5_vl"), str(tmp_path / "out.jsonl"))
    rows = user_and_answer(read_jsonl(tmp_path / "out.jsonl"))
    texts = {i: e["conversations"][1]["value"] for i, e in enumerate(entries)}
    # whole page -> the family's prompt; formatted -> kept as it is (no equivalent, the target stays LaTeX)
    assert rows == [("<image>Read all the text in the image." if i % 4 == 0 else "<image>OCR with format: ", texts[i])
                    for i in range(len(entries)) if i % 4 in (0, 2)]
    # box and colour entries: rejected with their entry number, none lost, none turned into "read the whole page"
    rejects = read_jsonl(tmp_path / "out.rejects.jsonl")
    assert [(r["line"], r["kind"]) for r in rejects] == [(i + 1, "unsupported_prompt") for i in range(len(entries))
                                                         if i % 4 in (1, 3)]
    assert all(r["source"] == str(src) and "qwen2_5_vl" in r["reason"] for r in rejects)
    assert report.sources == len(entries) == report.converted_sources + report.rejected


def test_got_prompts_through_the_cli_with_user_prompt(tmp_path, shared_data):
    entries = receipt_entries(shared_data, 2)
    src = write_got(tmp_path, entries)
    out = tmp_path / "cli.jsonl"
    proc = subprocess.run([str(Path(sys.executable).parent / "swift-ocr"), "convert", "--format", "got", "--input",
                           str(src), "--image-root", str(shared_data / "sroie"), "--model-family", "internvl",
                           "--prompt", "Transcribe the receipt.", "--output", str(out), "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["reasons"] == {"unsupported_prompt": 4}
    # --prompt replaces the whole-page plain prompt only
    assert [q for q, _ in user_and_answer(read_jsonl(out))] == [
        "<image>Transcribe the receipt.", "<image>OCR with format: "] * 2


def test_got_prompts_through_the_plugin(tmp_path, shared_data):
    entries = receipt_entries(shared_data, 3)
    src = write_got(tmp_path, entries)
    root = shared_data / "sroie"
    ds, _ = load_dataset([f"swift-ocr/got:{src}?family=got&image_root={root}"], load_from_cache_file=False)
    convert(open_source("got", input_path=str(src), image_root=str(root)), ConvertOptions(family="got"),
            str(tmp_path / "got.jsonl"))
    assert user_and_answer(ds) == user_and_answer(read_jsonl(tmp_path / "got.jsonl"))
    assert [q for q, _ in user_and_answer(ds)][1].startswith("<image>[") and len(ds) == len(entries)

    rejects = tmp_path / "rejects.jsonl"
    ds, _ = load_dataset([f"swift-ocr/got:{src}?family=deepseek_ocr&image_root={root}&rejects={rejects}"],
                         load_from_cache_file=False)
    convert(open_source("got", input_path=str(src), image_root=str(root)), ConvertOptions(family="deepseek_ocr"),
            str(tmp_path / "ds.jsonl"))
    assert user_and_answer(ds) == user_and_answer(read_jsonl(tmp_path / "ds.jsonl"))
    assert [q for q, _ in user_and_answer(ds)] == ["<image>Free OCR.", "<image>OCR with format: "] * 3
    recorded = read_jsonl(rejects)
    assert sorted((r["line"], r["kind"]) for r in recorded) == [
        (i + 1, "unsupported_prompt") for i in range(len(entries)) if i % 4 in (1, 3)]
    assert recorded and all(r == c for r, c in zip(sorted(recorded, key=lambda r: r["line"]),
                                                   read_jsonl(tmp_path / "ds.rejects.jsonl")))


# --- 5. split by image -------------------------------------------------------------------------------------------

def test_got_split_is_by_image_and_reproducible(tmp_path, shared_data):
    entries = receipt_entries(shared_data, 20)
    # the same image written another way still is the same image
    seventh = entries[7 * 4]
    entries.append(entry(f"./img/../{seventh['image']}", "<image>\nOCR: ", seventh["conversations"][1]["value"]))
    src = write_got(tmp_path, entries)
    options = ConvertOptions(family="got", val_ratio=0.25, seed=3)
    out = str(tmp_path / "split.jsonl")
    report = convert(open_source("got", input_path=str(src), image_root=str(shared_data / "sroie")), options, out)
    train, val = read_jsonl(out), read_jsonl(tmp_path / "split.val.jsonl")
    train_images = {r["images"][0] for r in train}
    val_images = {r["images"][0] for r in val}
    assert not train_images & val_images
    assert len(val_images) == 5 and len(train_images) == 15  # round(0.25 * 20) of the 20 receipts
    assert report.train + report.val == len(entries) and report.rejected == 0
    first = (Path(out).read_bytes(), (tmp_path / "split.val.jsonl").read_bytes())
    convert(open_source("got", input_path=str(src), image_root=str(shared_data / "sroie")), options, out)
    assert (Path(out).read_bytes(), (tmp_path / "split.val.jsonl").read_bytes()) == first


def rec_words(shared_data):
    labels = json.loads((shared_data / "rec_words/labels.json").read_text(encoding="utf-8"))
    return [(shared_data / "rec_words" / d["img_path"], d["instances"][0]["text"]) for d in labels["data_list"]]


def test_parquet_split_is_by_image_content(tmp_path, shared_data):
    items = rec_words(shared_data)
    # every crop twice, under two names (as two scrapes of one image would be), the copies in reverse order
    rows = [{"bytes": p.read_bytes(), "path": p.name} for p, _ in items]
    rows += [{"bytes": p.read_bytes(), "path": f"copy_{i}.jpg"} for i, (p, _) in enumerate(items)][::-1]
    texts = [t for _, t in items] + [t for _, t in items][::-1]
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    src = tmp_path / "dup.parquet"
    pq.write_table(pa.table({"image": pa.array(rows, type=image_type), "text": texts}), src, row_group_size=4)
    options = ConvertOptions(family="got", val_ratio=0.3, seed=11)
    out = tmp_path / "dup.jsonl"
    report = convert(open_source("parquet", input_path=str(src)), options, str(out))

    def digests(path):
        return [hashlib.sha256(Path(r["images"][0]).read_bytes()).hexdigest() for r in read_jsonl(path)]
    train, val = digests(out), digests(tmp_path / "dup.val.jsonl")
    assert not set(train) & set(val)
    assert len(set(val)) == 3 and len(val) == 6 and len(train) == 14  # round(0.3 * 10) images, both copies
    assert report.rejected == 0
    first = [p.read_bytes() for p in (out, tmp_path / "dup.val.jsonl")]
    convert(open_source("parquet", input_path=str(src)), options, str(out))
    assert [p.read_bytes() for p in (out, tmp_path / "dup.val.jsonl")] == first


# --- 13. parquet written by datasets, path strings -------------------------------------------------------------

def datasets_parquet(path, images, texts, embed):
    """``Dataset.from_dict(...).cast_column("image", Image()).to_parquet(...)``, as users write it; ``embed``: with
    the image bytes embedded (``datasets.table.embed_table_storage``, the form of parquet files on the Hub)."""
    from datasets import Dataset, Image
    from datasets.table import embed_table_storage
    ds = Dataset.from_dict({"image": [str(p) for p in images], "text": texts}).cast_column("image", Image())
    if embed:
        ds = ds.with_format("arrow").map(embed_table_storage, batched=True).with_format(None)
    ds.to_parquet(str(path))
    return path


def test_datasets_parquet_with_embedded_images_both_routes(tmp_path, shared_data):
    items = rec_words(shared_data)
    src = datasets_parquet(tmp_path / "hf.parquet", [p for p, _ in items], [t for _, t in items], embed=True)
    assert b"huggingface" in pq.ParquetFile(src).schema_arrow.metadata  # really a datasets file
    rejects = tmp_path / "plugin.rejects.jsonl"
    ds, _ = load_dataset([f"swift-ocr/parquet:{src}?family=deepseek_ocr&rejects={rejects}"],
                         load_from_cache_file=False)
    assert [r["messages"][1]["content"] for r in ds] == [t for _, t in items]
    assert [r["images"][0]["bytes"] for r in ds] == [p.read_bytes() for p, _ in items]
    assert not rejects.exists()
    streamed, _ = load_dataset([f"swift-ocr/parquet:{src}?family=deepseek_ocr"], streaming=True)
    assert [(r["messages"], r["images"][0]["bytes"]) for r in streamed] == [
        (r["messages"], r["images"][0]["bytes"]) for r in ds]
    report = convert(open_source("parquet", input_path=str(src)), ConvertOptions(family="deepseek_ocr"),
                     str(tmp_path / "c.jsonl"))
    rows = read_jsonl(tmp_path / "c.jsonl")
    assert report.rejected == 0 and [r["messages"] for r in rows] == [r["messages"] for r in ds]
    assert [Path(r["images"][0]).read_bytes() for r in rows] == [p.read_bytes() for p, _ in items]


def test_datasets_parquet_with_image_paths_both_routes(tmp_path, shared_data):
    items = rec_words(shared_data)
    (tmp_path / "imgs").mkdir()
    inside = [shutil.copy(p, tmp_path / "imgs" / p.name) for p, _ in items[:6]]
    outside = [p for p, _ in items[6:]]  # absolute paths outside the parquet file's folder
    src = datasets_parquet(tmp_path / "paths.parquet", inside + outside, [t for _, t in items], embed=False)
    assert pq.read_table(src).column("image").to_pylist()[0]["bytes"] is None  # path-only rows, as written
    rejects = tmp_path / "plugin.rejects.jsonl"
    ds, _ = load_dataset([f"swift-ocr/parquet:{src}?family=got&rejects={rejects}"], load_from_cache_file=False)
    assert [r["images"][0]["path"] for r in ds] == [str(p) for p in inside]
    assert [r["messages"][1]["content"] for r in ds] == [t for _, t in items[:6]]
    recorded = read_jsonl(rejects)
    assert [(r["line"], r["kind"]) for r in recorded] == [(n, "outside_root") for n in range(7, 11)]
    report = convert(open_source("parquet", input_path=str(src)), ConvertOptions(family="got"),
                     str(tmp_path / "c.jsonl"))
    assert [r["messages"] for r in read_jsonl(tmp_path / "c.jsonl")] == [r["messages"] for r in ds]
    assert read_jsonl(tmp_path / "c.rejects.jsonl") == recorded and report.rejected == 4
    # explicitly allowed, the outside images are read too
    ds, _ = load_dataset([f"swift-ocr/parquet:{src}?family=got&allow_outside_root=1"], load_from_cache_file=False)
    assert [r["images"][0]["path"] for r in ds] == [str(p) for p in inside + outside]


def test_path_string_column_both_routes(tmp_path, shared_data):
    items = rec_words(shared_data)
    (tmp_path / "imgs").mkdir()
    for p, _ in items:
        shutil.copy(p, tmp_path / "imgs" / p.name)
    # relative to the parquet file's folder, and absolute
    paths = [f"imgs/{p.name}" for p, _ in items[:5]] + [str(tmp_path / "imgs" / p.name) for p, _ in items[5:]]
    src = tmp_path / "strings.parquet"
    pq.write_table(pa.table({"file": paths, "label": [t for _, t in items]}), src)
    ds, _ = load_dataset([f"swift-ocr/parquet:{src}?family=internvl&image_column=file&text_column=label"],
                         load_from_cache_file=False)
    expected = [str(tmp_path / "imgs" / p.name) for p, _ in items]
    assert [r["images"][0]["path"] for r in ds] == expected
    report = convert(open_source("parquet", input_path=str(src), image_column="file", text_column="label"),
                     ConvertOptions(family="internvl"), str(tmp_path / "c.jsonl"))
    rows = read_jsonl(tmp_path / "c.jsonl")
    assert report.rejected == 0 and [r["images"] for r in rows] == [[p] for p in expected]
    assert [r["messages"] for r in rows] == [r["messages"] for r in ds]


# --- the plugin's image_root -------------------------------------------------------------------------------------

def test_plugin_image_root_matches_converter(tmp_path, shared_data):
    entries = [e for e in receipt_entries(shared_data, 4) if e["conversations"][0]["value"] == "<image>\nOCR: "]
    json_dir = tmp_path / "json"
    (json_dir / "img").mkdir(parents=True)
    shutil.copy(shared_data / "sroie/img/000.jpg", json_dir / "img/000.jpg")  # only this one next to the JSON
    src = write_got(json_dir, entries)
    root = shared_data / "sroie"
    ds, _ = load_dataset([f"swift-ocr/got:{src}?family=got&image_root={root}"], load_from_cache_file=False)
    assert [r["images"][0]["path"] for r in ds] == [str(root / e["image"]) for e in entries]
    convert(open_source("got", input_path=str(src), image_root=str(root)), ConvertOptions(family="got"),
            str(tmp_path / "c.jsonl"))
    rows = read_jsonl(tmp_path / "c.jsonl")
    assert [r["messages"] for r in rows] == [r["messages"] for r in ds]
    assert [r["images"] for r in rows] == [[r["images"][0]["path"]] for r in ds]
    # without it, paths are relative to the JSON's folder: the other three images are not there, and say so
    rejects = tmp_path / "rejects.jsonl"
    ds, _ = load_dataset([f"swift-ocr/got:{src}?family=got&rejects={rejects}"], load_from_cache_file=False)
    assert [r["images"][0]["path"] for r in ds] == [str(json_dir / "img/000.jpg")]
    assert [(r["line"], r["kind"]) for r in read_jsonl(rejects)] == [(n, "image_missing") for n in (2, 3, 4)]
    with pytest.raises(ValueError, match="image_root"):
        load_dataset([f"swift-ocr/parquet:{tmp_path}/x.parquet?family=got&image_root={root}"],
                     load_from_cache_file=False)
