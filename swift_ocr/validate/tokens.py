"""Token lengths of validated rows: :func:`count_row` (one row, exact or estimated) and :class:`TokenStats` (over
all counted rows) for ``too_long`` / ``encode_error``.

Counts are tokens of ms-swift's template encoding (:class:`~swift_ocr.validate.token_budget.TokenCount`): exact with a
counter (:class:`~swift_ocr.validate.token_budget.SwiftTokenCounter`: ``count(row) -> TokenCount``), else estimated
by :func:`swift_ocr.validate.token_budget.estimate_row` from image sizes (``(width, height)`` in pixels).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

from swift_ocr.validate.image_refs import ImageRef
from swift_ocr.validate.options import ValidateOptions
from swift_ocr.validate.token_budget import ImageTokenParams, TokenCount, estimate_row


@dataclass
class TokenStats:
    """Token lengths of the rows that could be counted."""

    exact: bool
    max_length: Optional[int]
    lengths: List[int] = field(default_factory=list)
    image_tokens: List[int] = field(default_factory=list)
    over: int = 0

    def add(self, count: TokenCount) -> bool:
        """Record one row's count; True when it is over :attr:`max_length` (counted in :attr:`over`)."""
        self.lengths.append(count.total)
        self.image_tokens.append(count.image)
        if self.max_length is not None and count.total > self.max_length:
            self.over += 1
            return True
        return False

    def to_dict(self) -> dict:
        d = {"mode": "exact" if self.exact else "estimate", "counted": len(self.lengths),
             "max_length": self.max_length, "over": self.over if self.max_length is not None else None,
             "min": None, "median": None, "max": None, "image_min": None, "image_max": None}
        if self.lengths:
            d.update(min=min(self.lengths), median=statistics.median(self.lengths), max=max(self.lengths),
                     image_min=min(self.image_tokens), image_max=max(self.image_tokens))
        return d


def count_row(row: dict, messages: Sequence[dict], refs: Sequence[ImageRef], sizes: Sequence[Tuple[int, int]],
              images_ok: bool, counter: Any, opts: ValidateOptions,
              params: ImageTokenParams) -> Tuple[Optional[TokenCount], Optional[Tuple[str, str]]]:
    """``(count, problem)`` of one shape-checked row whose images all have a size: the count (None when the row
    cannot be counted) and an ``encode_error`` ``(kind, message)`` (None when there is none, or when the estimate
    fails because of an image problem already reported: ``images_ok`` False). ``counter``: exact counter or None.
    Never raises for a bad row."""
    if counter is not None:
        swift_row = dict(row)
        swift_row.pop("image", None)
        swift_row["images"] = [r.path if r.path is not None else {"bytes": r.data, "path": None} for r in refs]
        try:
            return counter.count(swift_row), None
        except Exception as e:  # ms-swift raises many types (AssertionError, ValueError, ...) on such rows
            return None, ("encode_error", f"ms-swift cannot encode the row: {type(e).__name__}: {e}")
    try:
        return estimate_row(opts.family, messages, sizes, params, opts.system, opts.template), None
    except ValueError as e:  # e.g. Qwen's smart_resize refuses aspect ratios over 200
        if not images_ok:
            return None, None  # the image problem that causes this is reported already
        return None, ("encode_error", f"the {opts.family} image processing refuses the row: {e}")


def too_long_message(count: TokenCount, max_length: int) -> str:
    """The ``too_long`` message of a row of ``count`` tokens over ``max_length``."""
    how = "exact, ms-swift template" if count.exact else "estimated"
    return (f"{count.total} tokens ({how}: {count.image} image + {count.text} text) > --max-length "
            f"{max_length}")
