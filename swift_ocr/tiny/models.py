"""Build tiny, random-weight, **untrained** OCR models so that ms-swift recipes can run end to end on a CPU.

The models keep the real architecture and the real input geometry of the upstream checkpoint (so ms-swift's
model type, template, image processor and LoRA targeting behave exactly as with the real model) but every
hidden size is tiny and every weight is random. They produce gibberish: they exist only to prove that a
pipeline (``swift sft`` -> ``swift export --merge_lora`` -> ``swift infer``) runs, never to measure quality.

One builder per architecture lives here; the model families name theirs (``--arch`` name -> builder, ms-swift
``--model_type`` and ``--template``: :attr:`swift_ocr.families.base.ModelFamily.tiny_archs`, listed by
:func:`tiny_archs`). Heavy libraries (torch, transformers, tokenizers) are imported inside the builders.
"""
from __future__ import annotations

import json
import os
import shutil
import string
import tempfile
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Union

#: Marker written into ``config.json`` (top level) of every tiny model; ``True`` means random and untrained.
TINY_MARKER_KEY = "swift_ocr_tiny_random_untrained"

#: GOT's image tokens (upstream: stepfun-ai/GOT-OCR-2.0-hf tokenizer and transformers' ``GotOcr2Processor``)
#: and the Qwen ChatML tokens used by ms-swift's ``got_ocr2_hf`` template (``QwenTemplateMeta``).
GOT_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<imgpad>"]

# Common simplified Chinese characters (plus CJK punctuation). Byte-level BPE already covers every
# UTF-8 string; these only give the merges some Chinese to learn from.
_COMMON_CHINESE = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后"
    "小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长"
    "知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最"
    "间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市"
    "眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计"
    "店号价元角分共收找零现金税额总计合计单据发票日期时间地址电话有限公司超市餐厅商品数量单价小计折扣会员"
    "韩国馆作家协会届儿童文学网络空间安全正品促销桶装划算强力去污符国标度深防冻结冰直击底惊喜福利容错过极速"
    "货标准破损就赔假一十起日常券后，。、；：？！“”‘’（）《》【】—…·￥"
)

_ENGLISH_LINES = [
    "TAN WOON YANN",
    "BOOK TA .K (TAMAN DAYA) SDN BHD",
    "NO.53 55,57 & 59, JALAN SAGU 18, TAMAN DAYA, 81100 JOHOR BAHRU, JOHOR.",
    "DOCUMENT NO : TD01167104",
    "DATE: 25/12/2018 8:13:39 PM",
    "CASHIER: MANIS  MEMBER:",
    "CASH BILL  TOTAL: 9.00  ROUNDING: 0.00  CHANGE: 1.00",
    "GST SUMMARY  AMOUNT(RM)  TAX(RM)  SR @ 6%",
    "THANK YOU FOR SHOPPING WITH US. GOODS SOLD ARE NOT RETURNABLE.",
    "The quick brown fox jumps over the lazy dog.",
    "Invoice #0042 - Qty 3 x $12.50 = $37.50 (incl. tax)",
    "Tel: +60-7-3550 9999  Fax: 07-355 1111  email: info@example.com",
    "http://www.example.com/receipt?id=123&amp;n=7",
]


def _training_corpus() -> Iterator[str]:
    """Small built-in corpus for the tiny BPE tokenizer: ASCII, receipt-like English, common Chinese."""
    yield string.printable
    yield string.ascii_letters + " " + string.digits + " " + string.punctuation
    for _ in range(3):
        yield from _ENGLISH_LINES
        yield from (line.lower() for line in _ENGLISH_LINES)
    for start in range(0, len(_COMMON_CHINESE), 20):
        yield _COMMON_CHINESE[start:start + 20]
    yield "在中国作家协会第三届儿童文学 中国网络空间安全 正品促销 大桶装更划算 强力去污符合国标 -40°C深度防冻不结冰"
    yield "日期：2018年12月25日 总计：￥9.00 找零：1.00 谢谢惠顾，欢迎再次光临！"


