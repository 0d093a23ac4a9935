"""``swift-ocr plugin-path``: print the plugin file for ``swift ... --custom_register_path``."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Print the absolute path of swift-ocr's ms-swift plugin file. Use it as "
                     "`swift sft --custom_register_path $(swift-ocr plugin-path) ...` "
                     "(ms-swift 4.x imports plugins by file path, not by package name).")


def run(args: argparse.Namespace) -> int:
    from swift_ocr.msswift.plugin import plugin_path
    print(plugin_path())
    return 0
