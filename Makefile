# Two commands matter: `make run` (demo on SQLite at http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Local-only values; production sets its own (see .env.example and the README).
RUN_ENV := DEBUG=1
TEST_ENV := SECRET_KEY=test-only-not-a-secret

.PHONY: run test setup migrate lint format messages clean lock

# Installs exactly what requirements.lock pins, each file checked against its hash, and nothing
# else (the app runs from this folder; it is not installed as a package). `make lock` refreshes
# the lock from pyproject.toml's ranges; commit both.
$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements.lock
	touch $(STAMP)

LOCK_VENV := .venv-lock
PIP_TOOLS := pip-tools==7.6.2

# `make lock LOCK_UPGRADE=` adds what pyproject.toml gained and keeps every other pin.
LOCK_UPGRADE ?= --upgrade

lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "$(PIP_TOOLS)"
	$(LOCK_VENV)/bin/pip-compile --quiet $(LOCK_UPGRADE) --generate-hashes --allow-unsafe \
		--extra test --extra deploy --strip-extras --no-emit-index-url \
		-o requirements.lock pyproject.toml

setup: $(STAMP)

migrate: $(STAMP)
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput

# The task worker runs beside the development server: it sends the notification emails, which
# the console backend prints here; the scheduler makes the digests every 5 minutes (what cron
# does in production, see the README). Ctrl-C stops the server; leaving the shell stops both.
run: migrate
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	$(RUN_ENV) $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	$(RUN_ENV) $(BIN)/python manage.py run_scheduler --interval 300 & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null; wait $$worker $$scheduler 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(RUN_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

format: $(STAMP)
	$(BIN)/python -m ruff check --fix .
	$(BIN)/python -m ruff format .

# Interface translations (needs GNU gettext): collect new strings into locale/*/django.po, then,
# once they are translated, compile the .mo files that are committed beside them.
# tests/test_translations.py runs makemessages with these same arguments.
MESSAGES_ARGS := -l fr -l es --no-obsolete -i ".venv/*" -i "staticfiles/*" -i "media/*" -i "tests/*"

messages: $(STAMP)
	$(RUN_ENV) $(BIN)/python manage.py makemessages $(MESSAGES_ARGS)
	$(RUN_ENV) $(BIN)/python manage.py compilemessages -i .venv -i staticfiles

clean:
	rm -rf $(VENV) $(LOCK_VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