def build_byte_level_bpe(special_tokens: List[str], vocab_size: int = 1024,
                         named_tokens: Optional[Dict[str, str]] = None, individual_digits: bool = False):
    """Train a small byte-level BPE tokenizer (``tokenizers`` library) on the built-in corpus.

    Byte-level BPE (GPT-2/Qwen style) starts from all 256 byte values, so every UTF-8 string — ASCII,
    Chinese, emoji — encodes without unknown tokens and decodes back to exactly the same text.
    ``special_tokens`` are added as whole, never-split tokens with ids ``0..len(special_tokens)-1``.

    ``named_tokens`` (e.g. ``{"context_image_token": "<IMG_CONTEXT>"}``, each one of ``special_tokens``) become
    named attributes of the tokenizer (``tokenizer.context_image_token`` / ``..._id``), saved in
    ``tokenizer_config.json`` as ``extra_special_tokens``, as processors such as ``InternVLProcessor`` expect.

    ``individual_digits``: split every digit into its own token before BPE, as Qwen2's tokenizer does (its
    pre-tokenizer regex takes ``\\p{N}`` one digit at a time); the default keeps GPT-2's digit runs (``2018`` can be
    one token), as the existing tiny models were built.

    Returns a ``transformers.PreTrainedTokenizerFast`` with ``eos_token``/``pad_token`` unset; callers set them.
    Deterministic: the corpus is fixed and BPE training has no randomness.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if individual_digits:
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), tokenizer.pre_tokenizer])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_training_corpus(), trainer=trainer)
    extra = {"extra_special_tokens": dict(named_tokens)} if named_tokens else {}
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, clean_up_tokenization_spaces=False, **extra)


def _readme(arch: str, seed: int, details: Dict[str, object]) -> str:
    lines = [
        f"# TINY RANDOM UNTRAINED {arch} model (swift-ocr test fixture)",
        "",
        "**This model is tiny, has random weights and is untrained. Its output is gibberish.**",
        "It exists only so that ms-swift recipes (sft -> export --merge_lora -> infer) can run end to end",
        "on a CPU in tests and demos. Never report its scores as OCR results.",
        "",
        f"- built by: `swift_ocr.tiny.models.build_tiny_model(arch={arch!r}, seed={seed})`",
    ]
    lines += [f"- {key}: {value}" for key, value in details.items()]
    return "\n".join(lines) + "\n"


def _mark_config(config_path: Path, info: Dict[str, object]) -> None:
    """Add the tiny/random/untrained marker to a saved ``config.json``."""
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config[TINY_MARKER_KEY] = True
    config["swift_ocr_tiny_model_info"] = info
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def _publish_dir(staging: Path, output_dir: Path) -> None:
    """Move a fully written ``staging`` dir to ``output_dir`` (same filesystem).

    A missing or empty ``output_dir`` is replaced in one rename; otherwise each file is moved in with
    ``os.replace`` (files of an older build that the new one also writes are overwritten, others stay).
    Permissions are reset to the umask default (``mkdtemp``/``mkstemp`` create 0700/0600).
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    for item in staging.iterdir():
        os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~umask)
    if output_dir.is_dir() and not any(output_dir.iterdir()):
        output_dir.rmdir()
    if not output_dir.exists():
        os.rename(staging, output_dir)
        return
    if not output_dir.is_dir():
        raise NotADirectoryError(f"{output_dir}: exists and is not a directory")
    for item in staging.iterdir():
        os.replace(item, output_dir / item.name)
    staging.rmdir()


# Weight-init std for the tiny models. With the usual 0.02 a tiny tied-embedding decoder just repeats its
# last input token ("\n") whatever the image; with 0.5 greedy output is varied gibberish that differs
# between images, so a pipeline that loses the image, or an empty prediction, is visible downstream.
_TINY_INIT_RANGE = 0.5

#: ChatML end-of-turn and padding tokens of both tiny models (Qwen2 decoders, ms-swift's ChatML templates).
_EOS_TOKEN = "<|im_end|>"
_PAD_TOKEN = "<|endoftext|>"


