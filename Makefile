# The two commands a newcomer needs (see README.md):
#   make run    set everything up, then start the API and the worker (honcho + Procfile)
#   make test   set everything up, then run the whole test suite
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test setup-run setup-test translations browser postgres screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Compiled message catalogues (English/Chinese) for the web interface.
translations: $(BIN)/python
	@$(BIN)/python -m babel.messages.frontend --quiet compile -d api/web/translations

# Quiet: an editable install warns that folders named like the packages take precedence in
# imports — here they are the packages themselves, so the warning says nothing new.
PIP_INSTALL := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet

setup-run: $(BIN)/python
	$(PIP_INSTALL) -e ".[run]"
	$(MAKE) --no-print-directory translations

# Debian's Chromium + ChromeDriver for the browser tests, installed when missing and allowed.
browser:
	@sh tools/install_browser.sh

# Debian's PostgreSQL server for the second-backend tests, installed when missing and allowed.
postgres:
	@sh tools/install_postgres.sh

setup-test: $(BIN)/python browser postgres
	$(PIP_INSTALL) -e ".[run,test]"
	$(MAKE) --no-print-directory translations

run: setup-run
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --port $(PORT)

test: setup-test
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest --durations=15 $(PYTEST_ARGS)

# Screenshots of every page (light/dark, English/Chinese) into docs/ui/, taken by the browser tests.
screenshots: setup-test
	C2XC_SCREENSHOT_DIR=$(CURDIR)/docs/ui PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/python -m pytest tests/test_web_ui.py -q

clean:
	rm -rf $(VENV) build *.egg-info
