# Two commands do all the set-up: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
# pytest-xdist workers of `make test` (the suite is sized for a 2-core machine)
TEST_WORKERS ?= 2
# security lint of the product code; findings print on stdout and fail the target, bandit's own
# warnings (one per sub-expression of a `# nosec`-marked multi-line SQL string) only on failure
BANDIT = $(VENV)/bin/bandit -c pyproject.toml -q -r dashboard ingest layouts callbacks \
	2>$(VENV)/bandit.log || { cat $(VENV)/bandit.log; exit 1; }

.PHONY: install run test fuzz lint format bench bench-viewers soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m dashboard.cli build-assets
	touch $(STAMP)

install: $(STAMP)

## the live dashboard on the embedded default (SQLite under ./data, demo data) at :8050
run: $(STAMP)
	$(PY) -m dashboard.cli build-assets
	DASHBOARD_DEMO=$${DASHBOARD_DEMO:-1} $(VENV)/bin/dashboard serve

## lint, the layer rules, types of the pure core, the security lint (bandit), then every test:
## unit, integration (real SQLite, PostgreSQL, Redis), browser; on TEST_WORKERS pytest-xdist
## workers (a test file per worker at a time), then the `serial` tests alone (they restart the
## shared PostgreSQL, or time a fault's detection); fails when either part fails
test: $(STAMP)
	$(PYTHON) tools/preflight.py
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(BANDIT)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not serial"; parallel=$$?; \
	$(PY) -m pytest -m serial; serial=$$?; \
	[ $$parallel -eq 0 ] && [ $$serial -eq 0 ]

## the API fuzz tests at 10x the examples of `make test` (DASHBOARD_FUZZ_SCALE)
fuzz: $(STAMP)
	DASHBOARD_FUZZ_SCALE=$${DASHBOARD_FUZZ_SCALE:-10} $(PY) -m pytest \
		tests/integration/ingest/test_ingest_fuzz.py tests/integration/api/test_openapi_fuzz.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(BANDIT)

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## benchmarks; writes bench/RESULTS.md
bench: $(STAMP)
	$(PY) -m dashboard.cli build-assets
	$(PY) -m bench

## 1,000 to 10,000 live viewers (Node websocket clients, bench/viewers/) on one node, and 10,000
## on two nodes behind nginx with Redis; writes the Viewers section of bench/RESULTS.md and
## docs/viewers.md (flags: make bench-viewers VIEWERS_ARGS="--steps 1x1000 --seconds 10")
bench-viewers: $(STAMP)
	npm ci --prefix bench/viewers --no-audit --no-fund
	$(PY) -m bench.viewers $(VIEWERS_ARGS)

## 10 min under 10,000 points/s and 200 live viewers; fails on memory growth or p99 drift;
## writes the Soak section of bench/RESULTS.md (flags: make soak SOAK_ARGS="--redis-url ...")
soak: $(STAMP)
	$(PY) -m bench.soak $(SOAK_ARGS)

## the README's screenshots (docs/*.png), retaken in headless Chromium at 1280x800 from the demo
.PHONY: screenshots
screenshots: $(STAMP)
	DASHBOARD_SCREENSHOTS=docs $(PY) -m pytest tests/browser/test_screenshots.py -p no:cacheprovider

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
