# Warung: every command a person (or CI) runs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BASE ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
ENV ?= dev

# `sam build` needs the Lambda runtime's Python (3.13) on PATH; pyenv provides it here.
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0
export PYTHONPATH := tools:layers/common
export SAM_CLI_TELEMETRY := 0

.PHONY: help setup dev reset test test-clock unit integration e2e lint typecheck fmt invoke build deploy bench openapi clean create-admin rotate-signing-key

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt
	test -x $(PY) || $(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The start-up hook of `make test-clock` (inert unless WARUNG_CLOCK_OFFSET_S is set).
$(VENV)/.clock-shift: tools/clock_shift.py $(VENV)/.installed
	$(PY) tools/clock_shift.py install >/dev/null
	touch $@

# tools/ and layers/common on the environment's path: `.venv/bin/python -m warung_local …`
# works without PYTHONPATH (tools/venv_paths.py).
$(VENV)/.project-paths: tools/venv_paths.py $(VENV)/.installed
	$(PY) tools/venv_paths.py install >/dev/null
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON_BASE) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt
	touch $@

setup: $(VENV)/.installed $(VENV)/.clock-shift $(VENV)/.project-paths $(SAM_VENV)/.installed ## Create the virtual environments

dev: $(VENV)/.installed $(VENV)/.project-paths ## Run the API locally on http://127.0.0.1:3000, data kept in .local/ (PORT, EMULATOR_PORT, CORS_ORIGIN; RESET=1 starts empty)
	$(PY) -m warung_local dev $(if $(RESET),--reset)

# Stdlib only: runs with the virtual environment's Python when there is one, else the system's.
reset: ## Delete the local data (.local/): the next make dev starts empty
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON_BASE)) -m warung_local reset

# pytest, with every process's wall clock at $(AT) when it is set (tools/clock_shift.py).
define pytest_at
	@if [ -n "$(AT)" ]; then \
	  offset=$$(env -u WARUNG_CLOCK_OFFSET_S $(PY) tools/clock_shift.py offset "$(AT)") || exit 2; \
	  echo "wall clock of every process: $(AT) (offset $$offset s; monotonic clocks unchanged)"; \
	  export WARUNG_CLOCK_OFFSET_S=$$offset; \
	fi; \
	$(PY) -m pytest $(PYTEST_ARGS)
endef

test: setup lint build ## The whole suite: lint, sam build, unit, integration, end-to-end and OpenAPI fuzzing ([AT=<time>])
	$(pytest_at)

test-clock: setup ## The suite (no lint or build) with every process's wall clock at AT: make test-clock AT=2026-12-05T20:00:00Z
	@test -n "$(AT)" || { echo "usage: make test-clock AT=2026-12-05T20:00:00Z [PYTEST_ARGS=tests/unit]"; exit 2; }
	$(pytest_at)

unit: $(VENV)/.installed ## Unit tests only
	$(PY) -m pytest tests/unit

integration: $(VENV)/.installed ## Integration tests only (moto)
	$(PY) -m pytest tests/integration

e2e: $(VENV)/.installed ## End-to-end tests (local runtime, or API_URL)
	$(PY) -m pytest tests/e2e

lint: $(VENV)/.installed $(SAM_VENV)/.installed ## ruff, mypy, sam validate --lint, OpenAPI drift
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(SAM) validate --lint
	$(PY) tools/openapi_doc.py --check

typecheck: $(VENV)/.installed ## mypy --strict over the layer, the functions, tools/ and tests/, in one run (also the pre-commit hook)
	$(VENV)/bin/mypy layers/common functions tools tests

fmt: $(VENV)/.installed ## Format and auto-fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

openapi: $(VENV)/.installed ## Regenerate docs/openapi.json from the functions' routes
	$(PY) tools/openapi_doc.py

invoke: $(VENV)/.installed ## One event through one handler: make invoke FUNCTION=PlatformFunction EVENT=events/platform/health.json
	@test -n "$(FUNCTION)" && test -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<LogicalId> EVENT=events/<file>.json"; exit 2; }
	$(PY) -m warung_local invoke $(FUNCTION) $(EVENT)

build: $(SAM_VENV)/.installed ## sam build (arm64, python3.13, no Docker)
	$(SAM) build

deploy: build ## sam deploy to ENV=dev (default) or ENV=prod
	$(SAM) deploy --config-env $(ENV)

create-admin: $(VENV)/.installed ## Create or promote an admin: make create-admin EMAIL=you@example.com [STAGE=local|dev|prod]
	@test -n "$(EMAIL)" || { echo "usage: make create-admin EMAIL=you@example.com [STAGE=dev]"; exit 2; }
	$(PY) -m warung_ops.accounts create-admin "$(EMAIL)" --stage $(or $(STAGE),local)

rotate-signing-key: $(VENV)/.installed ## New access-token signing key: make rotate-signing-key STAGE=dev
	$(PY) -m warung_ops.signing_keys rotate --stage $(or $(STAGE),local)

bench: $(VENV)/.installed $(SAM_VENV)/.installed ## Cold-start imports and package sizes per function
	$(PY) -m warung_bench

clean: ## Remove build output and caches (keeps the virtual environments)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
