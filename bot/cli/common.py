"""What every command shares: the exit statuses, refusals, JSON output, ``--at`` and progress.

INTERFACE.md: exit 0 on success, 1 on a refused operation (the reason printed, and in JSON as
``{"error": CODE, "message": TEXT}``), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.settings import Settings

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2


class Refused(Exception):
    """An operation refused for a reason the user can act on."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def emit_json(payload: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    json.dump(payload, stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def report_refusal(refusal: Refused, as_json: bool) -> int:
    if as_json:
        emit_json({"error": refusal.code, "message": refusal.message})
    else:
        print(f"refused: {refusal.message}", file=sys.stderr)
    return EXIT_REFUSED


class ProgressLine:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream: TextIO | None = None, width: int = 30):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.width = width
        self._last = -1

    def __call__(self, label: str, done: int, total: int, records: int) -> None:
        if not self.enabled:
            return
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if percent == self._last:
            return
        self._last = percent
        filled = self.width * percent // 100
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{label[:40]:40} [{bar}] {percent:3d}%  {records} records")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._last >= 0:
            self.stream.write("\n")
            self.stream.flush()
        self._last = -1


def parse_instant(text: str, settings: Settings) -> datetime:
    """``--at``: an ISO date or date-time; without an offset it is the library's local time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Refused("bad_datetime", f"--at {text!r}: not an ISO date-time") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=settings.library.zone)
    return value.astimezone(UTC)


def now_or_at(args: argparse.Namespace, settings: Settings) -> datetime:
    """The instant a command acts at: ``--at`` when given (back-dating), else now."""
    at = getattr(args, "at", None)
    return parse_instant(at, settings) if at else datetime.now(UTC)
