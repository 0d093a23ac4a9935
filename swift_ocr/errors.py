"""Errors and rejection records shared by readers, converters and preprocessors."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional


class OcrFormatError(ValueError):
    """A label or data file does not follow its documented format.

    The message always names the file and, where there is one, the 1-based line (``file:line: reason``).
    """

    def __init__(self, source: Optional[str], line: Optional[int], reason: str):
        self.source = source
        self.line = line
        self.reason = reason
        where = str(source) if source is not None else "<unknown>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {reason}")


@dataclass
class Rejection:
    """An input item that was not converted, kept so that nothing is dropped silently.

    Written one per line to ``<output>.rejects.jsonl`` by the converter.
    """

    source: Optional[str]
    line: Optional[int]
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_error(cls, err: OcrFormatError) -> "Rejection":
        return cls(err.source, err.line, err.reason)
