"""Notice cycles at network scale: 1,000,000 open loans, 100,000 holds.

    .venv/bin/python bench/cycles.py                       # 1,000,000 loans (built once, cached)
    .venv/bin/python bench/cycles.py --loans 100000 --holds 10000      # a quick run

The database is written directly with ``executemany`` (one transaction per table, seconds for
a million rows): seven CBNEM branches with their week, 250,000 patrons of whom 60 % have a
linked Telegram account, one title per copy, and open loans whose due dates are spread evenly
from 60 days ago to 30 days ahead. It is the steady state of a network whose cycles run every
day: a patron more than 30 days late already has her C8 suspension open, and a hold that was
made ready before today was already announced (its ledger entry exists). Holds: 5 % are ready
(last pickup days spread over the coming week, and yesterday: those expire today), the rest
wait. Each cycle is run once, for real (outbox rows and ledger entries written), on a fresh
copy of the built file, and timed against the floor: one hand-written SQL pass selecting the
same rows (the loans due on the cycle's days with their patron and title; the ready holds and
those ending) on a plain sqlite3 connection (both selections timed three times, in turns, the
best of each counting; the cycle itself runs once: it writes). Then the first ``--dispatch``
digests the reminders cycle queued (3,000 by default) are sent to the project's Bot API
emulator by the dispatcher in a process of its own, as ``bench/dispatch.py`` sends its notices:
the rate at the emulator against Telegram's ceiling of 30 messages a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dispatch import drain_measured
from bot.circulation import load_policy
from bot.reminders.cycles import run_cycle
from bot.sandbox import run_emulator
from bot.sandbox.emulator import Emulator
from bot.services.context import Library
from db import notices
from db.store import CACHE_KIB, MMAP_BYTES, Store

CACHE = Path(__file__).resolve().parent / ".cache"
ROME = ZoneInfo("Europe/Rome")
TODAY = date(2026, 11, 18)  # a Wednesday
STAMP = "2026-01-01T00:00:00.000000Z"
BRANCHES = ("COL", "BRU", "BUS", "CAR", "CAS", "CER", "VIM")
REPEAT = 3  # the selections are timed this many times each; the best counts


def stamp(day: date) -> str:
    return f"{day.isoformat()}T09:00:00.000000Z"


async def build(path: Path, loans: int, holds: int, patrons: int) -> float:
    started = time.perf_counter()
    async with await Store.open(path):
        pass  # the schema, by the migrations
    rng = random.Random(20261118)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    with conn:
        for number, code in enumerate(BRANCHES, start=1):
            conn.execute(
                "INSERT INTO branches (id, code, name, created_at) VALUES (?, ?, ?, ?)",
                (number, code, f"Biblioteca {code}", STAMP),
            )
            week = [(number, day, "09:00", "12:30") for day in range(6)]
            week += [(number, day, "14:30", "19:00") for day in range(5)]
            conn.executemany(
                "INSERT INTO branch_hours (branch_id, weekday, opens, closes) VALUES (?, ?, ?, ?)",
                week,
            )
        conn.executemany(
            "INSERT INTO patrons (id, card, name, category, home_branch_id, language,"
            " registered_on, created_at) VALUES (?, ?, ?, 'adult', ?, ?, '2025-01-10', ?)",
            (
                (n, f"C{n:07d}", f"Patron {n}", n % 7 + 1, "it" if n % 5 else "en", STAMP)
                for n in range(1, patrons + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO telegram_links (patron_id, telegram_user_id, chat_id, linked_at)"
            " VALUES (?, ?, ?, ?)",
            (
                (n, 10_000_000 + n, 10_000_000 + n, STAMP)
                for n in range(1, patrons + 1)
                if n % 5 < 3
            ),
        )
        titles = loans + holds
        conn.executemany(
            "INSERT INTO records (id, source_key, marc_format, title, title_sort, title_key,"
            " content_hash, created_at, updated_at) VALUES (?, ?, 'manual', ?, ?, ?, 'h', ?, ?)",
            (
                (n, f"b{n}", f"Titolo {n}", f"titolo {n}", f"titolo {n}", STAMP, STAMP)
                for n in range(1, titles + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO items (id, record_id, barcode, home_branch_id, location_branch_id,"
            " material_type, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 'book', ?, ?, ?)",
            (
                (
                    n,
                    n,
                    f"I{n:08d}",
                    n % 7 + 1,
                    n % 7 + 1,
                    "on_loan" if n <= loans else "available",
                    STAMP,
                    STAMP,
                )
                for n in range(1, titles + 1)
            ),
        )
        first_due = TODAY - timedelta(days=60)
        due_of: dict[int, date] = {}

        def loan_rows():  # type: ignore[no-untyped-def]
            for n in range(1, loans + 1):
                due = first_due + timedelta(days=n % 91)
                due_of[n] = due
                patron = rng.randrange(1, patrons + 1)
                yield (
                    n,
                    n,
                    patron,
                    patron % 7 + 1,
                    stamp(due - timedelta(days=30)),
                    due.isoformat(),
                )

        conn.executemany(
            "INSERT INTO loans (id, item_id, patron_id, branch_id, loaned_at, due_on)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            loan_rows(),
        )
        # Steady state: patrons more than 30 days late are already suspended (C8).
        conn.execute(
            "INSERT INTO suspensions (patron_id, kind, rule, reason, started_at)"
            " SELECT DISTINCT patron_id, 'suspension', 'C8', 'overdue', ? FROM loans"
            " WHERE returned_at IS NULL AND due_on < ?",
            (stamp(TODAY - timedelta(days=10)), (TODAY - timedelta(days=30)).isoformat()),
        )
        ready_count = holds // 20
        hold_rows = []
        ledger = []
        for n in range(1, holds + 1):
            patron = rng.randrange(1, patrons + 1)
            pickup = rng.randrange(1, 8)
            if n <= ready_count:
                item = loans + n  # an available copy, now on the hold shelf
                expires = TODAY + timedelta(days=n % 8 - 1)
                ready = expires - timedelta(days=7)
                hold_rows.append(
                    (n, loans + n, patron, pickup, stamp(ready - timedelta(days=9)), "ready", item,
                     ready.isoformat(), expires.isoformat())
                )  # fmt: skip
                ledger.append(("hold_ready", f"hold:{n}", "ready", patron, ready.isoformat()))
            else:
                record = rng.randrange(1, loans + 1)  # a title on loan
                hold_rows.append(
                    (n, record, patron, pickup, stamp(TODAY - timedelta(days=n % 40)), "waiting",
                     None, None, None)
                )  # fmt: skip
        conn.executemany(
            "INSERT OR IGNORE INTO holds (id, record_id, patron_id, pickup_branch_id, placed_at,"
            " state, item_id, ready_on, expires_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            hold_rows,
        )
        conn.execute(
            "UPDATE items SET status = 'on_hold_shelf' WHERE id IN"
            " (SELECT item_id FROM holds WHERE state = 'ready')"
        )
        conn.executemany(
            "INSERT INTO notice_ledger (kind, subject, level, patron_id, noted_on)"
            " VALUES (?, ?, ?, ?, ?)",
            ledger,
        )
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


def floor(path: Path, cycle: str) -> tuple[float, int]:
    """One hand-written SQL pass selecting the rows the cycle announces."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    if cycle == "reminders":
        days = [(TODAY + timedelta(days=n)).isoformat() for n in (3, 0)]
    elif cycle == "overdue":
        days = [(TODAY - timedelta(days=n)).isoformat() for n in (1, 8, 31)]
    else:
        days = []
    started = time.perf_counter()
    if days:
        rows = conn.execute(
            "SELECT p.id, p.card, p.language, l.id, i.barcode, r.title, l.due_on"
            " FROM loans l JOIN patrons p ON p.id = l.patron_id"
            " JOIN telegram_links tl ON tl.patron_id = p.id"
            " JOIN items i ON i.id = l.item_id JOIN records r ON r.id = i.record_id"
            f" WHERE l.returned_at IS NULL AND l.due_on IN ({', '.join('?' for _ in days)})"
            " ORDER BY p.id",
            days,
        ).fetchall()
    else:
        # The ready holds whose patron was not told yet (none, in the steady state: finding
        # that out is the same ledger check the cycle makes) and those whose last pickup day
        # is today or tomorrow.
        rows = conn.execute(
            "SELECT p.id, p.card, p.language, h.id, r.title, b.code, h.expires_on"
            " FROM holds h JOIN patrons p ON p.id = h.patron_id"
            " JOIN telegram_links tl ON tl.patron_id = p.id"
            " JOIN records r ON r.id = h.record_id JOIN branches b ON b.id = h.pickup_branch_id"
            " WHERE h.state = 'ready' AND (NOT EXISTS (SELECT 1 FROM notice_ledger n"
            "   WHERE n.kind = 'hold_ready' AND n.subject = 'hold:' || h.id AND n.level = 'ready')"
            " OR (h.expires_on >= ? AND h.expires_on <= ? AND h.ready_on < ?)) ORDER BY p.id",
            (TODAY.isoformat(), (TODAY + timedelta(days=1)).isoformat(), TODAY.isoformat()),
        ).fetchall()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, len(rows)


