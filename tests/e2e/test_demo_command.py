"""``bibliobot demo`` as a person starts it: a process that prints the cards and the page's
address (another port, said so, when the one asked for is taken), serves the page, and stops
cleanly on SIGTERM (as on Ctrl-C)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import urllib.request
from pathlib import Path

START_WITHIN = 60.0


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


async def test_the_demo_prints_its_address_serves_the_page_and_stops(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")}
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--port",
        str(port),
        "--database",
        str(tmp_path / "demo.sqlite3"),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    printed: list[str] = []
    try:
        async with asyncio.timeout(START_WITHIN):
            while not (printed and printed[-1].startswith("Chat page:")):
                line = await process.stdout.readline()
                assert line, f"the demo ended early: {printed}"
                printed.append(line.decode().strip())
        address = re.search(r"http://127\.0\.0\.1:(\d+)/", printed[-1])
        assert address is not None
        assert int(address.group(1)) != port
        assert f"Port {port} is taken: the page uses port {address.group(1)}." in printed
        assert any("card 0001  PIN 1234" in line for line in printed)
        page = await asyncio.to_thread(fetch, address.group())
        assert b"page.js" in page
        info = json.loads(await asyncio.to_thread(fetch, address.group() + "demo/info"))
        assert [patron["card"] for patron in info["patrons"]] == ["0001", "0002", "0003"]
    finally:
        taken.close()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert b"demo stopped" in rest
