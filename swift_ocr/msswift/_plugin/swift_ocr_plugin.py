"""ms-swift plugin entry for swift-ocr: ``swift sft --custom_register_path <this file> ...``.

This folder holds only this file because ms-swift puts the plugin's folder on ``sys.path``; nothing here can
shadow another module. Works from a checkout (the checkout root is three folders up) and from an installed package.
"""
import os
import sys

try:
    import swift_ocr  # noqa: F401  (installed, or already importable)
except ImportError:  # running from a checkout that is not installed
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

from swift_ocr.msswift.plugin import cpu_data_parallel, register_all  # noqa: E402

register_all()
cpu_data_parallel()
