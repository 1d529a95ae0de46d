"""Where the message catalogs live and how they are loaded.

The catalogs stay where translators and ``pybabel`` expect them, in ``locales/`` at the root of
the repository (INTERFACE.md's layout): ``locales/bibliobot.pot`` and
``locales/<lang>/LC_MESSAGES/bibliobot.po``. Only the ``.po`` files are committed: they are
compiled in memory when a language is first used, so a clean clone works without a build step
and no stale ``.mo`` can ever disagree with its ``.po``. A ``.mo`` is read only when it is all
there is (a packager who ships compiled catalogs only).

The directory is searched in this order (see :func:`find_locales_dir`): an explicit path, the
source checkout (``bot/``'s parent, which is also what an editable install sees), then the
data directory of the installation, where ``pip install .`` puts the catalogs
(``share/bibliobot/locales``, declared as ``data-files`` in ``pyproject.toml``, because package
data can only live inside a package). If no catalog is found the bot still answers, with the
English source strings, and says so once in the log: a missing catalog must not stop a library.
"""

from __future__ import annotations

import gettext
import logging
import site
import sys
import sysconfig
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DOMAIN = "bibliobot"
TEMPLATE = f"{DOMAIN}.pot"

_log = logging.getLogger(__name__)


def catalog_path(locales_dir: Path, language: str, suffix: str = ".po") -> Path:
    """``locales/<language>/LC_MESSAGES/bibliobot.po`` (or ``.mo``)."""
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def candidate_dirs() -> list[Path]:
    """Where the catalogs may be: the source checkout, then the installation's data folders."""
    source = Path(__file__).resolve().parent.parent.parent / "locales"
    shared = Path("share") / DOMAIN / "locales"
    prefixes = [Path(sysconfig.get_paths()["data"]), Path(sys.prefix), Path(site.getuserbase())]
    return [source, *(prefix / shared for prefix in prefixes)]


def _holds_catalogs(directory: Path) -> bool:
    # A bare "locales" directory of some other distribution must not be mistaken for ours.
    return (directory / TEMPLATE).is_file() or any(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.*o"))


@cache
def find_locales_dir(explicit: Path | None = None) -> Path | None:
    """The first directory that holds Bibliobot's catalogs, or None when there is none."""
    if explicit is not None:
        return explicit
    for candidate in candidate_dirs():
        if _holds_catalogs(candidate):
            return candidate
    _log.warning("no message catalogs found (looked in %s); using English", candidate_dirs())
    return None


def read_catalog(path: Path, language: str) -> Catalog:
    """A ``.po`` file as a babel catalog."""
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def compile_catalog(catalog: Catalog) -> Translations:
    """Translations from a catalog, as ``pybabel compile`` would make them (fuzzy ones left out)."""
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


@cache
def load_translations(locales_dir: Path | None, language: str) -> gettext.NullTranslations:
    """The translations of ``language``, loaded once per process.

    A language without a catalog gets the source strings (English) rather than an error;
    whether a language is offered at all is the caller's decision (:class:`bot.i18n.I18n`).
    """
    if locales_dir is None:
        return NullTranslations()
    po_file = catalog_path(locales_dir, language)
    if po_file.is_file():
        return compile_catalog(read_catalog(po_file, language))
    mo_file = catalog_path(locales_dir, language, ".mo")
    if mo_file.is_file():
        with mo_file.open("rb") as handle:
            return Translations(fp=handle, domain=DOMAIN)
    _log.warning("no catalog for language %r in %s; using English", language, locales_dir)
    return NullTranslations()
