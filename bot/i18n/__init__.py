"""Internationalisation: every patron-facing string goes through here.

Italian is the default language, English is on request; the languages a library offers, its
default language and its time zone come from ``[library]`` in the settings.

How a handler uses it::

    i18n = I18n.from_settings(settings)          # once, at start-up (kept in bot_data)
    t = i18n.translator(patron.language)         # unknown or unset: the default language
    t.gettext("Your loans")
    t.ngettext("{n} copy on the shelf", "{n} copies on the shelf", n, n=n)
    t.gettext("Due on {date}", date=t.format_date(loan.due_on))
    t.format_money(80)                           # "0,80 €" / "€0.80"
    reason_message(t, Reason.TOO_EARLY, date=opens_on)
    decision_message(t, decision)                # the same, details read from the decision

Conventions, which the tests in ``tests/unit/i18n`` enforce:

- Message ids are the English text, written literally inside the call (``t.gettext("...")``),
  so ``pybabel extract`` finds them. Never an f-string, ``%`` or ``.format`` inside the call:
  the id would change with the data and never be translated.
- Variable parts are named placeholders for ``str.format``: ``{date}``, ``{title}``; the count
  of a plural is ``{n}``. Pass the values as keyword arguments (``ngettext`` adds ``n``), or
  call ``.format`` on the returned template. A translation must keep exactly the placeholders
  of its id.
- Values are formatted before they fill a placeholder: dates with ``t.format_date`` (the
  library's time zone), money with ``t.format_money`` from integer cents, lists with
  ``t.format_list``.
- In Italian an article before a number elides ("dall'8 dicembre", "entro l'11"): do not write
  "dal {date}" or "il {date}"; use a weekday date (``style="full"``: "da sabato 12 dicembre
  2026"), or a label and a colon ("Scadenza: 12 dic 2026").
- A string defined away from its use (a table of button labels) is marked with ``N_("...")``,
  which does nothing at run time, and translated where it is used with ``t.gettext(LABEL)``.
- A comment starting ``# TRANSLATORS:`` just above a call reaches the translators in the
  catalog.

Adding a message: write the call, then ``make i18n-update`` (extracts ``locales/bibliobot.pot``
and merges it into every ``.po``), translate the new entries in
``locales/it/LC_MESSAGES/bibliobot.po`` (English needs no entry: the id is the English text),
and run the tests. ``make i18n-compile`` builds ``.mo`` files, which the bot does not need.
"""

from __future__ import annotations

from bot.i18n.catalogs import DOMAIN, find_locales_dir
from bot.i18n.formatting import DateStyle, to_local
from bot.i18n.messages import language_name, material_types, something_went_wrong
from bot.i18n.reasons import REASON_DETAILS, decision_details, decision_message, reason_message
from bot.i18n.translator import N_, I18n, Translator, default_i18n, translator

__all__ = [
    "DOMAIN",
    "N_",
    "REASON_DETAILS",
    "DateStyle",
    "I18n",
    "Translator",
    "decision_details",
    "decision_message",
    "default_i18n",
    "find_locales_dir",
    "language_name",
    "material_types",
    "reason_message",
    "something_went_wrong",
    "to_local",
    "translator",
]
