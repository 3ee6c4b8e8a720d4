# dealersim: developer and CI entry points.  `make` (or `make help`) lists the targets.
#
# Every target creates .venv on first use (`$(PY) -m venv .venv`) and installs the package
# editable with every extra and the dev tools (`.[all,dev]`); the install runs again only when
# pyproject.toml is newer than the stamp $(VENV)/.installed.  So `make test` (or `make check`)
# works as the first command on a fresh clone.  `make test` also finds the two system tools its
# browser tests need, installing them with apt-get
# where it may (root or passwordless sudo; DEALERSIM_NO_INSTALL=1 forbids it):
#   Chromium  scripts/find_browser.py: $DEALERSIM_CHROMIUM, PATH, Playwright's, apt-get
#   npm       scripts/find_npm.py, only while Solara's front end is not vendored yet
# and otherwise stops with one line saying what to install.

PY          ?= python3
VENV        ?= .venv
VENV_PY     := $(VENV)/bin/python
VENV_STAMP  := $(VENV)/.installed
PIP_ARGS    ?=
PYTEST_ARGS ?=
ARGS        ?=
# the fast tier: every test without one of these marks (pyproject.toml registers them)
FAST        := not (slow or browser or notebook or dask or validation)
# directories that ruff checks (only those that exist: git does not keep empty folders)
LINT_PATHS  := $(wildcard dealersim tests experiments scripts benchmarks)

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

.PHONY: help venv frontend browser check test lint docs demo bench validate figures clean

help: ## list the targets
	@echo "dealersim make targets (PY=$(PY), venv in $(VENV)):"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'
	@echo "variables: PY=python3  PYTEST_ARGS='-k foo -x'  ARGS='...' (demo/validate/bench)  PIP_ARGS"

# --- environment -------------------------------------------------------------------------

$(VENV_PY):
	@$(PY) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else \
		f"error: $(PY) is Python {v.major}.{v.minor}; dealersim needs >= 3.12 (try make PY=python3.12)")'
	@echo ">>> creating $(VENV) with $$($(PY) --version)"
	$(PY) -m venv $(VENV)

$(VENV_STAMP): pyproject.toml | $(VENV_PY)
	@echo ">>> installing dealersim (editable, every extra, the dev tools and the docs tools) into $(VENV)"
	$(VENV_PY) -m pip install --disable-pip-version-check $(PIP_ARGS) -e '.[all,dev,docs]'
	@touch $@

# the dashboard's front end (npm packages Solara would fetch from a CDN at run time) is vendored
# with the venv, so that `dealersim dashboard` works offline after `make venv`; without npm or
# the registry the venv still builds and the line says what is missing
venv: $(VENV_STAMP) ## create .venv, install the package and vendor the dashboard's front end
	@$(VENV_PY) scripts/vendor_frontend.py || echo "warning: the dashboard's front end is not \
	vendored (see the lines above); the page needs internet until 'make frontend' succeeds" >&2

frontend: venv ## vendor Solara's front end (npm) into the venv, for offline dashboards
	$(VENV_PY) scripts/vendor_frontend.py

# the path goes through a file: a prerequisite cannot hand a value to the `test` recipe
browser: venv ## find or install Chromium for the browser test (see scripts/find_browser.py)
	@$(VENV_PY) scripts/find_browser.py > $(VENV)/.browser

# --- checks ------------------------------------------------------------------------------

lint: venv ## ruff check dealersim, tests, experiments, scripts and benchmarks
	$(VENV)/bin/ruff check $(LINT_PATHS)

# no frontend, no browser: the fast tier needs neither npm nor Chromium
check: venv ## lint and the fast tests, under a minute, no browser needed (PYTEST_ARGS)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/dealersim docs --check
	$(VENV_PY) -m pytest -q -n 2 -m "$(FAST)" $(PYTEST_ARGS)

test: venv frontend browser docs ## ruff, the generated docs are current, the site builds, then every test, the slowest 25 listed
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/dealersim docs --check
	@rc=0; DEALERSIM_CHROMIUM="$$(cat $(VENV)/.browser)" $(VENV_PY) -m pytest --durations=25 $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$rc

# the notebooks run first (scripts/docs_hooks.py, a hook in mkdocs.yml); any warning fails
docs: venv ## build the documentation site offline into site/ (open site/index.html); warnings are errors
	$(VENV)/bin/dealersim docs --check
	env -u DEALERSIM_DOCS_NO_EXECUTE NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# --- running -----------------------------------------------------------------------------

demo: venv ## the main job: overlay vs planned, 300 paired replicates over 5 years -> out/demo/report.html (dealersim demo ARGS)
	$(VENV)/bin/dealersim demo $(ARGS)

bench: venv frontend browser ## run the benchmarks: python -m benchmarks.run ARGS
	DEALERSIM_CHROMIUM="$$(cat $(VENV)/.browser)" $(VENV_PY) -m benchmarks.run $(ARGS)

validate: venv ## run the validation checks: dealersim validate ARGS
	$(VENV)/bin/dealersim validate $(ARGS)

# (validate exits 1 when a pattern check fails; it has written its figures by then, so make goes on)
figures: venv ## regenerate every documented figure after a model change, in order (about 1 hour 45 minutes on 2 cores)
	$(VENV)/bin/dealersim calibrate experiments/calibration.toml --out out/cal --workers 2 --force --docs docs/validation.md
	$(VENV_PY) -m experiments.recovery --spec experiments/calibration.toml --n 400 --truths 100 --k 20 --workers 2 --out out/recovery --force --docs docs/calibration.md
	-$(VENV)/bin/dealersim validate --replicates 100 --seed 91001
	$(VENV)/bin/dealersim validate --knockouts --replicates 100 --out out/knockouts --docs docs/validation.md
	$(VENV)/bin/dealersim factorial --replicates 60 --culture-replicates 150 --seed 0 --design resv
	$(VENV)/bin/dealersim catalogue --replicates 200 --seed 0
	$(VENV_PY) experiments/money_table.py
	$(VENV_PY) experiments/success_rates.py 40 1000

# --- housekeeping ------------------------------------------------------------------------

clean: ## remove .venv, build artefacts and tool caches (keeps out/)
	rm -rf $(VENV) build dist site *.egg-info .eggs .pytest_cache .ruff_cache .hypothesis htmlcov .coverage
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
