"""The label-format registry: what an input format is (:class:`LabelFormat`), and the one table of formats that the
converter (:func:`swift_ocr.formats.source.open_source`, ``swift-ocr convert --format``) and the ms-swift dataset
loader (``swift-ocr/<name>:<path>``, :mod:`swift_ocr.msswift.datasets`) iterate.

A format is one module under :mod:`swift_ocr.formats` that defines a subclass of :class:`PairFormat` or
:class:`FileFormat` and registers an instance at import (``register_format(MyFormat())``); the package
``swift_ocr.formats`` imports the built-in ones. A format registered later, at run time (a plugin, a test), is
picked up by every caller, since each asks the registry when it runs: ``convert`` (API and the CLI's ``--format``
choices and options, built when the parser is built), ``validate`` and the ms-swift plugin's datasets
(:func:`swift_ocr.msswift.datasets.register_datasets`, called again after registering).

Two layouts (:attr:`LabelFormat.layout`):

* ``"pairs"`` (:class:`PairFormat`): one label file per image, found by
  :func:`swift_ocr.formats.layout.discover_pairs` (``--images``/``--labels`` folders matched by file stem, a dataset
  root, or -- :attr:`PairFormat.list_files` -- a DBNet list file); the format reads one (image, label) pair
  (:meth:`PairFormat.read_paths`). Items are split train/val by image path.
* ``"file"`` (:class:`FileFormat`): one file holding many items (a JSON list, a jsonl or ``path<TAB>json`` list, a
  parquet table). The format lists the file's raw items (:meth:`FileFormat.load_items`, JSON-serialisable values),
  names each item's image(s) for the split (:meth:`FileFormat.item_key`) and turns one item into a
  :class:`~swift_ocr.sample.Sample` (:meth:`FileFormat.item_sample`). The ms-swift loader stores each item as a row
  ``{"item": json, "index", "source"}`` and reads it back with the same ``item_sample``; a format whose items are
  not JSON values (parquet) overrides :meth:`LabelFormat.hf_dataset` and :meth:`LabelFormat.read_row`.

Every Sample a format gives is *raw*: its regions as the file says them (pixels of the image), ``image_size`` not
yet read. The shared checks (:func:`swift_ocr.formats.checks.finish_sample`: image checks, NFKC, region geometry) run
after it, in the converter and in the ms-swift preprocessor alike. A problem with one item is an
:class:`~swift_ocr.errors.OcrFormatError` naming file, line and a stable kind (:data:`swift_ocr.errors.KINDS`);
only a file that cannot be read at all raises from the listing methods.

Options: every format takes the shared reading options (:class:`~swift_ocr.formats.checks.ReadOptions`: encoding,
NFKC, image checks, pixel limit, paths outside the root). A format's own options are :attr:`LabelFormat.options`
(:class:`FormatOption`: a name, a string default, help; ``--image-column`` on the command line, ``image_column=`` in a
dataset spec, a keyword of ``open_source``), and :attr:`LabelFormat.read_option_fields` names the ReadOptions fields
only it uses (``icdar``: ``icdar_variant``, ``scripts``). Giving a format an option that belongs to other formats
only is an error (:func:`check_format_options`).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from swift_ocr.errors import OcrFormatError, Rejection
from swift_ocr.formats.checks import ReadOptions
from swift_ocr.registry import Registry
from swift_ocr.sample import Sample

PAIRS = "pairs"
FILE = "file"
#: Values of the parameters a format's methods take (``params``): its own options, by name (see :class:`FormatOption`).
Params = Dict[str, Optional[str]]


@dataclass(frozen=True)
class FormatOption:
    """An option of one format (beyond the shared :class:`~swift_ocr.formats.checks.ReadOptions`).

    Attributes:
        name: the Python name (``image_column``): the keyword of ``open_source``, the dataset-spec key, and the
            command-line flag with ``_`` as ``-`` (``--image-column``).
        default: the value when not given (a string, or None).
        help: one line for ``swift-ocr convert --help``.
        path: the value is a file or folder path, relative to the working directory: the ms-swift loader makes it
            absolute before its ``datasets.map`` workers (which may run elsewhere) see it.
    """

    name: str
    default: Optional[str] = None
    help: str = ""
    path: bool = False


class LabelFormat:
    """One input label format (see module docstring). Subclass :class:`PairFormat` or :class:`FileFormat`.

    Attributes:
        name: the ``--format`` value and the ms-swift dataset name ``swift-ocr/<name>``: lower case letters, digits,
            ``_``.
        description: one line for help texts.
        layout: ``"pairs"`` or ``"file"``.
        options: the format's own options (:class:`FormatOption`).
        read_option_fields: the :class:`~swift_ocr.formats.checks.ReadOptions` fields only this format uses.
        embeds_images: items may carry encoded image bytes instead of a file (``Sample.image_bytes``); the converter
            then writes image files next to its output.
    """

    name: str = ""
    description: str = ""
    layout: str = FILE
    options: Tuple[FormatOption, ...] = ()
    read_option_fields: Tuple[str, ...] = ()
    embeds_images: bool = False

    def option_names(self) -> Tuple[str, ...]:
        """The names of this format's own options and of the ReadOptions fields only it uses."""
        return tuple(o.name for o in self.options) + tuple(self.read_option_fields)

    def params(self, given: Optional[Mapping[str, Optional[str]]] = None) -> Params:
        """This format's own option values: ``given`` (None or ``""`` values take the default) over the defaults.

        Raises:
            ValueError: a name in ``given`` that is not one of :attr:`options`.
        """
        given = dict(given or {})
        known = {o.name for o in self.options}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValueError(f"format {self.name!r} has no option(s) {', '.join(unknown)}"
                             + (f"; its options: {', '.join(sorted(known))}" if known else ""))
        return {o.name: (given[o.name] if given.get(o.name) not in (None, "") else o.default) for o in self.options}

    # -- the converter -------------------------------------------------------------------------------------------
    def split_keys(self, path: str, params: Params, options: ReadOptions) -> Sequence[str]:
        """``file`` layout: one train/val split key per item, in item order (items showing one image share a key).

        Raises:
            OcrFormatError: the file cannot be read at all.
        """
        raise NotImplementedError

    def iter_items(self, path: str, params: Params, options: ReadOptions) -> Iterator[Union[Sample, OcrFormatError]]:
        """``file`` layout: each item's raw Sample, or the OcrFormatError reading it gave, in item order (the order
        of :meth:`split_keys`).

        Raises:
            OcrFormatError: the file cannot be read at all.
        """
        raise NotImplementedError

    def report_extras(self, fixes: Mapping[str, int], converted: Optional[int]) -> Tuple[Dict[str, Any], List[str]]:
        """Format-specific counts for a conversion summary, from the converted items' ``Sample.fixes`` (and their
        number, None where unknown, as in the ms-swift loader): extra keys of ``convert --json``'s object and lines
        of the text summary. Default: none."""
        return {}, []

    # -- the ms-swift dataset loader -----------------------------------------------------------------------------
    def loader_rows(self, path: str, params: Params, options: ReadOptions) -> Tuple[List[Dict[str, Any]],
                                                                                    List[Rejection]]:
        """The rows of the ms-swift dataset for ``path`` (flat dicts of str/int values, one per item) and the
        rejections found while listing. :meth:`read_row` reads one back.

        Raises:
            OcrFormatError: the input cannot be read at all.
        """
        raise NotImplementedError

    def hf_dataset(self, path: str, params: Params, streaming: bool):
        """A Hugging Face ``datasets`` dataset of ``path`` built by the format itself, or None (the default: the
        loader builds one from :meth:`loader_rows`). Rows must be readable by :meth:`read_row`."""
        return None

    def read_row(self, row: Mapping[str, Any], source: str, params: Params, options: ReadOptions) -> Sample:
        """The raw Sample of one ms-swift dataset row (see :meth:`loader_rows`); ``source`` is the dataset's path.

        Raises:
            OcrFormatError: the item cannot be read.
        """
        raise NotImplementedError


