"""Serve an :class:`Emulator` over HTTP on 127.0.0.1, where PTB (and the chat page) reach it.

Routes:
- ``/bot<token>/<method>`` (GET or POST; JSON, form-urlencoded or multipart): the Bot API.
- ``/file/bot<token>/<file_path>``: file downloads after getFile (PTB's ``base_file_url``).
- ``/_sandbox/...``: the control API (see :mod:`bot.sandbox.control`).

Use it from tests and from ``bibliobot demo``::

    async with run_emulator() as sandbox:
        app = (ApplicationBuilder().token(sandbox.token)
               .base_url(sandbox.bot_api_url).base_file_url(sandbox.file_url).build())
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sandbox.control import add_control_routes
from bot.sandbox.emulator import Emulator
from bot.sandbox.upload import Upload

EMULATOR_KEY = web.AppKey("emulator", Emulator)
MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's limit for bots' uploads


@dataclass(frozen=True)
class RunningEmulator:
    """A served emulator and the addresses to give PTB and the chat page."""

    emulator: Emulator
    url: str  # e.g. http://127.0.0.1:45678

    @property
    def token(self) -> str:
        return self.emulator.token

    @property
    def bot_api_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)`` (PTB appends the token)."""
        return f"{self.url}/file/bot"


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Request parameters from the query string and a JSON, form or multipart body."""
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json(loads=json.loads)
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="JSON body must be an object")
        params.update(body)
        return params
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            data = value.file.read()
            params[name] = Upload(value.filename or name, value.content_type, data)
        else:
            params[name] = value if isinstance(value, str) else bytes(value).decode()
    return params


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def _bot_api(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    if request.match_info["token"] != emulator.token:
        return _json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    try:
        params = await _read_params(request)
    except (ValueError, web.HTTPBadRequest):
        body = {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"}
        return _json(400, body)
    status, body = await emulator.call(request.match_info["method"], params)
    return _json(status, body)


async def _download(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR_KEY]
    if request.match_info["token"] != emulator.token:
        raise web.HTTPUnauthorized()
    stored = emulator.world.files.by_path(request.match_info["path"])
    if stored is None:
        raise web.HTTPNotFound()
    return web.Response(body=stored.data, content_type=stored.mime_type)


def build_app(emulator: Emulator) -> web.Application:
    """The aiohttp application serving ``emulator`` (Bot API, files, control API)."""
    app = web.Application(client_max_size=MAX_UPLOAD)
    app[EMULATOR_KEY] = emulator
    app.router.add_route("*", "/bot{token}/{method}", _bot_api)
    app.router.add_get("/file/bot{token}/{path:.+}", _download)
    add_control_routes(app, emulator)
    return app


@asynccontextmanager
async def run_emulator(
    emulator: Emulator | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningEmulator]:
    """Serve an emulator (a new one by default) on ``host``; port 0 picks a free port."""
    emulator = emulator or Emulator()
    runner = web.AppRunner(build_app(emulator), shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    site = web.SockSite(runner, sock)
    await site.start()
    bound = sock.getsockname()[1]
    try:
        yield RunningEmulator(emulator, f"http://{host}:{bound}")
    finally:
        await emulator.aclose()
        await runner.cleanup()
        sock.close()
