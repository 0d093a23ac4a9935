"""Seeded synthetic data for the benchmarks, in the real formats (nothing here is read from ../shared/data).

* OCR text lines: receipt/document-like Latin lines (words, prices, dates, punctuation) and about 10 % Chinese
  lines; predictions are the references with OCR-like character errors (substitutions of look-alike
  characters, dropped and doubled characters, merged words), about 40 % of them exact.
* ``swift infer --result_path`` rows (``response``, ``labels``, ``messages``, ``images``) as ms-swift 4.6 writes
  them (see :mod:`swift_ocr.eval.results`).
* Detection ground truth / detections (:func:`det_images`): text lines on a page grid, a given fraction of them
  rotated quads, the rest axis-aligned boxes; 5 % do-not-care; detections as box codecs produce them (the
  bounding box with a few pixels of noise, floats), missed and spurious boxes.
* ICDAR 2015 label files (``x1,y1,...,x4,y4,text``, UTF-8 with BOM on every 3rd file, commas inside some
  transcriptions, ``###`` lines) with images, and per-character word-box JSON files with images. Images are
  real JPEGs (a few distinct sizes, hard-linked under every name, so 100,000 images cost no extra disk).
* Parquet with an image struct column and a text column, written row group by row group.
"""
from __future__ import annotations

import io
import json
import math
import os
import random
from typing import Iterator, List, Optional, Sequence, Tuple

WORDS = ("TOTAL SUBTOTAL CASH CHANGE TAX GST QTY ITEM PRICE AMOUNT DATE TIME INVOICE RECEIPT TABLE THANK YOU "
         "Please come again Road Street Jalan Taman Sdn Bhd Kuala Lumpur Selangor Tel Fax No. the of and for "
         "rice chicken tea coffee milk bread sugar water noodle soup fried egg").split()
LOOKALIKE = {"0": "O", "O": "0", "1": "l", "l": "1", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8",
             "rn": "m", ".": ",", ",": ".", "e": "c", "c": "e", "a": "o", "o": "a"}
CJK = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种"
       "面而方后多定")


