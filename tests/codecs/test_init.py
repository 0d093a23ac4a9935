"""The codec registry."""
from __future__ import annotations

import pytest

from swift_ocr.codecs import get_codec
from swift_ocr.families import family_names
from swift_ocr.codecs.base import Codec


def test_every_family_has_a_codec():
    assert {"internvl", "qwen2_vl", "qwen2_5_vl", "got", "deepseek_ocr"} <= set(family_names())
    for family in family_names():
        codec = get_codec(family)
        assert isinstance(codec, Codec) and codec.family == family


def test_each_call_builds_a_new_codec_with_params():
    a, b = get_codec("internvl"), get_codec("internvl", shape="quad")
    assert a is not b and (a.shape, b.shape) == ("box", "quad")
    assert get_codec("qwen2_5_vl", max_pixels=200704).max_pixels == 200704


def test_unknown_family_names_the_known_ones():
    with pytest.raises(ValueError, match="internvl.*deepseek_ocr"):
        get_codec("florence2")


def test_bad_params_are_a_value_error():
    with pytest.raises(ValueError, match="got"):
        get_codec("got", shape="quad")
