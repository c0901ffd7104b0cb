# Entry points. Each target installs what it needs (on Debian 12 as root)
# and can be run again safely.
SHELL := /bin/bash
.DEFAULT_GOAL := help
SUITES := bookworm trixie
# Ansible and pip are much slower when Python may not write byte code.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: prereqs vault help setup venv docker images images-rebuild test lint docs app-test molecule demo demo-destroy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: prereqs venv docker images ## Install everything: .venv tools, a Docker engine, the base images

prereqs: ## Controller programs the harness calls (ssh, curl, openssl, debootstrap, rsync)
	scripts/prereqs.sh

venv: .venv/.installed ## The pinned controller tools in .venv

.venv/.installed: requirements.txt scripts/setup-venv.sh
	scripts/prereqs.sh
	scripts/setup-venv.sh

docker: ## A Docker engine that answers (installs docker.io and starts dockerd if needed)
	scripts/docker-engine.sh

images: docker ## Local base images (Debian 12 and 13) for test and demo hosts
	@pids=(); for s in $(SUITES); do scripts/build-image.sh $$s & pids+=($$!); done; \
	  rc=0; for p in $${pids[@]}; do wait $$p || rc=1; done; exit $$rc

images-rebuild: docker ## Rebuild the base images (after the controller's CA certificates change)
	@for s in $(SUITES); do scripts/build-image.sh $$s --force || exit 1; done

test: setup ## Everything: lint, app tests, every molecule scenario; ends with "N passed, N failed"
	scripts/run-tests.sh

lint: venv ## yamllint, ansible-lint (production profile), role READMEs against their specs
	scripts/run-tests.sh lint

docs: venv ## Regenerate the variable tables in roles/*/README.md from meta/argument_specs.yml
	.venv/bin/python scripts/role-docs.py

app-test: ## The application's unit tests
	scripts/run-tests.sh app

molecule: setup ## Every molecule scenario (or one: make molecule SCENARIO=default)
	scripts/run-tests.sh $(or $(SCENARIO),molecule)

demo: setup ## A local throwaway server running the whole stack; prints its URL
	scripts/demo.sh

demo-destroy: ## Remove the demo server
	scripts/demo.sh destroy

bench: setup ## Measure the operator-facing figures on throwaway hosts (BENCH_RUNS=1 BENCH_FIGURES=... for a quick try)
	.venv/bin/python bench/bench.py

vault: venv ## Create an environment's encrypted vault with generated secrets: make vault ENV=prod
	scripts/new-vault.sh $(ENV)

clean: demo-destroy ## Remove the demo host, caches and virtualenvs (keeps the base images)
	rm -rf .venv .venv-app .cache
