# The two commands the README opens with: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test install install-dev assets lint seed

run: install assets  ## install, migrate, seed demo data and serve on http://127.0.0.1:5000
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	@echo
	@echo "  Portal:      http://127.0.0.1:5000/login"
	@echo "  Demo admin:  admin@demo.test / demo-password-123   (also finance@demo.test, viewer@demo.test)"
	@echo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install-dev assets  ## install everything and run every test (SQLite, then PostgreSQL)
	./scripts/test.sh

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
assets: static/vendor/.installed

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