def _tiny_tokenizer(special_tokens: List[str], model_max_length: int,
                    named_tokens: Optional[Dict[str, str]] = None, individual_digits: bool = False):
    """The tiny byte-level BPE (:func:`build_byte_level_bpe`) with ChatML eos/pad set, and ``{token: id}`` of
    ``special_tokens``. Returns ``(tokenizer, ids)``."""
    tokenizer = build_byte_level_bpe(special_tokens, named_tokens=named_tokens, individual_digits=individual_digits)
    tokenizer.eos_token = _EOS_TOKEN
    tokenizer.pad_token = _PAD_TOKEN
    tokenizer.model_max_length = model_max_length
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in special_tokens}
    return tokenizer, ids


def _tiny_qwen2_text_config(vocab_size: int, ids: Dict[str, int], max_positions: int) -> Dict[str, object]:
    """``text_config`` of both tiny models: a Qwen2 decoder of width 32 (2 layers, 4 heads, 2 KV heads) with
    tied embeddings as upstream, ``rope_theta`` 1e6, random weights of std ``_TINY_INIT_RANGE``."""
    return dict(
        model_type="qwen2",
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        rope_theta=1000000.0,
        initializer_range=_TINY_INIT_RANGE,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=ids[_EOS_TOKEN],
        pad_token_id=ids[_PAD_TOKEN],
    )


def _random_model(model_class, config, ids: Dict[str, int], seed: int):
    """``model_class(config)`` with weights drawn after ``torch.manual_seed(seed)``, float32, in eval mode, and
    greedy generation that stops at the ChatML end of turn. Sets ``config``'s eos/pad token ids."""
    import torch
    from transformers import GenerationConfig

    config.eos_token_id = ids[_EOS_TOKEN]
    config.pad_token_id = ids[_PAD_TOKEN]
    torch.manual_seed(seed)
    model = model_class(config).to(torch.float32).eval()
    model.generation_config = GenerationConfig(
        eos_token_id=ids[_EOS_TOKEN], pad_token_id=ids[_PAD_TOKEN], bos_token_id=None, do_sample=False)
    return model


def _mark_tiny(output_dir: Path, arch: str, seed: int, model, vocab_size: int, upstream: str,
               details: Dict[str, object]) -> None:
    """Say "tiny, random, untrained" in a saved model dir: the :data:`TINY_MARKER_KEY` marker and model info in
    ``config.json``, and ``README.md`` listing ``details`` then the parameter count and vocabulary size."""
    n_params = sum(p.numel() for p in model.parameters())
    info = {
        "arch": arch,
        "seed": seed,
        "trained": False,
        "note": "tiny random-weight untrained model for CPU pipeline tests; output is gibberish",
        "upstream_architecture": upstream,
        "num_parameters": n_params,
    }
    _mark_config(output_dir / "config.json", info)
    readme = _readme(arch, seed, {
        **details,
        "parameters": n_params,
        "vocabulary": f"{vocab_size} tokens (byte-level BPE trained on a small built-in corpus)",
    })
    (output_dir / "README.md").write_text(readme, encoding="utf-8")


