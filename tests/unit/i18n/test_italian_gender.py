"""Italian that does not guess a gender it cannot know.

A title ("La valle dell'orso", "Il nome della rosa") or an item the sentence does not name
may be feminine or masculine, and so may the patron: "puoi ritirarlo", "è arrivato", "sei
escluso" are right for some and wrong for others. The Italian catalog says "il documento",
"la prenotazione", "il ritiro", "la tua tessera" instead, whose gender is the noun's own.
"""

from __future__ import annotations

import re

import pytest

from tests.unit.i18n.support import po_path, read

# Wordings that agreed with a title, an unnamed item or the patron, as they were once written
# (a regex each, and what it meant). "Il documento è arrivato" is fine: its noun is named.
GUESSED = {
    r"per ritirarl[oa]\b": "the last day to collect it",
    r"\britiral[oa] a\b": "collect it at",
    r"\{title\} è (arrivat|tornat)[oa]\b": "the title has arrived / gone back",
    r"qui quando sarà pronto per il ritiro": "ready to collect (the title)",
    r"\bNon ritirat[oa]\b": "not collected",
    r"^✅ Prenotat[oa]\b": "reserved (the title)",
    r"la biblioteca l[oa] ordin": "the library will order it",
    r"\baverl[oa] già ordinat": "may already have ordered it",
    r"\bchiederl[oa] la biblioteca\b": "should the library ask (for it)",
    r"\bl[oa] (riporti|restituisci)\b": "bring it back / return it",
    r"^Per favore riportal[oa]\b": "please bring it back",
    r"^(Mandal|Mettil|Rimandal|Rimettil)[oa]\b": "send it / put it (the desk)",
    r"\bè prenotat[oa] da un lettore\b": "a reader reserved it",
    r"^(✅|❌) (Non )?[Rr]innovat[oa]\b": "renewed (the title)",
    r"^(✅ |✔ )?Restituit[oa]\b": "returned (the title)",
    r"^(✅|🚚) (Arrivat|Ordinat)[oa]\b": "arrived / ordered (the title)",
    r"\b(sei|sarai) esclus[oa]\b": "you are excluded (the patron)",
    r"o mess[oa] da parte per una prenotazione": "set aside (the title)",
}


def _italian() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for message in read(po_path("it"), "it"):
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string
        forms = [string] if isinstance(string, str) else list(string or ())
        found.extend((key, form) for form in forms if form)
    return found


@pytest.mark.parametrize(("pattern", "meaning"), list(GUESSED.items()))
def test_no_italian_sentence_guesses_a_gender(pattern: str, meaning: str) -> None:
    offenders = [(key, text) for key, text in _italian() if re.search(pattern, text, re.MULTILINE)]
    assert offenders == [], meaning


def test_the_hold_ready_notice_says_when_to_collect_whatever_the_title() -> None:
    texts = dict(_italian())
    assert texts["Last day to collect it: {date}."] == "Ultimo giorno per il ritiro: {date}."
