# Everything a fresh machine needs is installed by these targets (Python 3.11 + pip is enough).
# `make synth` and `make test` are the two commands; STAGE=dev narrows synth to one stage.
SHELL := /bin/bash
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1
# jsii prints a banner on Node 20 (end of life) on every run; it changes nothing else.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
PYTHON := .venv/bin/python
STAGE ?=

.PHONY: install lint db-app-user synth test test-fast test-pr test-emulator bench clean plan diff node-install \
	diagram sandbox backend-e2e security restore restore-assets

install: .venv/.installed

.venv/.installed: Pipfile.lock
	@python3 -m pipenv --version >/dev/null 2>&1 || python3 -m pip install --quiet pipenv
	python3 -m pipenv sync --dev
	@touch $@

# Also writes the Terraform CLI config (.tools/terraformrc: the provider from a local mirror when
# the machine has one) and says how to use it for terraform or npx cdktf by hand.
synth: install
	DIGITAL_BOOKING_STAGES="$(STAGE)" $(PYTHON) main.py
	@ls -1 cdktf.out/stacks
	@$(PYTHON) -m tools.terraform_cli --hint

# The style gates, with zero findings: ruff (lint and format, 120 columns), mypy over the code,
# zizmor over the GitHub workflows (offline: no GitHub API). `make test` runs them first.
lint: install
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy
	.venv/bin/zizmor --offline --no-progress .github/workflows

test: install node-install lint
	$(PYTHON) -m pytest

# The fast tests only (no terraform against the emulator, no checkov): for the edit loop.
test-fast: install
	$(PYTHON) -m pytest -m "not slow"

# The two halves of `make test`, as the pull-request workflow runs them side by side:
# test-pr is what a plan comment waits for (lint, the fast tests, terraform validate, checkov);
# test-emulator is everything that deploys or plans against the emulator.
test-pr: install lint
	$(PYTHON) -m pytest -m "not emulator"

test-emulator: install node-install
	$(PYTHON) -m pytest -m emulator

# What a change would do to one stage: synth it, then terraform init + plan (`plan`) or
# `cdktf diff` through the npm cdktf CLI (`diff`). Stops with a clear message where no AWS
# credentials exist. DIGITAL_BOOKING_EMULATOR_URL=start plans against a throwaway emulator (moto),
# DIGITAL_BOOKING_EMULATOR_URL=http://127.0.0.1:5000 against a running one.
plan: install
	$(PYTHON) -m tools.plan_stage plan $(STAGE)

diff: install node-install
	$(PYTHON) -m tools.plan_stage diff $(STAGE)

# Operators, once per stage after its first deploy: create the app's IAM-authenticated database user
# through an SSM port-forwarding session, with the operator's own credentials (README "Database users").
db-app-user: install
	$(PYTHON) -m tools.db_app_user $(STAGE)

# The cdktf CLI (npm cdktf-cli, pinned by package.json + package-lock.json) for `make diff` / cdktf deploy.
node-install: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# docs/architecture.svg, drawn from a fresh synth of every stage (tests/tools/test_diagram.py fails
# while the checked-in file differs from what the code synthesizes).
diagram: install
	$(PYTHON) -m tools.diagram

# A stage, after its account's security baseline, deployed into a local AWS emulator (moto server on
# 127.0.0.1, started and stopped here) with the real terraform + provider: outputs, a drift re-plan, then
# everything destroyed. No AWS account or network. STAGE=dev (default), staging or prod.
sandbox: install
	$(PYTHON) -m tools.sandbox --stage $(or $(STAGE),dev)

# Recovery, with the operator's own credentials (README "Recovery"): the stage's database restored to
# TIME (UTC, or 'latest') as a new instance beside the old one, waited for and checked; SWITCH=yes then
# points the app's connection parameters at it, else the exact switch is printed for review.
# restore-assets: KEY=<object> or PREFIX=<prefix> of the assets bucket back to TIME, from its versions.
restore: install
	$(PYTHON) -m tools.restore database --stage $(STAGE) --time $(TIME) $(if $(filter yes,$(SWITCH)),--switch,)

restore-assets: install
	$(PYTHON) -m tools.restore assets --stage $(STAGE) --time $(TIME) $(if $(KEY),--key $(KEY),) $(if $(PREFIX),--prefix $(PREFIX),) $(if $(filter yes,$(DRY_RUN)),--dry-run,)

# The real S3 backend end to end, against the emulator over TLS: the bootstrap with its bucket
# policy, the dev stage's own backend (state under the state key, both locks, a second writer
# refused), then everything destroyed.
backend-e2e: install
	$(PYTHON) -m tools.backend_e2e

# checkov 3.3.30 over the synthesized stacks (as in `make test`): counts, and findings outside
# security/checkov-accepted.yaml in prod, the state stack and the security baselines.
security: synth
	$(PYTHON) -m tools.checkov_gate cdktf.out

# Speed and memory: median full-synth time against the idiomatic provider import (prints figures).
bench: install
	$(PYTHON) -m tools.benchmark --runs 5

# Removes what synth, the tests and the emulator generate; never Terraform state. The bootstrap's
# state lives in bootstrap-state/, which clean does not touch; a state file anywhere under
# cdktf.out (an older layout kept the bootstrap's there) stops it, naming the file.
clean:
	@found="$$(find cdktf.out \( -name .terraform -prune \) -o \( -name '*.tfstate' -o -name '*.tfstate.backup' \) -print 2>/dev/null)"; \
	if [ -n "$$found" ]; then \
		echo "error: make clean would delete Terraform state:" >&2; echo "$$found" | sed 's/^/  /' >&2; \
		echo "Move it to bootstrap-state/ (the bootstrap's) or into its S3 backend first; nothing was removed." >&2; \
		exit 1; \
	fi
	rm -rf cdktf.out .tools .pytest_cache
