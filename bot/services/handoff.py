"""Talking to a librarian: themes, routing, conversations, transcripts, bans, office hours.

A patron picks a theme; the theme routes her question to a branch's staff — the network's
specialised pole for that theme (N7: music at one library, local history at another), else her
home branch. Each conversation is one forum topic in the staff group; the Telegram side (topics,
copies, edits) is the handlers' job, this module keeps the record: every message either way is
stored (``handoff_messages``), so transcripts survive a deleted topic and can be exported.

What administrators own lives in the settings store (``db/settings.py``):

* ``handoff.themes`` — ``[{"key": "music", "branch": "VIM", "names": {"it": "Musica",
  "en": "Music"}}, ...]``; until set, :data:`DEFAULT_THEMES` (names translated per language);
* ``handoff.canned`` — ``{"KEY": {"it": "...", "en": "..."}}``; until set, :data:`DEFAULT_CANNED`;
* ``handoff.sign_with_name`` — staff replies signed with the librarian's first name (default:
  signed as the library);
* ``handoff.reopen_minutes`` — after ``/close``, a patron's message within this many minutes
  reopens the conversation (default 60); later ones are catalog searches again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import aiosqlite

from bot.circulation import CalendarError, LibraryCalendar
from bot.i18n import N_
from bot.services.context import Library
from bot.services.errors import Refusal
from db import calendar as calendar_repo
from db import circulation as circulation_repo
from db import handoff as repo
from db import identity as identity_repo
from db import settings as settings_repo

THEMES_KEY = "handoff.themes"
CANNED_KEY = "handoff.canned"
SIGN_KEY = "handoff.sign_with_name"
REOPEN_KEY = "handoff.reopen_minutes"
DEFAULT_REOPEN_MINUTES = 60
KEY_PATTERN = re.compile(r"^[a-z0-9_]{1,24}$")
NOTE_PREFIX = "#note"


@dataclass(frozen=True, slots=True)
class Theme:
    """A subject a patron can ask about, and the branch whose staff answer it (N7)."""

    key: str
    branch: str | None
    names: Mapping[str, str]  # language -> name; empty for a default theme (msgid below)
    msgid: str | None = None  # a default theme's English name, translated where shown

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "branch": self.branch, "names": dict(self.names)}


DEFAULT_THEMES = (
    Theme("general", None, {}, N_("General questions")),
    Theme("children", None, {}, N_("Children and teens")),
    Theme("music", None, {}, N_("Music")),
    Theme("local_history", None, {}, N_("Local history")),
    Theme("digital", None, {}, N_("Digital library (e-books, MLOL)")),
)

DEFAULT_CANNED: Mapping[str, str] = {
    "hello": N_("Hello! I am a librarian: how can I help you?"),
    "wait": N_("Thank you for waiting: I am looking into it and will write again soon."),
    "desk": N_("You can do this at the desk of any library of the network, with your card."),
}


@dataclass(frozen=True, slots=True)
class Canned:
    key: str
    texts: Mapping[str, str]  # language -> text; empty for a default reply (msgid below)
    msgid: str | None = None


def _theme_from_json(value: Any) -> Theme:
    if not isinstance(value, dict):
        raise Refusal("bad_theme", "a theme is an object with key, branch and names")
    key = value.get("key")
    names = value.get("names") or {}
    branch = value.get("branch")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise Refusal("bad_theme", f"theme key {key!r}: 1-24 of a-z, 0-9, _")
    if (
        not isinstance(names, dict)
        or not names
        or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in names.items()
        )
    ):
        raise Refusal("bad_theme", f"theme {key}: names must map languages to non-empty names")
    if branch is not None and not isinstance(branch, str):
        raise Refusal("bad_theme", f"theme {key}: branch must be a branch code")
    return Theme(key, branch, {k: v.strip() for k, v in names.items()})


async def themes(library: Library) -> list[Theme]:
    """The themes patrons choose from, in the administrators' order."""
    stored = await settings_repo.get(library.store.reader, THEMES_KEY)
    if stored is None:
        return list(DEFAULT_THEMES)
    return [_theme_from_json(value) for value in stored]


async def theme(library: Library, key: str) -> Theme | None:
    return next((found for found in await themes(library) if found.key == key), None)


