# swift-ocr: set-up, tests and the CPU demo. Everything runs from a fresh clone with no virtual environment.
#   make demo   - synth data -> train a tiny synthetic reader from random weights -> before CER on a new domain ->
#                 LoRA (recipe + plugin) -> merge -> infer -> after CER table + HTML report (CPU, <= 8 min)
#   make test   - the test suite (real data from ../shared/data, real ms-swift; CPU only, no model hub)
#   make venv-deepseek-ocr - the second environment for DeepSeek-OCR (transformers==4.46.3; docs/deepseek_ocr_env.md),
#                 built by `make test` too: tests/envs/ check the plugin, the recipe command and our arithmetic in it
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned and installed first: on a CPU-only machine this picks the local CPU build and keeps
# ms-swift/peft from pulling a CUDA build. On GPU machines the same pin installs the CUDA build.
TORCH_SPEC ?= torch==2.13.0
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup browser venv-deepseek-ocr test demo clean

setup: $(VENV)/.swift-ocr-installed

$(VENV)/.swift-ocr-installed: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test]"
	touch $@

# DeepSeek-OCR's pinned stack cannot share .venv (ms-swift 4.6.0's deepseek_ocr model needs transformers==4.46.3):
# torch first as above, then the pins of constraints/deepseek_ocr.txt with swift-ocr's other dependencies from setup.cfg
# (tools/deepseek_ocr_requirements.py), then swift-ocr itself without its main-environment pins (--no-deps).
# Measured on the 2-core CI machine: about 1.5 min, 2.0 GB. docs/deepseek_ocr_env.md
DS_VENV ?= .venv-deepseek-ocr
DS_PY := $(DS_VENV)/bin/python

venv-deepseek-ocr: $(DS_VENV)/.swift-ocr-installed

$(DS_VENV)/.swift-ocr-installed: constraints/deepseek_ocr.txt tools/deepseek_ocr_requirements.py setup.cfg pyproject.toml
	test -x $(DS_PY) || $(PYTHON) -m venv $(DS_VENV)
	$(DS_PY) -m pip install -q "$(TORCH_SPEC)"
	$(DS_PY) tools/deepseek_ocr_requirements.py > $(DS_VENV)/swift-ocr-requirements.txt
	$(DS_PY) -m pip install -q -c constraints/deepseek_ocr.txt -r constraints/deepseek_ocr.txt \
	  -r $(DS_VENV)/swift-ocr-requirements.txt
	$(DS_PY) -m pip install -q --no-deps -e .
	touch $@

# Headless Chromium for the report test (tests/report/test_report_browser.py): installed with apt-get (Debian package
# `chromium`) when missing and we are root; otherwise nothing happens and that test skips, saying why.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium (apt-get) for the report browser test"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	    || echo "warning: could not install chromium; the report browser test will be skipped"; \
	else echo "note: chromium not found and not installable here (needs root and apt-get); the report browser test will be skipped"; \
	fi

test: setup browser venv-deepseek-ocr
	$(PY) -m pytest $(PYTEST_ARGS)

demo: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" bash tools/demo.sh

clean:
	rm -rf output .pytest_cache