def _remove(path: Path) -> None:
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        Path(name).unlink(missing_ok=True)


async def selection(store: Store, cycle: str) -> tuple[float, int]:
    """The cycle's own selection (the repository queries it runs, through aiosqlite, with
    the ledger check), before it renders and writes anything."""
    conn = store.reader
    started = time.perf_counter()
    if cycle == "reminders":
        wanted = [(TODAY + timedelta(days=n), f"d{n}") for n in (3, 0)]
        rows = len(
            await notices.loans_due_on(conn, "due_reminder", wanted, due_reminders_only=True)
        )
    elif cycle == "overdue":
        levels = ((1, "first_day"), (8, "grace_end"), (31, "suspension"))
        wanted = [(TODAY - timedelta(days=n), level) for n, level in levels]
        rows = len(await notices.loans_due_on(conn, "overdue", wanted, due_reminders_only=False))
    else:
        rows = len(await notices.ready_holds_to_tell(conn, TODAY, TODAY + timedelta(days=1)))
    return time.perf_counter() - started, rows


async def dispatch_sample(work: Path, count: int) -> dict[str, object]:
    """Send the first ``count`` digests the cycle queued (real ones: HTML, renew buttons, in
    each patron's language) to the emulator, by the dispatcher in a process of its own, as
    ``bench/dispatch.py`` does; the rest of the outbox is set aside."""
    conn = sqlite3.connect(work)
    with conn:
        chosen = conn.execute(
            "SELECT o.id, tl.telegram_user_id FROM outbox o"
            " JOIN telegram_links tl ON tl.patron_id = o.patron_id"
            " WHERE o.state = 'pending' ORDER BY o.id LIMIT ?",
            (count,),
        ).fetchall()
        conn.execute(
            "UPDATE outbox SET state = 'expired', last_error = 'bench: not in the sample'"
            " WHERE state = 'pending' AND id > ?",
            (chosen[-1][0],),
        )
        # Due now whatever today's date is (the cycle ran as on TODAY at 09:30).
        conn.execute(
            "UPDATE outbox SET not_before = '2020-01-01T00:00:00.000000Z', expires_at = NULL"
            " WHERE state = 'pending'"
        )
    conn.close()
    async with run_emulator(Emulator()) as sandbox:
        for _, user_id in chosen:
            sandbox.emulator.add_user(f"Patron {user_id}", user_id=user_id, started=True)
        print(f"  sending {len(chosen):,} of the reminders' digests ...", file=sys.stderr)
        result = await drain_measured(work, sandbox)
    result["notices"] = len(chosen)
    return result


