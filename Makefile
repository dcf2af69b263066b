# OmicsGate: `make serve` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PORT ?= 3000
# Lambda runs python3.12 (tiledb/numpy wheels need Amazon Linux 2023): develop on the same.
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) \
                      $(shell command -v python3.12 2>/dev/null) python3)
VENV := .venv
BIN := $(VENV)/bin
TYPED := layers/common/python/omicsgate $(wildcard functions/*/*_api) benchmarks infra
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
SAM_PATH := $(dir $(PYTHON)):$(PATH)
# The real OpenGWAS client (tests/integration/test_ieugwaspy.py), in a venv of its own.
IEUGWASPY_VENV := .venv-ieugwaspy
# The official RNAget compliance suite (tests/integration/test_rnaget_compliance.py), likewise.
RNAGET_COMPLIANCE_VENV := .venv-rnaget-compliance
# schemathesis against the TRS 2.1 spec (tests/integration/test_trs_schemathesis.py) and
# trs-cli (pydantic<2: tests/integration/test_trs_cli.py), each in a venv of its own.
SCHEMATHESIS_VENV := .venv-schemathesis
TRS_CLI_VENV := .venv-trs-cli
# checkov on infra/template.yaml (tests/test_template.py): its pins (boto3, pydantic, ...)
# are its own, so it gets a venv of its own too.
CHECKOV_VENV := .venv-checkov
# The portal (/portal/, /docs/): portal/src plus its npm packages' dist files, copied into
# portal/dist by `npm run build` (git-ignored; make serve and make test build it).
PORTAL_DIST := portal/dist/.built
PORTAL_SOURCES := portal/package.json portal/package-lock.json portal/build.mjs \
                  $(shell find portal/src -type f 2>/dev/null)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install serve data test test-unit lint typecheck validate build bench load scale scale-gwas clean ieugwaspy rnaget-compliance portal chromium

help:
	@echo "make serve   local API on http://127.0.0.1:$(PORT) (builds the demo release once)"
	@echo "make test    every test tier, TileDB on a moto S3 server included"
	@echo "make bench   cold start, warm latency and S3 requests per request, TileDB vs DuckDB"
	@echo "make scale   GTEx v8-size expression ingest: time, peak memory, 1-gene latency (~15 min, ~20 GB of /tmp)"
	@echo "make scale-gwas  10^8 GWAS associations: ingest time, peak memory, reads at 10^6 vs 10^8"
	@echo "make load    32 clients for 60 s on every route of the local API over moto S3 (LOAD_ARGS)"
	@echo "make build   sam build (no Docker)   make validate   sam validate --lint + cfn-lint"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# aws-sam-cli pins its own boto3: it lives in a venv of its own.
$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q -r requirements-sam.txt
	touch $@

# ieugwaspy brings retry and the retired py package: kept apart from the project's venv.
$(IEUGWASPY_VENV)/.installed:
	$(PYTHON) -m venv $(IEUGWASPY_VENV)
	$(IEUGWASPY_VENV)/bin/pip install -q ieugwaspy==1.0.6
	touch $@

# ga4gh-rnaget-compliance 1.0.0 needs loompy (numba, llvmlite, scipy: ~300 MB) and writes
# temporary schemas into its own package directory: a writable venv of its own, pinned.
$(RNAGET_COMPLIANCE_VENV)/.installed: requirements-rnaget-compliance.txt
	$(PYTHON) -m venv $(RNAGET_COMPLIANCE_VENV)
	$(RNAGET_COMPLIANCE_VENV)/bin/pip install -q -r requirements-rnaget-compliance.txt
	touch $@

$(SCHEMATHESIS_VENV)/.installed:
	$(PYTHON) -m venv $(SCHEMATHESIS_VENV)
	$(SCHEMATHESIS_VENV)/bin/pip install -q schemathesis==4.32.5
	touch $@

$(TRS_CLI_VENV)/.installed:
	$(PYTHON) -m venv $(TRS_CLI_VENV)
	$(TRS_CLI_VENV)/bin/pip install -q trs-cli==0.7.0 "pydantic<2"
	touch $@

$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q checkov==3.3.30
	touch $@

install: $(BIN)/.installed

$(PORTAL_DIST): $(PORTAL_SOURCES)
	cd portal && npm ci --ignore-scripts --no-audit --no-fund && npm run build
	touch $@

portal: $(PORTAL_DIST)

# Debian's Chromium for the browser tests (tests/integration/test_portal.py), installed
# where we can (root with apt); elsewhere, or if apt fails, those tests skip and say why.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y chromium || { apt-get update && apt-get install -y chromium; } \
	      || echo "chromium could not be installed: the browser tests will be skipped"; \
	  else echo "no /usr/bin/chromium and no root apt: the browser tests will be skipped"; fi; \
	fi

ieugwaspy: $(IEUGWASPY_VENV)/.installed

rnaget-compliance: $(RNAGET_COMPLIANCE_VENV)/.installed

data: install
	$(BIN)/omicsgate demo release
	$(BIN)/omicsgate demo trs --template infra/template.yaml

serve: data portal
	@echo "Anonymous calls work on public data. For a token (kept in .auth/, valid 14 days):"
	@echo "  .venv/bin/omicsgate token issue --user alice --groups cohort-a"
	@echo "  curl -H \"Authorization: Bearer \$$TOKEN\" http://127.0.0.1:$(PORT)/gwas/user"
	$(BIN)/python -m omicsgate.localapi.server --template infra/template.yaml --port $(PORT)

test: install $(SAM_VENV)/.installed $(IEUGWASPY_VENV)/.installed $(RNAGET_COMPLIANCE_VENV)/.installed \
		$(SCHEMATHESIS_VENV)/.installed $(TRS_CLI_VENV)/.installed $(CHECKOV_VENV)/.installed \
		portal chromium
	$(BIN)/ruff check layers functions tests benchmarks infra
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/mypy $(TYPED)
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$(SAM_PATH)" $(BIN)/pytest -q

test-unit: install
	$(BIN)/pytest -q -m unit

lint: install
	$(BIN)/ruff check layers functions tests benchmarks infra
	$(BIN)/ruff format --check layers functions tests benchmarks infra
	$(BIN)/actionlint .github/workflows/*.yml

typecheck: install
	$(BIN)/mypy $(TYPED)

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint --template-file infra/template.yaml
	$(SAM_VENV)/bin/cfn-lint infra/template.yaml

# Then each function with its layers, unzipped, against Lambda's 250 MB: fails if one is past.
build: $(SAM_VENV)/.installed
	PATH="$(SAM_PATH)" $(SAM) build --template-file infra/template.yaml --build-dir .aws-sam/build
	$(SAM_VENV)/bin/python infra/lambda_sizes.py .aws-sam/build

bench: install
	$(BIN)/python -m benchmarks.run

# Not in test or CI: a bounded load test (loopback only, stops by itself; about 2 minutes).
load: install
	$(BIN)/python -m benchmarks.load $(LOAD_ARGS)

# Not in test or CI: writes a ~6 GB GCT (SCALE_ARGS="--workdir DIR" to put it elsewhere).
scale: install
	$(BIN)/python -m benchmarks.scale_expression $(SCALE_ARGS)

scale-gwas: install
	$(BIN)/python -m benchmarks.gwas --scale $(SCALE_ARGS)

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