async def set_themes(
    library: Library, new: list[Theme], *, now: datetime, by: str | None = None
) -> None:
    """Store the whole list (validated: known branches, unique keys, at least one theme)."""
    if not new:
        raise Refusal("bad_theme", "keep at least one theme")
    keys = [found.key for found in new]
    if len(set(keys)) != len(keys):
        raise Refusal("bad_theme", "theme keys must be unique")
    async with library.store.transaction() as conn:
        for found in new:
            _theme_from_json(found.as_json())
            known = await circulation_repo.branch_id(conn, found.branch) if found.branch else 0
            if known is None:
                raise Refusal("unknown_branch", f"theme {found.key}: no branch {found.branch}")
        await settings_repo.put(conn, THEMES_KEY, [found.as_json() for found in new], now, by)


async def reset_themes(library: Library) -> None:
    async with library.store.transaction() as conn:
        await settings_repo.delete(conn, THEMES_KEY)


async def canned_replies(library: Library) -> list[Canned]:
    stored = await settings_repo.get(library.store.reader, CANNED_KEY)
    if stored is None:
        return [Canned(key, {}, msgid) for key, msgid in DEFAULT_CANNED.items()]
    if not isinstance(stored, dict):
        return []
    return [
        Canned(str(key), {str(k): str(v) for k, v in texts.items()})
        for key, texts in stored.items()
        if isinstance(texts, dict)
    ]


