"""``python -m swift_ocr ...``: the ``swift-ocr`` console command (:func:`swift_ocr.cli.main.main`), e.g. from a
checkout that is not installed (``python -m swift_ocr convert --help``)."""
import sys

from swift_ocr.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
