# The README's entry points. Each target bootstraps first, so a fresh Debian 12
# machine needs nothing else.
PY := .venv/bin/python
BUILD_DIR ?= build
export HDDNN_BUILD_DIR := $(BUILD_DIR)

.PHONY: bootstrap demo test test-quick test-cpp test-python bench clean

bootstrap:
	scripts/bootstrap

demo: bootstrap
	$(PY) -m hddnn info
	$(PY) -m hddnn data --split test

test: bootstrap test-cpp test-python

test-cpp:
	ctest --test-dir $(BUILD_DIR) --output-on-failure --no-tests=error -j2

test-python:
	$(PY) -m pytest -q

# The quick run: skips suites marked slow.
test-quick: bootstrap test-cpp
	HDDNN_QUICK=1 $(PY) -m pytest -q -m "not slow"

bench: bootstrap
	$(PY) bench/run.py

clean:
	rm -rf $(BUILD_DIR) .venv python/hddnn/_core*.so python/*.egg-info .pytest_cache