def build_tiny_got_ocr2_hf(output_dir: Path, seed: int = 0) -> Path:
    """Tiny random ``transformers.GotOcr2ForConditionalGeneration`` (ms-swift model_type/template ``got_ocr2_hf``).

    Geometry kept from stepfun-ai/GOT-OCR-2.0-hf (transformers ``GotOcr2Config`` defaults): 1024x1024 RGB
    input, 16x16 patches -> 64x64 SAM-style grid -> two stride-2 convs in the projector -> 16x16 = 256 image
    tokens (``<imgpad>``) per image, matching ms-swift's ``got_ocr2_hf`` template (``'<imgpad>' * 256``).
    Shrunk: vision width 32 (2 layers, 2 heads, one global-attention layer), neck 16 channels, Qwen2
    decoder width 32 (2 layers, tied embeddings as upstream), vocabulary = a byte-level BPE of 1024 tokens
    trained here. Weights are drawn with std 0.5 so that greedy decoding gives varied, image-dependent
    gibberish instead of a constant token.

    Files written into ``output_dir``: ``config.json`` (with :data:`TINY_MARKER_KEY`), ``model.safetensors``
    (float32), ``generation_config.json``, tokenizer files, processor/image-processor configs
    (``GotOcr2ImageProcessorPil``, size 1024, which needs no torchvision) and ``README.md``.
    """
    from transformers import (GotOcr2Config, GotOcr2ForConditionalGeneration, GotOcr2ImageProcessorPil,
                              GotOcr2Processor)

    tokenizer, ids = _tiny_tokenizer(GOT_SPECIAL_TOKENS, model_max_length=4096)
    config = GotOcr2Config(
        vision_config=dict(
            hidden_size=32,
            output_channels=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            mlp_dim=64,
            image_size=1024,
            patch_size=16,
            window_size=14,
            global_attn_indexes=[1],
            initializer_range=_TINY_INIT_RANGE,
        ),
        text_config=_tiny_qwen2_text_config(len(tokenizer), ids, max_positions=4096),
        image_token_index=ids["<imgpad>"],
        image_seq_length=256,
        tie_word_embeddings=True,
    )
    model = _random_model(GotOcr2ForConditionalGeneration, config, ids, seed)
    image_processor = GotOcr2ImageProcessorPil(size={"height": 1024, "width": 1024})
    processor = GotOcr2Processor(image_processor=image_processor, tokenizer=tokenizer)

    model.save_pretrained(output_dir)
    processor.save_pretrained(output_dir)
    _mark_tiny(output_dir, "got_ocr2_hf", seed, model, len(tokenizer), "stepfun-ai/GOT-OCR-2.0-hf", {
        "architecture": "GotOcr2ForConditionalGeneration (transformers-native)",
        "ms-swift": "--model_type got_ocr2_hf --template got_ocr2_hf",
        "input": "1024x1024 RGB -> 256 <imgpad> tokens per image",
    })
    return output_dir


#: InternVL's special tokens (OpenGVLab/InternVL ``internvl_chat/internvl/train/constants.py``: image, grounding
#: and quad tokens), the ``<video>`` token transformers' ``InternVLProcessor`` reads from the tokenizer, and the
#: ChatML tokens of ms-swift's ``internvl_hf`` template.
INTERNVL_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>",
                           "<video>", "<ref>", "</ref>", "<box>", "</box>", "<quad>", "</quad>"]
#: The named tokens transformers' ``InternVLProcessor`` reads from the tokenizer (as in OpenGVLab/InternVL3-1B-hf).
INTERNVL_NAMED_TOKENS = {"start_image_token": "<img>", "end_image_token": "</img>",
                         "context_image_token": "<IMG_CONTEXT>", "video_token": "<video>"}
#: File and class of the image-only processor written into a tiny InternVL model dir (see
#: :func:`build_tiny_internvl_hf`).
INTERNVL_PROCESSOR_FILE = "processing_swift_ocr_internvl.py"
INTERNVL_PROCESSOR_CLASS = "InternVLImageOnlyProcessor"

_INTERNVL_PROCESSOR_SOURCE = '''"""Image-only InternVL processor of a TINY RANDOM UNTRAINED swift-ocr test model.

Written by ``swift_ocr.tiny.models.build_tiny_internvl_hf``; loaded by
``AutoProcessor.from_pretrained(..., trust_remote_code=True)`` through ``auto_map`` in ``processor_config.json``.

transformers' ``InternVLProcessor.__init__`` takes a ``video_processor``; ``ProcessorMixin`` checks it against
``BaseVideoProcessor``, which without torchvision is not importable, and the lookup fails with
``AttributeError: type object 'VIDEO_PROCESSOR_MAPPING' has no attribute '_extra_content'``, even for
``video_processor=None``. This subclass has no video processor, so ProcessorMixin never looks one up; everything
else (image tokens, ``image_seq_length``, ``__call__`` for images) is ``InternVLProcessor``'s. Videos are refused.
"""
import re

from transformers import InternVLProcessor
from transformers.processing_utils import ProcessorMixin


class InternVLImageOnlyProcessor(InternVLProcessor):
    def __init__(self, image_processor=None, tokenizer=None, image_seq_length: int = 256, chat_template=None,
                 **kwargs):
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template, **kwargs)
        self.image_seq_length = image_seq_length
        self.start_image_token = tokenizer.start_image_token
        self.end_image_token = tokenizer.end_image_token
        self.start_image_token_id = tokenizer.start_image_token_id
        self.end_image_token_id = tokenizer.end_image_token_id
        self.image_token = tokenizer.context_image_token
        self.video_token = tokenizer.video_token
        self.image_token_id = tokenizer.context_image_token_id
        self.multimodal_pattern = re.compile(
            f"(?P<image>{re.escape(self.image_token)})|(?P<video>{re.escape(self.video_token)})")

    def __call__(self, images=None, text=None, videos=None, **kwargs):
        if videos is not None:
            raise ValueError("this tiny test processor has no video processor; images only")
        return super().__call__(images=images, text=text, **kwargs)
'''


