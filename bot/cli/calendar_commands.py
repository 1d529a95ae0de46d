"""``bibliobot branch hours`` and ``bibliobot closure add``: the library calendar at the desk.

Circulation cannot run before the calendar is set: due dates move off closed days (G11) and
pickup windows count opening days (G13), so a branch without opening hours refuses every loan.
Administrators type the week the way it is printed on the library's door::

    bibliobot branch hours BRU "lun-ven 09:00-12:30, 14:30-19:00; sab 09:00-12:30"

The grammar of that weekly spec is :data:`HOURS_GRAMMAR` (also in the command's help).
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time
from itertools import pairwise
from typing import Any

from bot.circulation import BranchSchedule
from bot.cli.common import EXIT_OK, Refused, emit_json
from bot.settings import Settings
from db import calendar as calendar_repo
from db import circulation as circulation_repo
from db.store import Store

Subparsers = Any  # argparse's _SubParsersAction is private

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ITALIAN = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")
_FULL_NAMES = (
    ("monday", "lunedi"),
    ("tuesday", "martedi"),
    ("wednesday", "mercoledi"),
    ("thursday", "giovedi"),
    ("friday", "venerdi"),
    ("saturday", "sabato"),
    ("sunday", "domenica"),
)
DAY_NAMES: dict[str, int] = {
    **{name: day for day, name in enumerate(DAY_KEYS)},
    **{name: day for day, name in enumerate(_ITALIAN)},
    **{name: day for day, names in enumerate(_FULL_NAMES) for name in names},
}
CLOSED_WORDS = frozenset({"closed", "chiuso"})
_TIME = re.compile(r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?$")
_DAYS_HELP = "mon tue wed thu fri sat sun, or lun mar mer gio ven sab dom"

Week = list[tuple[int, time, time]]

HOURS_GRAMMAR = """\
SPEC, the week as printed on the library's door:

  SPEC      := PART ( ";" PART )*               newlines count as ";"
  PART      := DAYS ( INTERVALS | "closed" | "chiuso" )
  DAYS      := RANGE ( "," RANGE )* [":"]
  RANGE     := DAY | DAY "-" DAY                wraps round the week: "sat-mon"
  DAY       := mon tue wed thu fri sat sun | lun mar mer gio ven sab dom
               (any case; full names such as "monday" or "lunedì" too)
  INTERVALS := INTERVAL ( [","] INTERVAL )*
  INTERVAL  := TIME "-" TIME                    opening < closing
  TIME      := H | HH | H:MM | HH:MM | H.MM     00:00 .. 23:59

Days the spec does not name are closed. A day named in several parts gets the intervals of
all of them ("lun-sab 9-12.30; lun-ven 14.30-19" is the usual Italian week); overlapping
intervals, a day both closed and open, and a week never open are refused, naming the part.
"""


class HoursSpecError(ValueError):
    """A weekly spec that cannot be read; ``part`` is the piece as the user typed it."""

    def __init__(self, part: str, problem: str) -> None:
        super().__init__(f"bad opening hours in {part!r}: {problem}")
        self.part = part
        self.problem = problem


def _fold(word: str) -> str:
    """Lower case without accents, so "Lunedì", "lunedi" and "LUNEDÌ" are one day."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _day(word: str, part: str) -> int:
    day = DAY_NAMES.get(_fold(word))
    if day is None:
        raise HoursSpecError(part, f"{word!r} is not a day ({_DAYS_HELP})")
    return day


def _days(token: str, part: str) -> list[int]:
    days: list[int] = []
    for piece in token.rstrip(":").split(","):
        if not piece:
            raise HoursSpecError(part, f"an empty day in {token!r}")
        first, dash, last = piece.partition("-")
        if not dash:
            days.append(_day(first, part))
            continue
        start, end = _day(first, part), _day(last, part)
        span = (end - start) % 7
        days.extend((start + offset) % 7 for offset in range(span + 1))
    return days


def _time(text: str, part: str) -> time:
    match = _TIME.match(text)
    if match is None:
        raise HoursSpecError(part, f"{text!r} is not a time (e.g. 9, 09:00, 14.30)")
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    if hour > 23 or minute > 59:
        raise HoursSpecError(part, f"{text!r} is not a time of day (00:00 to 23:59)")
    return time(hour, minute)


