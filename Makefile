# The two commands of the README: `make run` (install + demo study + report) and `make test`.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
CORES   ?= all
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup run report test test-fast test-slow lint clean-results

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml envs/requirements.lock.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r envs/requirements.lock.txt
	$(BIN)/python -m pip install --quiet --no-deps mediapipe==0.10.21
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

run: setup  ## install, render the demo study, run the whole workflow, build the report
	$(BIN)/snakemake --profile workflow/profiles/local --cores $(CORES)
	$(BIN)/snakemake --profile workflow/profiles/local --report results/report.html
	@echo "Report: $(abspath results/report.html)"

test: setup  ## the whole suite (fast + slow); what CI runs
	$(BIN)/python -m pytest

test-fast: setup  ## unit tests only (about a minute)
	$(BIN)/python -m pytest -m "not slow"

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/snakemake --lint

clean-results:
	rm -rf results/demo results/keypoints results/reps results/curves results/tables results/stats results/figures results/logs results/benchmarks results/report.html
