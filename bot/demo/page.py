"""The chat page's web server: static files, the sandbox's control API, and the demo's own facts.

The page talks to the bot only through the emulator, as a Telegram client would: every press,
message and inline query goes to ``/_sandbox/actions/...`` (the control API of
:mod:`bot.sandbox.control`, mounted here on the page's own address, so the browser needs no
cross-origin calls), and every message it shows comes from ``/_sandbox/...`` transcripts and the
event stream. ``/demo/info`` says who is who (the patrons' Telegram users and their cards, the
staff member, the staff group) and the day the clock was last moved to (``clock_day``, so that a
reloaded page goes on from there); ``/demo/clock`` runs the scheduled cycles at a chosen date.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox.control import add_control_routes
from bot.sandbox.emulator import Emulator

JsonDict = dict[str, Any]
ClockJump = Callable[[date], Awaitable[JsonDict]]
"""Run the cycles as if it were that day; returns what was queued and sent (for the page)."""

STATIC = "static"


def static_dir() -> Path:
    return Path(str(resources.files("bot.demo").joinpath(STATIC)))


def build_page_app(emulator: Emulator, info: JsonDict, clock: ClockJump | None) -> web.Application:
    """The page's application: ``/`` the page, ``/static/*``, ``/demo/*``, ``/_sandbox/*``."""
    app = web.Application()
    root = static_dir()
    moved: dict[str, date] = {}  # "day": the latest day the clock was moved to

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(root / "index.html", headers={"Cache-Control": "no-store"})

    async def demo_info(request: web.Request) -> web.Response:
        day = moved.get("day")
        return web.json_response(
            {
                **info,
                "clock": clock is not None,
                "clock_day": day.isoformat() if day else info.get("today"),
            }
        )

    async def jump(request: web.Request) -> web.Response:
        if clock is None:
            return web.json_response(
                {"ok": False, "error": "the scheduled cycles are not part of this build"},
                status=501,
            )
        body = await request.json() if request.can_read_body else {}
        try:
            day = date.fromisoformat(str(body.get("date", "")))
        except ValueError:
            return web.json_response({"ok": False, "error": "date: YYYY-MM-DD"}, status=400)
        result = await clock(day)
        if day > moved.get("day", date.min):
            moved["day"] = day
        return web.json_response({"ok": True, "result": result})

    app.router.add_get("/", index)
    app.router.add_get("/demo/info", demo_info)
    app.router.add_post("/demo/clock", jump)
    app.router.add_static("/static/", root)
    add_control_routes(app, emulator)
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``port``, or on a free port when that one is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A demo restarted at once finds its port in TIME_WAIT: that is not "taken".
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((host, 0))
    return sock


@asynccontextmanager
async def serve_page(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """Serve ``app``; yields the page's address (``http://127.0.0.1:PORT/``)."""
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    sock = bind(host, port)
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield f"http://{host}:{sock.getsockname()[1]}/"
    finally:
        await runner.cleanup()
        sock.close()
