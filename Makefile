# The README's two commands: `make test` and `make demo`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
DEMO_FLAGS ?=

.PHONY: test lint typecheck pytest install demo bench clean

# Creates .venv if missing and (re)installs the project with its dev extras
# whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

# `make demo` must show its page within a minute on a fresh clone, so it installs only what the
# product needs to run (the dependencies: no build step, no dev tools) and runs it from the
# source tree. When this Python has pip, the venv is made without its own copy (ensurepip is
# slow) and filled by that pip (`pip --python`); `make install` adds pip to the venv later.
# An install with the dev extras (make install/test) serves the demo as well.
$(RUN_STAMP): pyproject.toml
	@if test -x $(BIN)/python; then :; \
	elif $(PYTHON) -m pip --version >/dev/null 2>&1; then $(PYTHON) -m venv --without-pip $(VENV); \
	else $(PYTHON) -m venv $(VENV); fi
	@if test $(STAMP) -nt pyproject.toml; then :; else \
	  $(BIN)/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > $(VENV)/requirements-run.txt && \
	  if $(BIN)/python -m pip --version >/dev/null 2>&1; \
	  then $(BIN)/python -m pip install --quiet -r $(VENV)/requirements-run.txt; \
	  else $(PYTHON) -m pip --python $(BIN)/python install --quiet -r $(VENV)/requirements-run.txt; fi; \
	fi
	@touch $(RUN_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/python -m bot demo $(DEMO_FLAGS)

bench: $(STAMP)
	$(BIN)/python bench/search.py
	$(BIN)/python bench/import_marc.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Message catalogs (bot/i18n): extract the template from the code, merge it into every
# language's .po, and (optionally: the bot compiles the .po files itself) build .mo files.
I18N_FLAGS := --project=Bibliobot --copyright-holder="Bibliobot contributors" \
	--add-comments=TRANSLATORS: --add-location=file

.PHONY: i18n-extract i18n-update i18n-compile

i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(I18N_FLAGS) -o locales/bibliobot.pot bot

i18n-update: i18n-extract
	$(BIN)/pybabel update -i locales/bibliobot.pot -d locales -D bibliobot \
		--ignore-pot-creation-date

i18n-compile: $(STAMP)
	$(BIN)/pybabel compile -d locales -D bibliobot --statistics
