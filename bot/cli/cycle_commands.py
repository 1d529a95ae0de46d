"""``bibliobot cycle run`` and ``bibliobot settings reminders show|set`` (INTERFACE.md).

``cycle run`` is one pass of a notice cycle beside the running bot (the outbox is shared: the
bot's dispatcher sends what it queues), or with ``--dry-run`` a preview of what it would queue,
writing nothing; ``--at`` decides as at another instant (a preview of a given day).

``settings reminders`` shows and changes the timing administrators own, exactly as ``/admin``
does in the bot: the same parsing and validation (``bot.reminders.timing``). A value that is not
of the right shape is bad usage (exit 2); a well-formed value the rules refuse exits 1.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from datetime import UTC, datetime
from typing import Any

from bot.cli.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, emit_json, now_or_at
from bot.cli.desk_commands import open_library
from bot.reminders import timing
from bot.reminders.cycles import CycleReport, run_cycle
from bot.settings import Settings

Subparsers = Any

CYCLE_CHOICES = ("reminders", "overdue", "holds", "all")


def register(commands: Subparsers) -> None:
    cycle = commands.add_parser("cycle", help="the scheduled notice cycles")
    actions = cycle.add_subparsers(dest="cycle_command", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run",
        help="one pass of a cycle (reminders, overdue, holds, all)",
        description="Decide and queue what the cycle would send at this instant (or --at); "
        "--dry-run shows it and writes nothing. Running it twice queues nothing new.",
    )
    run.add_argument(
        "cycle", choices=CYCLE_CHOICES, metavar="CYCLE", help=" | ".join(CYCLE_CHOICES)
    )
    run.add_argument("--at", metavar="ISO-DATETIME", help="decide as at this instant")
    run.add_argument("--dry-run", action="store_true", help="preview: write nothing")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.set_defaults(handler=cycle_run)

    settings = commands.add_parser("settings", help="values administrators own")
    groups = settings.add_subparsers(dest="settings_group", metavar="GROUP", required=True)
    reminders = groups.add_parser("reminders", help="the reminder timing")
    verbs = reminders.add_subparsers(dest="settings_verb", metavar="ACTION", required=True)
    show = verbs.add_parser("show", help="the timing in force, and where each value comes from")
    show.add_argument("--json", action="store_true", help="print the result as JSON")
    show.set_defaults(handler=reminders_show)
    change = verbs.add_parser(
        "set",
        help="change the timing: KEY=VALUE ... (VALUE default: back to the config file)",
        description="Keys: "
        + ", ".join(timing.KEYS)
        + ". Examples: due_offsets=3,0  overdue_levels=first_day,grace_end,suspension  "
        "hold_reminder_days=1  reminders_hour=09:00  quiet_hours=21:00-08:00 (or off)  "
        "max_notice_age_days=7. The change takes effect at the next cycle, without a restart.",
    )
    change.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    change.add_argument("--json", action="store_true", help="print the result as JSON")
    change.set_defaults(handler=reminders_set)


async def cycle_run(args: argparse.Namespace, settings: Settings) -> int:
    at = now_or_at(args, settings)
    async with open_library(settings) as library:
        report = await run_cycle(
            library, args.cycle, at=at, real_now=datetime.now(UTC), dry_run=args.dry_run
        )
    if args.json:
        emit_json(report.as_json())
    else:
        print("\n".join(_report_lines(report)))
    return EXIT_OK


def _report_lines(report: CycleReport) -> list[str]:
    lines = []
    for notice in report.notices:
        titles = ", ".join(str(item.get("title", item.get("subject", ""))) for item in notice.items)
        state = " (expired)" if notice.expired else ""
        lines.append(f"{notice.card}\t{notice.kind}{state}\t{titles}")
        if report.dry_run:  # the preview: the message as the patron would read it
            lines.extend(f"    {line}" for line in _plain(notice.text).splitlines())
    verb = "would queue" if report.dry_run else "queued"
    count = len(report.notices) if report.dry_run else report.queued
    lines.append(f"{report.cycle} for {report.day.isoformat()}: {verb} {count} notice(s)")
    return lines


def _plain(text: str) -> str:
    """A message's HTML as the patron reads it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _timing_json(current: timing.Timing) -> dict[str, object]:
    values = current.as_text()
    return {
        "values": values,
        "set_by_administrators": sorted(key for key in values if key in current.overridden),
    }


async def reminders_show(args: argparse.Namespace, settings: Settings) -> int:
    async with open_library(settings) as library, library.store.snapshot() as conn:
        current = await timing.load(conn, settings.reminders)
    _print_timing(args, current)
    return EXIT_OK


def _print_timing(args: argparse.Namespace, current: timing.Timing) -> None:
    if args.json:
        emit_json(_timing_json(current))
        return
    for key, value in current.as_text().items():
        origin = "set" if key in current.overridden else "config"
        print(f"{key:22} {value:16} ({origin})")


async def reminders_set(args: argparse.Namespace, settings: Settings) -> int:
    changes: dict[str, str] = {}
    for pair in args.pairs:
        key, equals, value = pair.partition("=")
        if not equals:
            return _refuse(args, "bad_usage", f"{pair!r}: write KEY=VALUE", usage=True)
        changes[key.strip()] = value
    async with open_library(settings) as library:
        try:
            async with library.store.transaction() as conn:
                current = await timing.change(
                    conn, settings.reminders, changes, now=now_or_at(args, settings), by="cli"
                )
        except timing.TimingError as error:
            return _refuse(args, error.code, error.english, usage=error.usage)
    _print_timing(args, current)
    return EXIT_OK


def _refuse(args: argparse.Namespace, code: str, message: str, *, usage: bool) -> int:
    if args.json:
        emit_json({"error": code, "message": message})
    else:
        print(f"{'error' if usage else 'refused'}: {message}", file=sys.stderr)
    return EXIT_USAGE if usage else EXIT_REFUSED
