"""``bibliobot run`` as an administrator starts it: a process, by polling or by webhooks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.run_command import webhook_path
from bot.sandbox import RunningEmulator, run_emulator
from bot.sandbox.testing import format_violations
from db.store import Store


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with run_emulator() as running:
        yield running
    if running.emulator.violations:
        pytest.fail(format_violations(running.emulator.violations))


def _environment(running: RunningEmulator, database: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")}
    env["BIBLIOBOT_TELEGRAM__TOKEN"] = running.token
    env["BIBLIOBOT_TELEGRAM__BASE_URL"] = running.bot_api_url
    env["BIBLIOBOT_DATABASE__PATH"] = str(database)
    return env


async def _talk_then_stop(
    running: RunningEmulator, command: list[str], tmp_path: Path
) -> tuple[str, int]:
    database = tmp_path / "run.sqlite3"
    async with await Store.open(database):
        pass
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *command,
        env=_environment(running, database),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        emu = running.emulator
        anna = emu.add_user("Anna", language_code="en")
        await emu.wait_for_calls("setMyCommands", 2, within=30)
        reply = await emu.wait_for_reply(
            anna.id, after=emu.send_command(anna.id, "start"), within=30
        )
        text = reply.body
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = await asyncio.wait_for(process.communicate(), timeout=30)
    assert b"Traceback" not in errors, errors.decode()
    assert process.returncode is not None
    return text, process.returncode


async def test_run_by_long_polling(emulator: RunningEmulator, tmp_path: Path) -> None:
    text, code = await _talk_then_stop(emulator, ["run"], tmp_path)
    assert "language" in text
    assert code == 0


async def test_run_by_webhook(emulator: RunningEmulator, tmp_path: Path) -> None:
    port = _free_port()
    text, code = await _talk_then_stop(
        emulator,
        ["run", "--webhook-url", f"http://127.0.0.1:{port}/tg/bibliobot", "--port", str(port)],
        tmp_path,
    )
    assert "language" in text
    assert code == 0
    [webhook] = emulator.emulator.calls_to("setWebhook")
    assert webhook.params["url"] == f"http://127.0.0.1:{port}/tg/bibliobot"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://bot.example.org/bibliobot", "bibliobot"),
        ("https://bot.example.org/tg/bibliobot/", "tg/bibliobot"),
        ("https://bot.example.org", ""),
        ("https://bot.example.org:8443/", ""),
    ],
)
def test_the_webhook_listens_on_the_urls_path(url: str, path: str) -> None:
    assert webhook_path(url) == path


def test_a_webhook_url_that_is_not_a_web_address_is_bad_usage(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")}
    env["BIBLIOBOT_TELEGRAM__TOKEN"] = "123:ABC"
    env["BIBLIOBOT_DATABASE__PATH"] = str(tmp_path / "x.sqlite3")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--webhook-url", "bot.example.org/hook"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("usage error: --webhook-url: 'bot.example.org/hook'")


def test_run_without_a_token_is_one_line(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")}
    env["BIBLIOBOT_DATABASE__PATH"] = str(tmp_path / "x.sqlite3")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "config error: [telegram] token: missing (from BotFather; environment: "
        "BIBLIOBOT_TELEGRAM__TOKEN)"
    )


def test_an_unreachable_bot_api_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")}
    env["BIBLIOBOT_TELEGRAM__TOKEN"] = "123:ABC"
    env["BIBLIOBOT_TELEGRAM__BASE_URL"] = f"http://127.0.0.1:{_free_port()}/bot"
    env["BIBLIOBOT_DATABASE__PATH"] = str(tmp_path / "x.sqlite3")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("refused: cannot talk to the Bot API at http://127.0.0.1:")
    )
