# Two commands are all a fresh clone needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The interpreter whose packages go into the bundle; point it at a CPU-torch venv for a small one
# (packaging/README.md), e.g. `make bundle BUNDLE_PYTHON=../cpu-venv/bin/python`.
BUNDLE_PYTHON ?= $(BIN)/python

.PHONY: run test lint bench launcher bundle clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[dev]"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/vae-desktop

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

launcher: $(VENV)/.installed
	$(BIN)/vae-desktop --install-launcher

$(VENV)/.installed-bundle: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[bundle]"
	touch $@

bundle: $(VENV)/.installed-dev $(if $(filter $(BIN)/python,$(BUNDLE_PYTHON)),$(VENV)/.installed-bundle)
	$(BUNDLE_PYTHON) packaging/build_bundle.py
	VAE_DESKTOP_REQUIRE_BUNDLE=1 $(BIN)/python -m pytest -q tests/test_bundle.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build dist *.egg-info

bench: $(VENV)/.installed-dev
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python -m benchmarks.$$(basename $$b .py) || exit 1; done
