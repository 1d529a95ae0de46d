"""A few patron-facing words the i18n layer itself needs: the error reply, material types,
language names.

The bot's own messages live with its handlers; these are here because :mod:`bot.i18n.reasons`
and the error handler need them before any handler exists.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from bot.catalog.model import MaterialType
from bot.i18n.translator import Translator


def something_went_wrong(t: Translator) -> str:
    """What the error handler answers: no details, a promise the patron can act on."""
    return t.gettext("Something went wrong on our side. Please try again in a few minutes.")


def not_possible(t: Translator) -> str:
    """The refusal for a reason code this version does not know yet."""
    return t.gettext("This is not possible right now. Ask at the library and we will help you.")


def material_types(t: Translator, kind: MaterialType | str) -> str | None:
    """A material type as a plural noun ("DVD e CD"), for "loans of …"; None if unknown."""
    # TRANSLATORS: material types as plural nouns, used in "the most loans of {kind}".
    labels = {
        MaterialType.BOOK: t.pgettext("material types", "books"),
        MaterialType.AUDIOVISUAL: t.pgettext("material types", "DVDs and CDs"),
        MaterialType.PERIODICAL: t.pgettext("material types", "newspapers and magazines"),
        MaterialType.AUDIOBOOK: t.pgettext("material types", "audiobooks"),
        MaterialType.EBOOK: t.pgettext("material types", "e-books"),
    }
    try:
        return labels[MaterialType(kind)]
    except ValueError:
        return None


def language_name(language: str) -> str:
    """A language's own name, capitalised for a button: "Italiano", "English"."""
    try:
        name = Locale.parse(language).get_display_name(language) or language
    except (UnknownLocaleError, ValueError):
        return language
    return name[:1].upper() + name[1:]