class PairFormat(LabelFormat):
    """A format with one label file per image (see module docstring); subclasses implement :meth:`read_paths`.

    Attributes:
        label_exts: the label file extensions, lower case with the dot (``(".txt", ".csv")``): folders are matched
            by stem among files with these extensions.
        list_files: a file given as ``--input`` is a DBNet list file (``<image> [<label>]`` per line).
    """

    layout = PAIRS
    label_exts: Tuple[str, ...] = ()
    list_files: bool = False

    def read_paths(self, image: str, label: str, options: ReadOptions) -> Sample:
        """The raw Sample of the label file ``label`` annotating ``image`` (absolute paths), without opening the
        image (``image_size`` None; ``images == [image]``).

        Raises:
            OcrFormatError: the label file cannot be read or does not follow the format.
        """
        raise NotImplementedError

    def path_reader(self, options: ReadOptions) -> Callable[[str, str], Sample]:
        """``read(image, label) -> Sample``: :meth:`read_paths` with ``options`` bound (what the converter calls per
        item; a format may return a cheaper function)."""
        return partial(self.read_paths, options=options)

    def list_pairs(self, *, images=None, labels=None, list_file=None, root=None,
                   options: Optional[ReadOptions] = None):
        """The (image, label) pairs of an input: ``(pairs, rejections)``, see
        :func:`swift_ocr.formats.layout.discover_pairs` (``list_file``: only when :attr:`list_files`).

        Raises:
            ValueError: not exactly one layout given, or a list file for a format that takes none.
            OcrFormatError: the input cannot be listed.
        """
        from swift_ocr.formats.layout import discover_pairs

        options = options or ReadOptions()
        if list_file is not None and not self.list_files:
            raise ValueError(f"a list file is only supported for --format "
                             f"{', '.join(f.name for f in formats() if getattr(f, 'list_files', False))}")
        return discover_pairs(images=images, labels=labels, list_file=list_file, root=root,
                              label_exts=self.label_exts, encoding=options.encoding,
                              allow_outside_root=options.allow_outside_root)

    def loader_rows(self, path, params, options):
        """One row per pair: ``{image_path, label_path, list_file, line, label_mtime_ns, label_size}`` (the label's
        modification time and size, so that ms-swift's map cache notices an edited label). ``path``: a dataset root,
        or a list file (:attr:`list_files`)."""
        if os.path.isfile(path):
            pairs, rejections = self.list_pairs(list_file=path, options=options)
        else:
            pairs, rejections = self.list_pairs(root=path, options=options)
        rows = []
        for p in pairs:
            st = os.stat(p.label)
            rows.append({"image_path": p.image, "label_path": p.label, "list_file": p.list_file or "",
                         "line": p.line or 0, "label_mtime_ns": st.st_mtime_ns, "label_size": st.st_size})
        return rows, rejections

    def read_row(self, row, source, params, options):
        return self.read_paths(row["image_path"], row["label_path"], options)


