"""Writing a decided notice: the outbox row and the ledger entries, in the caller's transaction.

``not_before`` is the decision instant moved out of the quiet hours; ``expires_at`` is the
maximum age (Evergreen's max_delay) or the moment the notice stops being true, whichever comes
first (a "due on Friday" reminder is stale once the due-day reminder is due). A notice decided
for a day already past its expiry (catch-up after an outage) is written and at once recorded as
expired, so nothing is lost silently: the outbox says what was never worth sending.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import aiosqlite

from bot.i18n import I18n, Translator
from bot.reminders.outgoing import OutgoingMessage
from bot.reminders.quiet import next_allowed
from bot.reminders.timing import Timing
from bot.services.context import Languages
from db import notices
from db.notices import Recipient
from db.outbox import NewNotice, dedupe_key, enqueue_many

LedgerEntry = tuple[str, str, str]  # (kind, subject, level)


@cache
def _i18n(zone_key: str, languages: Languages) -> I18n:
    return I18n(languages=languages.offered, default_language=languages.default, timezone=zone_key)


def translator_for(language: str, zone_key: str, languages: Languages | None = None) -> Translator:
    """The patron's stored language (patrons.language) if the library offers it, else its
    default language; dates in the library's time zone."""
    return _i18n(zone_key, languages or Languages()).translator(language)


@dataclass(frozen=True, slots=True)
class Queued:
    outbox_id: int | None  # None: the same digest was already queued (a rerun)
    expired: bool
    text: str = ""  # the message as it will be sent (a dry run's preview shows it)


@dataclass(frozen=True, slots=True)
class _Pending:
    notice: NewNotice
    entries: tuple[LedgerEntry, ...]
    expired: bool
    done: Callable[[Queued], None] | None


@dataclass(slots=True)
class Run:
    """One cycle pass (or one trapping at the desk): what every notice it writes shares.

    Notices are collected by :func:`queue` and written by :func:`flush` in a few statements
    per few hundred notices, in the run's transaction (a cycle at a million loans writes tens
    of thousands of digests).
    """

    conn: aiosqlite.Connection
    timing: Timing
    zone_key: str
    today: date  # the day the decision is for (a missed day during catch-up)
    at: datetime  # the decision instant (that day at the cycle's hour)
    real_now: datetime  # when it is actually written
    languages: Languages = field(default_factory=Languages)
    pending: list[_Pending] = field(default_factory=list)

    def translator(self, recipient: Recipient) -> Translator:
        return translator_for(recipient.language, self.zone_key, self.languages)

    def start_of(self, day: date) -> datetime:
        """Midnight at the start of ``day``, library time."""
        return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(self.zone_key))


def digest_key(recipient: Recipient, kind: str, entries: Sequence[LedgerEntry], day: date) -> str:
    """One digest per patron, kind and day, told apart by the items it carries: a rerun finds
    no new items and writes nothing; new items later the same day make a new digest."""
    items = "|".join(sorted(f"{subject}/{level}" for _, subject, level in entries))
    digest = hashlib.sha256(items.encode()).hexdigest()[:12]
    return dedupe_key(recipient.patron_id, kind, "digest", digest, day)


def queue(
    run: Run,
    recipient: Recipient,
    kind: str,
    message: OutgoingMessage,
    entries: Sequence[LedgerEntry],
    *,
    valid_until: datetime | None = None,
    done: Callable[[Queued], None] | None = None,
) -> None:
    """Queue ``message`` for ``recipient`` and mark ``entries`` as told, together (at the
    run's :func:`flush`, in its transaction); ``done`` hears what was written."""
    not_before = next_allowed(run.at, run.timing.quiet, ZoneInfo(run.zone_key))
    expires_at = not_before + timedelta(days=run.timing.max_notice_age_days)
    if valid_until is not None:
        expires_at = min(expires_at, valid_until)
    notice = NewNotice(
        dedupe_key=digest_key(recipient, kind, entries, run.today),
        patron_id=recipient.patron_id,
        kind=kind,
        payload=message.to_payload(),
        not_before=not_before,
        expires_at=expires_at,
    )
    run.pending.append(_Pending(notice, tuple(entries), expires_at <= run.real_now, done))


async def flush(run: Run) -> int:
    """Write every queued notice and its ledger entries; return how many rows are new."""
    pending, run.pending = run.pending, []
    if not pending:
        return 0
    ids = await enqueue_many(run.conn, [item.notice for item in pending], run.real_now)
    expired = [
        (ids[item.notice.dedupe_key],)
        for item in pending
        if item.expired and ids[item.notice.dedupe_key] is not None
    ]
    if expired:
        await notices.expire_notices(run.conn, [row[0] for row in expired if row[0] is not None])
    ledger = [
        (kind, subject, level, item.notice.patron_id, ids[item.notice.dedupe_key], run.today)
        for item in pending
        for kind, subject, level in item.entries
    ]
    await notices.note_many(run.conn, ledger)
    for item in pending:
        if item.done is not None:
            text = str(item.notice.payload.get("text", ""))
            item.done(Queued(ids[item.notice.dedupe_key], item.expired, text))
    return sum(1 for value in ids.values() if value is not None)
