"""The handoff's record on a real store: one open conversation per account however many
messages race, the reopen window, lost topics, ratings only by their owner, bans, transcripts.
Time is passed in (``now``), never read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.services import handoff, identity, patrons
from bot.services.errors import Refusal
from tests.integration.circulation.conftest import CBNEM_BRANCHES, World, _world, at

ANNA = 1001
T0 = at(2026, 3, 10, 10, 0)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    found = await _world(tmp_path / "handoff.sqlite3", "cbnem", CBNEM_BRANCHES, None)
    try:
        yield found
    finally:
        await found.store.close()


async def start(world: World, user: int = ANNA, theme: str = "general") -> int:
    conversation = await handoff.start(
        world.library, telegram_user_id=user, chat_id=user, theme_key=theme, language="it", now=T0
    )
    return conversation.conversation_id


async def test_racing_starts_open_one_conversation(world: World) -> None:
    ids = await asyncio.gather(*(start(world) for _ in range(5)))
    assert len(set(ids)) == 1


async def test_routing_to_the_pole_else_home(world: World) -> None:
    await world.patron("0001234", "BRU")
    await identity.link_with_code(
        world.library,
        telegram_user_id=ANNA,
        chat_id=ANNA,
        code=(await _code(world, "0001234")),
        now=T0,
    )
    await handoff.set_themes(
        world.library,
        [
            handoff.Theme("general", None, {"it": "Generale"}),
            handoff.Theme("music", "VIM", {"it": "Musica"}),
        ],
        now=T0,
    )
    general = await handoff.conversation(world.library, await start(world, theme="general"))
    assert general is not None
    assert general.branch == "BRU"  # the patron's home library
    await handoff.close(world.library, general.conversation_id, by="patron", now=T0)
    music = await handoff.conversation(world.library, await start(world, theme="music"))
    assert music is not None
    assert music.branch == "VIM"  # N7: the music pole
    with pytest.raises(Refusal):
        await start(world, user=2002, theme="nope")


async def _code(world: World, card: str) -> str:
    code, _ = await patrons.link_code(world.library, card=card, now=T0)
    return code


async def test_reopen_window_after_close(world: World) -> None:
    first = await start(world)
    await handoff.close(world.library, first, by="staff", now=T0)
    within = await handoff.reopenable(world.library, ANNA, now=T0 + timedelta(minutes=59))
    assert within is not None
    assert within.conversation_id == first
    await handoff.close(world.library, first, by="staff", now=T0)
    later = await handoff.reopenable(world.library, ANNA, now=T0 + timedelta(minutes=61))
    assert later is None
    await handoff.close(world.library, (await start(world)), by="patron", now=T0)
    assert await handoff.reopenable(world.library, ANNA, now=T0) is None  # she ended it


async def test_a_lost_topic_has_a_successor_with_its_theme(world: World) -> None:
    first = await handoff.conversation(world.library, await start(world, theme="music"))
    assert first is not None
    await handoff.set_topic(world.library, first.conversation_id, 77)
    await handoff.close(world.library, first.conversation_id, by="topic", now=T0)
    following = await handoff.reopenable(world.library, ANNA, now=T0 + timedelta(days=3))
    assert following is not None
    assert following.conversation_id != first.conversation_id
    assert following.theme == "music"
    assert following.topic_id is None  # a new topic will be created for it


async def test_only_the_owner_rates_a_closed_conversation(world: World) -> None:
    conversation = await start(world)
    with pytest.raises(Refusal) as still_open:
        await handoff.rate(
            world.library, telegram_user_id=ANNA, conversation_id=conversation, rating=5
        )
    assert still_open.value.code == "conversation_open"
    await handoff.close(world.library, conversation, by="staff", now=T0)
    with pytest.raises(Refusal) as stranger:
        await handoff.rate(
            world.library, telegram_user_id=2002, conversation_id=conversation, rating=5
        )
    assert stranger.value.code == "unknown_conversation"
    with pytest.raises(Refusal):
        await handoff.rate(
            world.library, telegram_user_id=ANNA, conversation_id=conversation, rating=9
        )
    rated = await handoff.rate(
        world.library, telegram_user_id=ANNA, conversation_id=conversation, rating=3
    )
    assert rated.rating == 3


async def test_a_ban_closes_and_blocks(world: World) -> None:
    conversation = await handoff.conversation(world.library, await start(world))
    assert conversation is not None
    await handoff.ban(world.library, conversation, by=9, reason="abuse", now=T0)
    assert await handoff.is_banned(world.library, ANNA)
    with pytest.raises(Refusal) as refused:
        await start(world)
    assert refused.value.code == "handoff_banned"
    assert await handoff.reopen(world.library, conversation.conversation_id) == "banned"
    assert await handoff.unban(world.library, ANNA)
    assert await handoff.reopen(world.library, conversation.conversation_id) == "reopened"


async def test_every_message_is_in_the_transcript(world: World) -> None:
    conversation = await start(world)
    text = handoff.Content("text", "hello", None)
    first = await handoff.record(
        world.library, conversation, direction="patron", content=text,
        sender_user_id=ANNA, sender_name="Anna", now=T0, patron_message_id=5,
    )  # fmt: skip
    await handoff.edited(world.library, first, "hello again", now=T0 + timedelta(minutes=1))
    note = handoff.Content("text", "#note x", None)
    await handoff.record(
        world.library, conversation, direction="note", content=note,
        sender_user_id=9, sender_name="Giulia", now=T0, staff_message_id=12,
    )  # fmt: skip
    [exported] = await handoff.export(world.library, conversation_id=conversation)
    assert [(m["direction"], m["text"]) for m in exported["messages"]] == [
        ("patron", "hello again"),
        ("note", "#note x"),
    ]
    assert exported["messages"][0]["edited_at"] is not None
    with pytest.raises(Refusal):
        await handoff.export(world.library, conversation_id=999)