async def set_canned(
    library: Library,
    key: str,
    texts: Mapping[str, str],
    *,
    now: datetime,
    by: str | None = None,
    defaults: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Add or replace one canned reply. Until the first change the built-in answers apply;
    ``defaults`` (them, written out per language) are stored with it so none is lost."""
    if not KEY_PATTERN.match(key):
        raise Refusal("bad_canned", f"canned reply key {key!r}: 1-24 of a-z, 0-9, _")
    texts = {language: text.strip() for language, text in texts.items() if text.strip()}
    if not texts:
        raise Refusal("bad_canned", f"canned reply {key}: give its text in at least one language")
    if any(len(text) > 3500 for text in texts.values()):
        raise Refusal("bad_canned", f"canned reply {key}: at most 3500 characters")
    async with library.store.transaction() as conn:
        stored = await settings_repo.get(conn, CANNED_KEY)
        if not isinstance(stored, dict):
            stored = {name: dict(value) for name, value in (defaults or {}).items()}
        stored[key] = dict(texts)
        await settings_repo.put(conn, CANNED_KEY, stored, now, by)


async def remove_canned(
    library: Library,
    key: str,
    *,
    now: datetime,
    defaults: Mapping[str, Mapping[str, str]] | None = None,
) -> bool:
    async with library.store.transaction() as conn:
        stored = await settings_repo.get(conn, CANNED_KEY)
        if not isinstance(stored, dict):
            stored = {name: dict(value) for name, value in (defaults or {}).items()}
        if key not in stored:
            return False
        del stored[key]
        await settings_repo.put(conn, CANNED_KEY, stored, now)
        return True


async def sign_with_name(library: Library) -> bool:
    return bool(await settings_repo.get(library.store.reader, SIGN_KEY))


async def reopen_minutes(library: Library) -> int:
    value = await settings_repo.get(library.store.reader, REOPEN_KEY)
    return value if isinstance(value, int) and value >= 0 else DEFAULT_REOPEN_MINUTES


async def set_option(library: Library, key: str, value: Any, *, now: datetime) -> None:
    async with library.store.transaction() as conn:
        await settings_repo.put(conn, key, value, now)


# Conversations ----------------------------------------------------------------------------------


def route(chosen: Theme, home_branch: str | None) -> str | None:
    """N7: the theme's specialised pole, else the patron's home branch (None: nobody's in
    particular — a patron without a linked card asking a general question)."""
    return chosen.branch or home_branch


async def is_banned(library: Library, telegram_user_id: int) -> bool:
    return await repo.is_banned(library.store.reader, telegram_user_id)


async def open_conversation(library: Library, telegram_user_id: int) -> repo.ConversationRow | None:
    return await repo.open_conversation(library.store.reader, telegram_user_id)


async def start(
    library: Library,
    *,
    telegram_user_id: int,
    chat_id: int,
    theme_key: str,
    language: str | None,
    now: datetime,
) -> repo.ConversationRow:
    """Open a conversation on ``theme_key`` (the open one, if there is one already)."""
    chosen = await theme(library, theme_key)
    if chosen is None:
        raise Refusal("unknown_theme", f"no theme {theme_key!r}")
    async with library.store.transaction() as conn:
        if await repo.is_banned(conn, telegram_user_id):
            raise Refusal("handoff_banned", "this account may not write to the librarians")
        existing = await repo.open_conversation(conn, telegram_user_id)
        if existing is not None:
            return existing
        patron = await _linked_patron(conn, telegram_user_id)
        branch = route(chosen, patron.home_branch if patron else None)
        if branch is not None and await circulation_repo.branch_id(conn, branch) is None:
            branch = patron.home_branch if patron else None  # a theme's pole was removed
        conversation_id = await repo.add_conversation(
            conn,
            patron_id=patron.patron_id if patron else None,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            theme=chosen.key,
            branch=branch,
            language=language,
            now=now,
        )
        found = await repo.conversation(conn, conversation_id)
        assert found is not None
        return found


async def _linked_patron(
    conn: aiosqlite.Connection, telegram_user_id: int
) -> circulation_repo.PatronRow | None:
    link = await identity_repo.link_of_user(conn, telegram_user_id)
    return await circulation_repo.patron_by_id(conn, link.patron_id) if link else None


async def successor(
    library: Library, lost: repo.ConversationRow, *, now: datetime
) -> repo.ConversationRow:
    """The conversation that carries on after ``lost`` lost its topic (deleted, or closed by
    hand): ``lost`` ends (closed_by ``topic``), a new one opens with its theme and branch."""
    async with library.store.transaction() as conn:
        await repo.close(conn, lost.conversation_id, by="topic", now=now)
        existing = await repo.open_conversation(conn, lost.telegram_user_id)
        if existing is not None:
            return existing
        conversation_id = await repo.add_conversation(
            conn,
            patron_id=lost.patron_id,
            telegram_user_id=lost.telegram_user_id,
            chat_id=lost.chat_id,
            theme=lost.theme,
            branch=lost.branch,
            language=lost.language,
            now=now,
        )
        found = await repo.conversation(conn, conversation_id)
        assert found is not None
        return found


async def reopenable(
    library: Library, telegram_user_id: int, *, now: datetime
) -> repo.ConversationRow | None:
    """The conversation a patron's message goes on with: the open one, or the one staff
    closed less than ``handoff.reopen_minutes`` ago (reopened), or one whose topic was lost
    (replaced by its successor)."""
    current = await repo.open_conversation(library.store.reader, telegram_user_id)
    if current is not None:
        return current
    latest = await repo.latest_conversation(library.store.reader, telegram_user_id)
    if latest is None or latest.closed_at is None:
        return None
    if latest.closed_by == "topic":
        return await successor(library, latest, now=now)
    if latest.closed_by != "staff":
        return None
    window = timedelta(minutes=await reopen_minutes(library))
    if now - latest.closed_at > window:
        return None
    async with library.store.transaction() as conn:
        if await repo.is_banned(conn, telegram_user_id):
            return None
        if await repo.open_conversation(conn, telegram_user_id) is None:
            await repo.reopen(conn, latest.conversation_id)
        found = await repo.open_conversation(conn, telegram_user_id)
    return found


async def set_topic(library: Library, conversation_id: int, topic_id: int) -> None:
    async with library.store.transaction() as conn:
        await repo.set_topic(conn, conversation_id, topic_id)


async def header_posted(library: Library, conversation_id: int) -> None:
    async with library.store.transaction() as conn:
        await repo.set_header_posted(conn, conversation_id)


async def close(library: Library, conversation_id: int, *, by: str, now: datetime) -> bool:
    async with library.store.transaction() as conn:
        return await repo.close(conn, conversation_id, by=by, now=now)


async def reopen(library: Library, conversation_id: int) -> str:
    """Staff wrote in a closed conversation's topic: it opens again. Returns ``reopened`` (or
    ``open``), else why not: ``banned`` (unban first), ``other_open`` (the patron has
    another conversation open by now), ``missing``."""
    async with library.store.transaction() as conn:
        found = await repo.conversation(conn, conversation_id)
        if found is None:
            return "missing"
        if found.state == "open":
            return "open"
        if await repo.is_banned(conn, found.telegram_user_id):
            return "banned"
        if await repo.open_conversation(conn, found.telegram_user_id) is not None:
            return "other_open"
        await repo.reopen(conn, conversation_id)
        return "reopened"


async def conversation_of_topic(library: Library, topic_id: int) -> repo.ConversationRow | None:
    return await repo.conversation_of_topic(library.store.reader, topic_id)


async def conversation(library: Library, conversation_id: int) -> repo.ConversationRow | None:
    return await repo.conversation(library.store.reader, conversation_id)


async def earlier(library: Library, current: repo.ConversationRow) -> list[repo.ConversationRow]:
    return await repo.earlier_conversations(
        library.store.reader,
        current.telegram_user_id,
        current.patron_id,
        current.conversation_id,
    )


async def rate(
    library: Library, *, telegram_user_id: int, conversation_id: int, rating: int
) -> repo.ConversationRow:
    """The patron's 1-5 rating of a closed conversation: hers only, once closed."""
    if not 1 <= rating <= 5:
        raise Refusal("bad_rating", "a rating is 1 to 5")
    async with library.store.transaction() as conn:
        found = await repo.conversation(conn, conversation_id)
        if found is None or found.telegram_user_id != telegram_user_id:
            raise Refusal("unknown_conversation", "not this account's conversation")
        if found.state != "closed":
            raise Refusal("conversation_open", "rate a conversation once it is closed")
        await repo.rate(conn, conversation_id, rating)
        updated = await repo.conversation(conn, conversation_id)
        assert updated is not None
        return updated


