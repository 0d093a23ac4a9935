"""File helpers: plain reads of input files against ``open()``."""
from pathlib import Path

import pytest

from swift_ocr.io_utils import read_bytes


def test_read_bytes_equals_open_read_on_real_files(shared_data, tmp_path):
    paths = sorted(p for p in shared_data.rglob("*") if p.is_file())
    big = tmp_path / "big.bin"  # longer than one os.read
    big.write_bytes(bytes(range(256)) * 1000)
    paths += [big, tmp_path / "empty.txt"]
    (tmp_path / "empty.txt").write_bytes(b"")
    assert any(p.stat().st_size > 1 << 16 for p in paths)
    for p in paths:
        data = p.read_bytes()
        assert read_bytes(p) == data
        assert read_bytes(str(p), 100) == data[:100]


@pytest.mark.parametrize("name", ["missing.txt", "."])
def test_read_bytes_raises_what_open_raises(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(OSError) as expected:
        Path(path).read_bytes()
    with pytest.raises(OSError) as got:
        read_bytes(path)
    assert type(got.value) is type(expected.value) and str(got.value) == str(expected.value)
