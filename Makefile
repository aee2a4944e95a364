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
HTML := reports/allure-report
HAVE_NPX := $(shell command -v npx >/dev/null 2>&1 && echo yes)
BEHAVE_ARGS ?=

.PHONY: run test report bench lint features features-api agree clean dist

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

## test: lint, unit tests, the features in-process and through the Kubernetes API, and both
##       runs must agree scenario by scenario
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest; status=$$?; if [ $$status -ne 0 ] && [ $$status -ne 5 ]; then exit $$status; fi
	status=0; \
	$(MAKE) --no-print-directory features || status=$$?; \
	$(MAKE) --no-print-directory features-api || status=$$?; \
	$(MAKE) --no-print-directory agree || status=$$?; \
	exit $$status

## features: every feature on the simulator, in-process
features: $(STAMP)
	rm -rf $(RESULTS) $(JUNIT)
	$(BIN)/behave $(BEHAVE_ARGS)

## features-api: every feature through the kubernetes client against `sim serve` (sim-api).
## behave's config always writes Allure results to $(RESULTS); the in-process run's are
## parked meanwhile, and this run's end up in $(API_RESULTS).
features-api: $(STAMP)
	rm -rf $(API_RESULTS) $(API_JUNIT) reports/.allure-results-parked
	if [ -d $(RESULTS) ]; then mv $(RESULTS) reports/.allure-results-parked; fi
	status=0; $(BIN)/behave -D env=sim-api --junit-directory $(API_JUNIT) $(BEHAVE_ARGS) \
	  || status=$$?; \
	if [ -d $(RESULTS) ]; then mv $(RESULTS) $(API_RESULTS); fi; \
	if [ -d reports/.allure-results-parked ]; then mv reports/.allure-results-parked $(RESULTS); fi; \
	exit $$status

## agree: the in-process and the API run agree scenario by scenario
agree: $(STAMP)
	$(BIN)/python -m kclusterkit.report.agree $(JUNIT) $(API_JUNIT)

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
