# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data
HOST   ?= 127.0.0.1
PORT   ?= 7850
PYTEST_ARGS ?=

.PHONY: run server test lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

## run: set up, start a local server on ./data and the desktop app connected to it
run: $(STAMP)
	@mkdir -p $(DATA)/server
	@echo "Starting messenger-server on $(HOST):$(PORT) (data in $(DATA)/server); Ctrl+C stops it"
	$(BIN)/messenger-server --host $(HOST) --port $(PORT) --data-dir $(DATA)/server

## server: the server alone, in the foreground
server: $(STAMP)
	@mkdir -p $(DATA)/server
	$(BIN)/messenger-server --host $(HOST) --port $(PORT) --data-dir $(DATA)/server

## test: set up and run the whole suite headless
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff and mypy over both packages
lint: $(STAMP)
	$(BIN)/ruff check messenger_server messenger_gui tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

## dist: PyInstaller bundles and Linux installers (.tar.gz + install.sh, .deb) in dist/
PACKAGING_STAMP := $(VENV)/.installed-packaging

$(PACKAGING_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,packaging]'
	touch $@

dist: $(PACKAGING_STAMP)
	$(BIN)/python packaging/build.py --dist dist --work build/packaging

## test-packaging: build dist/ and run the bundles and installers through tests/test_packaging.py
test-packaging: dist
	MESSENGER_DIST_DIR=dist QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest \
		tests/test_packaging.py --timeout 300 $(PYTEST_ARGS)

.PHONY: dist test-packaging
