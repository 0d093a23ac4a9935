"""swift_ocr.registry: the one name -> entry registry behind families, formats and writers, and
``import_package_modules``, which makes "adding a family / format / writer = adding its module" true: every module of
the package is imported (so it registers itself), the listed ones first."""
from __future__ import annotations

import importlib
import sys

import pytest

from swift_ocr.registry import Registry, import_package_modules


@pytest.fixture
def plugpkg(tmp_path, monkeypatch):
    """A package on sys.path whose modules append their name to ``plugpkg.seen`` when imported."""
    pkg = tmp_path / "plugpkg_test"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("seen = []\n")
    for name in ("alpha", "beta", "gamma", "_private"):
        (pkg / f"{name}.py").write_text(f"import plugpkg_test\nplugpkg_test.seen.append({name!r})\n")
    (pkg / "sub" / "__init__.py").write_text("import plugpkg_test\nplugpkg_test.seen.append('sub')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("plugpkg_test")
    for mod in [m for m in sys.modules if m == "plugpkg_test" or m.startswith("plugpkg_test.")]:
        del sys.modules[mod]


def test_listed_modules_first_then_the_others_by_name_private_and_subpackages_left_out(plugpkg):
    import_package_modules(plugpkg.__name__, plugpkg.__path__, ("gamma",))
    assert plugpkg.seen == ["gamma", "alpha", "beta"]
    import_package_modules(plugpkg.__name__, plugpkg.__path__, ("gamma",))  # already imported: nothing runs again
    assert plugpkg.seen == ["gamma", "alpha", "beta"]


def test_a_module_that_does_not_import_is_an_error_not_a_silent_skip(plugpkg):
    with open(plugpkg.__path__[0] + "/broken.py", "w") as fh:
        fh.write("import no_such_module_of_this_test\n")
    with pytest.raises(ImportError):
        import_package_modules(plugpkg.__name__, plugpkg.__path__)


def test_the_built_in_packages_register_every_module_they_hold():
    from swift_ocr import families, formats, writers

    assert set(families.family_names()) >= {"got", "internvl", "qwen2_vl", "qwen2_5_vl", "deepseek_ocr",
                                            "deepseek_ocr2", "paddleocr_vl"}
    assert formats.format_names()[:4] == ("wordbox", "icdar", "parquet", "got")
    assert writers.writer_names()[0] == "swift"


def test_registry_keeps_order_refuses_a_taken_name_and_lists_names_for_an_unknown_one():
    reg: Registry[int] = Registry("thing")
    reg.add("b", 1)
    reg.add("a", 2)
    reg.add("a", 2)  # the same entry again: no change, no error
    assert reg.names() == ("b", "a") and reg.values() == (1, 2) and "a" in reg
    with pytest.raises(ValueError, match="thing 'a' is already registered"):
        reg.add("a", 3)
    assert reg.add("a", 3, replace=True) == 3 and reg.get("a") == 3
    with pytest.raises(ValueError, match=r"unknown thing 'c'; choose from b, a"):
        reg.get("c")
    assert reg.remove("b") == 1 and reg.remove("b") is None and reg.names() == ("a",)
