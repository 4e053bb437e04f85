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

.PHONY: run test setup migrate lint format messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

migrate: $(STAMP)
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput

run: migrate
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
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
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
