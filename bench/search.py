"""Search latency at catalog scale: the service layer against raw FTS5 on the same file.

    .venv/bin/python bench/search.py                 # 1,000,000 records (built once, cached)
    .venv/bin/python bench/search.py --records 100000 --queries 500

The synthetic catalog (bench/synthetic.py, fixed seed) is written through the same batch upsert
the MARC importer uses, with copies in seven branches and about a tenth of them on loan. The
queries are what patrons type: two title words, a surname, surname plus a title word, a word
being typed (prefix), a single word, an ISBN. For each query the service call
(``bot.catalog.search.search``: exact-title lookup, FTS5 ranking, total count, the records,
their ISBNs and the per-branch availability, through aiosqlite) is timed against the floor:
the one FTS5 statement that yields the same page of ids (same expression, same ranking window)
on a plain sqlite3 connection, with nothing else. The naive statement that ranks every match
(``MATCH ... ORDER BY rank LIMIT 5``) is timed too, to show what the window saves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import records
from bot.catalog.search import RANK_WINDOW, match_expression, search
from bot.catalog.text import STOPWORDS, is_meaningful, tokens
from db.catalog import upsert_records
from db.store import CACHE_KIB, MMAP_BYTES, Store

CACHE = Path(__file__).resolve().parent / ".cache"
BATCH = 5000


async def build(path: Path, count: int) -> float:
    started = time.perf_counter()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    batch = []
    async with await Store.open(path) as store:
        for number, record in enumerate(records(count), start=1):
            batch.append(record)
            if len(batch) == BATCH or number == count:
                async with store.transaction() as conn:
                    await upsert_records(conn, batch, now=now)
                batch = []
                if number % 100_000 == 0:
                    print(f"  built {number:,} records", file=sys.stderr)
        async with store.transaction() as conn:
            await conn.execute(
                "INSERT INTO patrons (card, name, category, home_branch_id, registered_on,"
                " created_at) VALUES ('BENCH', 'Bench', 'adult', 1, '2026-01-01', 'x')"
            )
            await conn.execute("UPDATE items SET status = 'on_loan' WHERE id % 10 = 3")
            await conn.execute(
                "INSERT INTO loans (item_id, patron_id, branch_id, loaned_at, due_on)"
                " SELECT id, 1, location_branch_id, '2026-11-01T00:00:00.000000Z',"
                " date('2026-11-01', '+' || (id % 40) || ' days') FROM items"
                " WHERE status = 'on_loan'"
            )
    return time.perf_counter() - started


def make_queries(count: int, total_records: int, seed: int = 7) -> list[tuple[str, str]]:
    """(kind, text) pairs drawn from the catalog itself, as patrons would type them."""
    rng = random.Random(seed)
    wanted = sorted(rng.sample(range(1, total_records + 1), count))
    chosen = []
    position = 0
    for number, record in enumerate(records(total_records), start=1):
        if position < len(wanted) and number == wanted[position]:
            chosen.append(record)
            position += 1
            if position == len(wanted):
                break
    kinds = ["title", "author", "author+title", "typing", "word", "isbn"]
    queries = []
    for index, record in enumerate(chosen):
        kind = kinds[index % len(kinds)]
        words = [word for word in record.title.split() if tokens(word)]
        surname = record.authors[0].split(",")[0] if record.authors else words[0]
        if kind == "title":
            # The beginning of the title, up to its first meaningful word and one more.
            meaningful = next(
                index for index, word in enumerate(words) if not set(tokens(word)) <= STOPWORDS
            )
            text = " ".join(words[: meaningful + 2])
        elif kind == "author":
            text = surname
        elif kind == "author+title":
            text = f"{surname} {rng.choice(words)}"
        elif kind == "typing" and len(words) >= 2:
            text = f"{words[0]} {words[1][: max(3, len(words[1]) // 2)]}"
        elif kind == "isbn" and record.isbns:
            text = record.isbns[0]
        else:
            kind = "word"
            text = max(words, key=len)
        queries.append((kind, text))
    return queries


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(path: Path, queries: list[tuple[str, str]]) -> dict[str, object]:
    raw = sqlite3.connect(path)
    # The floor gets the store's connection settings: only the work differs, not the cache.
    raw.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    raw.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    # The statements of db.catalog.match_page without the window's count: the page alone.
    floor_sql = (
        "SELECT id FROM (SELECT rowid AS id, rank FROM records_fts WHERE records_fts MATCH ?"
        f" ORDER BY rowid DESC LIMIT {RANK_WINDOW}) ORDER BY rank LIMIT 5"
    )
    plain_floor_sql = (
        "SELECT rowid FROM records_fts WHERE records_fts MATCH ? ORDER BY rowid DESC LIMIT 5"
    )
    naive_sql = "SELECT rowid FROM records_fts WHERE records_fts MATCH ? ORDER BY rank LIMIT 5"
    naive_ms: list[float] = []
    service_ms: dict[str, list[float]] = {}
    floor_ms: dict[str, list[float]] = {}
    async with await Store.open(path) as store:
        for _, text in queries[:200]:  # warm the page cache for both
            await search(store, text)
        for index, (kind, text) in enumerate(queries):
            expression = match_expression(text)
            timings = []
            order = (0, 1) if index % 2 == 0 else (1, 0)  # alternate who runs first
            for which in order:
                started = time.perf_counter()
                if which == 0:
                    await search(store, text)
                elif kind == "isbn":
                    raw.execute(
                        "SELECT record_id FROM record_isbns WHERE isbn = ?", (text,)
                    ).fetchall()
                elif expression is not None:
                    relevance = any(is_meaningful(word) for word in tokens(text))
                    sql = floor_sql if relevance else plain_floor_sql
                    raw.execute(sql, (expression,)).fetchall()
                timings.append((which, (time.perf_counter() - started) * 1000))
            if kind != "isbn" and expression is not None:
                started = time.perf_counter()
                raw.execute(naive_sql, (expression,)).fetchall()
                naive_ms.append((time.perf_counter() - started) * 1000)
            for which, elapsed in timings:
                (service_ms if which == 0 else floor_ms).setdefault(kind, []).append(elapsed)
    raw.close()
    everything_service = [value for values in service_ms.values() for value in values]
    everything_floor = [value for values in floor_ms.values() for value in values]
    fts_service = [v for kind, values in service_ms.items() if kind != "isbn" for v in values]
    fts_floor = [v for kind, values in floor_ms.items() if kind != "isbn" for v in values]
    by_kind = {
        kind: {
            "queries": len(service_ms[kind]),
            "service_p50_ms": round(statistics.median(service_ms[kind]), 3),
            "service_p95_ms": round(percentile(service_ms[kind], 0.95), 3),
            "floor_p50_ms": round(statistics.median(floor_ms[kind]), 3),
            "floor_p95_ms": round(percentile(floor_ms[kind], 0.95), 3),
        }
        for kind in service_ms
    }
    return {
        "queries": len(queries),
        "service_p50_ms": round(statistics.median(everything_service), 3),
        "service_p95_ms": round(percentile(everything_service, 0.95), 3),
        "service_p99_ms": round(percentile(everything_service, 0.99), 3),
        "floor_p50_ms": round(statistics.median(everything_floor), 3),
        "floor_p95_ms": round(percentile(everything_floor, 0.95), 3),
        "fts_service_p95_ms": round(percentile(fts_service, 0.95), 3),
        "fts_floor_p95_ms": round(percentile(fts_floor, 0.95), 3),
        "p95_ratio": round(percentile(fts_service, 0.95) / percentile(fts_floor, 0.95), 2),
        "naive_rank_all_p50_ms": round(statistics.median(naive_ms), 3),
        "naive_rank_all_p95_ms": round(percentile(naive_ms, 0.95), 3),
        "rank_window": RANK_WINDOW,
        "by_kind": by_kind,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"search-{args.records}.sqlite3"
    build_seconds = None
    if args.rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        build_seconds = asyncio.run(build(path, args.records))
    queries = make_queries(args.queries, args.records)
    result = asyncio.run(measure(path, queries))
    result.update(
        records=args.records,
        database_mb=round(path.stat().st_size / 2**20, 1),
        build_seconds=round(build_seconds, 1) if build_seconds else None,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        sqlite=sqlite3.sqlite_version,
        python=sys.version.split()[0],
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
