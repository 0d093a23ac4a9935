"""A tiny, random-weight, **untrained** PaddleOCR-VL (``swift-ocr tiny-model --arch paddleocr_vl``) so that the
PaddleOCR-VL recipes (``recipes/paddleocr_vl/``) run end to end on a CPU. Its output is gibberish; it proves that a
pipeline runs, never OCR quality.

The model is transformers' own ``PaddleOCRVLForConditionalGeneration`` (the class ms-swift 4.6 loads for
``--model_type paddleocr_vl``: ``swift/model/models/baidu.py``, ``PaddleOCR1_5Loader``) with the real input geometry of
PaddleOCR-VL 1.5 -- 14 px patches, 2x2 patch merge (one image token per 28x28 pixels), smart resize of every image to
sides that are multiples of 28 within ``min_pixels``/``max_pixels`` (transformers' ``PaddleOCRVLImageProcessor``
defaults, 384*384 and 1536*1536), CLIP mean/std -- and tiny widths.

Token ids ms-swift depends on are upstream's: ms-swift's ``paddle_ocr_1_5`` template finds the image placeholder by
the constant id ``100295`` (``swift/template/templates/baidu.py``, ``PaddleOCRTemplate.image_token_id``), so
``<|IMAGE_PLACEHOLDER|>`` is id 100295 here too, and ``<|IMAGE_START|>`` / ``<|IMAGE_END|>`` are 101305 / 101306
(transformers' ``PaddleOCRVLConfig`` defaults ``vision_start_token_id`` / ``vision_end_token_id``). The vocabulary is a
1024-token byte-level BPE (:func:`swift_ocr.tiny.models.build_byte_level_bpe`) plus ERNIE's chat tokens, the
``<|LOC_0|>`` .. ``<|LOC_1000|>`` location tokens of PaddleOCR-VL 1.5's spotting answers
(:mod:`swift_ocr.codecs.paddleocr_vl`) and its other image tokens as single ids; ids between the BPE and 100295 are
unused (the embedding has 101307 rows, as the real model has 103424).

The image processor is transformers' PIL backend, ``PaddleOCRVLImageProcessorPil`` (the default backend needs
torchvision, which does not import on the CPU test machine); ``PaddleOCRVLProcessor`` has no video processor, so no
other workaround is needed (unlike InternVL: ``docs/internvl_cpu.md``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

#: ERNIE 4.5's tokens used by ms-swift's ``paddle_ocr_1_5`` template (``ERNIETemplateMeta``: prefix
#: ``<|begin_of_sentence|>``, chat_sep ``<|end_of_sentence|>``, suffix ``</s>``) and the tokenizer's unk/bos/eos; ids
#: 0.. in this order (``<unk>`` 0, ``<s>`` 1, ``</s>`` 2 as in ERNIE's tokenizer).
LOW_SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<|begin_of_sentence|>", "<|end_of_sentence|>"]
#: Location tokens of PaddleOCR-VL 1.5's text spotting (0-1000 grid) and their delimiters.
LOC_TOKENS = [f"<|LOC_{i}|>" for i in range(1001)]
#: Image placeholder id that ms-swift 4.6's PaddleOCR templates hard-code.
IMAGE_PLACEHOLDER_ID = 100295
#: transformers ``PaddleOCRVLConfig`` defaults (``vision_start_token_id``, ``vision_end_token_id``).
IMAGE_START_ID, IMAGE_END_ID = 101305, 101306


def high_special_tokens() -> Dict[str, int]:
    """``{token: id}`` of the special tokens above the BPE vocabulary: ``<|IMAGE_PLACEHOLDER|>`` 100295,
    ``<|VIDEO_PLACEHOLDER|>`` 100296, ``<|LOC_0|>`` .. ``<|LOC_1000|>`` 100297 .. 101297, ``<|LOC_BEGIN|>``,
    ``<|LOC_END|>``, ``<|LOC_SEP|>``, ``<|TEXT_START|>``, ``<|TEXT_END|>`` 101298 .. 101302, ``<|IMAGE_START|>``
    101305, ``<|IMAGE_END|>`` 101306. Only 100295, 101305 and 101306 are known upstream ids (see the module)."""
    ids = {"<|IMAGE_PLACEHOLDER|>": IMAGE_PLACEHOLDER_ID, "<|VIDEO_PLACEHOLDER|>": IMAGE_PLACEHOLDER_ID + 1}
    for i, token in enumerate(LOC_TOKENS + ["<|LOC_BEGIN|>", "<|LOC_END|>", "<|LOC_SEP|>", "<|TEXT_START|>",
                                            "<|TEXT_END|>"]):
        ids[token] = IMAGE_PLACEHOLDER_ID + 2 + i
    ids["<|IMAGE_START|>"] = IMAGE_START_ID
    ids["<|IMAGE_END|>"] = IMAGE_END_ID
    return ids


def build_tokenizer():
    """The tiny tokenizer: a byte-level BPE of 1024 ids (:data:`LOW_SPECIAL_TOKENS` first), plus the special tokens of
    :func:`high_special_tokens` at their fixed ids, all never split. ``image_token`` is ``<|IMAGE_PLACEHOLDER|>``
    (what ``PaddleOCRVLProcessor`` reads), pad ``<unk>``, bos ``<s>``, eos ``</s>``.

    Returns ``(tokenizer, vocab_size)``: a ``transformers.PreTrainedTokenizerFast`` and the number of embedding rows
    the ids need (largest id + 1). Deterministic (BPE training has no randomness).
    """
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    from swift_ocr.tiny.models import build_byte_level_bpe

    base = build_byte_level_bpe(LOW_SPECIAL_TOKENS)
    data = json.loads(base._tokenizer.to_str())
    vocab = data["model"]["vocab"]
    high = high_special_tokens()
    if max(vocab.values()) >= min(high.values()):
        raise ValueError("the BPE vocabulary overlaps the fixed special-token ids")
    for token, idx in sorted(high.items(), key=lambda kv: kv[1]):
        vocab[token] = idx
        data["added_tokens"].append({"id": idx, "content": token, "single_word": False, "lstrip": False,
                                     "rstrip": False, "normalized": False, "special": True})
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(data)),
                                        clean_up_tokenization_spaces=False,
                                        extra_special_tokens={"image_token": "<|IMAGE_PLACEHOLDER|>"})
    tokenizer.unk_token, tokenizer.pad_token, tokenizer.bos_token, tokenizer.eos_token = "<unk>", "<unk>", "<s>", "</s>"
    tokenizer.model_max_length = 16384
    return tokenizer, max(high.values()) + 1


def build_tiny_paddleocr_vl(output_dir: Path, seed: int = 0) -> Path:
    """Tiny random ``transformers.PaddleOCRVLForConditionalGeneration`` (ms-swift ``--model_type paddleocr_vl
    --template paddle_ocr_1_5``) written into ``output_dir`` (an existing empty folder).

    Shrunk from PaddleOCR-VL 1.5 (vision 1152 wide x 27 layers, ERNIE-4.5-0.3B 1024 wide x 18 layers): vision encoder
    32 wide (2 layers, 2 heads, 384 px position-embedding grid interpolated to each image as upstream), projector
    (LayerNorm, 2x2 merge, two linears), ERNIE-style decoder 32 wide (2 layers, 4 heads of 8, 2 KV heads, M-RoPE
    sections 2/1/1 of the 4 rotary pairs, tied embeddings), 101307 embedding rows (:func:`build_tokenizer`). Weights
    are drawn with std 0.5 after ``torch.manual_seed(seed)`` (so greedy output is varied, image-dependent gibberish,
    as the other tiny models: ``swift_ocr.tiny.models._TINY_INIT_RANGE``), float32; the embedding rows of the unused
    ids are zero, so greedy decoding never picks an id that decodes to nothing.

    Files: ``config.json`` (with :data:`swift_ocr.tiny.models.TINY_MARKER_KEY`), ``model.safetensors``,
    ``generation_config.json`` (greedy, stops at ``</s>``), tokenizer files, ``processor_config.json`` (with the PIL
    image processor) and ``README.md``. Returns ``output_dir``.
    """
    import torch
    from transformers import (GenerationConfig, PaddleOCRVLConfig, PaddleOCRVLForConditionalGeneration,
                              PaddleOCRVLImageProcessorPil, PaddleOCRVLProcessor)

    from swift_ocr.tiny.models import _TINY_INIT_RANGE, _mark_tiny

    tokenizer, vocab_size = build_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<unk>", "<s>", "</s>")}
    config = PaddleOCRVLConfig(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=384, patch_size=14, spatial_merge_size=2, initializer_range=_TINY_INIT_RANGE),
        text_config=dict(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=16384,
                         rope_parameters={"rope_type": "default", "rope_theta": 500000.0, "mrope_section": [2, 1, 1]},
                         initializer_range=_TINY_INIT_RANGE, pad_token_id=ids["<unk>"], bos_token_id=ids["<s>"],
                         eos_token_id=ids["</s>"], tie_word_embeddings=True),
        image_token_id=IMAGE_PLACEHOLDER_ID, video_token_id=IMAGE_PLACEHOLDER_ID + 1,
        vision_start_token_id=IMAGE_START_ID, vision_end_token_id=IMAGE_END_ID, tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = PaddleOCRVLForConditionalGeneration(config).to(torch.float32).eval()
    # the ids no token has (between the BPE and 100295) get zero embeddings, hence logit 0 through the tied head:
    # greedy decoding then picks real tokens (random ones of std 0.5 always include a positive logit), not ids that
    # decode to nothing
    with torch.no_grad():
        unused = torch.ones(vocab_size, dtype=torch.bool)
        unused[list(tokenizer.get_vocab().values())] = False
        model.get_input_embeddings().weight[unused] = 0.0
    model.generation_config = GenerationConfig(eos_token_id=ids["</s>"], pad_token_id=ids["<unk>"],
                                               bos_token_id=ids["<s>"], do_sample=False)
    model.save_pretrained(output_dir)
    processor = PaddleOCRVLProcessor(image_processor=PaddleOCRVLImageProcessorPil(), tokenizer=tokenizer)
    processor.save_pretrained(output_dir)

    image = processor.image_processor
    _mark_tiny(output_dir, "paddleocr_vl", seed, model, vocab_size,
               "PaddleOCRVLForConditionalGeneration (PaddlePaddle/PaddleOCR-VL-1.5 layout)", {
                   "architecture": "PaddleOCRVLForConditionalGeneration (transformers-native PaddleOCR-VL)",
                   "ms-swift": "--model_type paddleocr_vl --template paddle_ocr_1_5",
                   "input": f"smart resize to multiples of 28 px within {image.size['shortest_edge']}.."
                            f"{image.size['longest_edge']} pixels -> one <|IMAGE_PLACEHOLDER|> (id "
                            f"{IMAGE_PLACEHOLDER_ID}) per 28x28 pixels",
                   "width": f"32 (vision encoder and decoder, 2 layers each); weight std {_TINY_INIT_RANGE}",
                   "image processor": "PaddleOCRVLImageProcessorPil (transformers' PIL backend: no torchvision)",
               })
    return output_dir

