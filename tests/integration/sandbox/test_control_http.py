"""The control API over HTTP, as the chat page will use it."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.sandbox import RunningEmulator

JsonDict = dict[str, Any]


@pytest.fixture
async def page(sandbox: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{sandbox.url}/_sandbox/", timeout=10) as http:
        yield http


async def act(page: httpx.AsyncClient, action: str, **kwargs: Any) -> Any:
    response = await page.post(f"actions/{action}", json=kwargs)
    assert response.status_code == 200, response.text
    return response.json()["result"]


async def bot_call(sandbox: RunningEmulator, method: str, **params: Any) -> JsonDict:
    url = f"{sandbox.bot_api_url}{sandbox.token}/{method}"
    async with httpx.AsyncClient() as http:
        body: JsonDict = (await http.post(url, json=params)).json()
    return body


async def test_page_drives_users_and_reads_transcripts(
    sandbox: RunningEmulator, page: httpx.AsyncClient
) -> None:
    anna = await act(page, "add_user", first_name="Anna", language_code="en")
    sent = await act(page, "send_command", user_id=anna["id"], command="start", args="link-AB12")
    assert sent["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    updates = (await bot_call(sandbox, "getUpdates"))["result"]
    assert updates[0]["message"]["text"] == "/start link-AB12"
    reply = await bot_call(
        sandbox,
        "sendMessage",
        chat_id=anna["id"],
        text="Hi",
        reply_markup={"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
    )
    message_id = reply["result"]["message_id"]
    query_id = await act(
        page,
        "press_button",
        user_id=anna["id"],
        chat_id=anna["id"],
        message_id=message_id,
        data="go",
    )
    await bot_call(sandbox, "answerCallbackQuery", callback_query_id=query_id, text="ok")
    answer = (await page.get(f"answers/callback/{query_id}")).json()["result"]
    assert answer == {"text": "ok"}
    transcript = (await page.get(f"chats/{anna['id']}/transcript")).json()["result"]
    assert [(m["from_bot"], m["message"]["text"]) for m in transcript] == [
        (False, "/start link-AB12"),
        (True, "Hi"),
    ]
    state = (await page.get("state")).json()["result"]
    assert [u["first_name"] for u in state["users"]] == ["Anna"]


async def test_forum_group_and_files_over_http(
    sandbox: RunningEmulator, page: httpx.AsyncClient
) -> None:
    lucia = await act(page, "add_user", first_name="Lucia")
    staff = await act(page, "add_group", title="Staff", forum=True, admins=[lucia["id"]])
    assert staff["is_forum"] is True
    topic = await act(
        page, "create_topic", chat_id=staff["id"], name="Domande", user_id=lucia["id"]
    )
    png = (
        b"\x89PNG\r\n\x1a\n"
        + b"\x00\x00\x00\rIHDR"
        + (3).to_bytes(4, "big")
        + (2).to_bytes(4, "big")
    )
    photo = await act(
        page,
        "send_file",
        user_id=lucia["id"],
        kind="photo",
        data_base64=base64.b64encode(png).decode(),
        chat_id=staff["id"],
        thread_id=topic["message_thread_id"],
        caption="scaffale",
    )
    assert photo["message"]["photo"][0]["width"] == 3
    assert photo["message"]["is_topic_message"] is True
    downloaded = await page.get(f"files/{photo['file_id']}")
    assert downloaded.content == png
    response = await page.post(
        "actions/send_file",
        data={"user_id": str(lucia["id"]), "kind": "document", "chat_id": str(staff["id"])},
        files={"file": ("orari.ics", b"BEGIN:VCALENDAR", "text/calendar")},
    )
    document = response.json()["result"]["message"]["document"]
    assert (document["file_name"], document["mime_type"]) == ("orari.ics", "text/calendar")
    info = await bot_call(sandbox, "getFile", file_id=document["file_id"])
    async with httpx.AsyncClient() as http:
        url = f"{sandbox.file_url}{sandbox.token}/{info['result']['file_path']}"
        assert (await http.get(url)).content == b"BEGIN:VCALENDAR"


async def test_event_long_poll_and_stream(
    sandbox: RunningEmulator, page: httpx.AsyncClient
) -> None:
    emu = sandbox.emulator
    after = emu.events.last_seq
    waiting = asyncio.create_task(page.get("events", params={"after": after, "timeout": 5}))
    anna = emu.add_user("Anna")
    events = (await waiting).json()["result"]["events"]
    assert events[0]["kind"] == "user"
    async with page.stream("GET", "events/stream", params={"after": emu.events.last_seq}) as stream:
        emu.send_text(anna.id, "ciao")
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                break
    assert event["kind"] == "message"
    assert event["message"]["text"] == "ciao"


async def test_commands_resolve_by_scope_and_language(
    sandbox: RunningEmulator, page: httpx.AsyncClient
) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna", language_code="en")
    staff = emu.add_group("Staff", forum=True, admins=[anna.id])
    await bot_call(
        sandbox, "setMyCommands", commands=[{"command": "cerca", "description": "Cerca"}]
    )
    english = [{"command": "search", "description": "Search"}]
    await bot_call(sandbox, "setMyCommands", commands=english, language_code="en")
    desk = [{"command": "checkout", "description": "Prestito"}]
    await bot_call(
        sandbox, "setMyCommands", commands=desk, scope={"type": "chat", "chat_id": staff.id}
    )
    assert emu.commands_for(anna.id)[0]["command"] == "search"
    assert emu.commands_for(anna.id, language_code="it")[0]["command"] == "cerca"
    response = await page.get("commands", params={"chat_id": staff.id, "user_id": anna.id})
    assert response.json()["result"] == desk
    got = await bot_call(sandbox, "getMyCommands", language_code="en")
    assert got["result"] == english


async def test_faults_and_errors_over_http(
    sandbox: RunningEmulator, page: httpx.AsyncClient
) -> None:
    anna = await act(page, "add_user", first_name="Anna", started=True)
    fault = await act(page, "inject_fault", kind="retry_after", method="sendMessage", retry_after=3)
    assert fault["hits"] == 0
    body = await bot_call(sandbox, "sendMessage", chat_id=anna["id"], text="x")
    assert body["parameters"] == {"retry_after": 3}
    unknown = await page.post("actions/fly", json={})
    assert unknown.status_code == 404
    misuse = await page.post("actions/send_text", json={"user_id": 1, "text": "x"})
    assert misuse.status_code == 400
    assert "no user 1" in misuse.json()["error"]
