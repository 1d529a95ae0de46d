"""The control API over HTTP under ``/_sandbox/``, for the chat page (and any non-Python client).

Every user action of :class:`Emulator` is exposed as ``POST /_sandbox/actions/<name>`` with the
method's keyword arguments as a JSON object, so the page and the tests drive the very same code.
Reading: ``GET /_sandbox/state``, ``/_sandbox/chats/<id>/transcript[?thread_id=]``,
``/_sandbox/events?after=N&timeout=S`` (long poll), ``/_sandbox/events/stream?after=N``
(server-sent events), ``/_sandbox/files/<file_id>``, ``/_sandbox/commands?chat_id=&user_id=``,
``/_sandbox/violations``, ``/_sandbox/calls``. Only ever served on 127.0.0.1: there is no auth.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from bot.sandbox.core import CallRecord, Violation
from bot.sandbox.emulator import Emulator
from bot.sandbox.errors import SandboxError
from bot.sandbox.faults import Fault
from bot.sandbox.view import ChatMessage
from bot.sandbox.world import Chat, Member, Topic, User

ACTIONS = (
    "add_user",
    "add_group",
    "set_member",
    "create_topic",
    "close_topic",
    "delete_topic",
    "block_bot",
    "send_text",
    "send_command",
    "send_file",
    "edit_text",
    "press_button",
    "press_reply_button",
    "inline_query",
    "choose_inline_result",
    "inject_fault",
    "clear_faults",
    "take_violations",
)
_INT_FIELDS = {"user_id", "chat_id", "thread_id", "message_id", "duration"}


def to_jsonable(value: Any, emulator: Emulator) -> Any:
    """Sandbox objects as the JSON the page reads."""
    if isinstance(value, ChatMessage | Fault | Violation):
        return value.to_json()
    if isinstance(value, User | Topic):
        return value.to_api()
    if isinstance(value, Chat):
        return emulator.chat_summary(value)
    if isinstance(value, Member):
        return {"status": value.status, "rights": value.rights}
    if isinstance(value, CallRecord):
        return {
            "method": value.method,
            "params": value.params,
            "status": value.status,
            "description": value.description,
            "at": value.at,
        }
    if isinstance(value, list):
        return [to_jsonable(item, emulator) for item in value]
    return value


def _ok(value: Any, emulator: Emulator) -> web.Response:
    return web.json_response({"ok": True, "result": to_jsonable(value, emulator)})


def _fail(message: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    return int(raw) if raw not in (None, "") else None


def add_control_routes(app: web.Application, emulator: Emulator) -> None:
    """Register the ``/_sandbox/`` routes for ``emulator`` on ``app``."""

    async def action(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ACTIONS:
            return _fail(f"unknown action {name!r}; known: {', '.join(ACTIONS)}", 404)
        kwargs = await _action_kwargs(request)
        if name == "add_group" and isinstance(kwargs.get("members"), dict):
            kwargs["members"] = {int(k): v for k, v in kwargs["members"].items()}
        try:
            result = getattr(emulator, name)(**kwargs)
        except (SandboxError, TypeError, ValueError) as error:
            return _fail(str(error))
        return _ok(result, emulator)

    async def state(request: web.Request) -> web.Response:
        return _ok(emulator.state(), emulator)

    async def transcript(request: web.Request) -> web.Response:
        try:
            chat_id = int(request.match_info["chat_id"])
            return _ok(emulator.transcript(chat_id, _int(request, "thread_id")), emulator)
        except (SandboxError, ValueError) as error:
            return _fail(str(error), 404)

    async def events(request: web.Request) -> web.Response:
        after = _int(request, "after") or 0
        wait = min(float(request.query.get("timeout", "25")), 60.0)
        found = await emulator.events.wait_after(after, wait)
        return _ok({"events": found, "last_seq": emulator.events.last_seq}, emulator)

    async def stream(request: web.Request) -> web.StreamResponse:
        after = _int(request, "after") or 0
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        try:
            while not emulator.events.closing:
                found = await emulator.events.wait_after(after, 15.0)
                if not found:
                    await response.write(b": keep-alive\n\n")
                for event in found:
                    after = event["seq"]
                    payload = json.dumps(event, ensure_ascii=False)
                    await response.write(f"id: {after}\ndata: {payload}\n\n".encode())
        except ConnectionResetError:
            pass
        return response

    async def file(request: web.Request) -> web.StreamResponse:
        stored = emulator.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        disposition = f'inline; filename="{stored.file_name}"'
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type,
            headers={"Content-Disposition": disposition},
        )

    async def commands(request: web.Request) -> web.Response:
        chat_id = _int(request, "chat_id")
        if chat_id is None:
            return _fail("chat_id is required")
        found = emulator.commands_for(
            chat_id, _int(request, "user_id"), request.query.get("language_code")
        )
        return _ok(found, emulator)

    async def violations(request: web.Request) -> web.Response:
        return _ok(list(emulator.violations), emulator)

    async def calls(request: web.Request) -> web.Response:
        return _ok(emulator.calls[-200:], emulator)

    async def answer(request: web.Request) -> web.Response:
        kind, query_id = request.match_info["kind"], request.match_info["query_id"]
        if kind == "callback":
            return _ok(emulator.callback_answer(query_id), emulator)
        return _ok(emulator.inline_answer(query_id), emulator)

    routes = app.router
    routes.add_post("/_sandbox/actions/{name}", action)
    routes.add_get("/_sandbox/state", state)
    routes.add_get("/_sandbox/chats/{chat_id}/transcript", transcript)
    routes.add_get("/_sandbox/events", events)
    routes.add_get("/_sandbox/events/stream", stream)
    routes.add_get("/_sandbox/files/{file_id}", file)
    routes.add_get("/_sandbox/commands", commands)
    routes.add_get("/_sandbox/violations", violations)
    routes.add_get("/_sandbox/calls", calls)
    routes.add_get("/_sandbox/answers/{kind:callback|inline}/{query_id}", answer)


async def _action_kwargs(request: web.Request) -> dict[str, Any]:
    """Keyword arguments from a JSON object, or from multipart form fields plus a "file" part.

    Over JSON, ``send_file`` takes the bytes as ``data_base64``.
    """
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        kwargs: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
    else:
        kwargs = {}
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                kwargs["data"] = value.file.read()
                kwargs.setdefault("file_name", value.filename)
                kwargs.setdefault("mime_type", value.content_type)
            elif isinstance(value, str):
                kwargs[key] = int(value) if key in _INT_FIELDS else value
    if "data_base64" in kwargs:
        kwargs["data"] = base64.b64decode(kwargs.pop("data_base64"))
    return kwargs
