# Plan Change Portal — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench lint migrations-check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_scenario --once scenarios/demo.json
	@$(BIN)/python manage.py demo_logins scenarios/demo.json
	@echo "Starting web (http://127.0.0.1:$${PORTAL_PORT:-8000}), Celery worker and beat — Ctrl-C stops all."
	PATH="$(CURDIR)/$(BIN):$$PATH" DJANGO_DEBUG=$${DJANGO_DEBUG:-true} \
	  PLANCHANGE_STEP_DELAY=$${PLANCHANGE_STEP_DELAY:-3} \
	  $(BIN)/honcho --procfile Procfile start

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/pytest benchmarks -o testpaths=benchmarks -o python_files="bench_*.py" -s -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var