def text_line(rng: random.Random) -> str:
    """One OCR text line (about 10-60 characters)."""
    if rng.random() < 0.1:
        return "".join(rng.choice(CJK) for _ in range(rng.randint(4, 20)))
    parts = []
    for _ in range(rng.randint(2, 8)):
        r = rng.random()
        if r < 0.15:
            parts.append(f"{rng.randint(0, 999)}.{rng.randint(0, 99):02d}")
        elif r < 0.2:
            parts.append(f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/20{rng.randint(10, 25)}")
        else:
            parts.append(rng.choice(WORDS) + (rng.choice(",:;") if rng.random() < 0.1 else ""))
    return " ".join(parts)


def ocr_noise(rng: random.Random, text: str) -> str:
    """An imperfect recognition of ``text``: exact in about 40 % of calls, else a few character errors."""
    if rng.random() < 0.4 or not text:
        return text
    chars = list(text)
    for _ in range(1 + int(rng.expovariate(1 / 2.0))):
        i = rng.randrange(len(chars)) if chars else 0
        r = rng.random()
        if not chars:
            chars.append(rng.choice("abc"))
        elif r < 0.45:
            chars[i] = LOOKALIKE.get(chars[i], rng.choice("abcdefghijklmnopqrstuvwxyz0123456789"))
        elif r < 0.65:
            del chars[i]
        elif r < 0.8:
            chars.insert(i, chars[i])
        elif r < 0.9 and chars[i] == " ":
            del chars[i]
        else:
            chars.insert(i, rng.choice(" .,-"))
    return "".join(chars)


# ----------------------------------------------------------------------------------------- rec results


def write_rec_results(path: str, n: int, seed: int = 0) -> None:
    """``n`` rows of a ``swift infer --result_path`` file (a receipt line per row, prompt ``<image>OCR: ``)."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            ref = text_line(rng)
            pred = ocr_noise(rng, ref)
            row = {"response": pred, "labels": ref, "logprobs": None,
                   "messages": [{"role": "user", "content": "<image>OCR: "},
                                {"role": "assistant", "content": pred}],
                   "images": [{"bytes": None, "path": f"/data/lines/line_{i:07d}.png"}]}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


# ----------------------------------------------------------------------------------------- detection


def _line_polygon(rng: random.Random, x: float, y: float, w: float, h: float, rotated: bool):
    if not rotated:
        x1, y1, x2, y2 = round(x), round(y), round(x + w), round(y + h)
        return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
    a = rng.uniform(-0.35, 0.35)
    cx, cy = x + w / 2, y + h / 2
    c, s = math.cos(a), math.sin(a)
    return [(round(cx + c * dx - s * dy), round(cy + s * dx + c * dy))
            for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]


def det_images(n_images: int, n_boxes: int, rotated: float = 0.2, seed: int = 0):
    """``[(image_id, gt_regions, det_regions)]``: ``n_boxes`` ground-truth text lines per 1280x720 page (a
    fraction ``rotated`` of them rotated quads, 5 % ``###``), detections = noisy float bounding boxes of about
    90 % of them plus 10 % spurious boxes, shuffled."""
    from swift_ocr.eval.metrics.det import box_region
    from swift_ocr.sample import Region

    rng = random.Random(seed)
    cols = 5
    rows = max(1, math.ceil(n_boxes / cols))
    cell_w, cell_h = 1280 / cols, max(720 / rows, 12.0)
    out = []
    for k in range(n_images):
        gt, det = [], []
        for b in range(n_boxes):
            r, c = divmod(b, cols)
            w = rng.uniform(0.35, 0.95) * cell_w
            h = rng.uniform(0.45, 0.8) * cell_h
            x = c * cell_w + rng.uniform(0, cell_w - w)
            y = r * cell_h + rng.uniform(0, cell_h - h)
            poly = _line_polygon(rng, x, y, w, h, rng.random() < rotated)
            dc = rng.random() < 0.05
            gt.append(Region(poly, "###" if dc else rng.choice(WORDS), dont_care=dc))
            if rng.random() < 0.9:
                xs = [p[0] for p in poly]
                ys = [p[1] for p in poly]
                sigma = 0.06 * (max(ys) - min(ys))
                x1, y1 = min(xs) + rng.gauss(0, sigma), min(ys) + rng.gauss(0, sigma)
                x2, y2 = max(xs) + rng.gauss(0, sigma), max(ys) + rng.gauss(0, sigma)
                det.append(box_region((x1, y1, max(x1, x2), max(y1, y2)), rng.choice(WORDS)))
        for _ in range(max(1, n_boxes // 10)):
            x, y = rng.uniform(0, 1200), rng.uniform(0, 700)
            det.append(box_region((x, y, x + rng.uniform(20, 200), y + rng.uniform(8, 40)), "noise"))
        rng.shuffle(det)
        out.append((f"page_{k:05d}.jpg", gt, det))
    return out


# ----------------------------------------------------------------------------------------- images


def jpeg_bytes(width: int, height: int, seed: int = 0) -> bytes:
    """A real baseline JPEG of the given size (a flat colour with a few dark bars, so it compresses well)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    im = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(im)
    for y in range(20, height - 20, 40):
        draw.rectangle([20, y, rng.randint(width // 4, width - 20), y + 14], fill=(30, 30, 30))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=60)
    return buf.getvalue()


class ImagePool:
    """A few distinct JPEG files in ``folder/_pool``; :meth:`place` hard-links one of them under a new name
    (falls back to a copy where hard links are not possible)."""

    SIZES = ((1280, 720), (1000, 1400), (800, 600), (1654, 2339))

    def __init__(self, folder: str):
        self.pool = os.path.join(folder, "_pool")
        os.makedirs(self.pool, exist_ok=True)
        self.files = []
        for i, (w, h) in enumerate(self.SIZES):
            path = os.path.join(self.pool, f"{w}x{h}.jpg")
            if not os.path.exists(path):
                with open(path, "wb") as fh:
                    fh.write(jpeg_bytes(w, h, seed=i))
            self.files.append(((w, h), path))

    def place(self, index: int, dest: str) -> Tuple[int, int]:
        size, src = self.files[index % len(self.files)]
        try:
            os.link(src, dest)
        except OSError:
            with open(src, "rb") as a, open(dest, "wb") as b:
                b.write(a.read())
        return size


# ----------------------------------------------------------------------------------------- label datasets


def _icdar_lines(rng: random.Random, size: Tuple[int, int], n: int) -> List[str]:
    w, h = size
    row_h = (h - 20) / n
    lines = []
    for i in range(n):
        lw = rng.uniform(0.2, 0.9) * (w - 20)
        x, y = rng.uniform(5, w - 15 - lw), 10 + i * row_h
        poly = _line_polygon(rng, x, y, lw, row_h * 0.8, rng.random() < 0.2)
        poly = [(min(max(px, 0), w - 1), min(max(py, 0), h - 1)) for px, py in poly]
        if rng.random() < 0.05:
            text = "###"
        else:
            text = text_line(rng)
            if rng.random() < 0.15:
                text = text.replace(" ", ", ", 1)
        lines.append(",".join(str(int(v)) for p in poly for v in p) + "," + text)
    return lines


def write_icdar_dataset(root: str, n_files: int, lines_per_file: int, seed: int = 0) -> str:
    """An ICDAR 2015-layout dataset root (``imgs/img_N.jpg``, ``gts/gt_img_N.txt``) with ``n_files`` images of
    ``lines_per_file`` labelled lines each. Reuses ``root`` when a finished one with these sizes is there."""
    stamp = os.path.join(root, ".complete")
    want = f"icdar {n_files} {lines_per_file} {seed}"
    if os.path.exists(stamp) and open(stamp, encoding="utf-8").read() == want:
        return root
    import shutil
    shutil.rmtree(root, ignore_errors=True)
    imgs, gts = os.path.join(root, "imgs"), os.path.join(root, "gts")
    os.makedirs(imgs)
    os.makedirs(gts)
    pool = ImagePool(root)
    rng = random.Random(seed)
    for i in range(n_files):
        size = pool.place(i, os.path.join(imgs, f"img_{i}.jpg"))
        body = "\n".join(_icdar_lines(rng, size, lines_per_file)) + "\n"
        data = body.encode("utf-8")
        if i % 3 == 0:
            data = b"\xef\xbb\xbf" + data  # ICDAR 2015 ships with a BOM
        with open(os.path.join(gts, f"gt_img_{i}.txt"), "wb") as fh:
            fh.write(data)
    with open(stamp, "w", encoding="utf-8") as fh:
        fh.write(want)
    return root


def write_wordbox_dataset(root: str, n_files: int, chars_per_file: int, seed: int = 0) -> str:
    """A word-box dataset root (``images/N.jpg``, ``labels/N.json`` = ``[[x1, y1, x2, y2, order, char], ...]``)
    with ``chars_per_file`` character records per file, in lines. Reused like :func:`write_icdar_dataset`."""
    stamp = os.path.join(root, ".complete")
    want = f"wordbox {n_files} {chars_per_file} {seed}"
    if os.path.exists(stamp) and open(stamp, encoding="utf-8").read() == want:
        return root
    import shutil
    shutil.rmtree(root, ignore_errors=True)
    images, labels = os.path.join(root, "images"), os.path.join(root, "labels")
    os.makedirs(images)
    os.makedirs(labels)
    pool = ImagePool(root)
    rng = random.Random(seed)
    for i in range(n_files):
        w, h = pool.place(i, os.path.join(images, f"{i:07d}.jpg"))
        chars, x, y, order = [], 10.0, 10.0, 0
        text = ""
        while len(text) < chars_per_file:
            text += (" " if text else "") + text_line(rng)
        for ch in text[:chars_per_file]:
            cw = 12.0 if ord(ch) < 0x2E80 else 22.0
            if x + cw > w - 10:
                x, y = 10.0, y + 28.0
            chars.append([round(x, 1), round(y, 1), round(x + cw - 1, 1), round(y + 24.0, 1), order, ch])
            x += cw
            order += 1
        rng.shuffle(chars)  # reading order comes from the order field, not the file order
        with open(os.path.join(labels, f"{i:07d}.json"), "w", encoding="utf-8") as fh:
            json.dump(chars, fh, ensure_ascii=False)
    with open(stamp, "w", encoding="utf-8") as fh:
        fh.write(want)
    return root


# ----------------------------------------------------------------------------------------- parquet


def write_parquet(path: str, n_rows: int, row_group_rows: int = 256, seed: int = 0,
                  image_kib: int = 64) -> str:
    """A Hugging Face-style parquet file (``image`` struct {bytes, path}, ``text``), written one row group at a
    time so that generating a large file needs little memory. Each image is a distinct JPEG of roughly
    ``image_kib`` KiB (noise, so it does not compress). Reused when a finished one with these sizes exists."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamp = path + ".complete"
    want = f"parquet v2 {n_rows} {row_group_rows} {seed} {image_kib}"
    if os.path.exists(stamp) and os.path.exists(path) and open(stamp, encoding="utf-8").read() == want:
        return path
    rng = random.Random(seed)
    base = _noise_jpeg(image_kib, seed)
    schema = pa.schema([("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
                        ("text", pa.string())])
    tmp = path + ".tmp"
    with pq.ParquetWriter(tmp, schema) as writer:
        for start in range(0, n_rows, row_group_rows):
            rows = range(start, min(n_rows, start + row_group_rows))
            # a distinct file per row: the shared scan data with a row-specific comment segment in the header
            images = [_with_comment(base, f"row {i}") for i in rows]
            table = pa.table({"image": [{"bytes": b, "path": f"row_{i}.jpg"} for i, b in zip(rows, images)],
                              "text": [text_line(rng) for _ in rows]}, schema=schema)
            writer.write_table(table, row_group_size=row_group_rows)
    os.replace(tmp, path)
    with open(stamp, "w", encoding="utf-8") as fh:
        fh.write(want)
    return path


def _noise_jpeg(kib: int, seed: int) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    side = max(16, int(math.sqrt(kib * 1024 / 0.57)))  # noise JPEG at quality 75: about 0.57 bytes per pixel
    im = Image.frombytes("L", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side)))
    buf = io.BytesIO()
    im.convert("RGB").save(buf, format="JPEG", quality=75)
    return buf.getvalue()


def _with_comment(jpeg: bytes, comment: str) -> bytes:
    """``jpeg`` with a COM segment inserted after SOI (a different file with the same pixels)."""
    payload = comment.encode("ascii")
    seg = b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + seg + jpeg[2:]


def chunks(seq: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def maybe(value: Optional[int], default: int) -> int:
    return default if value is None else value