async def ban(
    library: Library,
    conversation: repo.ConversationRow,
    *,
    by: int | None,
    reason: str | None,
    now: datetime,
) -> None:
    async with library.store.transaction() as conn:
        await repo.ban(conn, conversation.telegram_user_id, by=by, reason=reason, now=now)
        await repo.close(conn, conversation.conversation_id, by="ban", now=now)


async def unban(library: Library, telegram_user_id: int) -> bool:
    async with library.store.transaction() as conn:
        return await repo.unban(conn, telegram_user_id)


# Messages ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Content:
    """What a Telegram message carried, as the transcript keeps it."""

    content_type: str  # text, photo, document, voice, sticker, other
    text: str | None  # the text or the caption
    file_id: str | None


def is_note(text: str | None) -> bool:
    """Staff-only notes start with ``#note`` and stay in the staff group."""
    return text is not None and text.strip().lower().startswith(NOTE_PREFIX)


async def record(
    library: Library,
    conversation_id: int,
    *,
    direction: str,
    content: Content,
    sender_user_id: int | None,
    sender_name: str | None,
    now: datetime,
    patron_message_id: int | None = None,
    staff_message_id: int | None = None,
) -> int:
    """Store a message before it is relayed: a relay that fails never loses it."""
    async with library.store.transaction() as conn:
        return await repo.add_message(
            conn,
            conversation_id=conversation_id,
            direction=direction,
            sender_user_id=sender_user_id,
            sender_name=sender_name,
            content_type=content.content_type,
            text=content.text,
            file_id=content.file_id,
            patron_message_id=patron_message_id,
            staff_message_id=staff_message_id,
            now=now,
        )


async def relayed(
    library: Library,
    message_id: int,
    *,
    conversation_id: int,
    patron_message_id: int | None = None,
    staff_message_id: int | None = None,
) -> None:
    async with library.store.transaction() as conn:
        await repo.set_copies(
            conn,
            message_id,
            conversation_id=conversation_id,
            patron_message_id=patron_message_id,
            staff_message_id=staff_message_id,
        )


async def undelivered(library: Library, current: repo.ConversationRow) -> list[repo.MessageRow]:
    return await repo.undelivered(
        library.store.reader, current.telegram_user_id, current.conversation_id
    )


async def owed_to_staff(library: Library) -> list[repo.ConversationRow]:
    """Open conversations whose patron has messages the staff group has not received yet."""
    return await repo.open_with_undelivered(library.store.reader)


async def closed_owed_to_staff(library: Library) -> list[repo.ConversationRow]:
    """Closed conversations (by staff, the patron, a ban) with patron messages the staff group
    never received: relayed into their topic by the sweep, without opening them again."""
    return await repo.closed_with_undelivered(library.store.reader)


async def undelivered_of(library: Library, conversation_id: int) -> list[repo.MessageRow]:
    return await repo.undelivered_of(library.store.reader, conversation_id)


async def held_up(library: Library, telegram_user_id: int) -> None:
    """She was told her messages not yet relayed are held up (kept in the store, so that a
    restart does not cost her the word that they got through)."""
    async with library.store.transaction() as conn:
        await repo.mark_held_up(conn, telegram_user_id)


