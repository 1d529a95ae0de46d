"""The translator a handler holds: one language's messages and formats.

:class:`I18n` is built once from the settings (the languages the library offers, its default
language and time zone) and hands out one cached :class:`Translator` per language. Asking for a
language the library does not offer, or a code nobody knows, gives the default language's
translator: a patron whose Telegram speaks French reads Italian, never an error.
"""

from __future__ import annotations

import gettext
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale

from bot.i18n import formatting
from bot.i18n.catalogs import find_locales_dir, load_translations
from bot.i18n.formatting import DateStyle, WeekdayWidth
from bot.settings import LibrarySettings, Settings

_log = logging.getLogger(__name__)

_BROKEN = (KeyError, IndexError, ValueError, AttributeError, TypeError)


def N_(message: str) -> str:  # noqa: N802 - the name xgettext and pybabel know
    """Mark ``message`` for extraction without translating it (translate it where it is used)."""
    return message


class Translator:
    """Messages and formats in one language, dates in the library's time zone.

    The four gettext methods return the translated template as it is when called with the
    message alone, and the formatted text when given ``fields`` (``ngettext`` adds ``n``). A
    translation whose placeholders do not fit (a translator's slip the tests should have
    caught) falls back to the English source rather than failing in front of a patron.
    """

    __slots__ = ("_translations", "language", "locale", "zone")

    def __init__(
        self, language: str, translations: gettext.NullTranslations, zone: ZoneInfo
    ) -> None:
        self.language = language
        self.locale: Locale = formatting.format_locale(language)
        self.zone = zone
        self._translations = translations

    def __repr__(self) -> str:
        return f"Translator({self.language!r}, zone={self.zone.key!r})"

    # -- messages ---------------------------------------------------------------------------

    def gettext(self, message: str, /, **fields: object) -> str:
        """The translation of ``message``, formatted with ``fields`` if any."""
        return self._fill(self._translations.gettext(message), message, fields)

    def ngettext(self, singular: str, plural: str, n: int, /, **fields: object) -> str:
        """The singular or plural form for ``n`` (the language's plural rule decides)."""
        source = singular if n == 1 else plural
        return self._fill(self._translations.ngettext(singular, plural, n), source, fields, n)

    def pgettext(self, context: str, message: str, /, **fields: object) -> str:
        """``gettext`` for a message whose words mean different things in different places."""
        return self._fill(self._translations.pgettext(context, message), message, fields)

    def npgettext(
        self, context: str, singular: str, plural: str, n: int, /, **fields: object
    ) -> str:
        """``ngettext`` with a context."""
        source = singular if n == 1 else plural
        translated = self._translations.npgettext(context, singular, plural, n)
        return self._fill(translated, source, fields, n)

    def _fill(
        self, translated: str, source: str, fields: Mapping[str, object], n: int | None = None
    ) -> str:
        if not fields:
            return translated
        values = dict(fields)
        if n is not None:
            values.setdefault("n", n)
        try:
            return translated.format_map(values)
        except _BROKEN:
            _log.warning("translation %r (%s) does not fit its fields", translated, self.language)
            return source.format_map(values)

    # -- formats ----------------------------------------------------------------------------

    def local(self, instant: datetime) -> datetime:
        """The library's wall-clock time at a stored (UTC) instant."""
        return formatting.to_local(instant, self.zone)

    def local_date(self, value: date | datetime) -> date:
        """The library's date at a stored instant (a ``date`` is returned unchanged)."""
        return formatting.local_date(value, self.zone)

    def format_date(self, value: date | datetime, style: DateStyle = "medium") -> str:
        """ "12 dic 2026" / "12 Dec 2026"; see :data:`bot.i18n.formatting.DateStyle`."""
        return formatting.format_date(value, self.locale, self.zone, style)

    def format_time(self, value: time | datetime) -> str:
        """ "09:05"."""
        return formatting.format_time(value, self.locale, self.zone)

    def format_datetime(self, value: datetime) -> str:
        """ "12 dic 2026, 09:05" / "12 Dec 2026, 09:05"."""
        return formatting.format_datetime(value, self.locale, self.zone)

    def weekday_name(self, weekday: int, width: WeekdayWidth = "wide") -> str:
        """ "lunedì" / "Monday" for 0; Italian names are lower case, as Italian writes them."""
        return formatting.weekday_name(weekday, self.locale, width)

    def format_money(self, cents: int) -> str:
        """ "0,80 €" / "€0.80" from 80 cents."""
        return formatting.format_money(cents, self.locale)

    def format_number(self, value: int) -> str:
        return formatting.format_number(value, self.locale)

    def format_percent(self, points: int) -> str:
        return formatting.format_percent(points, self.locale)

    def format_list(self, items: Sequence[str]) -> str:
        """ "a, b e c" / "a, b and c"."""
        return formatting.format_list(items, self.locale)


class I18n:
    """The library's languages, default language and time zone; one translator per language."""

    def __init__(
        self,
        *,
        languages: Iterable[str] = ("it", "en"),
        default_language: str = "it",
        timezone: str = "Europe/Rome",
        locales_dir: Path | None = None,
    ) -> None:
        self.languages = tuple(languages)
        if default_language not in self.languages:
            raise ValueError(f"default language {default_language!r} is not in {self.languages}")
        self.default_language = default_language
        self.zone = ZoneInfo(timezone)
        self.locales_dir = find_locales_dir(locales_dir)
        self._translators: dict[str, Translator] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings | LibrarySettings, *, locales_dir: Path | None = None
    ) -> I18n:
        library = settings.library if isinstance(settings, Settings) else settings
        return cls(
            languages=library.languages,
            default_language=library.default_language,
            timezone=library.timezone,
            locales_dir=locales_dir,
        )

    def negotiate(self, code: str | None) -> str:
        """The offered language closest to ``code`` ("en-GB" → "en"), else the default one."""
        if code:
            primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
            if primary in self.languages:
                return primary
        return self.default_language

    def translator(self, language: str | None = None) -> Translator:
        """The translator for ``language``; the default language's for anything not offered."""
        chosen = self.negotiate(language)
        found = self._translators.get(chosen)
        if found is None:
            found = Translator(chosen, load_translations(self.locales_dir, chosen), self.zone)
            self._translators[chosen] = found
        return found

    def translators(self) -> dict[str, Translator]:
        """Every offered language's translator (per-language ``setMyCommands``, say)."""
        return {language: self.translator(language) for language in self.languages}


@cache
def default_i18n() -> I18n:
    """The I18n of the default settings (Italian and English, Europe/Rome)."""
    return I18n.from_settings(LibrarySettings())


def translator(language: str | None = None) -> Translator:
    """The default settings' translator for ``language``; the bot uses its own :class:`I18n`."""
    return default_i18n().translator(language)
