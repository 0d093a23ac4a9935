"""The ms-swift dataset spec's ``icdar_variant`` and ``scripts`` options (issue 18) read label files as the converter's
``--icdar-variant`` / ``--scripts`` do. MLT labels are written in tmp_path from the real ICDAR 2015 ground truth
(a script column inserted, text and geometry kept)."""
import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from swift.dataset import load_dataset  # noqa: E402
from swift.utils import import_external_file  # noqa: E402

from swift_ocr.convert.api import ConvertOptions, convert  # noqa: E402
from swift_ocr.formats import open_source  # noqa: E402
from swift_ocr.formats.checks import ReadOptions  # noqa: E402
from swift_ocr.msswift.plugin import plugin_path  # noqa: E402
from swift_ocr.msswift.datasets import parse_spec, read_options  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def plugin():
    import_external_file(plugin_path())


def _mlt_dataset(root, shared_data):
    """imgs/ + gts/ of 3 real ICDAR 2015 images; MLT labels: ``None`` for ###, ``Symbols`` for texts without a
    letter, else ``Latin``. Returns the expected rec targets with only Latin kept, by image name."""
    (root / "imgs").mkdir(parents=True)
    (root / "gts").mkdir()
    expected = {}
    for n in (1, 2, 3):
        os.symlink(shared_data / "icdar2015" / "imgs" / f"img_{n}.jpg", root / "imgs" / f"img_{n}.jpg")
        lines, latin = [], []
        raw = (shared_data / "icdar2015" / "gts" / f"gt_img_{n}.txt").read_bytes().decode("utf-8-sig")
        for line in raw.splitlines():
            coords, text = line.split(",", 8)[:8], line.split(",", 8)[8]
            script = "None" if text == "###" else ("Latin" if any(c.isalpha() for c in text) else "Symbols")
            lines.append(",".join(coords) + f",{script},{text}")
            if script == "Latin":
                latin.append(text)
        (root / "gts" / f"gt_img_{n}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        expected[f"img_{n}.jpg"] = "\n".join(latin)
    return expected


def test_spec_variant_and_scripts_match_the_converter(tmp_path, shared_data):
    expected = _mlt_dataset(tmp_path / "d", shared_data)
    ds, _ = load_dataset([f"swift-ocr/icdar:{tmp_path / 'd'}?family=got&icdar_variant=mlt&scripts=Latin"],
                         load_from_cache_file=False)
    convert(open_source("icdar", input_path=str(tmp_path / "d"), icdar_variant="mlt", scripts=["Latin"]),
            ConvertOptions(family="got"), str(tmp_path / "out.jsonl"))
    rows = [json.loads(line) for line in open(tmp_path / "out.jsonl", encoding="utf-8")]
    assert [r["messages"] for r in ds] == [r["messages"] for r in rows]
    got = {os.path.basename(r["images"][0]["path"]): r["messages"][-1]["content"] for r in ds}
    assert got == {k: v for k, v in expected.items() if v}


def test_spec_variant_option_values():
    assert read_options(parse_spec("a?family=got&icdar_variant=polygon")[1]).icdar_variant == "polygon"
    assert read_options(parse_spec("a?family=got&scripts=Chinese,Latin")[1]).scripts == ("Chinese", "Latin")
    assert read_options(parse_spec("a?family=got")[1]) == ReadOptions()
    with pytest.raises(ValueError, match="unknown ICDAR variant"):
        read_options(parse_spec("a?family=got&icdar_variant=2017")[1])
    with pytest.raises(ValueError, match="unknown MLT script"):
        read_options(parse_spec("a?family=got&scripts=Latn")[1])
