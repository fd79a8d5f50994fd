# The two commands the README opens with: `make run` and `make test`.
SHELL := /bin/bash
# Python 3.11 (pyenv's or Debian's), else whatever python3 is.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test install install-dev assets system-deps lint format

run: install assets  ## install, migrate, seed demo data, start the job worker and serve on http://127.0.0.1:$(PORT)
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	@echo
	@echo "  Portal:      http://127.0.0.1:$(PORT)/login"
	@echo "  Demo admin:  admin@demo.test / demo-password-123   (also finance@demo.test, viewer@demo.test)"
	@echo "  Vendor:      vendor@demo.test / demo-password-123   (Trail Rentals' staff: its own orders only)"
	@echo "  Store:       http://127.0.0.1:$(PORT)/sandbox/store/   (the demo customer's cart of several vendors)"
	@echo "  Jobs:        http://127.0.0.1:$(PORT)/admin/jobs   (a worker runs beside the server: docs/jobs.md)"
	@echo
	PORT=$(PORT) ./scripts/run.sh

test: install-dev assets system-deps  ## install everything and run every test (SQLite, then PostgreSQL)
	./scripts/test.sh $(ARGS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
assets: static/vendor/.installed

# Chromium (browser tests) and fonts (invoice PDFs): apt-get when root; otherwise a clear reason (an error under CI=true).
system-deps:
	./scripts/ensure-chromium.sh

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

static/vendor/.installed: package.json package-lock.json scripts/vendor.mjs
	npm ci --no-audit --no-fund
	node scripts/vendor.mjs
	touch $@

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
