# Diaspora Atlas. Two commands are all a newcomer needs: `make run` and `make test`.
# Every target is idempotent: it installs or builds only what is missing or out of date.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test setup setup-dev assets catalogs database chromium lint format serve bench loadtest clean

run: setup database ## Serve the site on http://$(HOST):$(PORT)
	ATLAS_SESSION_COOKIE_SECURE=false ATLAS_BASE_URL=http://$(HOST):$(PORT) \
		$(FLASK) run --host $(HOST) --port $(PORT)

test: setup-dev chromium ## Lint, then run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/pytest

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

assets: node_modules/.installed
	$(BIN)/python -m app.assets

catalogs: $(VENV)/.installed ## Compile translations/*.po into .mo files
	$(BIN)/pybabel compile -d translations --use-fuzzy -f >/dev/null

database: $(VENV)/.installed catalogs ## Create or upgrade the database, load the questionnaires
	$(FLASK) db upgrade
	$(FLASK) atlas load-questionnaire

# Debian's Chromium drives the browser tests; no browser is downloaded.
chromium:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules app/static/vendor