async def through_after_held_up(library: Library, telegram_user_id: int) -> bool:
    """True, once, when messages she was told are held up have reached staff since."""
    async with library.store.transaction() as conn:
        return await repo.clear_held_up_relayed(conn, telegram_user_id)


async def message_from_patron(
    library: Library, telegram_user_id: int, patron_message_id: int
) -> repo.MessageRow | None:
    return await repo.message_from_patron(library.store.reader, telegram_user_id, patron_message_id)


async def message_in_staff_chat(library: Library, staff_message_id: int) -> repo.MessageRow | None:
    return await repo.message_in_staff_chat(library.store.reader, staff_message_id)


async def edited(library: Library, message_id: int, text: str | None, *, now: datetime) -> None:
    async with library.store.transaction() as conn:
        await repo.edit_message(conn, message_id, text, now)


# Office hours -----------------------------------------------------------------------------------


def next_opening(calendar: LibraryCalendar, branch: str, now: datetime) -> datetime | None:
    """When ``branch`` next opens after ``now`` (None when it is open now, or never opens)."""
    try:
        if calendar.is_open_at(branch, now):
            return None
        local = calendar.local(now)
        day: date = local.date()
        for _ in range(400):
            day = calendar.next_opening_day(branch, day)
            for interval in calendar.hours(branch, day):
                opens = calendar.instant(day, interval.opens)
                if opens > now:
                    return opens
            day += timedelta(days=1)
    except CalendarError:
        return None
    return None


def first_opening(calendar: LibraryCalendar, now: datetime) -> datetime | None:
    """For a question no library in particular answers (a patron without a card asking a
    general question): None when some library is open now — its staff may answer — else when
    the first one opens (None too when none ever does)."""
    openings: list[datetime] = []
    for branch in sorted(calendar.branch_codes):
        try:
            if calendar.is_open_at(branch, now):
                return None
        except CalendarError:
            continue
        opens = next_opening(calendar, branch, now)
        if opens is not None:
            openings.append(opens)
    return min(openings, default=None)


async def staff_answer_from(library: Library, branch: str | None, now: datetime) -> datetime | None:
    """For a message sent at ``now`` to ``branch``'s staff: when they will read it, if the
    branch is closed now (None: open now, or it never opens). Without a branch (no library in
    particular answers), when the first library opens, if all are closed now."""
    calendar = await calendar_repo.load_calendar(library.store.reader, library.zone)
    if branch is None:
        return first_opening(calendar, now)
    if not calendar.has_branch(branch):
        return None
    return next_opening(calendar, branch, now)


# Export -----------------------------------------------------------------------------------------


async def export(
    library: Library, *, conversation_id: int | None = None, card: str | None = None
) -> list[dict[str, Any]]:
    """Conversations with every message, oldest first (``bibliobot handoff export``)."""
    async with library.store.snapshot() as conn:
        if card is not None and await circulation_repo.patron_by_card(conn, card) is None:
            raise Refusal("unknown_card", f"no patron has card {card!r}")
        found = await repo.conversations_for_export(
            conn, conversation_id=conversation_id, card=card
        )
        if conversation_id is not None and not found:
            raise Refusal("unknown_conversation", f"no conversation {conversation_id}")
        cards = {}
        out: list[dict[str, Any]] = []
        for item in found:
            if item.patron_id is not None and item.patron_id not in cards:
                patron = await circulation_repo.patron_by_id(conn, item.patron_id)
                cards[item.patron_id] = patron.card if patron else None
            out.append(
                {
                    "conversation_id": item.conversation_id,
                    "card": cards.get(item.patron_id) if item.patron_id is not None else None,
                    "telegram_user_id": item.telegram_user_id,
                    "theme": item.theme,
                    "branch": item.branch,
                    "topic_id": item.topic_id,
                    "state": item.state,
                    "opened_at": item.opened_at.isoformat(),
                    "closed_at": item.closed_at.isoformat() if item.closed_at else None,
                    "closed_by": item.closed_by,
                    "rating": item.rating,
                    "messages": [
                        {
                            "direction": message.direction,
                            "sender": message.sender_name,
                            "type": message.content_type,
                            "text": message.text,
                            "file_id": message.file_id,
                            "at": message.created_at.isoformat(),
                            "edited_at": (
                                message.edited_at.isoformat() if message.edited_at else None
                            ),
                        }
                        for message in await repo.messages(conn, item.conversation_id)
                    ],
                }
            )
        return out
