"""Model families: one module per family declaring its :class:`~swift_ocr.families.base.ModelFamily` spec and
registering it (:mod:`swift_ocr.families.base`). Importing this package registers the built-in families."""
from __future__ import annotations

from swift_ocr.families.base import (CodecOption, ModelFamily, TinyArch, check_family, codec_options, families,
                                     family_for_template, family_names, get_family, register_family, tiny_archs,
                                     unregister_family)
from swift_ocr.families.scaffold import Scaffold
# the built-in families, in the order the CLI lists them
from swift_ocr.families import (got, internvl, qwen2_vl, qwen2_5_vl, deepseek_ocr,  # noqa: E402,F401  (register)
                                 deepseek_ocr2, paddleocr_vl)

#: The family ``swift-ocr convert`` and :class:`swift_ocr.tasks.core.TaskConfig` use when none is named.
DEFAULT_FAMILY = "got"

__all__ = ["CodecOption", "DEFAULT_FAMILY", "ModelFamily", "Scaffold", "TinyArch", "check_family", "codec_options",
           "families", "family_for_template", "family_names", "get_family", "register_family", "tiny_archs",
           "unregister_family"]
