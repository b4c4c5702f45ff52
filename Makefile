# The README's entry points. Each target bootstraps first, so a fresh Debian 12
# machine needs nothing else.
PY := .venv/bin/python
BUILD_DIR ?= build
export HDDNN_BUILD_DIR := $(BUILD_DIR)

.PHONY: bootstrap demo test test-quick test-cpp test-python lint format bench fuzz clean

bootstrap:
	scripts/bootstrap

# The main job: train fmnist_hetero (or reuse runs/fmnist_hetero), then run the three
# schemes side by side over lab7, one MPI rank per device, at the jam point (rho 1.2:
# end-cloud's cloud offered 1.2x what it serves), and simulate the same. The exit
# threshold 0.3 sends about a quarter of the samples up; time dilation (K = 10) and compute
# emulated from the profile let this small host serve the emulated request rates.
MODEL ?= runs/fmnist_hetero
TOPOLOGY ?= mapping/topologies/lab7.json
DEMO_RHO ?= 1.2
DEMO_THRESHOLD ?= 0.3
DEMO_SECONDS ?= 3
DEMO_TIME_SCALE ?= 10
demo: bootstrap
	$(PY) -m hddnn info
	$(PY) -m hddnn data --split test
	test -f $(MODEL)/profile.json || $(PY) -m hddnn train --spec models/fmnist_hetero.json --out $(MODEL)
	$(PY) -m hddnn run --model $(MODEL) --topology $(TOPOLOGY) --scheme end,end-cloud,mapping \
	  --rho $(DEMO_RHO) --threshold $(DEMO_THRESHOLD) --duration $(DEMO_SECONDS) \
	  --time-scale $(DEMO_TIME_SCALE) --compute profile --out runs/demo --plot runs/demo/schemes.png
	$(PY) -m hddnn sim --model $(MODEL) --topology $(TOPOLOGY) --scheme end,end-cloud,mapping \
	  --rho $(DEMO_RHO) --threshold $(DEMO_THRESHOLD) --duration $(DEMO_SECONDS) --out runs/demo

test: bootstrap lint test-cpp test-python

test-cpp:
	ctest --test-dir $(BUILD_DIR) --output-on-failure --no-tests=error -j2

test-python:
	$(PY) -m pytest -q

# Static checks (Debian's pyflakes3 and clang-format, which scripts/bootstrap installs):
# pyflakes over the Python sources, and the C++ sources against .clang-format.
# `make format` rewrites the C++ sources in that style.
LINT_PY := $(sort $(shell find python tests bench scripts notebooks -name '*.py' -not -path '*/__pycache__/*')) setup.py
LINT_CXX := $(sort $(shell find cpp mapping tests/cpp bench \( -name '*.cpp' -o -name '*.hpp' \)))
lint:
	@for tool in pyflakes3 clang-format; do command -v $$tool >/dev/null || \
	  { echo "make lint: $$tool is missing (scripts/bootstrap installs it)"; exit 1; }; done
	@echo "pyflakes3 on $(words $(LINT_PY)) Python files; clang-format --dry-run --Werror on $(words $(LINT_CXX)) C++ files"
	@rc=0; pyflakes3 $(LINT_PY) || rc=1; clang-format --dry-run --Werror $(LINT_CXX) || rc=1; exit $$rc

format:
	clang-format -i $(LINT_CXX)

# The quick run: skips suites marked slow.
test-quick: bootstrap test-cpp
	HDDNN_QUICK=1 $(PY) -m pytest -q -m "not slow"

bench: bootstrap
	$(PY) bench/run.py

# libFuzzer on the wire-format decoder and the sealed-link open path, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_DIR := build-fuzz
FUZZERS := comm_fuzz_decode_header crypto_fuzz_open
fuzz: bootstrap
	@ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || \
	  $$([ "$$(id -u)" -eq 0 ] || echo sudo) apt-get install -y -q clang libclang-rt-14-dev
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_CXX_COMPILER=clang++ -DHDDNN_FUZZ=ON -DPython3_EXECUTABLE=$(CURDIR)/$(PY) >/dev/null
	cmake --build $(FUZZ_DIR) -j2 --target $(FUZZERS)
	@for f in $(FUZZERS); do mkdir -p $(FUZZ_DIR)/corpus/$$f; \
	  $(FUZZ_DIR)/tests/cpp/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_DIR)/corpus/$$f \
	    > $(FUZZ_DIR)/$$f.log 2>&1; rc=$$?; \
	  echo "$$f: $$(grep -E 'stat::number_of_executed_units' $(FUZZ_DIR)/$$f.log)"; \
	  [ $$rc -eq 0 ] || { grep -E -A20 'ERROR|SUMMARY' $(FUZZ_DIR)/$$f.log; exit $$rc; }; done

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR) .venv python/hddnn/_core*.so python/*.egg-info .pytest_cache
