"""What swift-ocr knows about one model family (:class:`ModelFamily`), and the registry of families.

Every place that depends on the model family -- the default prompts of ``convert`` and the plugin's datasets, the
box codec of the ``det`` task, ``eval det``, ``draw`` and ``--eval_metric ocr_det``, the image-token arithmetic and
chat markup of ``validate``, the ms-swift model type and template defaults, the tiny test models and every CLI
choice list -- reads the family's spec from this registry; nothing else branches on a family name.

Adding a family = one module under ``swift_ocr/families/`` that builds a :class:`ModelFamily` and calls
:func:`register_family` (imported by ``swift_ocr/families/__init__.py``), its codec under ``swift_ocr/codecs/``, a
recipe folder under ``recipes/`` and a row in the docs. A family may also be registered at run time (a test, a
user plugin): every consumer reads the registry when it runs, not at import time.

This module imports nothing heavy and nothing of swift-ocr's other layers (no codecs, validate, convert or ms-swift
import); codecs and tiny-model builders are named as ``"module:attribute"`` strings and imported when first used.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

from swift_ocr.families.scaffold import Scaffold
from swift_ocr.registry import Registry

#: A callable, or a ``"package.module:attribute[.attribute]"`` reference to one, imported on first use.
Ref = Union[str, Callable[..., Any]]


def resolve(ref: Ref) -> Callable[..., Any]:
    """The callable ``ref`` names: ``ref`` itself, or the attribute of ``"module:attr.attr"`` (imported now).

    Raises:
        ValueError: a string that is not ``module:attribute``. ImportError/AttributeError: it names nothing.
    """
    if not isinstance(ref, str):
        return ref
    module, sep, attr = ref.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"expected 'package.module:attribute', got {ref!r}")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class CodecOption:
    """A codec parameter a user may set: on the command line of ``convert`` (the ``det`` targets), ``eval det``,
    ``draw`` and ``report`` (parsing the answers), and as an option of the plugin's dataset spec. The ``det`` rows
    record the value each was written with (:meth:`ModelFamily.codec_settings`).

    Attributes:
        name: the codec's keyword argument (``min_pixels``), also the attribute of the built codec that holds the
            value; the flag is ``--min-pixels``.
        help: the flag's help text (the CLI adds which families take it and its default).
        type: the argument type (``int``).
    """

    name: str
    help: str
    type: Callable[[str], Any] = int

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class TinyArch:
    """A tiny random-weight untrained test model of a family (``swift-ocr tiny-model --arch NAME``).

    Attributes:
        builder: ``"module:function"`` (or the function) ``(output_dir: Path, seed: int = 0) -> Path`` writing every
            file of the model into an existing empty folder (:func:`swift_ocr.tiny.models.build_tiny_model`).
        model_type, template: ms-swift ``--model_type`` / ``--template`` to run the built model with.
    """

    builder: Ref
    model_type: str
    template: str


def _no_settings(environ: Mapping[str, str]) -> None:
    return None


def _same_codec(family: "ModelFamily", environ: Mapping[str, str], **params):
    return family.make_codec(**params)


@dataclass(frozen=True)
class ModelFamily:
    """Everything swift-ocr knows about one model family; one instance per family module, registered with
    :func:`register_family`.

    Attributes:
        name: the family's id (``--model-family``, ``?family=`` of the plugin datasets, ``SWIFT_OCR_FAMILY``).
        title: the model(s) it stands for, for help texts (``"GOT-OCR2.0"``).
        model_type: default ms-swift ``--model_type`` (``validate --model``'s exact counter, recipes).
        template: default ms-swift ``--template`` (its chat markup is :attr:`scaffold`).
        det_template: ``--template`` for ``det`` training when it differs from :attr:`template` (internvl: our
            ``internvl2_ocr_det`` with a detection system prompt); None: :attr:`template`.
        template_prefixes: ms-swift template names starting with one of these belong to the family
            (:func:`family_for_template`; the longest matching prefix over all families wins).
        rec_prompt: the default ``rec``/``line`` instruction (without ``<image>``; the writers add the tags).
        prompt_styles: further named ``rec`` instructions (``--prompt-style NAME``; ``plain`` is :attr:`rec_prompt`).
        det_prompts: ``{lang: instruction}`` replacing the generic detection instructions
            (:data:`swift_ocr.families.prompts.DET_PROMPTS`) for this family.
        det_system: ``(shape, order) -> str`` the system prompt describing the ``det`` targets written with
            ``--det-shape shape --order order``, or None when the family has no detection system prompt of ours;
            the function raises ValueError for a shape/order it cannot describe.
        keeps_region_prompts: an item's own region prompt (GOT's ``[x1, y1, x2, y2] OCR: ``, ``[red] OCR: ``) is
            kept for this family (only for the family whose prompts those are); other families reject such items.
        codec: ``"module:Class"`` (or a callable) building the family's detection-as-text codec
            (:class:`swift_ocr.codecs.base.Codec`) from keyword parameters.
        codec_from_env: ``(family, environ, **params) -> Codec``: the codec matching the images ms-swift feeds the
            model under ``environ`` (qwen2_5_vl: ``MAX_PIXELS`` / ``MIN_PIXELS``); default: ``make_codec(**params)``.
        codec_options: codec parameters a CLI may set (qwen2_5_vl: ``min_pixels``, ``max_pixels``).
        scaffold: the chat markup of :attr:`template` for validate's token estimate.
        image_settings: ``environ -> settings``: the image settings ms-swift reads from these environment variables
            (defaults when unset); raises ValueError for a value that is not a number/boolean.
        image_tokens: ``(width, height, settings) -> int``: image tokens of one ``width x height`` image (pixels of the
            original image) with ``settings`` from :attr:`image_settings`; raises ValueError for a size it refuses.
        env_vars: environment variables that change what the model sees (image tokens, resizing); they must be the
            same at training and inference time, and :attr:`image_settings` reads only these.
        recipe: folder under ``recipes/`` with the family's scripts (None: none yet).
        tiny_archs: ``{arch: TinyArch}`` tiny test models of the family (``swift-ocr tiny-model --arch``).
        counter_hint: advice ``validate --model`` adds when ms-swift cannot encode a probe row with the family's
            default model type and template (another variant of the family needs other flags).
        model_type_notes: ``{ms-swift model_type: note}`` added when ms-swift infers that model type from a model
            folder whose probe row failed (what that model type needs).
    """

    name: str
    title: str
    model_type: str
    template: str
    rec_prompt: str
    codec: Ref
    scaffold: Scaffold
    image_tokens: Callable[[int, int, Any], int]
    image_settings: Callable[[Mapping[str, str]], Any] = _no_settings
    env_vars: Tuple[str, ...] = ()
    det_template: Optional[str] = None
    template_prefixes: Tuple[str, ...] = ()
    prompt_styles: Mapping[str, str] = field(default_factory=dict)
    det_prompts: Mapping[str, str] = field(default_factory=dict)
    det_system: Optional[Callable[[str, str], Optional[str]]] = None
    keeps_region_prompts: bool = False
    codec_from_env: Callable[..., Any] = _same_codec
    codec_options: Tuple[CodecOption, ...] = ()
    recipe: Optional[str] = None
    tiny_archs: Mapping[str, TinyArch] = field(default_factory=dict)
    counter_hint: Optional[str] = None
    model_type_notes: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if not self.name or not self.name.isidentifier():
            raise ValueError(f"a model family name must be an identifier, got {self.name!r}")
        if "plain" in self.prompt_styles:
            raise ValueError(f"family {self.name!r}: prompt style 'plain' is rec_prompt; do not redefine it")
        if self.scaffold.template != self.template:
            raise ValueError(f"family {self.name!r}: scaffold.template {self.scaffold.template!r} is not the "
                             f"family's template {self.template!r}")

    def make_codec(self, **params):
        """A new detection-as-text codec of the family built with ``params``.

        Raises:
            ValueError: bad params (unknown names included).
        """
        factory = resolve(self.codec)
        try:
            return factory(**params)
        except TypeError as e:
            raise ValueError(f"bad parameters for codec {self.name!r}: {e}") from None

    def codec_for_env(self, environ: Optional[Mapping[str, str]] = None, **params):
        """The codec matching ms-swift's image handling under ``environ`` (default ``os.environ``).

        Raises:
            ValueError: bad params or environment values.
        """
        import os

        return self.codec_from_env(self, os.environ if environ is None else environ, **params)

    def codec_settings(self, codec) -> Dict[str, Any]:
        """``{option: value}`` of ``codec`` (one of this family's) for each of :attr:`codec_options`, in their
        order: what a ``det`` row records it was written with; ``{}`` for a family that declares none."""
        return {opt.name: getattr(codec, opt.name) for opt in self.codec_options}

    def check_codec_options(self, params: Mapping[str, Any]) -> Dict[str, Any]:
        """``params`` (codec option name -> value) checked against :attr:`codec_options` and converted by each
        option's type, in the options' order.

        Raises:
            ValueError: a name the family does not declare (the message names the ones it does), a value its type
                refuses.
        """
        declared = {opt.name: opt for opt in self.codec_options}
        unknown = [name for name in params if name not in declared]
        if unknown:
            takes = f"it takes {', '.join(declared)}" if declared else "it takes none"
            raise ValueError(f"codec option(s) {', '.join(unknown)} do not apply to model family {self.name!r} "
                             f"({takes})")
        out: Dict[str, Any] = {}
        for name, opt in declared.items():
            if name in params and params[name] is not None:
                try:
                    out[name] = opt.type(params[name])
                except (TypeError, ValueError):
                    raise ValueError(f"codec option {name}={params[name]!r} of model family {self.name!r} is not "
                                     f"a valid {getattr(opt.type, '__name__', 'value')}") from None
        return out

    def settings_from_env(self, environ: Optional[Mapping[str, str]] = None) -> Any:
        """:attr:`image_settings` of ``environ`` (default ``os.environ``)."""
        import os

        return self.image_settings(os.environ if environ is None else environ)

    def template_for(self, task: str) -> str:
        """The default ms-swift ``--template`` for ``task`` (``det``: :attr:`det_template` when set)."""
        return self.det_template if task == "det" and self.det_template else self.template


_REGISTRY: Registry[ModelFamily] = Registry("model family")


def register_family(spec: ModelFamily, replace: bool = False) -> ModelFamily:
    """Add ``spec`` to the registry under ``spec.name``; returns it.

    Raises:
        ValueError: the name is taken (and ``replace`` is False).
    """
    if not isinstance(spec, ModelFamily):
        raise TypeError(f"expected a ModelFamily, got {type(spec).__name__}")
    return _REGISTRY.add(spec.name, spec, replace)


def unregister_family(name: str) -> ModelFamily:
    """Remove family ``name`` from the registry (tests registering a throwaway family); returns its spec.

    Raises:
        ValueError: unknown family.
    """
    spec = get_family(name)
    _REGISTRY.remove(name)
    return spec


def family_names() -> Tuple[str, ...]:
    """The registered family names, in registration order (the CLI's ``--model-family`` choices)."""
    return _REGISTRY.names()


def families() -> Tuple[ModelFamily, ...]:
    """The registered specs, in registration order."""
    return _REGISTRY.values()


def get_family(name: str) -> ModelFamily:
    """The spec of family ``name``.

    Raises:
        ValueError: unknown family (the message lists the registered ones).
    """
    return _REGISTRY.get(name)


def check_family(name: str) -> str:
    """Return ``name`` or raise ``ValueError`` naming the known families."""
    get_family(name)
    return name


def family_for_template(template: Optional[str]) -> Optional[str]:
    """The family an ms-swift template name belongs to (its longest :attr:`ModelFamily.template_prefixes` match over
    all families, the family's own :attr:`~ModelFamily.template` and :attr:`~ModelFamily.det_template` counting as
    prefixes), or None when no family claims it."""
    if not template:
        return None
    best, best_len = None, -1
    for spec in _REGISTRY.values():
        for prefix in (spec.template, spec.det_template or "") + tuple(spec.template_prefixes):
            if prefix and template.startswith(prefix) and len(prefix) > best_len:
                best, best_len = spec.name, len(prefix)
    return best


def codec_options() -> Dict[str, Tuple[CodecOption, Tuple[str, ...]]]:
    """``{option name: (option, families that take it)}`` over the registered families (first declaration wins)."""
    out: Dict[str, Tuple[CodecOption, Tuple[str, ...]]] = {}
    for spec in _REGISTRY.values():
        for opt in spec.codec_options:
            first, names = out.get(opt.name, (opt, ()))
            out[opt.name] = (first, names + (spec.name,))
    return out


def tiny_archs() -> Dict[str, Tuple[str, TinyArch]]:
    """``{arch: (family name, TinyArch)}`` over the registered families.

    Raises:
        ValueError: two families declare the same arch name.
    """
    out: Dict[str, Tuple[str, TinyArch]] = {}
    for spec in _REGISTRY.values():
        for arch, tiny in spec.tiny_archs.items():
            if arch in out:
                raise ValueError(f"tiny-model arch {arch!r} is declared by families {out[arch][0]!r} and {spec.name!r}")
            out[arch] = (spec.name, tiny)
    return out
