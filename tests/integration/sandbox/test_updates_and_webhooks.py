"""getUpdates and webhook semantics, and injected faults, over raw HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.sandbox import RunningEmulator

JsonDict = dict[str, Any]


@pytest.fixture
async def client(sandbox: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    base = f"{sandbox.bot_api_url}{sandbox.token}/"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        yield http


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, JsonDict]:
    response = await client.post(method, json=params)
    body: JsonDict = response.json()
    return response.status_code, body


async def test_offset_confirms_and_limit_caps(
    sandbox: RunningEmulator, client: httpx.AsyncClient
) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    for text in ("uno", "due", "tre"):
        emu.send_text(anna.id, text)
    _, body = await call(client, "getUpdates", limit=2)
    first = body["result"]
    assert [u["message"]["text"] for u in first] == ["uno", "due"]
    _, body = await call(client, "getUpdates", offset=first[-1]["update_id"] + 1)
    assert [u["message"]["text"] for u in body["result"]] == ["tre"]
    _, body = await call(client, "getUpdates", offset=body["result"][-1]["update_id"] + 1)
    assert body["result"] == []


async def test_long_poll_returns_when_an_update_arrives(
    sandbox: RunningEmulator, client: httpx.AsyncClient
) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(call(client, "getUpdates", timeout=10))
    await emu.wait_for_calls("getUpdates")
    emu.send_text(anna.id, "ciao")
    _, body = await poll
    assert [u["message"]["text"] for u in body["result"]] == ["ciao"]
    assert loop.time() - started < 2


async def test_allowed_updates_filter_new_updates(
    sandbox: RunningEmulator, client: httpx.AsyncClient
) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna")
    await call(client, "getUpdates", allowed_updates=["callback_query"])
    emu.send_text(anna.id, "ignored")
    _, body = await call(client, "getUpdates")
    assert body["result"] == []
    await call(client, "getUpdates", allowed_updates=[])
    emu.send_text(anna.id, "seen")
    _, body = await call(client, "getUpdates")
    assert [u["message"]["text"] for u in body["result"]] == ["seen"]


async def test_second_poller_terminates_the_first(
    sandbox: RunningEmulator, client: httpx.AsyncClient
) -> None:
    first = asyncio.create_task(call(client, "getUpdates", timeout=10))
    await sandbox.emulator.wait_for_calls("getUpdates")
    status, _ = await call(client, "getUpdates")
    assert status == 200
    status, body = await first
    assert status == 409
    assert "terminated by other getUpdates request" in body["description"]


async def test_webhook_delivery_with_secret(
    sandbox: RunningEmulator, client: httpx.AsyncClient
) -> None:
    emu = sandbox.emulator
    received: list[tuple[str | None, JsonDict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        status, _ = await call(client, "setWebhook", url=url, secret_token="s3cret")
        assert status == 200
        anna = emu.add_user("Anna")
        emu.send_text(anna.id, "via webhook")
        await emu.wait_for(lambda: received, what="the webhook POST")
        status, body = await call(client, "getUpdates")
        assert status == 409
        _, info = await call(client, "getWebhookInfo")
        assert info["result"]["url"] == url
        assert info["result"]["pending_update_count"] == 0
        await call(client, "deleteWebhook")
        emu.send_text(anna.id, "polling again")
        _, body = await call(client, "getUpdates")
        assert [u["message"]["text"] for u in body["result"]] == ["polling again"]
    finally:
        await runner.cleanup()
    assert received[0][0] == "s3cret"
    assert received[0][1]["message"]["text"] == "via webhook"


async def test_faults_by_kind(sandbox: RunningEmulator, client: httpx.AsyncClient) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna", started=True)
    emu.inject_fault("retry_after", method="sendMessage", retry_after=7)
    status, body = await call(client, "sendMessage", chat_id=anna.id, text="a")
    assert (status, body["parameters"]) == (429, {"retry_after": 7})
    emu.inject_fault("server_error", chat_id=anna.id, status=502, times=2)
    statuses = [(await call(client, "sendMessage", chat_id=anna.id, text="b"))[0] for _ in range(3)]
    assert statuses == [502, 502, 200]
    emu.inject_fault("forbidden", method="sendMessage")
    status, body = await call(client, "sendMessage", chat_id=anna.id, text="c")
    assert status == 403
    assert body["description"] == "Forbidden: bot was blocked by the user"
    assert [m.text for m in emu.bot_messages(anna.id)] == ["b"]


async def test_delay_fault_times_out_but_still_delivers(sandbox: RunningEmulator) -> None:
    emu = sandbox.emulator
    anna = emu.add_user("Anna", started=True)
    emu.inject_fault("delay", method="sendMessage", delay=0.5)
    url = f"{sandbox.bot_api_url}{sandbox.token}/sendMessage"
    async with httpx.AsyncClient(timeout=0.1) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post(url, json={"chat_id": anna.id, "text": "lento"})
    messages = await emu.wait_for_bot_messages(anna.id)
    assert messages[0].text == "lento"
