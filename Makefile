# `make demo`: set up .venv and run the main job.  `make test`: set up and run the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build of PyTorch (a wheel on this machine's disk); GPU users: see README.
TORCH_PIN ?= torch==2.13.0
EXTRAS ?= dev,workflows,notebooks,llm,llm-server
# llama-cpp-python (the LLM tests' real server) is built from source; a native build crashed on
# quantized weights here, so build for the generic CPU (about 4 minutes once; pip caches the wheel)
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
STAMP := $(VENV)/.installed-$(EXTRAS)
export DISCOVERY_DATA_MIRROR ?= $(abspath ../shared/data)
PYTEST_ARGS ?=

.PHONY: setup demo test bench lab clean lint

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip wheel
	$(BIN)/python -m pip install -q "$(TORCH_PIN)"
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

# the whole workflow on the default config (workflows/config/config.yaml), ending in the report
DEMO_ARGS ?=
demo: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/snakemake -s workflows/Snakefile --profile workflows/profiles/local $(DEMO_ARGS)
	@echo; echo "Results: results/ (molprop/summary.tsv, molprop/train/<dataset>/seed<N>/, logs/)"
	@echo "Report:  $(abspath results/report.html)"

test: setup
	# pytest exits 5 when it collects nothing: that is a failure here, as is any other non-zero code
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench:
	$(MAKE) setup EXTRAS=dev,bench
	$(BIN)/python benchmarks/molprop_vs_chemprop.py --configs default,tuned --threads 1 --side-by-side

# JupyterLab on the notebooks (the jupytext .py files open as notebooks)
lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks

clean:
	rm -rf $(VENV) runs results .pytest_cache .snakemake
