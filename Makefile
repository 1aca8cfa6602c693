# Two commands are all a fresh clone needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The bundle carries the torch of the environment it is built from: a CPU torch makes an ~800 MB folder,
# a CUDA torch (PyPI's on Linux) 5.4 GB, which `make bundle` refuses unless BUNDLE_CUDA=1.
# BUNDLE_TORCH="<pip arguments for a CPU torch>" builds in its own environment, build/bundle-env, with
# that torch; BUNDLE_PYTHON=... builds with the packages of an environment you made (packaging/README.md).
BUNDLE_ENV := build/bundle-env
BUNDLE_TORCH ?=
BUNDLE_CUDA ?=
BUNDLE_PYTHON ?= $(if $(BUNDLE_TORCH),$(BUNDLE_ENV)/bin/python,$(BIN)/python)
BUNDLE_FLAGS := $(if $(filter 1,$(BUNDLE_CUDA)),--allow-cuda)

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

bundle: $(VENV)/.installed-dev
	$(if $(BUNDLE_TORCH),$(BIN)/python packaging/make_bundle_env.py $(BUNDLE_ENV) $(BUNDLE_TORCH))
	$(BUNDLE_PYTHON) packaging/build_bundle.py --check $(BUNDLE_FLAGS)
	$(if $(filter $(BIN)/python,$(BUNDLE_PYTHON)),$(MAKE) --no-print-directory $(VENV)/.installed-bundle)
	$(BUNDLE_PYTHON) packaging/build_bundle.py $(BUNDLE_FLAGS)
	VAE_DESKTOP_REQUIRE_BUNDLE=1 $(BIN)/python -m pytest -q tests/test_bundle.py

# ruff, then the import contracts (pyproject's [tool.importlinter]), then mypy on vae_desktop/ ([tool.mypy]).
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info

bench: $(VENV)/.installed-dev
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python -m benchmarks.$$(basename $$b .py) || exit 1; done
