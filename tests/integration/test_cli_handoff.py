"""``bibliobot handoff``: the themes, ready answers and options administrators own.

Set in this process through ``main`` (the same entry the console script calls) against a real
store file, then read back from the store the bot reads (the settings table), so the CLI and
the bot agree on one shape.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.cli import main
from bot.services import handoff
from bot.services.context import Library
from bot.settings import load_settings
from db.store import Store

T = TypeVar("T")


class Admin:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        self.path = tmp_path / "handoff.sqlite3"
        monkeypatch.setenv("BIBLIOBOT_DATABASE__PATH", str(self.path))
        monkeypatch.setenv("BIBLIOBOT_LIBRARY__POLICY", "cbnem")

    def run(self, *args: str) -> tuple[int, Any]:
        out = io.StringIO()
        with redirect_stdout(out):
            status = main([*args, "--json"])
        return status, json.loads(out.getvalue())

    def ok(self, *args: str) -> Any:
        status, payload = self.run(*args)
        assert status == 0, (args, payload)
        return payload

    def refused(self, *args: str) -> str:
        status, payload = self.run(*args)
        assert status == 1, (args, payload)
        return str(payload["error"])

    def read(self, what: Callable[[Library], Awaitable[T]]) -> T:
        """Read back what the bot would read, from the same store file."""

        async def reading() -> T:
            settings = load_settings(database={"path": str(self.path)}, library={"policy": "cbnem"})
            async with await Store.open(self.path) as store:
                return await what(Library.from_settings(store, settings))

        return asyncio.run(reading())


@pytest.fixture
def admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Admin:
    desk = Admin(tmp_path, monkeypatch)
    desk.ok("branch", "add", "VIM", "--name", "Vimodrone")
    return desk


def test_themes_default_then_set_route_and_remove(admin: Admin) -> None:
    shown = admin.ok("handoff", "themes", "show")["themes"]
    keys = [theme["key"] for theme in shown]
    assert keys == ["general", "children", "music", "local_history", "digital"]
    music = next(theme for theme in shown if theme["key"] == "music")
    assert music["names"] == {"it": "Musica", "en": "Music"}  # translated defaults written out

    admin.ok("handoff", "themes", "set", "music", "--branch", "VIM")
    admin.ok("handoff", "themes", "set", "comics", "--name", "it=Fumetti", "--name", "en=Comics")
    admin.ok("handoff", "themes", "remove", "digital")
    themes = {theme.key: theme for theme in admin.read(handoff.themes)}
    assert list(themes) == ["general", "children", "music", "local_history", "comics"]
    assert themes["music"].branch == "VIM"  # N7: the music pole
    assert themes["comics"].names == {"it": "Fumetti", "en": "Comics"}

    assert admin.refused("handoff", "themes", "set", "music", "--branch", "NOPE") == (
        "unknown_branch"
    )
    assert admin.refused("handoff", "themes", "set", "new_one") == "bad_theme"  # no name
    assert admin.refused("handoff", "themes", "set", "Bad Key!", "--name", "it=X") == "bad_theme"
    assert admin.refused("handoff", "themes", "set", "x", "--name", "fr=X") == "bad_name"
    assert admin.refused("handoff", "themes", "remove", "nope") == "unknown_theme"
    admin.ok("handoff", "themes", "reset")
    assert len(admin.ok("handoff", "themes", "show")["themes"]) == 5


def test_canned_answers_and_options(admin: Admin) -> None:
    canned = admin.ok("handoff", "canned", "show")["canned"]
    assert set(canned) == {"hello", "wait", "desk"}
    admin.ok("handoff", "canned", "set", "hours", "--text", "it=Siamo aperti", "--text", "en=Open")
    canned = admin.ok("handoff", "canned", "show")["canned"]
    assert canned["hours"] == {"it": "Siamo aperti", "en": "Open"}
    assert "hello" in canned  # the defaults were kept when the first answer was added
    admin.ok("handoff", "canned", "remove", "hello")
    assert "hello" not in admin.ok("handoff", "canned", "show")["canned"]
    assert admin.refused("handoff", "canned", "remove", "hello") == "unknown_canned"
    assert admin.refused("handoff", "canned", "set", "x", "--text", "it=  ") == "bad_text"

    admin.ok("handoff", "option", "sign_with_name", "on")
    admin.ok("handoff", "option", "reopen_minutes", "15")
    assert admin.refused("handoff", "option", "reopen_minutes", "soon") == "bad_option"
    assert admin.refused("handoff", "option", "reopen_minutes", "1²") == "bad_option"
    assert admin.read(handoff.sign_with_name) is True
    assert admin.read(handoff.reopen_minutes) == 15
    assert admin.read(handoff.export) == []
