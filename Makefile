# Baton: `make run` runs the whole system on the embedded default; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv lint bench-all

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

run: venv
	@$(BIN)/python manage.py migrate --noinput -v 0
	@$(BIN)/python manage.py collectstatic --noinput -v 0
	@$(BIN)/python manage.py seed_demo --if-empty
	@echo ""
	@echo "Baton is starting at http://$(HOST):$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@echo "Demo logins (password: demo): rep1 ... rep5 (sales reps), marketer, manager"
	@echo ""
	@# config/supervisor.py: a worker or beat that dies is restarted; the web process keeps serving.
	@# The demo: plain pages for errors (a 404 says how to log in), not Django's debug pages;
	@# `make run DEBUG=1` for those.
	@DEBUG=$${DEBUG:-0} BATON_DEMO=1 BATON_BASE_URL=$${BATON_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/python -m config.supervisor --host $(HOST) --port $(PORT) \
		--queues marketing,handoff,handoff_sweep,sales,webhooks

test: venv
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .
