"""The translator: languages, fallbacks, plural forms, formatting of messages, loading."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from bot.i18n import I18n, language_name, something_went_wrong, translator
from bot.i18n.catalogs import find_locales_dir, load_translations
from bot.settings import LibrarySettings, Settings

LOANS = "You already have {n} item on loan, the most allowed: return it to borrow another."
LOANS_PLURAL = "You already have {n} items on loan, the most allowed: return one to borrow another."


@pytest.mark.parametrize(
    ("language", "counts"),
    [
        (
            "it",
            {
                0: "Hai già 0 prestiti in corso",
                1: "Hai già 1 prestito in corso",
                2: "Hai già 2 prestiti in corso",
            },
        ),
        (
            "en",
            {
                0: "You already have 0 items on loan",
                1: "You already have 1 item on loan",
                2: "You already have 2 items on loan",
            },
        ),
    ],
)
def test_plural_forms(language: str, counts: dict[int, str]) -> None:
    t = translator(language)
    for n, start in counts.items():
        assert t.ngettext(LOANS, LOANS_PLURAL, n, n=n).startswith(start)
        assert t.ngettext(LOANS, LOANS_PLURAL, n).format(n=n).startswith(start)


def test_a_message_without_fields_is_returned_as_a_template() -> None:
    assert translator("en").ngettext("{n} copy", "{n} copies", 2) == "{n} copies"
    assert translator("it").gettext("Keep {braces}") == "Keep {braces}"


def test_italian_is_the_default_and_english_on_request() -> None:
    message = "Something went wrong on our side. Please try again in a few minutes."
    assert translator().gettext(message) == (
        "Qualcosa è andato storto da parte nostra. Riprova tra qualche minuto."
    )
    assert translator("en").gettext(message) == message
    assert something_went_wrong(translator("it")).startswith("Qualcosa è andato storto")


@pytest.mark.parametrize("code", ["fr", "xx", "", None, "it-IT", "IT", "zz-Latn-ZZ"])
def test_an_unknown_language_falls_back_to_italian(code: str | None) -> None:
    t = translator(code)
    assert t.language == "it"
    assert t.format_money(80) == "0,80\xa0€"


@pytest.mark.parametrize("code", ["en", "en-GB", "en_US", "EN"])
def test_telegram_language_codes_are_negotiated(code: str) -> None:
    assert translator(code).language == "en"


def test_only_the_languages_the_library_offers() -> None:
    only_italian = I18n(languages=["it"], default_language="it")
    assert only_italian.translator("en").language == "it"
    assert list(only_italian.translators()) == ["it"]


def test_built_from_the_settings() -> None:
    settings = Settings(library=LibrarySettings(default_language="en", timezone="Europe/Lisbon"))
    i18n = I18n.from_settings(settings)
    assert i18n.translator(None).language == "en"
    assert i18n.zone.key == "Europe/Lisbon"
    assert I18n.from_settings(settings.library).default_language == "en"


def test_a_default_language_the_library_does_not_offer_is_refused() -> None:
    with pytest.raises(ValueError, match="default language"):
        I18n(languages=["en"], default_language="it")


def test_translators_and_catalogs_are_loaded_once() -> None:
    assert translator("it") is translator("it")
    i18n = I18n()
    assert i18n.translator("en") is i18n.translator("en-GB")
    load_translations.cache_clear()
    first = I18n().translator("it")
    assert I18n().translator("it")._translations is first._translations


def test_language_names_for_the_language_buttons() -> None:
    assert [language_name(code) for code in ("it", "en")] == ["Italiano", "English"]
    assert language_name("zz") == "zz"


# -- loading --------------------------------------------------------------------------------


def _catalog_dir(tmp_path: Path, translation: str) -> Path:
    catalog = Catalog(locale="it", domain="bibliobot")
    catalog.add("Due on {date}", translation)
    folder = tmp_path / "locales" / "it" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    return folder


def test_a_compiled_catalog_alone_is_used(tmp_path: Path) -> None:
    folder = _catalog_dir(tmp_path, "")
    catalog = Catalog(locale="it", domain="bibliobot")
    catalog.add("Due on {date}", "Scadenza: {date}")
    with (folder / "bibliobot.mo").open("wb") as handle:
        write_mo(handle, catalog)
    t = I18n(locales_dir=tmp_path / "locales").translator("it")
    assert t.gettext("Due on {date}", date="12 dic 2026") == "Scadenza: 12 dic 2026"


def test_a_broken_translation_falls_back_to_the_source(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _catalog_dir(tmp_path, "")
    catalog = Catalog(locale="it", domain="bibliobot")
    catalog.add("Due on {date}", "Scadenza: {data}")
    with (folder / "bibliobot.po").open("wb") as handle:
        write_po(handle, catalog)
    t = I18n(locales_dir=tmp_path / "locales").translator("it")
    with caplog.at_level(logging.WARNING):
        assert t.gettext("Due on {date}", date="12 dic 2026") == "Due on 12 dic 2026"
    assert "does not fit" in caplog.text


def test_a_fuzzy_translation_is_not_used(tmp_path: Path) -> None:
    folder = _catalog_dir(tmp_path, "")
    catalog = Catalog(locale="it", domain="bibliobot")
    catalog.add("Due on {date}", "Scade il {date}", flags=["fuzzy"])
    with (folder / "bibliobot.po").open("wb") as handle:
        write_po(handle, catalog)
    t = I18n(locales_dir=tmp_path / "locales").translator("it")
    assert t.gettext("Due on {date}") == "Due on {date}"


def test_without_catalogs_the_bot_speaks_english(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        t = I18n(locales_dir=tmp_path / "empty").translator("it")
    assert t.gettext("Your loans") == "Your loans"
    assert t.format_money(80) == "0,80\xa0€"  # formats still follow the language
    assert "no catalog" in caplog.text


def test_no_locales_directory_anywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("bot.i18n.catalogs.candidate_dirs", lambda: [tmp_path / "nowhere"])
    find_locales_dir.cache_clear()
    try:
        assert find_locales_dir() is None
        assert I18n().translator("it").gettext("Your loans") == "Your loans"
    finally:
        find_locales_dir.cache_clear()
