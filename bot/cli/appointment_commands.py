"""``bibliobot appointment``: the services patrons can book and their weekly slots.

Administrators define what the library offers, per branch::

    bibliobot appointment service add CONSULT --branch BRU --name-it "Consulenza bibliografica" \\
        --name-en "Bibliographic consultation" --duration 30 --capacity 1 \\
        --min-notice-hours 24 --max-ahead-days 30 --cancel-cutoff-hours 24
    bibliobot appointment slot add CONSULT --branch BRU --weekday mon --at 10:00
    bibliobot appointment list [--branch BRU] [--json]
    bibliobot appointment upcoming [--branch BRU] [--json]
    bibliobot appointment settings --reminder-hours 24

Slots are wall-clock times in the library's time zone; days the branch is closed (its week,
holidays, saint day, closures: ``bibliobot branch hours``, ``bibliobot closure add``) are never
offered.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, time
from typing import Any

from bot.appointments import WeeklySlot
from bot.cli.calendar_commands import DAY_KEYS, DAY_NAMES
from bot.cli.common import EXIT_OK, emit_json, now_or_at
from bot.cli.desk_commands import open_library
from bot.services import appointments as service
from bot.settings import Settings
from db import appointments as repo

Subparsers = Any  # argparse's _SubParsersAction is private

_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def weekday(text: str) -> int:
    found = DAY_NAMES.get(text.strip().lower())
    if found is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a day (mon tue wed thu fri sat sun, or lun mar mer gio ven sab dom)"
        )
    return found


def clock(text: str) -> time:
    match = _TIME.match(text.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day (HH:MM, e.g. 10:00)")
    return time(int(match.group(1)), int(match.group(2)))


def register(commands: Subparsers) -> None:
    appointment = commands.add_parser(
        "appointment", help="appointment services patrons book in the bot, and their slots"
    )
    groups = appointment.add_subparsers(dest="appointment_command", metavar="ACTION", required=True)

    service_parser = groups.add_parser("service", help="the services a branch offers")
    service_actions = service_parser.add_subparsers(
        dest="service_command", metavar="ACTION", required=True
    )
    add = service_actions.add_parser(
        "add",
        help="add a service at a branch, or change the one with that code",
        description="Add an appointment service at a branch (or change the service with the "
        "same CODE there). Patrons see its name in their language.",
    )
    add.add_argument("code", metavar="CODE")
    add.add_argument("--branch", required=True, metavar="CODE")
    add.add_argument("--name-it", required=True, metavar="NAME")
    add.add_argument("--name-en", required=True, metavar="NAME")
    add.add_argument("--duration", type=int, default=30, metavar="MINUTES")
    add.add_argument("--capacity", type=int, default=1, metavar="N", help="people per slot")
    add.add_argument("--min-notice-hours", type=int, default=24, metavar="H")
    add.add_argument("--max-ahead-days", type=int, default=30, metavar="D")
    add.add_argument("--cancel-cutoff-hours", type=int, default=24, metavar="H")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=service_add)

    slot_parser = groups.add_parser("slot", help="a service's weekly slots")
    slot_actions = slot_parser.add_subparsers(dest="slot_command", metavar="ACTION", required=True)
    for action, handler, help_text in (
        ("add", slot_add, "add a weekly slot (local time)"),
        ("remove", slot_remove, "remove a weekly slot (booked appointments stay)"),
    ):
        parser = slot_actions.add_parser(action, help=help_text)
        parser.add_argument("code", metavar="CODE")
        parser.add_argument("--branch", required=True, metavar="CODE")
        parser.add_argument("--weekday", required=True, type=weekday, metavar="DAY")
        parser.add_argument("--at", required=True, type=clock, metavar="HH:MM")
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(handler=handler)

    listing = groups.add_parser("list", help="every service with its weekly slots")
    listing.add_argument("--branch", metavar="CODE")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=service_list)

    upcoming = groups.add_parser(
        "upcoming", help="requests and confirmed appointments that have not started yet"
    )
    upcoming.add_argument("--branch", metavar="CODE")
    upcoming.add_argument("--at", metavar="ISO-DATETIME", help="as if it were then")
    upcoming.add_argument("--json", action="store_true")
    upcoming.set_defaults(handler=appointment_upcoming)

    options = groups.add_parser(
        "settings", help="show or set how long before an appointment the patron is reminded"
    )
    options.add_argument(
        "--reminder-hours", type=int, metavar="H", help="0: no reminder (default 24)"
    )
    options.add_argument("--json", action="store_true")
    options.set_defaults(handler=appointment_settings)


def service_json(row: repo.ServiceRow, slots: tuple[WeeklySlot, ...] = ()) -> dict[str, object]:
    return {
        "service_id": row.service_id,
        "code": row.code,
        "branch": row.branch,
        "name_it": row.name_it,
        "name_en": row.name_en,
        "duration_minutes": row.duration_minutes,
        "capacity": row.capacity,
        "min_notice_hours": row.min_notice_hours,
        "max_ahead_days": row.max_ahead_days,
        "cancel_cutoff_hours": row.cancel_cutoff_hours,
        "slots": [{"weekday": DAY_KEYS[s.weekday], "at": f"{s.starts:%H:%M}"} for s in slots],
    }


async def service_add(args: argparse.Namespace, settings: Settings) -> int:
    definition = service.ServiceDefinition(
        code=args.code.strip(),
        branch=args.branch.strip(),
        name_it=args.name_it,
        name_en=args.name_en,
        duration_minutes=args.duration,
        capacity=args.capacity,
        min_notice_hours=args.min_notice_hours,
        max_ahead_days=args.max_ahead_days,
        cancel_cutoff_hours=args.cancel_cutoff_hours,
    )
    async with open_library(settings) as library:
        row, created = await service.define_service(library, definition)
    if args.json:
        emit_json({**service_json(row), "created": created})
    else:
        print(
            f"{'added' if created else 'updated'} service {row.code} at {row.branch}: "
            f"{row.name_it} / {row.name_en}, {row.duration_minutes} min, "
            f"{row.capacity} per slot"
        )
    return EXIT_OK


async def _slot_change(args: argparse.Namespace, settings: Settings, adding: bool) -> int:
    slot = WeeklySlot(args.weekday, args.at)
    async with open_library(settings) as library:
        if adding:
            change = await service.add_slot(
                library, code=args.code.strip(), branch=args.branch.strip(), slot=slot
            )
        else:
            change = await service.remove_slot(
                library, code=args.code.strip(), branch=args.branch.strip(), slot=slot
            )
    label = f"{DAY_KEYS[slot.weekday]} {slot.starts:%H:%M}"
    if args.json:
        emit_json(
            {
                "code": change.service.code,
                "branch": change.service.branch,
                "weekday": DAY_KEYS[slot.weekday],
                "at": f"{slot.starts:%H:%M}",
                "changed": change.changed,
                "outside_opening_hours": change.outside_hours,
            }
        )
        return EXIT_OK
    if adding:
        print(f"{'added' if change.changed else 'already there:'} {change.service.code} {label}")
        if change.outside_hours:
            print(
                f"  note: {label} (+{change.service.duration_minutes} min) is outside "
                f"{change.service.branch}'s opening hours that day"
            )
    else:
        print(f"{'removed' if change.changed else 'no such slot:'} {change.service.code} {label}")
    return EXIT_OK


async def slot_add(args: argparse.Namespace, settings: Settings) -> int:
    return await _slot_change(args, settings, adding=True)


async def slot_remove(args: argparse.Namespace, settings: Settings) -> int:
    return await _slot_change(args, settings, adding=False)


async def service_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_library(settings) as library:
        found = await service.overview(library, args.branch)
    if args.json:
        emit_json({"services": [service_json(item.service, item.slots) for item in found]})
        return EXIT_OK
    if not found:
        print("no appointment services (add one with `bibliobot appointment service add`)")
    for item in found:
        row = item.service
        print(
            f"{row.branch} {row.code}: {row.name_it} / {row.name_en} — {row.duration_minutes} min,"
            f" {row.capacity} per slot, notice {row.min_notice_hours} h, up to "
            f"{row.max_ahead_days} days ahead, cancel until {row.cancel_cutoff_hours} h before"
        )
        slots = ", ".join(f"{DAY_KEYS[s.weekday]} {s.starts:%H:%M}" for s in item.slots)
        print(f"  slots: {slots or 'none yet'}")
    return EXIT_OK


async def appointment_upcoming(args: argparse.Namespace, settings: Settings) -> int:
    at = now_or_at(args, settings)
    async with open_library(settings) as library:
        found = await service.booked(library, at, args.branch)
    zone = settings.library.zone
    if args.json:
        emit_json(
            {
                "appointments": [
                    {
                        "appointment_id": item.appointment.appointment_id,
                        "service": item.appointment.service.code,
                        "branch": item.appointment.service.branch,
                        "starts": item.appointment.starts_at.astimezone(zone).isoformat(),
                        "state": item.appointment.state,
                        "card": item.card,
                        "name": item.patron_name,
                    }
                    for item in found
                ]
            }
        )
        return EXIT_OK
    if not found:
        print("no upcoming appointments")
    for item in found:
        appointment = item.appointment
        local = appointment.starts_at.astimezone(zone)
        print(
            f"#A{appointment.appointment_id} {local:%Y-%m-%d %H:%M} {appointment.service.branch}"
            f" {appointment.service.code} {appointment.state}: {item.patron_name} ({item.card})"
        )
    return EXIT_OK


async def appointment_settings(args: argparse.Namespace, settings: Settings) -> int:
    async with open_library(settings) as library:
        if args.reminder_hours is not None:
            await service.set_reminder_hours(
                library, args.reminder_hours, datetime.now(UTC), by="cli"
            )
        async with library.store.snapshot() as conn:
            hours = await service.reminder_hours(conn)
    if args.json:
        emit_json({"reminder_hours": hours})
    else:
        print(f"reminder: {hours} hours before" if hours else "reminder: none")
    return EXIT_OK
