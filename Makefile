# The two commands a newcomer needs (see README.md):
#   make run    set everything up, then start the API and the worker (honcho + Procfile)
#   make test   set everything up, then run the whole test suite
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test setup-run setup-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup-run: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[run]"

setup-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[run,test]"

run: setup-run
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --port $(PORT)

test: setup-test
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
