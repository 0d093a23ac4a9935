# swift-ocr: set-up, tests and the CPU demo. Everything runs from a fresh clone with no virtual environment.
#   make demo   - synth data -> train a tiny synthetic reader from random weights -> before CER on a new domain ->
#                 LoRA (recipe + plugin) -> merge -> infer -> after CER table + HTML report (CPU, <= 8 min)
#   make test   - the test suite (real data from ../shared/data, real ms-swift; CPU only, no model hub)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is pinned and installed first: on a CPU-only machine this picks the local CPU build and keeps
# ms-swift/peft from pulling a CUDA build. On GPU machines the same pin installs the CUDA build.
TORCH_SPEC ?= torch==2.13.0
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup browser test demo clean

setup: $(VENV)/.swift-ocr-installed

$(VENV)/.swift-ocr-installed: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test]"
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

test: setup browser
	$(PY) -m pytest $(PYTEST_ARGS)

demo: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" bash tools/demo.sh

clean:
	rm -rf output .pytest_cache
