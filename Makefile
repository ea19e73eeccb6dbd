# Plan Change Portal — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv installs exactly what uv.lock pins (`make lock` after editing pyproject's dependencies). The first
# install fetches uv itself from PyPI with the Python you have; it lives in .venv/.uv-<version>, beside
# the project's packages, not among them.
UV_VERSION := 0.13.9
UV := $(VENV)/.uv-$(UV_VERSION)/bin/uv
# Where Python caches no bytecode of its own (PYTHONDONTWRITEBYTECODE), uv compiles it once at install,
# for every process started after (each would compile Django again otherwise).
UV_SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(UV) sync --locked --quiet \
  $(if $(PYTHONDONTWRITEBYTECODE),--compile-bytecode)
STAMP := $(VENV)/.installed-stamp
RUN_STAMP := $(VENV)/.run-stamp

.PHONY: install run reset-demo test schemathesis graph-example client-flow soak bench lint migrations-check lock clean

# The portal, the tests, the linters and the benchmarks (the dev extra): what make test needs.
install: $(STAMP)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV_SYNC) --extra dev
	@touch $(STAMP) $(RUN_STAMP)

# What the portal needs to run, no more (make run): its dependencies, not the project itself (manage.py,
# Celery and honcho run it from here), nor the tools (those already installed stay).
$(RUN_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV_SYNC) --inexact --no-install-project
	@touch $(RUN_STAMP)

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "The portal needs Python 3.11 or later; $(PYTHON) is older (PYTHON=python3.11 make ...)." >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	@echo "Fetching uv $(UV_VERSION) from PyPI into $(VENV)/.uv-$(UV_VERSION)"
	@if $(PYTHON) -c 'import importlib.util, sys; sys.exit(not importlib.util.find_spec("pip"))'; \
	  then PIP="$(PYTHON) -m pip"; else $(PYTHON) -m venv $(VENV)/.pip && PIP=$(VENV)/.pip/bin/pip; fi; \
	  $$PIP install --quiet --disable-pip-version-check --root-user-action=ignore --only-binary :all: --no-deps \
	    --target $(VENV)/.uv-$(UV_VERSION) uv==$(UV_VERSION)

# uv.lock again from pyproject.toml (commit both).
lock: | $(UV)
	$(UV) lock

# make run is the developer's portal: local settings for every command and for web, worker
# and beat (Procfile), whatever DJANGO_SETTINGS_MODULE the calling shell has.
run: export DJANGO_SETTINGS_MODULE = portal.settings.local
# Before it starts them: manage.py migrate --noinput, load_scenario --once scenarios/demo.json and demo_logins
# scenarios/demo.json, in one process (each Django start saved is a second of make run's).
run: $(RUN_STAMP)
	@echo "manage.py migrate, load_scenario --once scenarios/demo.json, demo_logins"
	@$(BIN)/python -c 'import django; django.setup(); from django.core.management import call_command as manage; \
	  manage("migrate", "--noinput"); manage("load_scenario", "--once", "scenarios/demo.json"); \
	  manage("demo_logins", "scenarios/demo.json")'
	@echo "Starting web (http://127.0.0.1:$${PORTAL_PORT:-8000}), Celery workers (plan changes, webhooks, clock moves) and beat — Ctrl-C stops all."
	PATH="$(CURDIR)/$(BIN):$$PATH" \
	  PLANCHANGE_STEP_DELAY=$${PLANCHANGE_STEP_DELAY:-3} \
	  $(BIN)/honcho --procfile Procfile start

# Start the demo over (the web and worker may keep running): everything deleted, the demo loaded again.
reset-demo: export DJANGO_SETTINGS_MODULE = portal.settings.local
reset-demo: $(RUN_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py reset_demo

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The schema holds, against a live portal of its own (var/schemathesis/, a free port): schemathesis as two
# tenants' admins and as support staff, then every other tenant's id must answer 404 (tests/contract/).
schemathesis: install
	$(BIN)/python tests/contract/run_schemathesis.py

# The admin's own Graph script, unchanged, against a live portal of its own (var/graph-example/, a free port):
# examples/graph_move_users.py moves the demo's Business Basic users, and the database is checked after.
graph-example: install
	$(BIN)/python tests/contract/run_graph_example.py

# A client nobody here wrote, typed: /api/schema/ of a live portal of its own (var/client-flow/) validated
# (openapi-spec-validator, tests/contract/schema_rules.py, Redocly CLI when npx is there), a client generated
# with openapi-python-client (fails on a warning or an untyped property), and a typed flow run with it.
client-flow: install
	$(BIN)/python tests/contract/run_generated_client.py

# The property tests with many more examples, and clock moves racing plan changes and license edits for
# many more rounds (minutes, not for CI): HYPOTHESIS_PROFILE=soak, SOAK_ROUNDS=40.
soak: install
	HYPOTHESIS_PROFILE=soak SOAK_ROUNDS=$${SOAK_ROUNDS:-40} $(BIN)/pytest tests/test_stateful.py tests/billing/test_proration.py \
	  tests/test_clock_races.py -s -q $(PYTEST_ARGS)

# The benchmarks measure PostgreSQL + Redis (benchmarks/conftest.py refuses anything else): the
# local ones unless DATABASE_URL / CELERY_BROKER_URL say otherwise (its own test database and Redis
# database number). BENCH_SCALE=0.05 shrinks every size (100,000 seats → 5,000), BENCH_RUNS sets the
# runs per measure. Writes benchmarks/results/latest.json and latest.md.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/14
bench: install
	DATABASE_URL="$${DATABASE_URL:-$(BENCH_DATABASE_URL)}" CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(BENCH_BROKER_URL)}" \
	  $(BIN)/pytest benchmarks -o testpaths=benchmarks -o python_files="bench_*.py" -p no:cacheprovider -s -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var
