"""The demo page's port: the one asked for, or a free one when it is taken."""

from __future__ import annotations

import socket

from bot.demo.page import bind


def test_a_taken_port_falls_back_to_a_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        fallback = bind("127.0.0.1", port)
        try:
            assert fallback.getsockname()[1] not in (port, 0)
        finally:
            fallback.close()
    free = bind("127.0.0.1", port)
    try:
        assert free.getsockname()[1] == port
    finally:
        free.close()