def build_tiny_internvl_hf(output_dir: Path, seed: int = 0, *, tile_size: int = 448, width: int = 32,
                           max_tiles: int = 6, init_range: float = _TINY_INIT_RANGE,
                           individual_digits: bool = False, arch: str = "internvl_hf") -> Path:
    """Tiny random ``transformers.InternVLForConditionalGeneration`` (ms-swift ``--model_type internvl``,
    ``--template internvl_hf``): the transformers-native InternVL (OpenGVLab/InternVL3-*-hf layout), standing in on
    CPU for InternVL2 (ms-swift ``internvl_chat``: remote code that needs torchvision and timm).

    Geometry kept from InternVL2/3: 448x448 tiles, 14x14 patches -> 32x32 grid -> pixel shuffle with
    ``downsample_ratio`` 0.5 -> 16x16 = 256 ``<IMG_CONTEXT>`` tokens per tile; dynamic tiling by aspect ratio
    (``GotOcr2ImageProcessorPil`` with ``crop_to_patches``: 1 to 6 tiles plus a thumbnail -- InternVL's fine-tuning
    guide uses ``max_dynamic_patch 6``, the InternVL3-hf checkpoints allow 12), ImageNet mean/std. Shrunk: vision
    width 32 (2 layers, 2 heads), Qwen2 decoder width 32 (2 layers, tied embeddings), byte-level BPE vocabulary
    of 1024 tokens with InternVL's special tokens (:data:`INTERNVL_SPECIAL_TOKENS`) as single ids. Weights are
    drawn with std 0.5 (see ``_TINY_INIT_RANGE``).

    The processor is :data:`INTERNVL_PROCESSOR_CLASS`, an image-only subclass of transformers' ``InternVLProcessor``
    written into ``output_dir`` as :data:`INTERNVL_PROCESSOR_FILE` and named in ``processor_config.json``'s
    ``auto_map``: transformers 5.19's ``InternVLProcessor`` cannot be built without torchvision (see the file's
    docstring and ``docs/internvl_cpu.md``). ms-swift loads processors with ``trust_remote_code=True``.

    Files written into ``output_dir``: ``config.json`` (with :data:`TINY_MARKER_KEY`), ``model.safetensors``
    (float32), ``generation_config.json``, tokenizer files, ``processor_config.json``, the processor file and
    ``README.md``.

    Keyword arguments change the geometry for other tiny variants (:func:`build_tiny_internvl_hf_112`): ``tile_size``
    (pixels, a multiple of 28: 14 px patches, then pixel shuffle 0.5 -> ``(tile_size / 28) ** 2`` image tokens per
    tile), ``width`` (hidden size of the vision tower and the decoder; MLPs are 2x, 2 layers each), ``max_tiles``
    (dynamic tiling: 1 means one tile and no thumbnail), ``init_range`` (std of the random weights),
    ``individual_digits`` (one token per digit, see :func:`build_byte_level_bpe`), ``arch`` (the name written into
    the marker and README).
    """
    import importlib.util

    from transformers import GotOcr2ImageProcessorPil, InternVLConfig, InternVLForConditionalGeneration

    tokenizer, ids = _tiny_tokenizer(INTERNVL_SPECIAL_TOKENS, model_max_length=16384,
                                     named_tokens=INTERNVL_NAMED_TOKENS, individual_digits=individual_digits)
    if tile_size % 28:
        raise ValueError(f"tile_size must be a multiple of 28 (14 px patches, pixel shuffle 0.5), got {tile_size}")
    image_seq_length = (tile_size // 28) ** 2
    text_config = _tiny_qwen2_text_config(len(tokenizer), ids, max_positions=16384)
    text_config.update(hidden_size=width, intermediate_size=2 * width, initializer_range=init_range)
    config = InternVLConfig(
        vision_config=dict(
            hidden_size=width,
            intermediate_size=2 * width,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=tile_size,
            patch_size=14,
            initializer_range=init_range,
        ),
        text_config=text_config,
        image_token_id=ids["<IMG_CONTEXT>"],
        image_seq_length=image_seq_length,
        downsample_ratio=0.5,
        tie_word_embeddings=True,
    )
    model = _random_model(InternVLForConditionalGeneration, config, ids, seed)
    model.save_pretrained(output_dir)

    processor_file = output_dir / INTERNVL_PROCESSOR_FILE
    processor_file.write_text(_INTERNVL_PROCESSOR_SOURCE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("_swift_ocr_tiny_internvl_processor", processor_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    image_processor = GotOcr2ImageProcessorPil(
        crop_to_patches=True, min_patches=1, max_patches=max_tiles, size={"height": tile_size, "width": tile_size},
        image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225], resample=3)
    processor = getattr(module, INTERNVL_PROCESSOR_CLASS)(
        image_processor=image_processor, tokenizer=tokenizer, image_seq_length=image_seq_length)
    processor.save_pretrained(output_dir)
    processor_config = output_dir / "processor_config.json"
    data = json.loads(processor_config.read_text(encoding="utf-8"))
    data["auto_map"] = {"AutoProcessor": f"{processor_file.stem}.{INTERNVL_PROCESSOR_CLASS}"}
    processor_config.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    tiles = (f"1-{max_tiles} by aspect ratio, plus a thumbnail" if max_tiles > 1
             else "one tile: the whole image resized, no thumbnail")
    _mark_tiny(output_dir, arch, seed, model, len(tokenizer),
               "InternVLForConditionalGeneration (OpenGVLab/InternVL3-*-hf layout)", {
                   "architecture": "InternVLForConditionalGeneration (transformers-native InternVL)",
                   "ms-swift": "--model_type internvl --template internvl_hf (or internvl_hf_ocr_det with the "
                               "swift-ocr plugin)",
                   "input": f"{tile_size}x{tile_size} tiles ({tiles}) -> {image_seq_length} <IMG_CONTEXT> tokens "
                            "per tile",
                   "width": f"{width} (vision tower and Qwen2 decoder, 2 layers each); weight std {init_range}",
                   "processor": f"{INTERNVL_PROCESSOR_CLASS} in {INTERNVL_PROCESSOR_FILE} (an image-only "
                                "InternVLProcessor: transformers' own needs torchvision); loads with "
                                "trust_remote_code=True",
               })
    return output_dir


def build_tiny_internvl_hf_112(output_dir: Path, seed: int = 0) -> Path:
    """Tiny random InternVL (as :func:`build_tiny_internvl_hf`, same ms-swift ``--model_type internvl --template
    internvl_hf``) small enough to be **trained from random weights on a CPU**: one 112x112 tile per image (the
    whole image resized, no tiling, no thumbnail) -> 8x8 patches of 14 px -> pixel shuffle 0.5 -> 16
    ``<IMG_CONTEXT>`` tokens; vision tower and Qwen2 decoder of width 64 (2 layers each), about 0.27M parameters;
    weights drawn with the usual std 0.02 (trainable) instead of the 0.5 of the pipeline-test models; one token
    per digit (as Qwen2's tokenizer), so a number's target tokens do not depend on BPE merges such as ``2018``.

    Untrained it is as useless as the others (gibberish, marked with :data:`TINY_MARKER_KEY`). ``make demo`` and
    ``tests/e2e/test_learning_proof.py`` train it with ``swift sft --tuner_type full`` on ``swift-ocr synth`` images
    of short strings into a *tiny synthetic reader* (:func:`label_synthetic_reader`): it reads rendered digits
    and nothing else; it is not an OCR model.
    """
    return build_tiny_internvl_hf(output_dir, seed, tile_size=112, width=64, max_tiles=1, init_range=0.02,
                                  individual_digits=True, arch="internvl_hf_112")


#: Marker value and note of a model trained from a tiny random model by swift-ocr (``make demo``), written by
#: :func:`label_synthetic_reader`.
SYNTHETIC_READER_NOTE = "tiny synthetic reader, not a real OCR model"


def label_synthetic_reader(model_dir: Union[str, os.PathLike], trained_on: str) -> Path:
    """Relabel a model dir that ``swift sft --tuner_type full`` trained from a tiny random model (its
    ``config.json`` still carries ``TINY_MARKER_KEY: true`` from the random start): the marker becomes ``false``,
    ``swift_ocr_tiny_model_info`` gets ``trained: true``, ``note`` :data:`SYNTHETIC_READER_NOTE` and
    ``trained_on`` (free text: data and steps), and ``README.md`` says the same. Files are replaced atomically.

    Returns ``model_dir`` as a ``Path``. Raises ``FileNotFoundError`` without ``config.json`` and ``ValueError``
    when the config has no swift-ocr tiny-model info (not a model this module built).
    """
    from swift_ocr.io_utils import atomic_write

    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    info = config.get("swift_ocr_tiny_model_info")
    if not isinstance(info, dict):
        raise ValueError(f"{model_dir}/config.json: not a swift-ocr tiny model (no swift_ocr_tiny_model_info)")
    config[TINY_MARKER_KEY] = False
    info.update(trained=True, note=SYNTHETIC_READER_NOTE, trained_on=trained_on)
    with atomic_write(model_dir / "config.json") as f:
        f.write(json.dumps(config, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    readme = "\n".join([
        f"# TINY SYNTHETIC READER ({info.get('arch')}) -- {SYNTHETIC_READER_NOTE}",
        "",
        f"**This is a {SYNTHETIC_READER_NOTE}.** It started as a tiny random-weight model "
        f"(`swift_ocr.tiny.models.build_tiny_model(arch={info.get('arch')!r}, seed={info.get('seed')})`, "
        f"{info.get('num_parameters')} parameters) and was trained from those random weights on synthetic images:",
        "",
        f"- trained on: {trained_on}",
        "",
        "It reads short rendered strings like the ones it was trained on and nothing else. It exists to show, on a",
        "CPU, that fine-tuning through swift-ocr makes a model read. Never report its scores as OCR results.",
    ]) + "\n"
    with atomic_write(model_dir / "README.md") as f:
        f.write(readme)
    return model_dir


def tiny_archs():
    """``{arch: (family, TinyArch)}``: the tiny models the registered families declare
    (:func:`swift_ocr.families.tiny_archs`; ``TinyArch`` holds the builder ``(output_dir: Path, seed: int) -> Path``
    that writes every file of the model into an existing empty staging dir, and the ms-swift ``--model_type`` /
    ``--template`` to run the model with)."""
    from swift_ocr.families import tiny_archs as registered

    return registered()


def build_tiny_model(arch: str, output_dir: Union[str, os.PathLike], seed: int = 0) -> Path:
    """Build a tiny, random-weight, untrained model for ``arch`` (a key of :func:`tiny_archs`) into ``output_dir``.

    The result loads offline with ``transformers`` and with
    ``swift sft --model OUTPUT_DIR --model_type M --template T`` (the arch's ``model_type`` and ``template``). The same
    ``seed`` gives the same weights and tokenizer (byte-identical files). The model is written to a staging dir next to
    ``output_dir`` and moved into place when complete; files already in ``output_dir`` with the same
    names are overwritten.

    Returns the model directory as a ``Path``.
    Raises ``ValueError`` for an ``arch`` no registered family declares (:func:`tiny_archs`).
    """
    from swift_ocr.families.base import resolve

    archs = tiny_archs()
    if arch not in archs:
        raise ValueError(f"unknown tiny-model arch {arch!r}; supported: {', '.join(sorted(archs))}")
    builder = resolve(archs[arch][1].builder)
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", suffix=".tmp", dir=output_dir.parent))
    try:
        builder(staging, seed=seed)
        _publish_dir(staging, output_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return output_dir
