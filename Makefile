# `make demo` and `make test` each set up .venv (if missing) and run; nothing else needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench bench-quick lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/showcase.py

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m slow

BENCH_STAMP := $(VENV)/.installed-bench

# the peers are optional: if `.[bench]` cannot be installed whole, each is tried alone and a
# missing one is reported by the suite as "not installed"
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,bench]" || { \
	  echo "installing the benchmark peers one by one"; \
	  for p in "matplotlib>=3.5" "autograd>=1.6" "jax[cpu]>=0.4.20" "torch==2.13.0"; do \
	    $(BIN)/python -m pip install --quiet "$$p" || echo "could not install $$p"; \
	  done; }
	touch $(BENCH_STAMP)

# the side-by-side suite (pygote, autograd, JAX, PyTorch): writes benchmarks/results/latest.*
bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/python -m ruff check pygote
