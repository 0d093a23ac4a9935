"""Parquet reader on a Hugging Face-style parquet built from the real word crops in ../shared/data/rec_words."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swift_ocr.errors import OcrFormatError
from swift_ocr.formats import open_source
from swift_ocr.formats.parquet import iter_parquet_rows, sample_from_row


def rec_words(shared_data):
    labels = json.loads((shared_data / "rec_words/labels.json").read_text(encoding="utf-8"))
    return [(shared_data / "rec_words" / d["img_path"], d["instances"][0]["text"]) for d in labels["data_list"]]


def write_struct_parquet(path, items, row_group_size=3):
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    table = pa.table({
        "image": pa.array([{"bytes": p.read_bytes(), "path": p.name} for p, _ in items], type=image_type),
        "text": [t for _, t in items],
    })
    pq.write_table(table, path, row_group_size=row_group_size)


def test_struct_image_column_read_by_row_group(tmp_path, shared_data):
    items = rec_words(shared_data)
    path = tmp_path / "words.parquet"
    write_struct_parquet(path, items)
    assert pq.ParquetFile(path).metadata.num_row_groups == 4
    reader = open_source("parquet", input_path=str(path))
    got = [s for _, s in reader.iter_samples()]
    assert [s.text for s in got] == [t for _, t in items]
    assert [s.image_bytes for s in got] == [p.read_bytes() for p, _ in items]
    assert [s.line for s in got] == list(range(1, len(items) + 1))


def test_raw_bytes_and_custom_columns(tmp_path, shared_data):
    items = rec_words(shared_data)[:4]
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"png": [p.read_bytes() for p, _ in items], "label": [t for _, t in items]}), path)
    rows = list(iter_parquet_rows(path, "png", "label", batch_size=2))
    samples = [sample_from_row(r, str(path), n, "png", "label") for n, r in rows]
    assert [s.text for s in samples] == [t for _, t in items]
    with pytest.raises(OcrFormatError, match=r"missing column 'image' \(columns: png, label\)"):
        list(iter_parquet_rows(path))


def test_path_only_rows_resolve_relative_to_file(tmp_path, shared_data):
    s = sample_from_row({"image": {"bytes": None, "path": "a.jpg"}, "text": "x"}, str(tmp_path / "f.parquet"), 1)
    assert s.images == [str(tmp_path / "a.jpg")] and s.image_bytes is None
    with pytest.raises(OcrFormatError, match=r"f.parquet:2: column 'image' has neither"):
        sample_from_row({"image": {"bytes": None, "path": None}, "text": "x"}, str(tmp_path / "f.parquet"), 2)


def test_bad_rows_are_rejected_with_their_row_number(tmp_path, shared_data):
    items = rec_words(shared_data)[:3]
    good = items[0][0].read_bytes()
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    images = [{"bytes": good, "path": "a.png"}, {"bytes": good[: len(good) // 2], "path": "half.png"},
              {"bytes": b"not an image", "path": None}, {"bytes": None, "path": "../../no_such_folder/x.png"},
              {"bytes": None, "path": str(items[1][0])}, {"bytes": good, "path": None}]
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"image": pa.array(images, type=image_type),
                             "text": ["ok", "half", "junk", "escape", "abs", None]}), path)
    reader = open_source("parquet", input_path=str(path))
    got = [(s.line, s.kind) if isinstance(s, OcrFormatError) else (s.line, s.text) for _, s in reader.iter_samples()]
    assert got == [(1, "ok"), (2, "image_truncated"), (3, "image_corrupt"), (4, "outside_root"), (5, "outside_root"),
                   (6, "bad_record")]
    reader = open_source("parquet", input_path=str(path), allow_outside_root=True)
    assert [(s.line, s.kind) for _, s in reader.iter_samples() if isinstance(s, OcrFormatError)] == [
        (2, "image_truncated"), (3, "image_corrupt"), (4, "image_missing"), (6, "bad_record")]


# Issue 19 (5, 13): split keys name the image; plain path strings; decoded images are refused with a reason.

def test_image_keys_name_the_image(tmp_path, shared_data):
    from swift_ocr.formats.parquet import image_keys
    items = rec_words(shared_data)[:3]
    (a, _), (b, _), (c, _) = items
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    images = [{"bytes": a.read_bytes(), "path": "a.jpg"}, {"bytes": a.read_bytes(), "path": "other_name.jpg"},
              {"bytes": b.read_bytes(), "path": "a.jpg"}, {"bytes": None, "path": "imgs/c.jpg"},
              {"bytes": None, "path": "./imgs/x/../c.jpg"}, {"bytes": None, "path": None}]
    path = tmp_path / "k.parquet"
    pq.write_table(pa.table({"image": pa.array(images, type=image_type), "text": ["t"] * 6}), path, row_group_size=2)
    keys = image_keys(path)
    assert keys[0] == keys[1] != keys[2]  # same bytes under two names: one image; same name, other bytes: another
    assert keys[3] == keys[4] == str(tmp_path / "imgs/c.jpg")
    assert keys[5] == f"{path}#6"
    reader = open_source("parquet", input_path=str(path))
    assert list(reader.keys) == keys


def test_path_strings_and_decoded_images(tmp_path, shared_data):
    from PIL import Image
    s = sample_from_row({"image": "imgs/a.jpg", "text": "x"}, str(tmp_path / "f.parquet"), 1)
    assert s.images == [str(tmp_path / "imgs/a.jpg")] and s.image_bytes is None
    s = sample_from_row({"image": str(tmp_path / "b.jpg"), "text": "x"}, str(tmp_path / "f.parquet"), 2)
    assert s.images == [str(tmp_path / "b.jpg")]
    with pytest.raises(OcrFormatError) as e:
        sample_from_row({"image": "/etc/passwd", "text": "x"}, str(tmp_path / "f.parquet"), 3)
    assert e.value.kind == "outside_root"
    with Image.open(rec_words(shared_data)[0][0]) as im:
        with pytest.raises(OcrFormatError, match=r"f.parquet:4: .*decoded .*Image\(decode=False\)") as e:
            sample_from_row({"image": im, "text": "x"}, str(tmp_path / "f.parquet"), 4)
    assert e.value.kind == "bad_record"


def test_corrupt_data_pages_are_a_clear_error(tmp_path, shared_data):
    from swift_ocr.convert.api import ConvertOptions, convert
    items = rec_words(shared_data)
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"image": [p.read_bytes() for p, _ in items], "text": [t for _, t in items]}), path,
                   compression="snappy")
    data = bytearray(path.read_bytes())
    for i in range(4, 64):  # the first page header, after the magic; the footer (row count, schema) stays intact
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    reader = open_source("parquet", input_path=str(path))
    with pytest.raises(OcrFormatError) as e:
        convert(reader, ConvertOptions(), str(tmp_path / "out.jsonl"))
    assert e.value.kind == "unreadable_file" and str(e.value).startswith(f"{path}:")
    assert not (tmp_path / "out.jsonl").exists()
