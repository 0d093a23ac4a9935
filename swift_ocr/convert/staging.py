"""Atomic outputs of the converter: every file is written under a temporary name in the output folder and renamed
into place only when the whole conversion is done (:class:`Staging`); the images folder that holds written images
(line crops, parquet images) and how its files are named (:func:`image_file_name`). See :mod:`swift_ocr.convert.api`
for the outputs of one conversion."""
from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
from typing import Dict, Optional, Tuple

from PIL import Image

#: The marker file of an images folder written by swift-ocr convert: only such a folder is ever replaced or removed.
IMAGES_MARKER = ".swift-ocr-images"


def output_paths(output: str) -> Dict[str, str]:
    """The files a conversion writes for ``output`` (see module docstring)."""
    stem, ext = os.path.splitext(os.path.abspath(output))
    ext = ext or ".jsonl"
    return {"train": stem + ext, "val": f"{stem}.val{ext}", "rejects": f"{stem}.rejects.jsonl",
            "images": f"{stem}_images"}


def image_ext(data: bytes) -> str:
    """The file extension (with the dot) of encoded image ``data``, from its format (``.jpg``, ``.png``, ...;
    ``.bin`` when Pillow cannot read it)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = (im.format or "png").lower()
    except Exception:
        return ".bin"
    return {"jpeg": ".jpg"}.get(fmt, "." + fmt)


#: The longest file name, in bytes, most file systems take (ext4, XFS, btrfs, APFS: 255; NTFS: 255 UTF-16 units).
NAME_MAX = 255
#: A line crop's region tag (``<stem>_l<line>``, :func:`swift_ocr.tasks.core.run_task`), kept whole in shortened names.
_REGION_TAG = re.compile(r"_l\d+\Z")


def image_file_name(index: int, name: str, ext: str) -> str:
    """The file name of the ``index``-th image written into the images folder: ``<index:07d>_<name><ext>``, where
    ``name`` is the sample's image stem (``<source stem>_l<line>`` for a line crop) and ``ext`` its extension with
    the dot.

    A name longer than :data:`NAME_MAX` bytes in UTF-8 (a long source stem; writing it fails with "File name too
    long") is shortened deterministically: the source stem is cut at a character boundary and followed by ``~`` and
    the first 10 hex digits of the SHA-256 of the whole stem, keeping the index, the region tag (``_l<line>``) and
    the extension, so names stay unique and the same input gives the same names. Names that fit are unchanged.
    Never raises for lone surrogates in ``name`` (each counts as 3 bytes).
    """
    full = f"{index:07d}_{name}{ext}"
    if len(full.encode("utf-8", "surrogatepass")) <= NAME_MAX:
        return full
    tag = _REGION_TAG.search(name)
    stem, tag = (name[:tag.start()], tag.group()) if tag else (name, "")
    raw = stem.encode("utf-8", "surrogatepass")
    digest = "~" + hashlib.sha256(raw).hexdigest()[:10]
    room = NAME_MAX - len(f"{index:07d}_{digest}{tag}{ext}".encode("utf-8", "surrogatepass"))
    short = raw[:max(room, 0)].decode("utf-8", "ignore")  # cut at a character boundary (a partial one is dropped)
    return f"{index:07d}_{short}{digest}{tag}{ext}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def is_ours(images_dir: str) -> bool:
    """``images_dir`` was written by swift-ocr convert (it holds :data:`IMAGES_MARKER`)."""
    return os.path.isfile(os.path.join(images_dir, IMAGES_MARKER))


class Staging:
    """Outputs under temporary names next to their final paths (``paths``: :func:`output_paths`), renamed into place
    together by :meth:`commit`, or removed by :meth:`discard` (see :mod:`swift_ocr.convert.api`, "Interrupted runs")."""

    def __init__(self, paths: Dict[str, str]):
        self.paths = paths
        self.files: Dict[str, Tuple[str, object]] = {}
        self.images_tmp: Optional[str] = None

    def open(self, name: str, binary: bool = False):
        """A new staged file for the output ``name``: UTF-8 text, or ``binary`` (bytes written as they are)."""
        final = self.paths[name]
        folder = os.path.dirname(final)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(final)}.", suffix=".tmp", dir=folder)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the usual permissions
        f = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self.files[name] = (tmp, f)
        return f

    def write_image(self, data: bytes, file_name: str) -> str:
        """Write an image into the staged images folder; returns its *final* path (what rows must refer to)."""
        final_dir = self.paths["images"]
        if self.images_tmp is None:
            parent = os.path.dirname(final_dir)
            os.makedirs(parent, exist_ok=True)
            self.images_tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(final_dir)}.", suffix=".tmp", dir=parent)
            os.chmod(self.images_tmp, 0o777 & ~_umask())
        with open(os.path.join(self.images_tmp, file_name), "wb") as f:
            f.write(data)
        return os.path.join(final_dir, file_name)

    def commit(self) -> None:
        """Rename every staged output into place: the images folder first (replacing an earlier one of ours, or
        removing a stale one when this run wrote no image), then the files, each flushed to disk first.

        Raises:
            ValueError: the images folder exists and was not written by swift-ocr.
        """
        final_dir = self.paths["images"]
        if self.images_tmp is not None:
            with open(os.path.join(self.images_tmp, IMAGES_MARKER), "w", encoding="utf-8") as f:
                f.write("written by swift-ocr convert; replaced by the next conversion to the same output\n")
            old = None
            if os.path.exists(final_dir):
                if not is_ours(final_dir):
                    raise ValueError(f"{final_dir} exists and was not written by swift-ocr convert; "
                                     "choose another --output")
                old = tempfile.mkdtemp(prefix=f".{os.path.basename(final_dir)}.old.", dir=os.path.dirname(final_dir))
                os.replace(final_dir, os.path.join(old, "images"))
            os.replace(self.images_tmp, final_dir)
            self.images_tmp = None
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        elif os.path.isdir(final_dir) and is_ours(final_dir):
            shutil.rmtree(final_dir)  # stale crops of an earlier run
        for name, (tmp, f) in list(self.files.items()):
            f.flush()
            os.fsync(f.fileno())
            f.close()
            os.replace(tmp, self.paths[name])
            del self.files[name]

    def discard(self) -> None:
        """Remove what is still staged (all of it after a failure; nothing after :meth:`commit`)."""
        for tmp, f in self.files.values():
            f.close()
            try:
                os.unlink(tmp)
            except OSError:
                pass
        self.files.clear()
        if self.images_tmp is not None:
            shutil.rmtree(self.images_tmp, ignore_errors=True)
            self.images_tmp = None
