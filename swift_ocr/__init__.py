"""swift-ocr: OCR datasets, prompts, recipes and metrics for fine-tuning OCR VLMs with ms-swift."""

__version__ = "0.1.0"
