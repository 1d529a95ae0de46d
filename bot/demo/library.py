"""The demo library: a real catalog, the consortium's branches, patrons with loans and a hold.

Everything is made through the same code the desk uses (the MARC importer, the calendar
repository, the patron, loan, hold and account services), at instants back-dated from the
injected ``now``, so the loans' due dates, the hold on the shelf and the fine are what the rules
make of them, not rows written by hand. A due date can only fall on a day the lending branch is
open (G11): when today or the third day from now is a closed day, that loan is due on the
branch's next opening day instead, as a real one would be; the overdue loan is due on the last
opening day before today (yesterday, or Saturday when today is Monday), so that it is late
whatever day the demo starts.

The demo's bot has "run until yesterday": the notice cycles are recorded as run for yesterday,
so the first move of the page's clock runs today's cycles first (the reminders due today, the
overdue notice, the hold ready), then each later day, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.appointments import WeeklySlot
from bot.catalog.importer import import_files
from bot.catalog.mapping import MappingError, map_record
from bot.catalog.marc import iso2709_chunks, parse_iso2709
from bot.catalog.model import MaterialType
from bot.catalog.text import display
from bot.circulation import PatronCategory, load_policy
from bot.reminders.cycles import LAST_RUN_PREFIX
from bot.reminders.timing import CYCLES
from bot.services import appointments, holds, loans, patrons
from bot.services.context import Library
from db import calendar as calendar_repo
from db import settings as settings_repo
from db.catalog import add_branch
from db.items import add_item
from db.store import Store

ROME = ZoneInfo("Europe/Rome")
CATALOG_FILE = "bncf_sbnweb_unimarc.mrc"
POLICY = "cbnem"

# The Consorzio Bibliotecario Nord Est Milano's seven libraries.
BRANCHES = {
    "COL": "Cologno Monzese",
    "BRU": "Brugherio",
    "BUS": "Bussero",
    "CAR": "Carugate",
    "CAS": "Cassina de' Pecchi",
    "CER": "Cernusco sul Naviglio",
    "VIM": "Vimodrone",
}
# Monday to Friday 9-12.30 and 14.30-19, Saturday mornings; closed on Sunday.
WEEK = [
    *[(day, time(9), time(12, 30)) for day in range(5)],
    *[(day, time(14, 30), time(19)) for day in range(5)],
    (5, time(9), time(12, 30)),
]
LOAN_DAYS = 30  # C2: books, adults and children alike
# What the patrons can book with /appointment at Brugherio: (code, Italian, English, minutes),
# Monday to Friday at 10:00, 11:00 and 15:00, Saturday at 10:00.
APPOINTMENT_SERVICES = (
    ("CONSULT", "Consulenza bibliografica", "Bibliographic consultation", 30),
    ("DIGITAL", "Aiuto con la biblioteca digitale", "Help with the digital library", 20),
)
APPOINTMENT_SLOTS = (
    *(WeeklySlot(day, time(hour)) for day in range(5) for hour in (10, 11, 15)),
    WeeklySlot(5, time(10)),
)


@dataclass(frozen=True, slots=True)
class DemoLoan:
    title: str
    barcode: str
    target: date  # the day the demo wants it due (the last opening day, today, in three days)
    due_on: date  # the day it is due: the target, or the next opening day after it (G11)


@dataclass(frozen=True, slots=True)
class DemoPatron:
    card: str
    pin: str
    name: str
    category: PatronCategory
    branch: str
    language: str
    story: str  # what this card shows in the demo, for the start-up banner and the page
    story_it: str  # the same, for the page in Italian


@dataclass(frozen=True, slots=True)
class DemoLibrary:
    """What was built, for the banner and the tests."""

    path: Path
    today: date
    patrons: tuple[DemoPatron, ...]
    records: int
    copies: int
    loans: dict[str, tuple[DemoLoan, ...]] = field(default_factory=dict)
    hold_titles: dict[str, str] = field(default_factory=dict)
    fines_cents: dict[str, int] = field(default_factory=dict)

    def banner(self) -> str:
        lines = [f"Demo library: {self.records} records, {self.copies} copies in 7 libraries."]
        lines.append("Cards (link one in the chat with 🪪, or /start):")
        for patron in self.patrons:
            due = ", ".join(loan.due_on.isoformat() for loan in self.loans.get(patron.card, ()))
            lines.append(
                f"  card {patron.card}  PIN {patron.pin}  {patron.name} "
                f"({patron.category.value}): {patron.story}" + (f" [due {due}]" if due else "")
            )
        return "\n".join(lines)


ANNA = DemoPatron(
    "0001",
    "1234",
    "Anna Rossi",
    PatronCategory.ADULT,
    "BRU",
    "it",
    "an overdue loan, loans due today and in 3 days; a hold ready for pickup",
    "un prestito in ritardo, due in scadenza oggi e tra 3 giorni; una prenotazione da ritirare",
)
LUCA = DemoPatron(
    "0002",
    "5678",
    "Luca Rossi",
    PatronCategory.CHILD,
    "BRU",
    "it",
    "a child's card with one loan",
    "un libro in prestito",
)
MARCO = DemoPatron(
    "0003",
    "2468",
    "Marco Bianchi",
    PatronCategory.ADULT,
    "CER",
    "en",
    "a fine for a late return (suspended until paid, C8); his Telegram is in English",
    "una multa per un ritardo (tessera sospesa finché non paga, C8); il suo Telegram è in inglese",
)
PATRONS = (ANNA, LUCA, MARCO)

# Titles of the BNCF file the demo lends (found by exact title in the imported catalog), and
# the day each should fall due, in days from today (OVERDUE: the last opening day before today).
OVERDUE = -1
ANNA_LOANS = (("Daisy Miller", OVERDUE), ("La valle dell'orso", 0), ("Gödel, Escher, Bach", 3))
ANNA_HOLD = "La città perduta dei templari"
LUCA_LOAN = ("Storie di bambini molto antichi", 12)
MARCO_LATE = "Il successo adesso"
MARCO_DAYS_LATE = 20


def catalog_path() -> Path:
    """The shipped MARC file (package data: the demo works from an installed copy)."""
    return Path(str(resources.files("bot.demo").joinpath("data", CATALOG_FILE)))


def shelf_marks(path: Path) -> dict[str, tuple[str, ...]]:
    """The shelf marks the catalog file gives each record, by the record's source key (as the
    importer derives it).

    The BNCF file carries SBNweb's local holdings in 960 ($a the library's name, $d the coded
    location, $g the shelf mark as the library shows it: "GEN A14 02758"). They name no
    library of the demo's network, so the importer makes no copies of them; the demo's copies
    take their shelf marks from them instead (the n-th copy the n-th mark, round), so that a
    record's page shows where to find each copy, as a real one would.
    """
    found: dict[str, tuple[str, ...]] = {}
    for chunk in iso2709_chunks(path):
        raw = parse_iso2709(chunk, unimarc=True)
        if raw.record is None:
            continue
        try:
            key = map_record(raw.record, "unimarc").source_key
        except MappingError:
            continue  # the importer skips it too
        own = tuple(
            mark
            for field in raw.record.get_fields("960")
            for value in field.get_subfields("g")
            if (mark := display(value))
        )
        if own:
            found[key] = own
    return found


def _at(day: date, hour: int = 10) -> datetime:
    """10:00 in Rome on ``day``, as the UTC instant the services take."""
    return datetime.combine(day, time(hour), tzinfo=ROME).astimezone(UTC)


async def build_demo_library(path: Path, *, now: datetime | None = None) -> DemoLibrary:
    """Create the demo library in a fresh SQLite file at ``path`` (replaced if it exists)."""
    now = now or datetime.now(UTC)
    today = now.astimezone(ROME).date()
    _remove_store(path)
    store = await Store.open(path)
    try:
        library = Library(store, load_policy(POLICY), ROME)
        long_ago = today - timedelta(days=400)
        async with store.transaction() as conn:
            for code, name in BRANCHES.items():
                branch_id, _ = await add_branch(conn, code, name, _at(long_ago))
                await calendar_repo.set_hours(conn, branch_id, WEEK)
            calendar = await calendar_repo.load_calendar(conn, ROME)
            # The bot ran until yesterday: the page's clock runs today's cycles first.
            for cycle in CYCLES:
                await settings_repo.put(
                    conn,
                    LAST_RUN_PREFIX + cycle,
                    (today - timedelta(days=1)).isoformat(),
                    _at(today - timedelta(days=1)),
                    "demo",
                )
        summary = await import_files(store, [catalog_path()], now=_at(long_ago), parallel=False)
        records = await store.reader.execute_fetchall(
            "SELECT id, title, source_key FROM records ORDER BY id"
        )
        by_title = {str(title): int(record_id) for record_id, title, _ in records}
        marks = shelf_marks(catalog_path())
        codes = list(BRANCHES)
        copies = 0
        async with store.transaction() as conn:
            for record_id, _, source_key in records:
                rid = int(record_id)
                own = marks.get(str(source_key), ())
                for n in range(1 + rid % 3):
                    copies += 1
                    await add_item(
                        conn,
                        record_id=rid,
                        barcode=f"DEMO{copies:05d}",
                        branch_code=codes[(rid + 3 * n) % len(codes)],
                        material_type=MaterialType.BOOK,
                        shelf_mark=own[n % len(own)] if own else None,
                        now=_at(long_ago),
                    )
        barcodes = await _first_copies(store)
        for patron in PATRONS:
            await patrons.add_patron(
                library,
                card=patron.card,
                name=patron.name,
                category=patron.category,
                branch=patron.branch,
                pin=patron.pin,
                language=patron.language,
                registered_on=long_ago,
                now=_at(long_ago),
            )
        lent: dict[str, tuple[DemoLoan, ...]] = {}
        anna: list[DemoLoan] = []
        # Every branch has the same week and no saint day: one calendar answers for all.
        last_open = today - timedelta(days=1)
        while not calendar.is_open(ANNA.branch, last_open):
            last_open -= timedelta(days=1)
        for title, offset in ANNA_LOANS:
            target = last_open if offset == OVERDUE else today + timedelta(days=offset)
            anna.append(await _lend(library, ANNA, barcodes[by_title[title]], title, target))
        lent[ANNA.card] = tuple(anna)
        title, offset = LUCA_LOAN
        lent[LUCA.card] = (
            await _lend(
                library, LUCA, barcodes[by_title[title]], title, today + timedelta(days=offset)
            ),
        )
        # A hold placed yesterday on a copy on the shelf at Anna's library: kept for her (C4).
        yesterday = _at(today - timedelta(days=1))
        await holds.place_hold(
            library,
            card=ANNA.card,
            record_id=by_title[ANNA_HOLD],
            pickup=_branch_of(await _copy_branches(store, by_title[ANNA_HOLD]), ANNA.branch),
            now=yesterday,
        )
        # A book returned MARCO_DAYS_LATE days late this morning: the fine the rules charge.
        late = barcodes[by_title[MARCO_LATE]]
        due = today - timedelta(days=MARCO_DAYS_LATE)
        await loans.checkout(
            library, card=MARCO.card, barcode=late, now=_at(due - timedelta(days=LOAN_DAYS))
        )
        returned = await loans.checkin(library, barcode=late, now=min(now, _at(today, 9)))
        await _appointment_services(library)
        return DemoLibrary(
            path=path,
            today=today,
            patrons=PATRONS,
            records=summary.imported,
            copies=copies,
            loans=lent,
            hold_titles={ANNA.card: ANNA_HOLD},
            fines_cents={MARCO.card: returned.fine_cents},
        )
    finally:
        await store.close()


async def _appointment_services(library: Library) -> None:
    for code, name_it, name_en, minutes in APPOINTMENT_SERVICES:
        await appointments.define_service(
            library,
            appointments.ServiceDefinition(
                code=code, branch="BRU", name_it=name_it, name_en=name_en, duration_minutes=minutes
            ),
        )
        for slot in APPOINTMENT_SLOTS:
            await appointments.add_slot(library, code=code, branch="BRU", slot=slot)


def _remove_store(path: Path) -> None:
    """A fresh file each time: the demo's dates are relative to the day it starts."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _first_copies(store: Store) -> dict[int, str]:
    rows = await store.reader.execute_fetchall(
        "SELECT record_id, MIN(barcode) FROM items GROUP BY record_id"
    )
    return {int(record_id): str(barcode) for record_id, barcode in rows}


async def _copy_branches(store: Store, record_id: int) -> list[str]:
    rows = await store.reader.execute_fetchall(
        "SELECT b.code FROM items i JOIN branches b ON b.id = i.home_branch_id"
        " WHERE i.record_id = ? ORDER BY i.barcode",
        (record_id,),
    )
    return [str(code) for (code,) in rows]


def _branch_of(codes: list[str], preferred: str) -> str:
    """Pickup where a copy already is, so the hold is ready at once (no transport)."""
    return preferred if preferred in codes else codes[0]


async def _lend(
    library: Library, patron: DemoPatron, barcode: str, title: str, target: date
) -> DemoLoan:
    """Check a copy out ``LOAN_DAYS`` before the day it should be due."""
    receipt = await loans.checkout(
        library,
        card=patron.card,
        barcode=barcode,
        now=_at(target - timedelta(days=LOAN_DAYS)),
    )
    return DemoLoan(title, barcode, target, receipt.due_on)
