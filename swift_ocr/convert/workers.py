"""The converter's worker processes: items are read, checked, run through the task and rendered in a pool of
processes (:class:`concurrent.futures.ProcessPoolExecutor`), a bounded number of chunks at a time, and their outcomes
come back in input order (:func:`outcomes`), so any number of workers writes the same bytes. How many processes
(:func:`effective_workers`) and how they start (:func:`start_method`) are decided here.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Deque, Iterable, Iterator, List, Tuple, Union

from swift_ocr.convert.outcome import Context, Outcome, Run, chunk_outcomes, item_outcome
from swift_ocr.formats import Item, SourceReader


_WORKER = {}


def _init_worker(reader, ctx):
    """Pool initializer: the reader and context arrive once per worker process, jobs are only indices.

    The objects the worker starts with (inherited modules and listing when forked, or just imported) are moved out
    of the garbage collector's generations (:func:`gc.freeze`): its full collections, triggered by the many small
    objects each item makes, would otherwise walk them all again and again (and, when forked, copy their memory
    pages). They live as long as the worker anyway."""
    _WORKER.update(reader=reader, ctx=ctx)
    gc.freeze()


def chunk_bounds(n: int) -> Iterator[Tuple[int, int]]:
    """``(start, stop)`` of consecutive chunks of :data:`CHUNKSIZE` items out of ``n`` (the last one shorter)."""
    return ((start, min(start + CHUNKSIZE, n)) for start in range(0, n, CHUNKSIZE))


def _pair_outcomes(bounds: Tuple[int, int]) -> List[Union[Run, Outcome]]:
    """:func:`~swift_ocr.convert.outcome.chunk_outcomes` in a worker process (one job of the pool)."""
    return chunk_outcomes(_WORKER["reader"], _WORKER["ctx"], bounds)


def _item_outcomes(items: List[Item]) -> List[Union[str, Outcome]]:
    """The outcomes of read items (a streamed format's), in order (one job of the pool)."""
    ctx = _WORKER["ctx"]
    return [item_outcome(item, ctx) for item in items]


#: With ``workers=0`` (auto) a worker process is started per this many items at most: a spawned one (a fresh Python
#: importing swift_ocr) costs about as much as converting 1,000-2,000 items; a forked one (:func:`start_method`) far
#: less, but below a few thousand items a second process gains little.
ITEMS_PER_WORKER = 2000


def effective_workers(workers: int, n_items: int) -> int:
    """The number of processes a conversion of ``n_items`` uses: ``workers`` when >= 1; for 0 (auto) one per CPU
    available to this process, but at most one per :data:`ITEMS_PER_WORKER` items, and at least 1. (The converter
    passes ``n_items=0`` for streamed formats -- parquet, GOT JSON --, which auto converts in one process.)

    Raises:
        ValueError: ``workers`` is negative or not an integer.
    """
    if not isinstance(workers, int) or workers < 0:
        raise ValueError(f"workers must be >= 1, or 0 for auto; got {workers!r}")
    if workers:
        return workers
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, n_items // ITEMS_PER_WORKER))


def start_method(folder_layout: bool) -> str:
    """The :mod:`multiprocessing` start method of the worker pool.

    ``fork`` for folder layouts (icdar, wordbox) on Linux: the workers inherit the imported modules and the listed
    pairs, so they start in milliseconds instead of the ~0.5 s a fresh interpreter takes to import swift_ocr (a
    quarter of a million-record word-box conversion on 2 CPUs). The workers only read files and run plain Python
    and numpy element access -- no BLAS, no pyarrow, no threads -- so the idle helper threads a parent may hold
    (OpenBLAS, torch) are never needed in the child. ``spawn`` everywhere else: streamed formats (parquet readers
    hold pyarrow's thread pools) and platforms where ``fork`` is unsafe (macOS) or missing (Windows).
    """
    if folder_layout and sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


#: Items per job sent to a worker: large enough that inter-process traffic is a small part of the cost of an item.
CHUNKSIZE = 64


def outcomes(reader: SourceReader, ctx: Context, workers: int) -> Iterator[Union[str, Run, Outcome]]:
    """Yield the items' outcomes in input order: for pair layouts, chunks' :class:`~swift_ocr.convert.outcome.Run`
    and :class:`~swift_ocr.convert.outcome.Outcome` (:func:`~swift_ocr.convert.outcome.chunk_outcomes`); for
    streamed formats one outcome (:func:`~swift_ocr.convert.outcome.item_outcome`) per item. With
    ``workers > 1`` the items of folder layouts (icdar, wordbox) are read, checked, run through the task and rendered
    in a pool of processes (only finished lines come back); streamed formats (parquet, GOT JSON) are read in this
    process, the rest runs in the pool."""
    # auto: processes only where they read the items themselves (folder layouts); a streamed format's items -- for
    # parquet, image bytes -- would all travel through pipes to run a task that costs little next to reading them
    workers = effective_workers(workers, len(reader.keys) if reader.pairs else 0)
    if workers == 1:
        if reader.pairs:
            for bounds in chunk_bounds(len(reader.pairs)):
                yield from chunk_outcomes(reader, ctx, bounds)
        else:
            for _, item in reader.iter_samples():
                yield item_outcome(item, ctx)
        return
    # concurrent.futures rather than multiprocessing.Pool: the Pool's worker-handler thread also waits on the result
    # pipe (bpo-35493) and so wakes up, in this process, every time a worker sends a result back
    context = multiprocessing.get_context(start_method(bool(reader.pairs)))
    with ProcessPoolExecutor(workers, context, _init_worker, (reader, ctx)) as pool:
        try:
            if reader.pairs:
                yield from _in_order(pool, _pair_outcomes, chunk_bounds(len(reader.pairs)), 4 * workers)
            else:  # streamed formats: read here, a bounded number of chunks at a time
                yield from _in_order(pool, _item_outcomes, _chunks(_read_items(reader)), 4 * workers)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _in_order(pool: ProcessPoolExecutor, fn, jobs: Iterable, window: int) -> Iterator:
    """The items of the lists ``fn(job)`` gives for each of ``jobs``, run in ``pool``, in the order of ``jobs``;
    at most ``window`` jobs are submitted and not yet consumed (a bounded amount of results waits in memory)."""
    pending: Deque[Future] = deque()
    for job in jobs:
        pending.append(pool.submit(fn, job))
        if len(pending) >= window:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def _read_items(reader: SourceReader) -> Iterator[Item]:
    for _, item in reader.iter_samples():
        yield item


def _chunks(items: Iterable) -> Iterator[List]:
    """Consecutive lists of :data:`CHUNKSIZE` items (the last one shorter)."""
    it = iter(items)
    while True:
        chunk = list(islice(it, CHUNKSIZE))
        if not chunk:
            return
        yield chunk
