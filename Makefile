# Diaspora Atlas. Two commands are all a newcomer needs: `make run` and `make test`.
# Every target is idempotent: it installs or builds only what is missing or out of date.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi
CHROMIUM ?= /usr/bin/chromium
# `make serve`: worker processes and threads per worker (gunicorn.conf.py picks defaults).
WEB_CONCURRENCY ?=
GUNICORN_THREADS ?=
# `make bench`: stored-row counts for the growth check, comma-separated.
BENCH_SIZES ?= 10000,100000,1000000
# `make test`: pytest-xdist workers (auto: one per core).
TEST_WORKERS ?= auto
# `make loadtest`: examples per fuzz test (four tests, so four times this many bodies).
FUZZ_EXAMPLES ?= 750
# `make loadtest`: schemathesis examples per API operation, against the API's own description.
SCHEMA_EXAMPLES ?= 300

.PHONY: run test setup setup-dev assets catalogs translations database chromium lint format serve bench loadtest clean

run: setup database ## Serve the site on http://$(HOST):$(PORT)
	$(FLASK) atlas ensure-admin
	ATLAS_SESSION_COOKIE_SECURE=false ATLAS_BASE_URL=http://$(HOST):$(PORT) \
		$(FLASK) run --host $(HOST) --port $(PORT)

test: setup-dev chromium ## Lint, then run the whole test suite
	$(BIN)/ruff check .
	$(FLASK) atlas check-translations --limit 3
	$(BIN)/pytest -n $(TEST_WORKERS)

setup: $(VENV)/.installed assets catalogs

setup-dev: setup $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Front-end assets (Leaflet and friends) come from the npm registry and are served by the app.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Leaflet is copied from node_modules next to each published map by `atlas build-maps`.
assets: node_modules/.installed

# kk_Latn is generated from kk (forms/translit.py) and git-ignored: edit translations/kk only.
catalogs: $(VENV)/.installed ## Generate Latin Kazakh, compile translations/*.po into .mo files
	$(BIN)/python -m forms.translit translations >/dev/null
	$(BIN)/pybabel compile -d translations >/dev/null

translations: $(VENV)/.installed ## Extract new strings and merge them into every catalog
	$(FLASK) translate update
	$(FLASK) atlas check-translations --limit 5

database: $(VENV)/.installed catalogs ## Create or upgrade the database, load the questionnaires
	$(FLASK) db upgrade
	$(FLASK) atlas load-questionnaire
	$(FLASK) atlas recount --quick --fix

serve: setup database ## Serve the site under gunicorn on $(HOST):$(PORT) (production)
	HOST=$(HOST) PORT=$(PORT) WEB_CONCURRENCY=$(WEB_CONCURRENCY) GUNICORN_THREADS=$(GUNICORN_THREADS) \
		$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

bench: setup-dev ## Benchmarks on SQLite and PostgreSQL; writes bench/out/ and BENCHMARKS.md
	BENCH_SIZES=$(BENCH_SIZES) $(BIN)/python -m bench.run

loadtest: setup-dev ## Load and fault test under gunicorn, then fuzz runs (127.0.0.1 only)
	$(BIN)/python -m bench.loadtest
	ATLAS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider tests/test_api_fuzz.py
	SCHEMA_EXAMPLES=$(SCHEMA_EXAMPLES) $(BIN)/python -m bench.schema_check

# Debian's Chromium drives the browser tests; no browser is downloaded.
chromium:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@# System fonts for Kazakh Arabic script (incl. U+0674) and Chinese, so screenshots are readable;
	@# the site itself never fetches fonts (atlas.css names system fonts only).
	@fc-list -q ":family=Noto Naskh Arabic" && fc-list -q ":lang=zh" || { echo "Installing Debian's Arabic and CJK fonts"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-core fonts-wqy-microhei >/dev/null; }

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules app/static/vendor
