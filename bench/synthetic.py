"""A deterministic synthetic catalog shaped like a real one, for the benchmarks.

Words, surnames and subjects are drawn from the real catalog files in tests/data/catalog (Italian,
English and French records), with Zipf-like frequencies, so that the full-text index has the
vocabulary skew of a real library: a few very common words ("di", "la", "the") and a long tail.

To compare the skew with the real files (bench/README.md), count in how many titles each
meaningful word appears::

    from collections import Counter
    from bot.catalog.text import STOPWORDS, tokens
    def stats(titles):
        frequency = Counter(w for t in titles for w in set(tokens(t)) if w not in STOPWORDS)
        return [(w, round(100 * n / len(titles), 1)) for w, n in frequency.most_common(5)]
    stats([record.title for record in records(20000)])
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.catalog.marc import MarcSyntax
from bot.catalog.model import ItemData, ItemStatus, MaterialType, RecordData
from bot.catalog.parsing import parse_file
from bot.catalog.text import STOPWORDS, tokens

CATALOG = Path(__file__).resolve().parent.parent / "tests" / "data" / "catalog"
BRANCHES = ("COL", "BRU", "BUS", "CAR", "CAS", "CER", "VIM")


@dataclass(frozen=True)
class Vocabulary:
    title_words: list[str]
    title_weights: list[float]
    content_words: list[str]  # the title words that are not function words
    content_weights: list[float]
    surnames: list[str]
    forenames: list[str]
    subjects: list[str]
    publishers: list[str]


def load_vocabulary() -> Vocabulary:
    words: Counter[str] = Counter()
    surnames: set[str] = set()
    forenames: set[str] = set()
    subjects: set[str] = set()
    publishers: set[str] = set()
    for path in sorted(CATALOG.glob("*.mrc")):
        syntax = MarcSyntax.UNIMARC if "unimarc" in path.name else MarcSyntax.MARC21
        for parsed in parse_file(path, syntax):
            record = parsed.record
            if record is None:
                continue
            for word in record.title.split():
                if any(ch.isalpha() for ch in word):
                    words[word.strip(",.:;()[]")] += 1
            for author in record.authors:
                surname, _, rest = author.partition(",")
                if surname.isalpha():
                    surnames.add(surname)
                first = rest.strip().split(" ")[0] if rest else ""
                if first.isalpha():
                    forenames.add(first)
            subjects.update(subject.split(" -- ")[0] for subject in record.subjects)
            if record.publisher:
                publishers.add(record.publisher)
    ranked = [word for word, _ in words.most_common() if word]
    # The meaningful words keep the weight of their overall rank, so the most common one appears
    # in about as many titles as in the real catalogs (checked by bench/README.md's recipe).
    content_ranks = [
        rank for rank, word in enumerate(ranked, start=1) if not set(tokens(word)) <= STOPWORDS
    ]
    # Zipf: the k-th most common word has weight 1/k.
    weights = [1.0 / rank for rank in range(1, len(ranked) + 1)]
    return Vocabulary(
        ranked,
        weights,
        [ranked[rank - 1] for rank in content_ranks],
        [1.0 / rank for rank in content_ranks],
        sorted(surnames),
        sorted(forenames),
        sorted(subjects),
        sorted(publishers),
    )


# Heaps' law: a catalog's vocabulary grows about as the square root of its size. The real files
# hold ~1,500 records; a catalog of n records gets (n / 1,500) ** 0.5 times their vocabulary,
# the extra words (and surnames) made by joining halves of real ones. Real words keep the top
# ranks, so the common words stay exactly as common; only the long tail grows.
REAL_RECORDS = 1_537
HEAPS_EXPONENT = 0.5


def _grown(words: list[str], count: int, rng: random.Random) -> list[str]:
    target = int(len(words) * max(1.0, (count / REAL_RECORDS) ** HEAPS_EXPONENT))
    stems = [word for word in words if len(word) >= 4 and word.isalpha()]
    grown = list(words)
    seen = set(grown)
    while len(grown) < target:
        head, tail = rng.choice(stems), rng.choice(stems)
        word = head[: len(head) // 2] + tail[len(tail) // 2 :].lower()
        if word not in seen:
            seen.add(word)
            grown.append(word)
    return grown


def grow(vocabulary: Vocabulary, count: int, seed: int) -> Vocabulary:
    """The vocabulary of a catalog of ``count`` records (Heaps' law, see above)."""
    rng = random.Random(seed ^ 0x5EED)
    words = _grown(vocabulary.title_words, count, rng)
    real = len(vocabulary.title_words)
    content_ranks = [
        rank
        for rank, word in enumerate(words, start=1)
        if rank > real or not set(tokens(word)) <= STOPWORDS
    ]
    return Vocabulary(
        words,
        [1.0 / rank for rank in range(1, len(words) + 1)],
        [words[rank - 1] for rank in content_ranks],
        [1.0 / rank for rank in content_ranks],
        _grown(vocabulary.surnames, count, rng),
        vocabulary.forenames,
        vocabulary.subjects,
        vocabulary.publishers,
    )


def isbn13(rng: random.Random) -> str:
    body = "978" + "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum((1 if index % 2 == 0 else 3) * int(digit) for index, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def records(count: int, seed: int = 20261122) -> Iterator[RecordData]:
    """``count`` records, the same ones for the same seed on every machine."""
    vocabulary = grow(load_vocabulary(), count, seed)
    rng = random.Random(seed)
    words = vocabulary.title_words
    # Cumulative weights once: random.choices would recompute them on every call.
    cumulative = list(itertools.accumulate(vocabulary.title_weights))
    content_cumulative = list(itertools.accumulate(vocabulary.content_weights))
    for number in range(1, count + 1):
        # Like real titles, every title has at least one meaningful word.
        chosen = rng.choices(words, cum_weights=cumulative, k=rng.randint(1, 6))
        chosen.insert(
            rng.randrange(len(chosen) + 1),
            rng.choices(vocabulary.content_words, cum_weights=content_cumulative)[0],
        )
        title = " ".join(chosen)
        authors = tuple(
            f"{rng.choice(vocabulary.surnames)}, {rng.choice(vocabulary.forenames)}"
            for _ in range(rng.choice((1, 1, 1, 2)))
        )
        subjects = tuple(rng.sample(vocabulary.subjects, rng.choice((0, 1, 1, 2, 3))))
        material = MaterialType.AUDIOVISUAL if rng.random() < 0.1 else MaterialType.BOOK
        key = f"bench:{number}"
        items = tuple(
            ItemData(
                barcode=f"B{number:07d}{copy}",
                branch_code=branch,
                location_code=branch,
                shelf_mark=f"{rng.randrange(1000):03d} {authors[0][:3].upper()}",
                material_type=material,
                section="REF" if rng.random() < 0.02 else "GEN",
                not_for_loan=False,
                condition="good",
                status=ItemStatus.AVAILABLE,
            )
            for copy, branch in enumerate(rng.sample(BRANCHES, rng.choice((1, 1, 2, 2, 3))))
        )
        yield RecordData(
            source_key=key,
            marc_format="manual",
            title=title,
            title_sort=" ".join(tokens(title)),
            authors=authors,
            subjects=subjects,
            isbns=(isbn13(rng),) if rng.random() < 0.7 else (),
            publisher=rng.choice(vocabulary.publishers),
            year=rng.randint(1900, 2026),
            language="ita",
            material_type=material,
            items=items,
        )