def _interval(token: str, part: str) -> tuple[time, time]:
    opens, dash, closes = token.partition("-")
    if not dash or not opens or not closes:
        raise HoursSpecError(part, f"{token!r} is not an interval like 09:00-12:30")
    start, end = _time(opens, part), _time(closes, part)
    if start >= end:
        raise HoursSpecError(part, f"{token!r} closes before it opens")
    return start, end


def parse_week(spec: str) -> Week:
    """A weekly spec (the module's grammar) as ``(weekday, opens, closes)`` rows, Monday = 0."""
    intervals: dict[int, list[tuple[time, time, str]]] = {day: [] for day in range(7)}
    closed: dict[int, str] = {}
    for raw in re.split(r"[;\n]", spec):
        part = raw.strip()
        if not part:
            continue
        compact = re.sub(r"\s*([-,])\s*", r"\1", part)
        days_token, *rest_list = re.split(r"\s+", compact, maxsplit=1)
        rest = rest_list[0] if rest_list else ""
        days = _days(days_token, part)
        tokens = [token for token in re.split(r"[,\s]+", rest) if token]
        if not tokens:
            raise HoursSpecError(part, "give opening hours (09:00-12:30) or 'closed'")
        if len(tokens) == 1 and _fold(tokens[0]) in CLOSED_WORDS:
            for day in days:
                closed[day] = part
            continue
        times = [_interval(token, part) for token in tokens]
        for day in days:
            intervals[day].extend((opens, closes, part) for opens, closes in times)
    week: Week = []
    for day in range(7):
        ordered = sorted(intervals[day])
        if ordered and day in closed:
            raise HoursSpecError(
                closed[day], f"{DAY_KEYS[day]} is closed here but open in {ordered[0][2]!r}"
            )
        for (_, closes, first), (opens, _, second) in pairwise(ordered):
            if opens < closes:
                where = repr(first) if first == second else f"{first!r} and {second!r}"
                raise HoursSpecError(second, f"{DAY_KEYS[day]}: intervals overlap in {where}")
        week.extend((day, opens, closes) for opens, closes, _ in ordered)
    if not week:
        raise HoursSpecError(spec.strip(), "the branch would never be open")
    return week


def saint_day(text: str) -> str | None:
    """``--saint-day``: ``MM-DD`` (the town's patron saint), or ``none`` to clear it."""
    if text.strip().lower() in {"none", "-"}:
        return None
    match = re.fullmatch(r"(\d{2})-(\d{2})", text.strip())
    try:
        if match is None:
            raise ValueError(text)
        date(2000, int(match.group(1)), int(match.group(2)))  # 2000 accepts 02-29
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a day of the year as MM-DD (e.g. 08-10), or 'none'"
        ) from exc
    return text.strip()


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


# registration -----------------------------------------------------------------------------


def add_branch_actions(branch_actions: Subparsers) -> None:
    """``branch hours``: an action of the ``branch`` group that ``store_commands`` owns."""
    hours = branch_actions.add_parser(
        "hours",
        help="show or replace a branch's weekly opening hours and patron saint day",
        description="Replace a branch's weekly opening hours (due dates move off closed days,\n"
        "G11; pickup days count opening days, G13), set its town's patron saint day, or\n"
        "without SPEC and --saint-day show them.",
        epilog=HOURS_GRAMMAR,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hours.add_argument("code", metavar="CODE")
    hours.add_argument(
        "spec",
        nargs="*",
        metavar="SPEC",
        help='the week, e.g. "mon-fri 09:00-12:30,14:30-19:00; sat 09:00-12:30" '
        "(replaces the branch's hours; without SPEC and --saint-day: show them)",
    )
    hours.add_argument(
        "--saint-day",
        type=saint_day,
        metavar="MM-DD",
        default=argparse.SUPPRESS,
        help="the town's patron saint day, closed every year ('none' clears it)",
    )
    hours.add_argument("--json", action="store_true")
    hours.set_defaults(handler=branch_hours)


def register(commands: Subparsers) -> None:
    closure = commands.add_parser("closure", help="days the libraries are closed")
    actions = closure.add_subparsers(dest="closure_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="close one branch, or the whole network, from FIRST to LAST (inclusive)",
        description="Close a branch (or, without --branch, every branch) for a day or a "
        "period: due dates falling in it move to the next opening day (G11) and it does not "
        "count as an opening day (G13). Loans lent before keep the due date they were given.",
    )
    add.add_argument("first", type=iso_date, metavar="FIRST")
    add.add_argument("last", type=iso_date, nargs="?", metavar="LAST", help="default FIRST")
    add.add_argument("--branch", metavar="CODE", help="default: the whole network")
    add.add_argument("--reason", metavar="TEXT")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=closure_add)


