# kclusterkit — every target builds what it needs on a fresh machine (python3.11, node/npm).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
RESULTS := reports/allure-results
JUNIT := reports/junit
API_RESULTS := reports/allure-results-api
API_JUNIT := reports/junit-api
KC_RESULTS := reports/allure-results-kubeconfig
KC_JUNIT := reports/junit-kubeconfig
SERVED := reports/served
HTML := reports/allure-report
HAVE_NPX := $(shell command -v npx >/dev/null 2>&1 && echo yes)
BEHAVE_ARGS ?=
# Scenarios tagged @ha need 3 control-plane nodes. A served cluster has one shape per run, so
# the default runs (1 control-plane node) leave them out and `features-ha` runs them on all
# three targets against clusters of that shape (environments/sim-ha*.yaml).
TAGS ?= --tags="not @ha"
SERVE_ENV ?= kclusterkit/environments/sim-api.yaml
API_ENV ?= sim-api
# The API runs drive one served cluster for the whole run, as a user's run drives one real
# cluster: a scenario that fails nodes or removes the network plugin must leave it whole for
# the next one. FEATURES narrows every run (e.g. FEATURES=features/storage.feature).
FEATURES ?= $(sort $(wildcard features/*.feature))
HA_FEATURES := $(shell grep -l '@ha' features/*.feature 2>/dev/null)

.PHONY: run test report bench lint features features-api features-kubeconfig _served agree clean dist \
	features-ha _features-ha-inprocess agree-ha

# The venv is rebuilt only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV): $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## run: every feature on the simulator, then the HTML report (exit code is behave's)
run: $(STAMP)
	rm -rf $(RESULTS) reports/junit
	status=0; $(BIN)/behave $(BEHAVE_ARGS) || status=$$?; \
	$(MAKE) --no-print-directory report || true; \
	exit $$status

## report: HTML report from reports/allure-results (skipped when node/npx is missing)
report:
ifeq ($(HAVE_NPX),yes)
	@$(MAKE) --no-print-directory $(NPM_STAMP)
	rm -rf $(HTML)
	npx --no allure generate $(RESULTS) -o $(HTML)
	@echo "HTML report: $(HTML)/index.html"
else
	@echo "node/npx not found: skipping the HTML report (results are in $(RESULTS))"
endif

## test: lint, unit tests, the features three ways — in-process, sim-api, and the kubeconfig
##       target against a `sim serve` — and all three runs must agree scenario by scenario
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest; status=$$?; if [ $$status -ne 0 ] && [ $$status -ne 5 ]; then exit $$status; fi
	status=0; \
	$(MAKE) --no-print-directory features || status=$$?; \
	$(MAKE) --no-print-directory features-api || status=$$?; \
	$(MAKE) --no-print-directory features-kubeconfig || status=$$?; \
	$(MAKE) --no-print-directory agree || status=$$?; \
	$(MAKE) --no-print-directory features-ha || status=$$?; \
	exit $$status

## features: every feature on the simulator, in-process (FEATURES="features/x.feature" narrows
## this, features-api and features-kubeconfig alike, and `agree` then compares just those)
features: $(STAMP)
	rm -rf $(RESULTS) $(JUNIT)
	$(BIN)/behave $(TAGS) $(BEHAVE_ARGS) $(FEATURES)

# behave's config always writes Allure results to $(RESULTS): a run other than the in-process
# one parks those meanwhile and moves its own to $(1) afterwards. $(2) is the behave command.
define parked_run
	rm -rf $(1) reports/.allure-results-parked
	if [ -d $(RESULTS) ]; then mv $(RESULTS) reports/.allure-results-parked; fi
	status=0; $(2) || status=$$?; \
	if [ -d $(RESULTS) ]; then mv $(RESULTS) $(1); fi; \
	if [ -d reports/.allure-results-parked ]; then mv reports/.allure-results-parked $(RESULTS); fi; \
	exit $$status
endef

## features-api: every feature on the sim-api target: it starts `kclusterkit sim serve` and
## drives it through the kubernetes client exactly as the kubeconfig target drives a cluster.
features-api: $(STAMP)
	rm -rf $(API_JUNIT)
	$(call parked_run,$(API_RESULTS),$(BIN)/behave -D env=$(API_ENV) --junit-directory $(API_JUNIT) $(TAGS) $(BEHAVE_ARGS) $(FEATURES))

## features-kubeconfig: every feature on the kubeconfig target (kclusterkit/environments/sim-served.yaml:
## hook commands, no simulator settings) against a `kclusterkit sim serve` started here.
features-kubeconfig: $(STAMP)
	rm -rf $(KC_JUNIT)
	$(call parked_run,$(KC_RESULTS),$(MAKE) --no-print-directory _served)

# the features against one `kclusterkit sim serve` started for them
_served:
	rm -rf $(SERVED) && mkdir -p $(SERVED) && chmod 700 $(SERVED)
	$(BIN)/kclusterkit sim serve --env $(SERVE_ENV) --seed 1 --speed 100 \
	  --kubeconfig $(SERVED)/kubeconfig --print-kubeconfig > $(SERVED)/serve.log 2>&1 & \
	pid=$$!; trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf $(SERVED)' EXIT; \
	for i in $$(seq 300); do [ -s $(SERVED)/serve.log ] && break; sleep 0.1; done; \
	if [ ! -s $(SERVED)/kubeconfig ]; then cat $(SERVED)/serve.log; exit 1; fi; \
	KUBECONFIG=$(CURDIR)/$(SERVED)/kubeconfig $(BIN)/behave -D env=sim-served \
	  --junit-directory $(KC_JUNIT) $(TAGS) $(BEHAVE_ARGS) $(FEATURES)

## agree: the three runs agree scenario by scenario
agree: $(STAMP)
	$(BIN)/python -m kclusterkit.report.agree $(JUNIT) $(API_JUNIT) $(KC_JUNIT) \
	  --names in-process,sim-api,kubeconfig

## features-ha: the @ha scenarios (3 control-plane nodes) on the three targets, each against a
## cluster of that shape (sim-ha.yaml in-process, sim-ha-api.yaml served), and their agreement
features-ha: $(STAMP)
	status=0; \
	$(MAKE) --no-print-directory _features-ha-inprocess || status=$$?; \
	$(MAKE) --no-print-directory features-api TAGS=--tags=@ha API_ENV=sim-ha-api FEATURES="$(HA_FEATURES)" \
	  API_JUNIT=reports/junit-ha-api API_RESULTS=reports/allure-results-ha-api || status=$$?; \
	$(MAKE) --no-print-directory features-kubeconfig TAGS=--tags=@ha FEATURES="$(HA_FEATURES)" \
	  SERVE_ENV=kclusterkit/environments/sim-ha-api.yaml KC_JUNIT=reports/junit-ha-kubeconfig \
	  KC_RESULTS=reports/allure-results-ha-kubeconfig || status=$$?; \
	$(MAKE) --no-print-directory agree-ha || status=$$?; \
	exit $$status

_features-ha-inprocess:
	rm -rf reports/junit-ha
	$(call parked_run,reports/allure-results-ha,$(BIN)/behave -D env=sim-ha --junit-directory reports/junit-ha --tags=@ha $(BEHAVE_ARGS))

agree-ha: $(STAMP)
	$(BIN)/python -m kclusterkit.report.agree reports/junit-ha reports/junit-ha-api \
	  reports/junit-ha-kubeconfig --names in-process,sim-api,kubeconfig

## dist: the wheel and sdist a user installs (step library, environments, acceptance pack)
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .

lint: $(STAMP)
	$(BIN)/ruff check .

## bench: benchmarks that print figures (never timed assertions)
bench: $(STAMP)
	@set -e; shopt -s nullglob; files=(bench/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks in bench/"; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(BIN)/python "$$f"; done

clean:
	rm -rf $(VENV) reports node_modules build dist *.egg-info .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
