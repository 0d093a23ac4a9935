"""The output-writer registry: what ``swift-ocr convert --output-format`` can write (:class:`OutputWriter`), one
self-registering module per writer (:mod:`swift_ocr.writers.swift_jsonl`, :mod:`swift_ocr.writers.got_json`); the
package ``swift_ocr.writers`` imports the built-in ones.

A writer turns the task's samples of one split into one output file. Two kinds:

* line writers (:attr:`OutputWriter.line_based`): one or more text lines per sample (:meth:`OutputWriter.line`),
  rendered where the item is converted -- in the converter's worker processes -- and written in input order;
* whole-file writers: the converter collects the split's samples (image paths final, no image bytes) and hands
  them over at the end (:meth:`OutputWriter.write_file`), e.g. one JSON list.

Image paths passed to a writer are absolute; a writer may write them relative to the output file (GOT JSON does).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO, List, Optional, Sequence, Tuple

from swift_ocr.registry import Registry
from swift_ocr.sample import Sample


@dataclass(frozen=True)
class RowSpec:
    """What every row of one conversion shares.

    Attributes:
        task: the :class:`~swift_ocr.tasks.core.TaskConfig`.
        instruction: the task's instruction, without ``<image>`` tags (a sample's own ``Sample.prompt`` overrides it).
        system: the system message of the rows, or None.
        output_dir: the folder of the output files (absolute), for writers that name images relative to their file
            (PaddleOCR labels); None when unknown.
        relative_to: name image files relative to this folder (``convert --relative-paths``: the output files'
            folder) instead of by absolute paths; None: absolute. Writers that always name images relative to their
            file (GOT JSON, PaddleOCR labels) do so anyway.
    """

    task: object
    instruction: str
    system: Optional[str] = None
    output_dir: Optional[str] = None
    relative_to: Optional[str] = None

    def image_ref(self, path: str) -> str:
        """How a row names the image file ``path``: its absolute path, or the path relative to :attr:`relative_to`."""
        path = os.path.abspath(path)
        return os.path.relpath(path, self.relative_to) if self.relative_to is not None else path


class OutputWriter:
    """One output format of the converter (see module docstring).

    Attributes:
        name: the ``--output-format`` value.
        description: one line for help texts.
        suffixes: output file extensions (lower case, with the dot) that choose this writer when ``--output-format``
            is not given (``.json`` -> ``got``); the ``swift`` writer is the default for any other.
        line_based: rows are text lines rendered per sample by :meth:`line`; else :meth:`write_file`.
        batch_rows: the converter's batch fast path (:mod:`swift_ocr.convert.outcome_fast`) renders exactly this
            writer's lines (only the ms-swift jsonl writer).
    """

    name: str = ""
    description: str = ""
    suffixes: Tuple[str, ...] = ()
    line_based: bool = True
    batch_rows: bool = False

    def check(self, row: RowSpec) -> None:
        """Refuse a task this writer cannot write. Raises ValueError saying why and what to use instead."""

    def line(self, sample: Sample, images: List[str], row: RowSpec) -> str:
        """Line writers: the text of one sample (one or more lines, each ending in ``\\n``); ``images`` its final
        image paths (absolute). Raises ValueError for a sample the format cannot hold: the converter rejects the
        item (kind ``unwritable``, see :func:`swift_ocr.convert.outcome.item_outcome`)."""
        raise NotImplementedError

    def write_file(self, f: IO[str], samples: Sequence[Sample], path: str, row: RowSpec) -> None:
        """Whole-file writers: write one split's ``samples`` (``Sample.images`` final absolute paths, no image bytes)
        to the text file ``f`` (UTF-8, ``\\n`` line ends) that becomes ``path``."""
        raise NotImplementedError


_WRITERS: Registry[OutputWriter] = Registry("output format")
#: The writer used when ``--output-format`` is not given and no writer claims the output's extension.
DEFAULT_WRITER = "swift"


def register_writer(writer: OutputWriter, replace: bool = False) -> OutputWriter:
    """Add ``writer`` to the registry (returns it).

    Raises:
        ValueError: a name already registered (without ``replace``) or empty. TypeError: not an OutputWriter.
    """
    if not isinstance(writer, OutputWriter):
        raise TypeError(f"register_writer needs an OutputWriter instance, got {type(writer).__name__}")
    if not writer.name:
        raise ValueError("an output writer needs a name")
    return _WRITERS.add(writer.name, writer, replace)


def unregister_writer(name: str) -> None:
    """Remove a writer (for tests). Unknown names are ignored."""
    _WRITERS.remove(name)


def get_writer(name: str) -> OutputWriter:
    """The registered writer ``name``. Raises ValueError for an unknown name (listing the known ones)."""
    return _WRITERS.get(name)


def writer_names() -> Tuple[str, ...]:
    """The registered output formats, in registration order (built in: swift, got)."""
    return _WRITERS.names()


def writer_for_output(output: str) -> str:
    """The output format chosen for the file name ``output`` when none is given: the writer whose
    :attr:`OutputWriter.suffixes` hold its extension (``out.json`` -> ``got``), else :data:`DEFAULT_WRITER`."""
    ext = os.path.splitext(output)[1].lower()
    for writer in _WRITERS.values():
        if ext and ext in writer.suffixes:
            return writer.name
    return DEFAULT_WRITER
