"""Everything swift-ocr adds to ms-swift, registered in one idempotent call, and the plugin file's location.

ms-swift 4.6 imports each ``--custom_register_path`` / ``--external_plugins`` entry by *file* path
(``swift.utils.import_external_file``), so the entry point is the file ``swift_ocr/_plugin/swift_ocr_plugin.py``;
:func:`plugin_path` returns it, from a checkout or an installed package alike.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

_REGISTERED: Dict[str, List[str]] = {}


def plugin_path() -> str:
    """Absolute path of the plugin file to pass to ``swift ... --custom_register_path``."""
    return str(Path(__file__).resolve().parent / "_plugin" / "swift_ocr_plugin.py")


def register_all() -> Dict[str, List[str]]:
    """Register swift-ocr's datasets (:mod:`swift_ocr.swift_dataset`), chat templates
    (:mod:`swift_ocr.swift_templates`), evaluation metrics ``ocr`` / ``ocr_det`` (:mod:`swift_ocr.swift_metrics`)
    and the trainer callback ``swift_ocr_seen`` (:mod:`swift_ocr.swift_callbacks`) into ms-swift. Calling it again
    does nothing and returns the same names."""
    if "datasets" not in _REGISTERED:
        from .swift_dataset import register_datasets
        _REGISTERED["datasets"] = register_datasets()
    if "templates" not in _REGISTERED:
        from .swift_templates import register_templates
        _REGISTERED["templates"] = register_templates()
    if "metrics" not in _REGISTERED:
        from .swift_metrics import register_metrics
        _REGISTERED["metrics"] = register_metrics()
    if "callbacks" not in _REGISTERED:
        from .swift_callbacks import register_callbacks
        _REGISTERED["callbacks"] = register_callbacks()
    return dict(_REGISTERED)
