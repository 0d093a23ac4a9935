"""Progress bars for long commands (``convert``, ``validate``): a :mod:`tqdm` bar on standard error, shown only on a
terminal and never with ``--quiet``, so logs, pipes and tests get no bar characters."""
from __future__ import annotations

import os
import sys
from typing import Optional


def progress_wanted(quiet: bool = False, stream=None) -> bool:
    """Whether to show a progress bar: not ``quiet`` and ``stream`` (default standard error) is a terminal."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class Progress:
    """A counter shown as a tqdm bar on standard error (items, items per second, and a count of problems so far as
    ``<what> N``), or nothing when disabled. Cheap to update per item: the bar redraws at most every 0.1 s and the
    problem count only when it changed.

    Args:
        enabled: show the bar (see :func:`progress_wanted`); when False every method does nothing.
        total: the number of items when known (a percentage and an ETA are shown), else None.
        desc: the label in front of the bar; unit: what an item is called; what: the name of the problem count.
    """

    def __init__(self, enabled: bool, total: Optional[int] = None, desc: str = "", unit: str = "item",
                 what: str = "rejected"):
        self._bar = None
        self._problems = 0
        self._what = what
        if enabled:
            from tqdm import tqdm

            try:
                width, height = os.get_terminal_size(sys.stderr.fileno())
            except (OSError, ValueError, AttributeError):
                width = height = 0
            # a terminal that reports no size (0 x 0: some ptys) would get no bar at all from tqdm's own measure
            size = {"dynamic_ncols": True} if width and height else {"ncols": 100, "nrows": 20}
            self._bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, mininterval=0.1, smoothing=0.1,
                             leave=True, **size)
            self._bar.set_postfix_str(f"{what} 0", refresh=False)

    def update(self, items: int = 1, problems: Optional[int] = None) -> None:
        """Count ``items`` more done; ``problems``: the problem count so far (shown when it changed)."""
        bar = self._bar
        if bar is None:
            return
        if problems is not None and problems != self._problems:
            self._problems = problems
            bar.set_postfix_str(f"{self._what} {problems}", refresh=False)
        bar.update(items)

    def __bool__(self) -> bool:
        """Whether the bar is shown (so a caller can skip computing what it would show)."""
        return self._bar is not None

    def close(self) -> None:
        """Draw the final state and release the bar (idempotent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
