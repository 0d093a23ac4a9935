"""Model families: one module per family declaring its :class:`~swift_ocr.families.base.ModelFamily` spec and
registering it (:mod:`swift_ocr.families.base`). Importing this package imports every module in it, so that each
family module registers itself (:func:`swift_ocr.registry.import_package_modules`): adding a family is adding its
module."""
from __future__ import annotations

from swift_ocr.families.base import (CodecOption, ModelFamily, TinyArch, check_family, codec_options, families,
                                     family_for_template, family_names, get_family, register_family, tiny_archs,
                                     unregister_family)
from swift_ocr.families.scaffold import Scaffold
from swift_ocr.registry import import_package_modules

#: The family ``swift-ocr convert`` and :class:`swift_ocr.tasks.core.TaskConfig` use when none is named.
DEFAULT_FAMILY = "got"

# every module here is imported, so each family module registers itself; these first, in the order the CLI lists
# them, then any other family module by name
import_package_modules(__name__, __path__, ("got", "internvl", "qwen2_vl", "qwen2_5_vl", "deepseek_ocr",
                                            "deepseek_ocr2", "paddleocr_vl"))

__all__ = ["CodecOption", "DEFAULT_FAMILY", "ModelFamily", "Scaffold", "TinyArch", "check_family", "codec_options",
           "families", "family_for_template", "family_names", "get_family", "register_family", "tiny_archs",
           "unregister_family"]
