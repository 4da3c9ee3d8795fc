# The two commands of the README: `make run` (install + demo study + report) and `make test`.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
GPU_VENV ?= .venv-gpu
CORES   ?= all
TEST_WORKERS ?= 2
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup setup-gpu run test test-main test-mmpose test-fast lint clean-results

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml envs/requirements.lock.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --quiet -r envs/requirements.lock.txt
	$(BIN)/python -m pip install --quiet --quiet --no-deps mediapipe==0.10.21
	$(BIN)/python -m pip install --quiet --quiet --no-deps -e .
	touch $@

run: setup  ## install, render the demo study, run the whole workflow, build the report
	$(BIN)/hipdrive run config/samples.tsv --data-root . --cores $(CORES)

$(GPU_VENV)/.installed: envs/install-pose-gpu.sh
	PYTHON=$(PYTHON) bash envs/install-pose-gpu.sh $(GPU_VENV)
	touch $@

setup-gpu: $(GPU_VENV)/.installed  ## the heavy MMPose environment (about 11 min: compiles mmcv's ops)

test: test-main test-mmpose  ## the whole suite; what CI runs (.ci/run)

test-main: setup  ## everything but the MMPose tests, in the light environment, on TEST_WORKERS processes (one test file each)
	$(BIN)/python -m pytest -m "not mmpose" -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-mmpose: setup-gpu  ## the MMPose backend with random weights on CPU, in the heavy environment
	PATH=$(abspath $(GPU_VENV))/bin:$$PATH $(GPU_VENV)/bin/python -m pytest -m mmpose

test-fast: setup  ## tests/unit and the unmarked helper checks of tests/integration: no workflow runs, no MMPose (a few minutes)
	$(BIN)/python -m pytest -m "not slow and not mmpose"

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/snakemake --lint

clean-results:
	rm -rf results/demo results/keypoints results/reps results/curves results/tables results/stats results/figures results/logs results/benchmarks results/report.html results/report