class FileFormat(LabelFormat):
    """A format with one file holding many items (see module docstring); subclasses implement :meth:`load_items`
    and :meth:`item_sample`, and usually :meth:`item_key`."""

    layout = FILE

    def load_items(self, path: str, params: Params, options: ReadOptions) -> Sequence[Any]:
        """The file's raw items, in order, as JSON-serialisable values (e.g. a JSON list's entries, or
        ``[line_no, text]`` per line of a text file: keep what :meth:`item_sample` needs to name the line).

        Raises:
            OcrFormatError: the file cannot be read at all (kinds ``file_not_found``, ``unreadable_file``,
                ``invalid_json``, ...; see :func:`swift_ocr.errors.read_error`).
        """
        raise NotImplementedError

    def item_key(self, item: Any, path: str, index: int, params: Params) -> str:
        """The split key of the ``index``-th (0-based) item: the identity of its image(s), so that items showing one
        image land in one split; reads no file. Default ``"<path>#<index + 1>"`` (every item its own key)."""
        return f"{path}#{index + 1}"

    def item_sample(self, item: Any, path: str, index: int, params: Params, options: ReadOptions) -> Sample:
        """The raw Sample of the ``index``-th (0-based) item of ``path`` (image paths absolute).

        Raises:
            OcrFormatError: the item does not follow the format (naming ``path`` and the item's line).
        """
        raise NotImplementedError

    def split_keys(self, path, params, options):
        return [self.item_key(item, path, i, params) for i, item in enumerate(self.load_items(path, params, options))]

    def iter_items(self, path, params, options):
        for i, item in enumerate(self.load_items(path, params, options)):
            try:
                yield self.item_sample(item, path, i, params, options)
            except OcrFormatError as e:
                yield e

    def loader_rows(self, path, params, options):
        """One row per item: ``{"item": its JSON text, "index": 0-based, "source": path}``; no listing rejections."""
        return [{"item": json.dumps(item, ensure_ascii=False), "index": i, "source": path}
                for i, item in enumerate(self.load_items(path, params, options))], []

    def read_row(self, row, source, params, options):
        return self.item_sample(json.loads(row["item"]), row["source"], row["index"], params, options)


