"""The plugin entry: a file path (ms-swift 4.6 imports plugins by file), idempotent, shipped in the package."""
import subprocess
import sys
import zipfile
from pathlib import Path

from swift_ocr.msswift.plugin import plugin_path, register_all

REPO = Path(__file__).resolve().parents[1]


def test_plugin_path_is_a_lone_python_file():
    path = Path(plugin_path())
    assert path.is_file() and path.suffix == ".py"
    # ms-swift puts the plugin's folder on sys.path: nothing else importable may live there
    assert [p.name for p in path.parent.iterdir() if p.name != "__pycache__"] == [path.name]


def test_register_all_is_idempotent():
    from swift.dataset import DATASET_MAPPING
    from swift.utils import import_external_file
    first = register_all()
    import_external_file(plugin_path())
    import_external_file(plugin_path())
    assert register_all() == first
    for name in first["datasets"]:
        assert name in DATASET_MAPPING


def test_cli_prints_the_path():
    out = subprocess.run([str(Path(sys.executable).parent / "swift-ocr"), "plugin-path"], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == plugin_path()


def test_wheel_ships_the_plugin_file(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(REPO)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("swift_ocr-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "swift_ocr/msswift/_plugin/swift_ocr_plugin.py" in names
    assert "swift_ocr/cli/main.py" in names
