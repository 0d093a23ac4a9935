"""Image-size arithmetic shared by the families' image-token counts: the size check and the tile grid that
InternVL and DeepSeek-OCR cut an image into."""
from __future__ import annotations

from typing import Tuple


def check_size(width, height) -> Tuple[int, int]:
    """``(width, height)`` when both are positive ints (pixels of the original image).

    Raises:
        ValueError: anything else.
    """
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise ValueError(f"image size must be two positive integers (width, height), got {(width, height)!r}")
    return width, height


def closest_tile_grid(width: int, height: int, min_num: int, max_num: int, tile: int) -> Tuple[int, int]:
    """``(columns, rows)`` of the tile grid InternVL / DeepSeek-OCR choose for an image of ``width x height`` px.

    The grids are all ``(i, j)`` with ``min_num <= i * j <= max_num``, ordered by ``i * j``; the one whose aspect
    ratio ``i / j`` is closest to ``width / height`` wins; on a tie the larger grid wins when the image has more
    than half of that grid's pixels (``width * height > 0.5 * tile**2 * i * j``). Same code as
    ``find_closest_aspect_ratio`` + the grid set of ``dynamic_preprocess`` in InternVL (github OpenGVLab/InternVL,
    ``internvl_chat/internvl/train/dataset.py``), ms-swift 4.6.0 (``swift/template/vision_utils.py``,
    ``_find_closest_aspect_ratio``) and DeepSeek-OCR (``modeling_deepseekocr.py``).

    Raises:
        ValueError: non-positive size, or no grid within ``[min_num, max_num]``.
    """
    check_size(width, height)
    aspect_ratio = width / height
    # the same set-then-sort as upstream, so that equal products keep upstream's order
    target_ratios = set((i, j) for n in range(min_num, max_num + 1) for i in range(1, n + 1)
                        for j in range(1, n + 1) if min_num <= i * j <= max_num)
    target_ratios = sorted(target_ratios, key=lambda x: x[0] * x[1])
    if not target_ratios:
        raise ValueError(f"no tile grid with {min_num} <= tiles <= {max_num}")
    best_diff = float("inf")
    best = (1, 1)
    area = width * height
    for ratio in target_ratios:
        diff = abs(aspect_ratio - ratio[0] / ratio[1])
        if diff < best_diff:
            best_diff = diff
            best = ratio
        elif diff == best_diff and area > 0.5 * tile * tile * ratio[0] * ratio[1]:
            best = ratio
    return best


def env_int(environ, name: str, default: int) -> int:
    """``int(environ[name])``, or ``default`` when unset (as ms-swift's ``get_env_args`` reads numbers).

    Raises:
        ValueError: a value that is not an integer (the message names the variable).
    """
    value = environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} is not an integer") from None


def env_bool(value: str) -> bool:
    """``strtobool`` as ms-swift applies it to boolean environment variables.

    Raises:
        ValueError: not a boolean word.
    """
    v = value.strip().lower()
    if v in ("y", "yes", "t", "true", "on", "1"):
        return True
    if v in ("n", "no", "f", "false", "off", "0"):
        return False
    raise ValueError(f"not a boolean: {value!r}")