async def measure(path: Path, cycle: str, dispatch: int = 0) -> dict[str, object]:
    work = path.with_name(f"{path.stem}-{cycle}.sqlite3")
    _remove(work)
    shutil.copyfile(path, work)
    hour = 8 if cycle == "holds" else 9
    at = datetime(TODAY.year, TODAY.month, TODAY.day, hour, 30, tzinfo=ROME).astimezone(UTC)
    async with await Store.open(work) as store:
        library = Library(store, load_policy("cbnem"), ROME)
        # Best of three, taken in turns, so that neither pays alone for a cold page cache
        # (the file was just copied) or for a moment the machine was busy elsewhere.
        floors, selections = [], []
        for _ in range(REPEAT):
            floors.append(floor(work, cycle))
            selections.append(await selection(store, cycle))
        floor_seconds, floor_rows = min(floors)
        selection_seconds, selected = min(selections)
        started = time.perf_counter()
        report = await run_cycle(library, cycle, at=at)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
    sent = await dispatch_sample(work, dispatch) if dispatch and report.queued else None
    _remove(work)
    items = sum(len(notice.items) for notice in report.notices)
    extra: dict[str, object] = {} if sent is None else {"dispatch": sent}
    return {
        **extra,
        "cycle": cycle,
        "seconds": round(seconds, 3),
        "notices_queued": report.queued,
        "items": items,
        "selection_seconds": round(selection_seconds, 3),
        "selection_rows": selected,
        "floor_seconds": round(floor_seconds, 3),
        "floor_rows": floor_rows,
        "ratio_to_floor": round(seconds / floor_seconds, 1) if floor_seconds else None,
        "selection_ratio_to_floor": (
            round(selection_seconds / floor_seconds, 2) if floor_seconds else None
        ),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--holds", type=int, default=100_000)
    parser.add_argument("--patrons", type=int, default=250_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--dispatch",
        type=int,
        default=3000,
        help="send this many of the reminders cycle's digests to the emulator (0: none)",
    )
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"cycles-{args.loans}-{args.holds}.sqlite3"
    built = None
    if args.rebuild or not path.exists():
        path.unlink(missing_ok=True)
        print(f"building {path.name} ...", file=sys.stderr)
        built = round(await build(path, args.loans, args.holds, args.patrons), 1)
    results = []
    for cycle in ("reminders", "overdue", "holds"):
        print(f"running {cycle} ...", file=sys.stderr)
        results.append(await measure(path, cycle, args.dispatch if cycle == "reminders" else 0))
    print(
        json.dumps(
            {
                "loans": args.loans,
                "holds": args.holds,
                "patrons": args.patrons,
                "linked_share": 0.6,
                "build_seconds": built,
                "database_mb": round(path.stat().st_size / 1e6),
                "cycles": results,
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "sqlite": sqlite3.sqlite_version,
                "python": sys.version.split()[0],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
