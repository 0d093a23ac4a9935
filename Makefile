# swift-ocr: set-up, tests and the CPU demo. Everything runs from a fresh clone with no virtual environment.
#   make demo   - convert data_templates -> LoRA SFT on a tiny random GOT model -> merge -> infer -> CER table
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

.PHONY: setup test demo clean

setup: $(VENV)/.swift-ocr-installed

$(VENV)/.swift-ocr-installed: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test]"
	touch $@

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

demo: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" bash tools/demo.sh

clean:
	rm -rf output .pytest_cache
