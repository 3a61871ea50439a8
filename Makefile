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
	@bash -c 'pids=(); \
		stop() { trap - INT TERM EXIT; kill $${pids[@]} 2>/dev/null; wait; echo "Baton stopped."; }; \
		trap stop INT TERM EXIT; \
		$(BIN)/celery -A config worker -Q marketing,handoff,handoff_sweep,sales,webhooks -l warning --concurrency 2 & pids+=($$!); \
		$(BIN)/celery -A config beat -l warning -s var/celerybeat-schedule & pids+=($$!); \
		$(BIN)/python manage.py runserver $(HOST):$(PORT) & pids+=($$!); \
		wait -n'

test: venv
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .
