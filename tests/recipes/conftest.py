"""Fixtures shared by the recipe tests."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def swift_parser():
    """``parse(args_class_name, argv) -> namespace`` with ms-swift's parser; fails on any unknown argument or a
    value its type does not accept."""
    from transformers import HfArgumentParser

    import swift.arguments as swift_args
    from swift.utils import utils as swift_utils

    parsers = {}

    def parse(name: str, argv):
        if name not in parsers:
            with swift_utils._patch_get_type_hints():
                parsers[name] = HfArgumentParser([getattr(swift_args, name)])
        namespace, remaining = parsers[name].parse_known_args(argv)
        assert remaining == [], f"ms-swift does not know {remaining}"
        return namespace

    return parse
