# `make demo`: set up .venv and run the main job.  `make test`: set up and run the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build of PyTorch (a wheel on this machine's disk); GPU users: see README.
TORCH_PIN ?= torch==2.13.0
EXTRAS ?= dev,workflows
STAMP := $(VENV)/.installed-$(EXTRAS)
export DISCOVERY_DATA_MIRROR ?= $(abspath ../shared/data)
PYTEST_ARGS ?=

.PHONY: setup demo test bench clean lint

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip wheel
	$(BIN)/python -m pip install -q "$(TORCH_PIN)"
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

demo: setup
	$(BIN)/discovery molprop train --data ESOL --smiles-col smiles --target logp --split scaffold \
	    --seed 0 --ensemble 3 --out runs/esol
	$(BIN)/discovery report runs/esol -o runs/esol/report.html
	@echo; echo "Results: runs/esol (metrics.json, test_predictions.csv, splits.json, manifest.json, model/)"
	@echo "Report:  runs/esol/report.html"
	@$(BIN)/python -c "import json; m = json.load(open('runs/esol/metrics.json')); print('ESOL test metrics:', json.dumps(m['test'], indent=2))"

test: setup
	# pytest exits 5 when it collects nothing: that is a failure here, as is any other non-zero code
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench:
	$(MAKE) setup EXTRAS=dev,bench
	$(BIN)/python benchmarks/molprop_vs_chemprop.py

clean:
	rm -rf $(VENV) runs .pytest_cache
