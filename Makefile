# The template's own checks. Needs only python3 (and Docker for the container tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SERVICE_LOCK := {{cookiecutter.project_slug}}/requirements-dev.lock
UV_LOCK := {{cookiecutter.project_slug}}/requirements-uv.lock
# Two workers: bakes, linters and server tests overlap well on a small machine.
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: test test-fast lint bench versus flamegraph layers bake openapi clean

# As the service's Makefile does: pip installs uv (hash-pinned), uv the lock, many times faster.
# --no-deps: the lock is complete, as the service's Makefile explains; pip check proves it.
$(STAMP): pyproject.toml $(SERVICE_LOCK) $(UV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r '$(UV_LOCK)'
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --require-hashes --compile-bytecode -r '$(SERVICE_LOCK)'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check .
	$(BIN)/python -m pip check --disable-pip-version-check
	@touch $@

test: $(STAMP)  ## every promise: hooks, bakes, linters, generated suites, fresh make test, Docker
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(STAMP)  ## everything but Docker and the fresh-venv bake
	$(BIN)/pytest $(PYTEST_ARGS) -m "not docker and not slow"

lint: $(STAMP)
	$(BIN)/ruff check hooks local_extensions.py tests benchmarks docker
	$(BIN)/ruff format --check hooks local_extensions.py tests benchmarks docker

# Not part of `make test` (tests/test_bench_smoke.py runs it on a tiny budget). Knobs: BENCH_*
# variables (`make bench BENCH_DURATION=30 BENCH_DOCKER=0`) or BENCH_ARGS; needs wrk.
bench: $(STAMP)  ## benchmark the baked defaults on loopback: one table, figures in build/bench.json
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

flamegraph: $(STAMP)  ## py-spy flame graph of the baked service's /healthz under load (build/flame/)
	$(BIN)/python -m benchmarks.flame $(FLAME_ARGS)

layers: $(STAMP)  ## each layer's CPU per request, read inside the gunicorn workers, beside bare Flask's
	$(BIN)/python -m benchmarks.layers $(LAYERS_ARGS)

# REF: an earlier commit (make versus REF=415bd67); VERSUS_ARGS: --duration, --no-docker, ...
versus: $(STAMP)  ## each route's CPU per request against the service an earlier commit bakes (REF)
	$(BIN)/python -m benchmarks.versus $(REF) $(VERSUS_ARGS)

openapi: $(STAMP)  ## regenerate the service's committed openapi.json files after changing its API
	$(BIN)/python -m tests.openapi_files

bake: $(STAMP)  ## bake the defaults into ./build
	$(BIN)/cookiecutter --no-input --overwrite-if-exists --output-dir build .

clean:
	rm -rf $(VENV) build .pytest_cache