# handlers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BranchHours:
    code: str
    schedule: BranchSchedule

    def as_json(self) -> dict[str, object]:
        saint = self.schedule.patron_saint_day
        return {
            "code": self.code,
            "week": {
                DAY_KEYS[day]: [
                    f"{i.opens:%H:%M}-{i.closes:%H:%M}" for i in self.schedule.week[day]
                ]
                for day in range(7)
            },
            "patron_saint_day": f"{saint[0]:02d}-{saint[1]:02d}" if saint else None,
        }

    def lines(self) -> list[str]:
        rows = [f"{self.code} opening hours:"]
        for day, key in enumerate(DAY_KEYS):
            hours = ", ".join(f"{i.opens:%H:%M}-{i.closes:%H:%M}" for i in self.schedule.week[day])
            rows.append(f"  {key}  {hours or 'closed'}")
        saint = self.as_json()["patron_saint_day"]
        rows.append(f"  patron saint day: {saint or 'none'}")
        return rows


async def branch_hours(args: argparse.Namespace, settings: Settings) -> int:
    spec = " ".join(args.spec).strip()
    changes_saint = hasattr(args, "saint_day")
    week = None
    if spec:
        try:
            week = parse_week(spec)
        except HoursSpecError as error:
            raise Refused("bad_hours", str(error)) from error
    async with await Store.open(settings.database.path) as store, store.transaction() as conn:
        branch_id = await circulation_repo.branch_id(conn, args.code)
        if branch_id is None:
            raise Refused(
                "unknown_branch",
                f"no branch has code {args.code!r} (add it with `bibliobot branch add`)",
            )
        if week is not None:
            await calendar_repo.set_hours(conn, branch_id, week)
        if changes_saint:
            await calendar_repo.set_patron_saint_day(conn, branch_id, args.saint_day)
        calendar = await calendar_repo.load_calendar(conn, settings.library.zone)
        shown = BranchHours(args.code, calendar.schedule(args.code))
    if args.json:
        emit_json(shown.as_json())
    else:
        if week is not None or changes_saint:
            print(f"updated {args.code}")
        print("\n".join(shown.lines()))
        if not any(shown.schedule.week):
            print(f"  (never open: set the week with `bibliobot branch hours {args.code} SPEC`)")
    return EXIT_OK


async def closure_add(args: argparse.Namespace, settings: Settings) -> int:
    first: date = args.first
    last: date = args.last or first
    if last < first:
        raise Refused("bad_dates", f"the closure ends ({last}) before it starts ({first})")
    reason = " ".join(args.reason.split()) if args.reason else None
    async with await Store.open(settings.database.path) as store, store.transaction() as conn:
        branch_id = None
        if args.branch is not None:
            branch_id = await circulation_repo.branch_id(conn, args.branch)
            if branch_id is None:
                raise Refused("unknown_branch", f"no branch has code {args.branch!r}")
        closure_id = await calendar_repo.add_closure(conn, branch_id, first, last, reason)
    if args.json:
        emit_json(
            {
                "closure_id": closure_id,
                "branch": args.branch,
                "first_on": first.isoformat(),
                "last_on": last.isoformat(),
                "reason": reason,
            }
        )
    else:
        where = f"branch {args.branch}" if args.branch else "every branch"
        when = f"on {first}" if first == last else f"from {first} to {last}"
        print(f"closed {where} {when}" + (f" ({reason})" if reason else ""))
    return EXIT_OK
