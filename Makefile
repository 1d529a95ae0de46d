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

# The demo needs the product only (not the dev tools): a first `make demo` installs less.
# An install with the dev extras (make install/test) serves it as well.
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test $(STAMP) -nt pyproject.toml || $(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/bibliobot demo $(DEMO_FLAGS)

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
