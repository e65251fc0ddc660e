# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data
HOST   ?= 127.0.0.1
PORT   ?= 7850
DEMO_PORT ?= 7851
PYTEST_ARGS ?=

.PHONY: run demo translations server test lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

## run: set up, start a local server (./data/server) and the desktop app (profile ./data/app);
##      closing the app stops the server
run: $(STAMP)
	@mkdir -p $(DATA)/server $(DATA)/app
	@echo "Starting messenger-server on $(HOST):$(PORT) (data in $(DATA)/server)"
	@$(BIN)/messenger-server --host $(HOST) --port $(PORT) --data-dir $(DATA)/server & \
	server=$$!; \
	trap 'kill $$server 2>/dev/null; wait $$server 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python -m messenger_gui.devtools.local_demo --wait-for $(HOST):$(PORT) --pid $$server || exit 1; \
	echo "Starting the app (profile in $(DATA)/app)"; \
	$(BIN)/messenger --server $(HOST):$(PORT) --data-dir $(DATA)/app

## demo: a server and two app windows, Alice and Bob, who already know each other
demo: $(STAMP)
	$(BIN)/python -m messenger_gui.devtools.local_demo --data $(DATA) --host $(HOST) --port $(DEMO_PORT)

## translations: collect the app's strings into the .ts files and compile them to .qm
##               (messenger_en.ts holds only the English plural forms)
TRANSLATIONS := resources/translations
translations: $(STAMP)
	$(BIN)/pyside6-lupdate $$(find messenger_gui -name '*.py' | sort) -no-obsolete \
		-target-language pt_BR -ts $(TRANSLATIONS)/messenger_pt_BR.ts
	$(BIN)/pyside6-lupdate $$(find messenger_gui -name '*.py' | sort) -no-obsolete \
		-pluralonly -source-language en -target-language en -ts $(TRANSLATIONS)/messenger_en.ts
	$(BIN)/pyside6-lrelease $(TRANSLATIONS)/messenger_pt_BR.ts -qm $(TRANSLATIONS)/messenger_pt_BR.qm
	$(BIN)/pyside6-lrelease $(TRANSLATIONS)/messenger_en.ts -qm $(TRANSLATIONS)/messenger_en.qm

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

## build-deps: the Debian packages make dist needs (packaging/build_deps.py): installed
##             when run as root with apt-get, else stop with the `sudo apt-get install` line
build-deps:
	@$(PYTHON) packaging/build_deps.py build

## dist: PyInstaller bundles and Linux installers (.tar.gz + install.sh, .deb) in dist/;
##       checks the build's Debian packages first (build-deps)
PACKAGING_STAMP := $(VENV)/.installed-packaging

$(PACKAGING_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,packaging]'
	touch $@

dist: build-deps $(PACKAGING_STAMP)
	$(BIN)/python packaging/build.py --dist dist --work build/packaging

## test-packaging: build dist/ and run the bundles and installers through tests/test_packaging.py
test-packaging: dist
	MESSENGER_DIST_DIR=dist QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest \
		tests/test_packaging.py --timeout 300 $(PYTEST_ARGS)

.PHONY: build-deps dist test-packaging
