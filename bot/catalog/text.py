"""Text as catalogs write it, as patrons read it, and as the search index compares it.

Real MARC is messy (see tests/data/catalog/PROVENANCE.md): UNIMARC wraps leading articles in
the non-sort markers U+0098/U+009C, Italian SBN exports use decomposed (NFD) accents, and ISBD
punctuation trails every subfield. Three views of one string are needed:

* :func:`display` — what a patron reads: NFC, markers removed, whitespace tidied;
* :func:`sort_key` — the article inside the markers dropped, folded;
* :func:`fold` / :func:`tokens` — what the index and the queries compare: no accents, no case,
  split on anything that is not a letter or a digit.

The index stores only the output of :func:`index_text`, and queries go through :func:`tokens`,
so the two sides can never disagree on what ``Cittá`` or ``caffè`` is.
"""

from __future__ import annotations

import re
import unicodedata

NON_SORT_BEGIN = "\x98"
NON_SORT_END = "\x9c"

# Latin combining marks cover nearly all catalog text; anything left is caught by the slow path.
_LATIN_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Control characters (C0 and C1, which include the non-sort markers) never reach a reader.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
# Letters that are "the same letter without a mark" for a searcher but that Unicode does not
# decompose: the dotless i (whose capital is I).
_LETTER_VARIANTS = str.maketrans({"ı": "i"})
_NON_SORT_SPAN = re.compile("\x98[^\x9c]*\x9c")
# A run of letters or digits (Python's \w without the underscore).
_TOKEN = re.compile(r"[^\W_]+")
# ISBD punctuation that ends a MARC subfield: " /", " :", " ;", " =", ",", "."
_TRAILING_PUNCTUATION = re.compile(r"[\s/:;=,]+$")
_ELIDED_ARTICLE = re.compile(r"^(\w+')\s+", re.UNICODE)


def display(text: str) -> str:
    """The form shown to people: NFC accents, non-sort markers gone, one space between words.

    ``\\x98L' \\x9camore borghese`` becomes ``L'amore borghese``: SBN catalogs keep a space after
    an elided article so the marker can close, and Italian readers never write it.
    """
    if text.isascii() and text.isprintable():
        # Most catalog values (codes, barcodes, English titles): nothing to compose or remove.
        return (_SPACES.sub(" ", text) if "  " in text else text).strip()
    if NON_SORT_BEGIN in text or NON_SORT_END in text:
        text = text.replace(NON_SORT_BEGIN, "").replace(NON_SORT_END, "")
        text = _ELIDED_ARTICLE.sub(r"\1", text, count=1)
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text).strip()


def strip_isbd(text: str) -> str:
    """Remove the ISBD punctuation cataloguers leave at the end of a subfield."""
    text = _TRAILING_PUNCTUATION.sub("", text.strip())
    if text.endswith(".") and not _ends_with_initial_or_abbreviation(text):
        text = text[:-1].rstrip()
    return text


_ABBREVIATIONS = frozenset({"jr", "sr", "co", "inc", "ltd", "ed", "eds", "st", "etc", "s.l", "s.n"})


def _ends_with_initial_or_abbreviation(text: str) -> bool:
    # "Donald J." and "D. McKay Co." keep their dot; "Firenze." and "Philippe de." lose it.
    last = text[:-1].rsplit(" ", 1)[-1]
    if text.endswith("..."):
        return True
    return (len(last) == 1 and last.isupper()) or last.casefold() in _ABBREVIATIONS


def fold(text: str) -> str:
    """Accent- and case-insensitive form: ``Cittá`` and ``CITTA`` both give ``citta``.

    Case is folded before the accents are stripped (``ᾀ`` folds to ``ἀι`` first, like its
    capital ``ἈΙ``), and again after, because compatibility decomposition can produce capitals
    (``Ⅻ`` → ``XII``).
    """
    text = text.replace(NON_SORT_BEGIN, " ").replace(NON_SORT_END, " ")
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if not decomposed.isascii():
        decomposed = _LATIN_MARKS.sub("", decomposed)
        if not decomposed.isascii():
            decomposed = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return decomposed.casefold().translate(_LETTER_VARIANTS)


def tokens(text: str) -> list[str]:
    """The words of ``text`` as the index knows them."""
    return _TOKEN.findall(fold(text))


def index_text(*parts: str | None) -> str:
    """What the full-text index stores for some display strings: folded words, one space apart."""
    return " ".join(tokens(" ".join(part for part in parts if part)))


# Function words of the network's catalog languages (Italian first). A query keeps them only when
# it has nothing else: "il nome della rosa" searches "nome rosa", "The The" searches "the the".
# They carry no meaning for ranking and match half the catalog, which is what makes a search
# slow (bench/search.py): the usual stopword treatment of catalog search engines.
_STOPWORD_TEXT = """
    a ad agli ai al alla alle allo anche che co coi col con d da dagli dai dal dalla dalle dallo
    de degli dei del della delle dello di e ed fra gli i il in l la le lo ma ne negli nei nel
    nella nelle nello o od per pero piu quel quella quelle quelli quello questa queste questi
    questo se si su sugli sui sul sulla sulle sullo tra tu un una uno
    an and as at be by for from into is it its of on or the this to with
    au aux ce ces dans des du en et les leur ou par pas pour qu que qui sa ses son sur une
    el las los y
    das dem den der des die ein eine einem einen einer eines im mit und von zu zum zur
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def is_meaningful(word: str) -> bool:
    """Not a function word, and not a single letter (a single digit is meaningful: "Vol. 2")."""
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


def content_words(words: list[str]) -> list[str]:
    """Drop function words and single letters, unless nothing would be left."""
    return [word for word in words if is_meaningful(word)] or words


def title_key(title: str) -> str:
    """A title reduced to its meaningful words: "La storia" and "storia" have the same key."""
    return " ".join(content_words(tokens(title)))


def sort_key(text: str) -> str:
    """Sort form: the leading article inside the non-sort markers is dropped."""
    return " ".join(tokens(_NON_SORT_SPAN.sub(" ", text)))
