"""Image entries of an ms-swift row resolved as ms-swift 4.6.0 loads them: :func:`resolve_image` -> :class:`ImageRef`.

Rules (``swift/template/vision_utils.py``, ``load_file`` / ``_check_path``; ``swift/template/base.py``,
``_load_image``): a ``{"path", "bytes"}`` dict uses its ``bytes`` when they are set, else its ``path``; a path string
is used as is when it exists **relative to the current directory** (not to the jsonl's folder: ms-swift's dataset
loader does not rewrite paths), else it is joined to ``$ROOT_IMAGE_DIR`` when that is set; ``http://`` and
``https://`` URLs are fetched by ms-swift at training time (not here: reported as ``remote_image``), and any other
string starting with ``http`` (a local ``http_imgs/a.png``) is unusable, since ms-swift would try to download it too;
a ``data:`` URI or a string longer than :data:`MAX_PATH_LENGTH` characters is base64 image data. So run
``swift-ocr validate`` from the folder ``swift sft`` will run in (or set ``ROOT_IMAGE_DIR`` / ``--root-image-dir``); a
missing image that does exist next to the jsonl gets that hint.

Resolved paths are absolute (``~`` expanded). Nothing here opens an image (:mod:`swift_ocr.validate.image_checks`
does).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from typing import Any, Optional

#: ms-swift treats longer image strings as base64 data (``_check_path``: ``MAX_PATH_HEURISTIC``).
MAX_PATH_LENGTH = 2000


@dataclass(frozen=True)
class ImageRef:
    """One entry of a row's ``images`` as ms-swift would load it.

    Attributes:
        display: how the image is named in messages (the path as written, or ``<bytes>``).
        path: the resolved absolute path (None for bytes / URLs / missing files).
        data: decoded image bytes (base64 strings, ``bytes`` of a dict).
        url: an http(s) URL.
        missing_hint: set when the path is missing; says where else it was looked for.
        key: identity for caching and duplicate detection.
        unusable: set for a string ms-swift cannot load whether or not the file exists (a local path starting
            with ``http`` that is no ``http://`` / ``https://`` URL); says why.
    """

    display: str
    path: Optional[str] = None
    data: Optional[bytes] = None
    url: Optional[str] = None
    missing_hint: Optional[str] = None
    key: str = ""
    unusable: Optional[str] = None


def _b64(s: str) -> Optional[bytes]:
    if s.startswith("data:"):
        s = s.split(",", 1)[1] if "," in s else ""
    try:
        return base64.b64decode(s)
    except (binascii.Error, ValueError):
        return None


def resolve_image(entry: Any, jsonl_dir: str, root_image_dir: Optional[str]) -> ImageRef:
    """Resolve one ``images`` entry (a string or a ``{"path", "bytes"}`` dict) as ms-swift 4.6.0 would.

    See the module docstring for the rules. ``jsonl_dir`` is used only for the hint of a missing path.

    Raises:
        ValueError: an entry that is neither a string nor a dict with a ``path`` or ``bytes``.
    """
    if isinstance(entry, dict):
        data = entry.get("bytes")
        if data:
            if isinstance(data, (bytes, bytearray)):
                raw = bytes(data)
            elif isinstance(data, str):
                if os.path.exists(data):  # ms-swift passes a str 'bytes' to load_file like a path
                    return _path_ref(data, data)
                raw = _b64(data)
                if raw is None:
                    raise ValueError("'bytes' is a string that is neither a file nor base64 data")
            else:
                raise ValueError(f"'bytes' must be bytes or a base64 string, got {type(data).__name__}")
            return ImageRef(display="<bytes>", data=raw, key="sha1:" + hashlib.sha1(raw).hexdigest())
        entry = entry.get("path")
        if not isinstance(entry, str) or not entry:
            raise ValueError("an image dict needs a non-empty 'path' or 'bytes'")
    if not isinstance(entry, str):
        raise ValueError(f"an image must be a path string or a {{'path', 'bytes'}} dict, got {type(entry).__name__}")
    s = entry.strip()
    if s.startswith(("http://", "https://")):
        return ImageRef(display=s, url=s, key="url:" + s)
    if s.startswith("http"):  # a local path such as http_imgs/a.png: ms-swift would still take it for a URL
        return ImageRef(display=entry, key="unusable:" + os.path.abspath(s), unusable=(
            f"ms-swift 4.6 takes every image string starting with 'http' for a URL (load_file in "
            f"swift/template/vision_utils.py) and would fail to download this local path; write it as "
            f"'./{s}' or as an absolute path"))
    if len(s) <= MAX_PATH_LENGTH:
        if os.path.exists(s):
            return _path_ref(s, entry)
        if root_image_dir:
            joined = os.path.join(root_image_dir, s)
            if os.path.exists(os.path.expanduser(joined)):
                return _path_ref(os.path.expanduser(joined), entry)
    if s.startswith("data:") or len(s) > MAX_PATH_LENGTH:
        raw = _b64(s)
        if raw is not None:
            return ImageRef(display=s[:40] + "...", data=raw, key="sha1:" + hashlib.sha1(raw).hexdigest())
    looked = [os.path.abspath(s)]
    if root_image_dir:
        looked.append(os.path.abspath(os.path.join(root_image_dir, s)))
    hint = "looked for " + " and ".join(looked)
    if not os.path.isabs(s) and os.path.exists(os.path.join(jsonl_dir, s)):
        hint += (f"; it exists relative to the jsonl's folder ({jsonl_dir}), but ms-swift resolves relative paths "
                 f"against the current directory: run from {jsonl_dir} or set ROOT_IMAGE_DIR")
    return ImageRef(display=entry, missing_hint=hint, key="missing:" + os.path.abspath(s))


def _path_ref(path: str, display: str) -> ImageRef:
    full = os.path.abspath(os.path.expanduser(path))
    return ImageRef(display=display, path=full, key="file:" + full)
