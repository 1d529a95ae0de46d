"""Paths and catalog builders for the i18n tests."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
LOCALES = ROOT / "locales"
TEMPLATE = LOCALES / "bibliobot.pot"
MAPPING = ROOT / "babel.cfg"
SOURCE = ROOT / "bot"


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "bibliobot.po"


def read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def italian_catalog() -> Catalog:
    """An empty Italian catalog with the real plural rule, for building broken examples."""
    return Catalog(locale="it", domain="bibliobot")
