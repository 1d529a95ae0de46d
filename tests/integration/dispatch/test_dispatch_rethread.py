"""The dispatcher's ``rethread`` hook: a notice for a forum topic that Telegram refuses with a
400 (the topic deleted by hand) is offered to the hook, which may move it to another topic.
The bot's hook (staff cards) is tested end to end in tests/e2e; here, the dispatcher's side:
the move is stored and sent at once, a refusal of the hook gives up as before, and a topic
that keeps failing cannot make it loop."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from telegram.error import BadRequest, NetworkError

from bot.reminders.dispatcher import Dispatcher, DispatchPolicy, NewThread, Rethread
from bot.reminders.outgoing import OutgoingMessage
from bot.sandbox.world import Chat, User
from db.outbox import replace_pending
from db.outbox_delivery import ClaimedNotice
from db.sql import fetch_one
from tests.integration.dispatch.conftest import Outbox
from tests.integration.dispatch.support import queue_one, rows

FAST = DispatchPolicy(
    backoff_base=timedelta(seconds=0.05), backoff_cap=timedelta(seconds=0.1), timeout=0.5
)


def now() -> datetime:
    return datetime.now(UTC)


def staff_group(box: Outbox) -> tuple[Chat, User]:
    head = box.emulator.add_user("Bibliotecaria")
    return box.emulator.add_group("Staff", forum=True, admins=[head.id]), head


async def drain(box: Outbox, rethread: Rethread, policy: DispatchPolicy = FAST) -> None:
    await Dispatcher(box.bot, box.store, now=now, policy=policy, rethread=rethread).drain(
        settle=1.0
    )


async def payload(box: Outbox, row_id: int) -> dict[str, object]:
    found = await fetch_one(box.store.reader, "SELECT payload FROM outbox WHERE id = ?", (row_id,))
    assert found is not None
    loaded = json.loads(str(found[0]))
    assert isinstance(loaded, dict)
    return loaded


async def test_a_notice_moved_by_the_hook_goes_to_the_new_topic(outbox: Outbox) -> None:
    emu = outbox.emulator
    group, head = staff_group(outbox)
    lost = emu.create_topic(group.id, "Appuntamenti", user_id=head.id)
    again = emu.create_topic(group.id, "Appuntamenti", user_id=head.id)
    emu.delete_topic(group.id, lost.thread_id)
    message = OutgoingMessage(text="Richiesta <b>#A1</b>", thread_id=lost.thread_id)
    row_id = await queue_one(outbox.store, None, message, key="card", chat_id=group.id)
    asked: list[tuple[str, int | None, str]] = []
    # While the send was failing, the card was rewritten (the request changed): that stands.
    rewritten = OutgoingMessage(text="Richiesta <b>#A1</b>: annullata", thread_id=lost.thread_id)

    async def move(
        notice: ClaimedNotice, refused: OutgoingMessage, error: BadRequest
    ) -> NewThread | None:
        asked.append((notice.dedupe_key, refused.thread_id, error.message))
        async with outbox.store.transaction() as conn:
            assert await replace_pending(conn, "card", rewritten.to_payload())
        return NewThread(again.thread_id)

    await drain(outbox, move)
    assert asked == [("card", lost.thread_id, "Message thread not found")]
    (sent,) = emu.bot_messages(group.id, again.thread_id)
    assert sent.text == "Richiesta #A1: annullata"
    row = (await rows(outbox.store))[row_id]
    assert (row.state, row.attempts, row.telegram_message_id) == ("sent", 2, sent.message_id)
    stored = await payload(outbox, row_id)
    assert stored == {**rewritten.to_payload(), "thread_id": again.thread_id}


async def test_a_notice_moved_to_the_chat_itself_loses_its_topic(outbox: Outbox) -> None:
    """The hook may send it to the chat itself (a group that is no forum any more)."""
    emu = outbox.emulator
    group, head = staff_group(outbox)
    lost = emu.create_topic(group.id, "Appuntamenti", user_id=head.id)
    emu.delete_topic(group.id, lost.thread_id)
    message = OutgoingMessage(text="z", thread_id=lost.thread_id)
    row_id = await queue_one(outbox.store, None, message, key="card", chat_id=group.id)

    async def to_the_chat(
        notice: ClaimedNotice, refused: OutgoingMessage, error: BadRequest
    ) -> NewThread | None:
        return NewThread(None)

    await drain(outbox, to_the_chat)
    (sent,) = emu.bot_messages(group.id)
    assert (sent.text, sent.thread_id) == ("z", None)
    assert "thread_id" not in await payload(outbox, row_id)
    assert (await rows(outbox.store))[row_id].state == "sent"


async def test_a_hook_that_declines_leaves_the_notice_undeliverable(outbox: Outbox) -> None:
    emu = outbox.emulator
    group, head = staff_group(outbox)
    lost = emu.create_topic(group.id, "Avvisi", user_id=head.id)
    emu.delete_topic(group.id, lost.thread_id)
    message = OutgoingMessage(text="x", thread_id=lost.thread_id)
    row_id = await queue_one(outbox.store, None, message, key="other", chat_id=group.id)

    async def decline(
        notice: ClaimedNotice, refused: OutgoingMessage, error: BadRequest
    ) -> NewThread | None:
        return None

    await drain(outbox, decline)
    row = (await rows(outbox.store))[row_id]
    assert (row.state, row.last_error) == ("undeliverable", "bad request: Message thread not found")


async def test_a_topic_that_keeps_failing_ends_undeliverable(outbox: Outbox) -> None:
    """The hook moves the notice to topics that are gone as well: each move counts as an
    attempt, so it ends after ``max_attempts`` instead of looping."""
    emu = outbox.emulator
    group, head = staff_group(outbox)
    lost = emu.create_topic(group.id, "Appuntamenti", user_id=head.id)
    emu.delete_topic(group.id, lost.thread_id)
    message = OutgoingMessage(text="x", thread_id=lost.thread_id)
    row_id = await queue_one(outbox.store, None, message, key="card", chat_id=group.id)
    moves = 0

    async def move_to_another_lost_one(
        notice: ClaimedNotice, refused: OutgoingMessage, error: BadRequest
    ) -> NewThread | None:
        nonlocal moves
        moves += 1
        gone = emu.create_topic(group.id, f"Appuntamenti {moves}", user_id=head.id)
        emu.delete_topic(group.id, gone.thread_id)
        return NewThread(gone.thread_id)

    policy = DispatchPolicy(max_attempts=4, timeout=0.5)
    await drain(outbox, move_to_another_lost_one, policy)
    row = (await rows(outbox.store))[row_id]
    assert (row.state, row.attempts) == ("undeliverable", 4)
    assert moves == 3
    assert len(emu.calls_to("sendMessage")) == 4


async def test_telegram_failing_inside_the_hook_is_tried_again_later(outbox: Outbox) -> None:
    emu = outbox.emulator
    group, head = staff_group(outbox)
    lost = emu.create_topic(group.id, "Appuntamenti", user_id=head.id)
    again = emu.create_topic(group.id, "Appuntamenti", user_id=head.id)
    emu.delete_topic(group.id, lost.thread_id)
    message = OutgoingMessage(text="y", thread_id=lost.thread_id)
    row_id = await queue_one(outbox.store, None, message, key="card", chat_id=group.id)
    failures = [NetworkError("Telegram is down")]

    async def move(
        notice: ClaimedNotice, refused: OutgoingMessage, error: BadRequest
    ) -> NewThread | None:
        if failures:
            raise failures.pop()
        return NewThread(again.thread_id)

    await drain(outbox, move)
    (sent,) = emu.bot_messages(group.id, again.thread_id)
    assert sent.text == "y"
    row = (await rows(outbox.store))[row_id]
    assert (row.state, row.attempts) == ("sent", 3)
