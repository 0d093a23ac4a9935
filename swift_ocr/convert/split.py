"""The converter's train/val split: by source item key (an image path, or an image's identity), seeded, so that crops
and rows of one image stay in one split and the same keys and seed always give the same split."""
from __future__ import annotations

import random
from typing import Iterable, Sequence, Set


def split_keys(keys: Iterable[str], val_ratio: float, seed: int) -> Set[str]:
    """Choose the validation keys: ``round(val_ratio * n)`` of them (at least 1 and at most n-1 when
    ``0 < val_ratio < 1`` and n >= 2), drawn with ``random.Random(seed)`` from the sorted keys, so the split
    depends only on the set of keys and the seed. Split by source item, so crops of one image stay together.

    Raises:
        ValueError: ``val_ratio`` outside [0, 1).
    """
    if not 0 <= val_ratio < 1:
        raise ValueError(f"val_ratio must be in [0, 1), got {val_ratio}")
    keys = sorted(set(keys))
    if val_ratio == 0 or len(keys) < 2:
        return set()
    k = min(max(round(val_ratio * len(keys)), 1), len(keys) - 1)
    return set(random.Random(seed).sample(keys, k))


def val_positions(keys: Sequence[str], val_ratio: float, seed: int) -> Set[int]:
    """Positions in ``keys`` of the validation items: those whose key :func:`split_keys` chooses (the same split).

    For a key sequence that declares itself sorted and unique (``keys.sorted_unique``, e.g. the image paths of a
    :class:`~swift_ocr.formats.layout.FolderPairs`) the choice is made on positions directly, without building the
    keys: ``random.Random(seed).sample`` depends only on the population's length, so sampling ``range(n)`` picks the
    positions of exactly the keys that sampling the sorted keys picks.

    Raises:
        ValueError: ``val_ratio`` outside [0, 1).
    """
    if getattr(keys, "sorted_unique", False):
        if not 0 <= val_ratio < 1:
            raise ValueError(f"val_ratio must be in [0, 1), got {val_ratio}")
        n = len(keys)
        if val_ratio == 0 or n < 2:
            return set()
        k = min(max(round(val_ratio * n), 1), n - 1)
        return set(random.Random(seed).sample(range(n), k))
    chosen = split_keys(keys, val_ratio, seed)
    return {i for i, key in enumerate(keys) if key in chosen} if chosen else set()
