"""The spec check: what Telegram would refuse is refused (400) and recorded as a violation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.sandbox import Emulator, RunningEmulator
from bot.sandbox.limits import Range
from bot.sandbox.spec import load_spec
from bot.sandbox.testing import assert_no_violations, sandbox_session

JsonDict = dict[str, Any]


@pytest.fixture
async def client(sandbox: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{sandbox.bot_api_url}{sandbox.token}/") as http:
        yield http


@pytest.fixture
def chat_id(sandbox: RunningEmulator) -> int:
    return sandbox.emulator.add_user("Anna", started=True).id


def keyboard(*rows: list[JsonDict]) -> JsonDict:
    return {"inline_keyboard": list(rows)}


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, JsonDict]:
    response = await client.post(method, json=params)
    body: JsonDict = response.json()
    return response.status_code, body


def refused(emu: Emulator) -> list[str]:
    """Paths of the violations recorded so far, forgetting them (they are expected here)."""
    return [v.path for v in emu.take_violations()]


async def test_valid_request_passes(
    sandbox: RunningEmulator, client: httpx.AsyncClient, chat_id: int
) -> None:
    markup = keyboard([{"text": "Rinnova", "callback_data": "r" * 64}])
    status, body = await call(
        client, "sendMessage", chat_id=chat_id, text="ok", reply_markup=markup
    )
    assert status == 200
    assert body["ok"] is True
    assert body["result"]["reply_markup"] == markup
    assert sandbox.emulator.violations == []


async def test_form_and_multipart_encodings_are_understood(
    sandbox: RunningEmulator, client: httpx.AsyncClient, chat_id: int
) -> None:
    markup = json.dumps(keyboard([{"text": "a", "callback_data": "b"}]))
    form = {"chat_id": str(chat_id), "text": "form", "reply_markup": markup}
    response = await client.post("sendMessage", data=form)
    assert response.status_code == 200
    assert response.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"
    files = {"document": ("a.txt", b"abc", "text/plain")}
    data = {"chat_id": str(chat_id), "caption": "c", "disable_notification": "true"}
    response = await client.post("sendDocument", data=data, files=files)
    assert response.status_code == 200
    assert response.json()["result"]["document"]["file_size"] == 3
    assert sandbox.emulator.violations == []


async def test_unknown_method_is_404_like_telegram(
    sandbox: RunningEmulator, client: httpx.AsyncClient
) -> None:
    status, body = await call(client, "sendTelepathy", chat_id=1)
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert sandbox.emulator.violations == []


async def test_method_names_are_case_insensitive(client: httpx.AsyncClient) -> None:
    status, body = await call(client, "GETME")
    assert status == 200
    assert body["result"]["is_bot"] is True


async def test_missing_required_field(
    sandbox: RunningEmulator, client: httpx.AsyncClient, chat_id: int
) -> None:
    status, body = await call(client, "sendMessage", chat_id=chat_id)
    assert status == 400
    assert body["description"] == "Bad Request: message text is empty"
    assert refused(sandbox.emulator) == ["text"]


async def test_wrong_type(sandbox: RunningEmulator, client: httpx.AsyncClient) -> None:
    status, body = await call(client, "sendMessage", chat_id=True, text="x")
    assert status == 400
    assert body["description"].startswith("Bad Request: ")
    assert refused(sandbox.emulator) == ["chat_id"]
    status, _ = await call(client, "sendMessage", chat_id=1, text="x", disable_notification="yes")
    assert status == 400
    assert refused(sandbox.emulator) == ["disable_notification"]


async def test_unknown_field(
    sandbox: RunningEmulator, client: httpx.AsyncClient, chat_id: int
) -> None:
    status, _ = await call(client, "sendMessage", chat_id=chat_id, text="x", colour="blue")
    assert status == 400
    assert refused(sandbox.emulator) == ["colour"]


async def test_callback_data_of_65_bytes(
    sandbox: RunningEmulator, client: httpx.AsyncClient, chat_id: int
) -> None:
    # 32 two-byte characters + 1 = 65 bytes but only 33 characters: the limit is in bytes.
    markup = keyboard([{"text": "x", "callback_data": "è" * 32 + "a"}])
    status, body = await call(client, "sendMessage", chat_id=chat_id, text="x", reply_markup=markup)
    assert status == 400
    assert body["description"] == "Bad Request: BUTTON_DATA_INVALID"
    assert refused(sandbox.emulator) == ["reply_markup.inline_keyboard[0][0].callback_data"]


async def test_text_of_4097_characters(
    sandbox: RunningEmulator, client: httpx.AsyncClient, chat_id: int
) -> None:
    status, _ = await call(client, "sendMessage", chat_id=chat_id, text="a" * 4096)
    assert status == 200
    status, body = await call(client, "sendMessage", chat_id=chat_id, text="a" * 4097)
    assert status == 400
    assert body["description"] == "Bad Request: message is too long"
    assert refused(sandbox.emulator) == ["text"]


async def test_text_length_counts_after_markup_and_in_utf16(
    sandbox: RunningEmulator, client: httpx.AsyncClient, chat_id: int
) -> None:
    html_text = "<b>" + "a" * 4096 + "</b>"
    status, _ = await call(
        client, "sendMessage", chat_id=chat_id, text=html_text, parse_mode="HTML"
    )
    assert status == 200
    emoji = "\U0001f4da"  # 📚: one character, two UTF-16 code units
    status, _ = await call(client, "sendMessage", chat_id=chat_id, text=emoji * 2048)
    assert status == 200
    status, _ = await call(client, "sendMessage", chat_id=chat_id, text=emoji * 2048 + "a")
    assert status == 400
    assert refused(sandbox.emulator) == ["text"]


async def test_markup_errors_are_violations(
    sandbox: RunningEmulator, client: httpx.AsyncClient, chat_id: int
) -> None:
    status, body = await call(
        client, "sendMessage", chat_id=chat_id, text="I <promessi> sposi", parse_mode="HTML"
    )
    assert status == 400
    assert "can't parse entities" in body["description"]
    status, body = await call(
        client, "sendMessage", chat_id=chat_id, text="Vol. 2", parse_mode="MarkdownV2"
    )
    assert status == 400
    assert "reserved" in body["description"]
    assert refused(sandbox.emulator) == ["text", "text"]


@pytest.mark.parametrize(
    ("markup", "path"),
    [
        ({"inline_keyboard": [{"text": "a", "callback_data": "b"}]}, "reply_markup"),
        (keyboard([{"text": "only text"}]), "reply_markup.inline_keyboard[0][0]"),
        (keyboard([{"text": "a", "callback_data": "b", "url": "https://x"}]), "reply_markup"),
        (keyboard([{"text": 5, "callback_data": "b"}]), "reply_markup.inline_keyboard[0][0].text"),
        ({"keyboard": [["a"]], "resize_keyboard": "yes"}, "reply_markup.resize_keyboard"),
    ],
)
async def test_nested_keyboards_are_checked(
    sandbox: RunningEmulator,
    client: httpx.AsyncClient,
    chat_id: int,
    markup: JsonDict,
    path: str,
) -> None:
    status, _ = await call(client, "sendMessage", chat_id=chat_id, text="x", reply_markup=markup)
    assert status == 400
    paths = refused(sandbox.emulator)
    assert paths
    assert paths[0].startswith(path)


async def test_inline_results_are_checked(
    sandbox: RunningEmulator, client: httpx.AsyncClient
) -> None:
    emu = sandbox.emulator
    user = emu.add_user("Anna")

    def article(result_id: str) -> JsonDict:
        content = {"message_text": "t"}
        return {"type": "article", "id": result_id, "title": "t", "input_message_content": content}

    too_many = [article(str(n)) for n in range(51)]
    query = emu.inline_query(user.id, "x")
    status, body = await call(client, "answerInlineQuery", inline_query_id=query, results=too_many)
    assert status == 400
    assert body["description"] == "Bad Request: RESULTS_TOO_MUCH"
    status, _ = await call(
        client, "answerInlineQuery", inline_query_id=query, results=[article("x" * 65)]
    )
    assert status == 400
    wrong = {**article("1"), "type": "artikel"}
    status, _ = await call(client, "answerInlineQuery", inline_query_id=query, results=[wrong])
    assert status == 400
    assert refused(emu) == ["results", "results[0].id", "results[0].type"]
    status, _ = await call(
        client,
        "answerInlineQuery",
        inline_query_id=query,
        results=[article(str(n)) for n in range(50)],
    )
    assert status == 200


async def test_command_limits(sandbox: RunningEmulator, client: httpx.AsyncClient) -> None:
    bad = [{"command": "Start", "description": "x"}, {"command": "help", "description": ""}]
    status, _ = await call(client, "setMyCommands", commands=bad)
    assert status == 400
    assert refused(sandbox.emulator) == ["commands[0].command", "commands[1].description"]
    many = [{"command": f"c{n}", "description": "d"} for n in range(101)]
    status, _ = await call(client, "setMyCommands", commands=many)
    assert status == 400
    assert refused(sandbox.emulator) == ["commands"]


async def test_number_limits(sandbox: RunningEmulator, client: httpx.AsyncClient) -> None:
    status, body = await call(client, "getUpdates", limit=101)
    assert status == 400
    assert "1-100" in body["description"]
    status, _ = await call(client, "answerCallbackQuery", callback_query_id="1", text="x" * 201)
    assert status == 400
    assert refused(sandbox.emulator) == ["limit", "text"]


async def test_unimplemented_method_is_reported(
    sandbox: RunningEmulator, client: httpx.AsyncClient, chat_id: int
) -> None:
    status, body = await call(client, "sendDice", chat_id=chat_id)
    assert status == 400
    assert "not implemented by the sandbox" in body["description"]
    assert [v.kind for v in sandbox.emulator.take_violations()] == ["unsupported"]


async def test_violations_fail_the_session() -> None:
    seen: list[Emulator] = []

    async def provoke() -> None:
        async with sandbox_session() as running:
            emu = running.emulator
            seen.append(emu)
            user = emu.add_user("Anna", started=True)
            markup = keyboard([{"text": "x", "callback_data": "y" * 65}])
            params = {"chat_id": user.id, "text": "x", "reply_markup": markup}
            assert (await emu.call("sendMessage", params))[0] == 400

    with pytest.raises(AssertionError, match="BUTTON_DATA_INVALID"):
        await provoke()
    seen[0].take_violations()
    assert_no_violations(seen[0])


def test_limits_are_read_from_the_spec() -> None:
    spec = load_spec()
    assert spec.version.startswith("Bot API")
    button = spec.types["InlineKeyboardButton"].fields["callback_data"].rules
    assert button.length == Range(1, 64)
    assert button.length_unit == "bytes"
    text = spec.methods["sendMessage"].fields["text"].rules
    assert text.length is not None
    assert (text.length.high, text.after_entities) == (4096, True)
    topic = spec.methods["createForumTopic"].fields["name"].rules
    assert topic.length is not None
    assert (topic.length.low, topic.length.high) == (1, 128)
    results = spec.methods["answerInlineQuery"].fields["results"].rules
    assert results.count is not None
    assert results.count.high == 50
    commands = spec.methods["setMyCommands"].fields["commands"].rules
    assert commands.count is not None
    assert commands.count.high == 100
    assert spec.methods["getUpdates"].fields["limit"].rules.value is not None
