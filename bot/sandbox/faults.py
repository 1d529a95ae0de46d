"""Fault injection: make chosen Bot API calls fail the way Telegram sometimes does.

Tests of retries, rate limiting and "never a silent drop" need Telegram's bad days on demand:
flood waits (429 with ``retry_after``), server errors, slow answers that trip the client's
time-out, and 403s. A fault matches by method and/or chat and fires a given number of times.

A ``delay`` fault only slows the answer: the call is still carried out afterwards, as on the real
service, where a request that timed out on the client may well have been delivered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from bot.sandbox.errors import ApiError, forbidden, too_many_requests

FaultKind = Literal["retry_after", "server_error", "delay", "forbidden", "bad_request"]


@dataclass
class Fault:
    """One injected fault; ``times=None`` fires on every matching call."""

    kind: FaultKind
    method: str | None = None
    chat_id: int | str | None = None
    times: int | None = 1
    retry_after: int = 1
    delay: float = 0.0
    status: int = 500
    description: str | None = None
    hits: int = 0

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        if self.chat_id is not None:
            return str(params.get("chat_id")) == str(self.chat_id)
        return True

    def error(self) -> ApiError | None:
        if self.kind == "retry_after":
            return too_many_requests(self.retry_after)
        if self.kind == "server_error":
            return ApiError(self.status, self.description or "Internal Server Error")
        if self.kind == "forbidden":
            return forbidden(self.description or "bot was blocked by the user")
        if self.kind == "bad_request":
            return ApiError(400, f"Bad Request: {self.description or 'injected fault'}")
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "chat_id": self.chat_id,
            "times": self.times,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "status": self.status,
            "description": self.description,
            "hits": self.hits,
        }


class FaultInjector:
    """The active faults, consulted before each validated call is carried out."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    async def apply(self, method: str, params: dict[str, Any]) -> None:
        """Sleep for matching delay faults, then raise the first matching error fault."""
        for fault in list(self.faults):
            if not fault.matches(method, params):
                continue
            fault.hits += 1
            if fault.kind == "delay":
                await asyncio.sleep(fault.delay)
                continue
            error = fault.error()
            if error is not None:
                raise error