_REGISTRY: Registry[LabelFormat] = Registry("format")


def register_format(fmt: LabelFormat, replace: bool = False) -> LabelFormat:
    """Add ``fmt`` to the registry (returns it). Call again with ``replace=True`` to swap a format of that name.

    Raises:
        ValueError: a name already registered (without ``replace``) or not made of lower case letters, digits and
            ``_``; an unknown layout; a pair format without label extensions.
        TypeError: ``fmt`` is not a :class:`LabelFormat` instance.
    """
    if not isinstance(fmt, LabelFormat):
        raise TypeError(f"register_format needs a LabelFormat instance, got {type(fmt).__name__}")
    name = fmt.name
    if not name or not all(c.islower() or c.isdigit() or c == "_" for c in name) or not name.isascii():
        raise ValueError(f"format name {name!r}: use lower case letters, digits and '_'")
    if fmt.layout not in (PAIRS, FILE):
        raise ValueError(f"format {name!r}: layout must be {PAIRS!r} or {FILE!r}, not {fmt.layout!r}")
    if fmt.layout == PAIRS and not getattr(fmt, "label_exts", ()):
        raise ValueError(f"format {name!r}: a pairs format needs label_exts")
    return _REGISTRY.add(name, fmt, replace)


def unregister_format(name: str) -> None:
    """Remove a format (for tests that register a throwaway one). Unknown names are ignored."""
    _REGISTRY.remove(name)


def get_format(name: str) -> LabelFormat:
    """The registered format ``name``.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    return _REGISTRY.get(name)


def format_names() -> Tuple[str, ...]:
    """The registered format names, in registration order (the built-ins: wordbox, icdar, parquet, got)."""
    return _REGISTRY.names()


def formats() -> Tuple[LabelFormat, ...]:
    """The registered formats, in registration order."""
    return _REGISTRY.values()


def all_format_options() -> Dict[str, FormatOption]:
    """Every registered format's own :class:`FormatOption`, by name (the first declaration of a shared name)."""
    out: Dict[str, FormatOption] = {}
    for fmt in _REGISTRY.values():
        for opt in fmt.options:
            out.setdefault(opt.name, opt)
    return out


def check_format_options(fmt: LabelFormat, given: Mapping[str, Any], flag: Callable[[str], str] = str) -> None:
    """Refuse options that only other formats take: ``given`` maps option names to values, those equal to their
    default (a :class:`FormatOption`'s, or ReadOptions' for :attr:`LabelFormat.read_option_fields`) or None count as
    not given. ``flag`` shows a name in the message (e.g. as ``--image-root``).

    Raises:
        ValueError: naming the options and the formats that take them.
    """
    own = set(fmt.option_names())
    defaults = {name: o.default for name, o in all_format_options().items()}
    defaults.update({f: getattr(ReadOptions(), f) for other in _REGISTRY.values() for f in other.read_option_fields})
    wrong = [name for name, value in given.items()
             if name in defaults and name not in own and value is not None and value != defaults[name]]
    if wrong:
        owners = sorted({f.name for f in _REGISTRY.values() for name in wrong if name in f.option_names()})
        raise ValueError(f"{' and '.join(flag(w) for w in wrong)} {'is' if len(wrong) == 1 else 'are'} for "
                         f"--format {', '.join(owners)}, not {fmt.name}")
