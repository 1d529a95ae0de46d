"""The reminder timing administrators own: offsets, cycle hours, quiet hours, maximum age.

The configuration file's ``[reminders]`` gives the defaults; what an administrator changes (in
the bot's ``/admin`` or with ``bibliobot settings reminders set``) is stored under
``reminders.timing`` as the changed keys only, so a key nobody touched still follows the file.
Cycles read the timing afresh at every run: a change takes effect at the next run, without a
restart.

Values are typed as text by people, so parsing and validation live here, once, for both the bot
and the command line; a wrong value is a :class:`TimingError` whose message is an English
msgid with named fields, translated where it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any, Literal, get_args

import aiosqlite

from bot.i18n import N_, Translator
from bot.reminders.quiet import QuietHours
from bot.services.context import Library
from bot.settings import RemindersSettings
from db import settings as settings_repo

SETTINGS_KEY = "reminders.timing"
CycleName = Literal["reminders", "overdue", "holds"]
CYCLES: tuple[CycleName, ...] = get_args(CycleName)
OVERDUE_LEVELS = ("first_day", "grace_end", "suspension", "exclusion")
MAX_OFFSET_DAYS = 30
MAX_AGE_DAYS = 90
MAX_HOLD_REMINDER_DAYS = 14

# What each cycle is called in a message to people (translated where it is shown).
CYCLE_NAMES: dict[CycleName, str] = {
    "reminders": N_("due-date reminders"),
    "overdue": N_("overdue notices"),
    "holds": N_("holds"),
}

# The keys people type, in the order ``show`` lists them.
KEYS = (
    "due_offsets",
    "overdue_levels",
    "hold_reminder_days",
    "reminders_hour",
    "overdue_hour",
    "holds_hour",
    "quiet_hours",
    "max_notice_age_days",
)


class TimingError(ValueError):
    """A value that cannot be stored: ``message`` is a msgid, ``fields`` fill it.

    ``usage`` is True for text that is not even of the right shape (the CLI's exit 2), False
    for a well-formed value the rules refuse (exit 1).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        usage: bool = False,
        translated: tuple[str, ...] = (),
        **fields: object,
    ):
        super().__init__(message.format(**fields))
        self.code = code
        self.message = message
        self.fields = fields
        self.usage = usage
        self.translated = translated  # fields whose values are msgids themselves (N_)

    @property
    def english(self) -> str:
        return self.message.format(**self.fields)

    def text(self, t: Translator) -> str:
        """The reason in ``t``'s language, its words (a cycle's name) translated too."""
        fields = {
            name: t.gettext(str(value)) if name in self.translated else value
            for name, value in self.fields.items()
        }
        return t.gettext(self.message, **fields)


@dataclass(frozen=True, slots=True)
class Timing:
    """The timing in force: every cycle reads one of these at the start of a run."""

    due_offsets_days: tuple[int, ...]  # days before the due date, most distant first
    overdue_levels: tuple[str, ...]
    hold_reminder_days: int
    cycle_hours: dict[CycleName, time]
    quiet: QuietHours
    max_notice_age_days: int
    overridden: frozenset[str] = field(default_factory=frozenset)  # keys set by administrators

    def cycle_hour(self, cycle: CycleName) -> time:
        return self.cycle_hours[cycle]

    def as_text(self) -> dict[str, str]:
        """Every key as people type it (``show``, the bot's screen)."""
        return {
            "due_offsets": ",".join(str(day) for day in self.due_offsets_days) or "none",
            "overdue_levels": ",".join(self.overdue_levels) or "none",
            "hold_reminder_days": str(self.hold_reminder_days),
            "reminders_hour": _hhmm(self.cycle_hours["reminders"]),
            "overdue_hour": _hhmm(self.cycle_hours["overdue"]),
            "holds_hour": _hhmm(self.cycle_hours["holds"]),
            "quiet_hours": (
                f"{_hhmm(self.quiet.start)}-{_hhmm(self.quiet.end)}"
                if self.quiet.enabled
                else "off"
            ),
            "max_notice_age_days": str(self.max_notice_age_days),
        }


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def defaults(config: RemindersSettings) -> Timing:
    """The configuration file's timing, before any administrator's change."""
    hours: dict[CycleName, time] = {
        name: config.cycle_hours.get(name, config.cycle_hour) for name in CYCLES
    }
    return Timing(
        due_offsets_days=tuple(config.due_offsets_days),
        overdue_levels=tuple(config.overdue_levels),
        hold_reminder_days=config.hold_reminder_days_before,
        cycle_hours=hours,
        quiet=QuietHours(config.quiet_hours_start, config.quiet_hours_end),
        max_notice_age_days=config.max_notice_age_days,
    )


def parse_value(key: str, text: str) -> Any:
    """The stored (JSON) form of ``text`` typed for ``key``; raises :class:`TimingError`."""
    text = text.strip()
    if key not in KEYS:
        raise TimingError(
            "unknown_setting",
            N_("There is no setting called {key}. The settings are: {keys}."),
            usage=True,
            key=key,
            keys=", ".join(KEYS),
        )
    if key == "due_offsets":
        return _offsets(text)
    if key == "overdue_levels":
        return _levels(text)
    if key in ("reminders_hour", "overdue_hour", "holds_hour"):
        return _hhmm(_time(text))
    if key == "quiet_hours":
        return _quiet(text)
    if key == "hold_reminder_days":
        return _days(text, 0, MAX_HOLD_REMINDER_DAYS)
    return _days(text, 1, MAX_AGE_DAYS)


def _offsets(text: str) -> list[int]:
    if text.lower() in ("", "none", "off"):
        return []
    parts = [part.strip() for part in text.replace(";", ",").split(",")]
    if not all(_digits(part) for part in parts):
        raise TimingError(
            "bad_offsets",
            N_("Write days before the due date as whole numbers separated by commas, e.g. 3,0."),
            usage=True,
        )
    days = sorted({int(part) for part in parts}, reverse=True)
    if days[0] > MAX_OFFSET_DAYS:
        raise TimingError(
            "offset_range",
            N_("Days before the due date go from 0 to {high}."),
            high=MAX_OFFSET_DAYS,
        )
    return days


def _levels(text: str) -> list[str]:
    if text.lower() in ("", "none", "off"):
        return []
    levels = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    for level in levels:
        if level not in OVERDUE_LEVELS:
            raise TimingError(
                "bad_level",
                N_("There is no overdue level called {level}. The levels are: {known}."),
                usage=True,
                level=level,
                known=", ".join(OVERDUE_LEVELS),
            )
    return [level for level in OVERDUE_LEVELS if level in levels]


def _time(text: str) -> time:
    hours, _, minutes = text.partition(":")
    if not (_digits(hours) and _digits(minutes) and len(minutes) == 2 and len(hours) <= 2):
        raise TimingError(
            "bad_time", N_("Write a time as hours and minutes, e.g. 09:00."), usage=True
        )
    if int(hours) > 23 or int(minutes) > 59:
        raise TimingError("bad_time", N_("Write a time as hours and minutes, e.g. 09:00."))
    return time(int(hours), int(minutes))


def _quiet(text: str) -> list[str]:
    if text.lower() in ("off", "none"):
        return ["00:00", "00:00"]
    start, dash, end = text.partition("-")
    if not dash:
        raise TimingError(
            "bad_quiet_hours",
            N_("Write quiet hours as start-end, e.g. 21:00-08:00, or off."),
            usage=True,
        )
    return [_hhmm(_time(start)), _hhmm(_time(end))]


def _digits(text: str) -> bool:
    """Whole-number text ``int`` reads: ASCII digits only ("²" is a digit to ``isdigit``)."""
    return text.isascii() and text.isdigit()


def _days(text: str, low: int, high: int) -> int:
    if not _digits(text):
        raise TimingError(
            "bad_days",
            N_("Write a whole number of days from {low} to {high}."),
            usage=True,
            low=low,
            high=high,
        )
    value = int(text)
    if not low <= value <= high:
        raise TimingError(
            "days_range",
            N_("Write a whole number of days from {low} to {high}."),
            low=low,
            high=high,
        )
    return value


def apply(base: Timing, stored: dict[str, Any]) -> Timing:
    """``base`` with the administrators' stored values on top; then :func:`check` the whole."""
    timing = base
    hours = dict(base.cycle_hours)
    for key, value in stored.items():
        if key == "due_offsets":
            timing = replace(timing, due_offsets_days=tuple(int(day) for day in value))
        elif key == "overdue_levels":
            timing = replace(timing, overdue_levels=tuple(str(level) for level in value))
        elif key == "hold_reminder_days":
            timing = replace(timing, hold_reminder_days=int(value))
        elif key in ("reminders_hour", "overdue_hour", "holds_hour"):
            hours[key.removesuffix("_hour")] = time.fromisoformat(str(value))  # type: ignore[index]
        elif key == "quiet_hours":
            start, end = (time.fromisoformat(str(part)) for part in value)
            timing = replace(timing, quiet=QuietHours(start, end))
        elif key == "max_notice_age_days":
            timing = replace(timing, max_notice_age_days=int(value))
    return replace(timing, cycle_hours=hours, overridden=frozenset(stored))


def check(timing: Timing) -> None:
    """Rules that bind several keys together: a cycle must not run inside the quiet hours
    (what it decides would wait for the morning anyway, and an hour in the night is a typo)."""
    for cycle in CYCLES:
        hour = timing.cycle_hours[cycle]
        if timing.quiet.contains(hour):
            raise TimingError(
                "hour_in_quiet_hours",
                N_(
                    "The cycle of the {cycle} would run at {hour}, inside the quiet hours "
                    "({start}-{end}), when nothing is sent. Choose another hour or change the "
                    "quiet hours."
                ),
                translated=("cycle",),
                cycle=CYCLE_NAMES[cycle],
                hour=_hhmm(hour),
                start=_hhmm(timing.quiet.start),
                end=_hhmm(timing.quiet.end),
            )


async def load(conn: aiosqlite.Connection, config: RemindersSettings) -> Timing:
    """The timing in force: the file's defaults and the administrators' changes.

    A stored value that no longer passes (written by an older version, or by hand) is ignored
    key by key rather than stopping every reminder: the file's default applies to it.
    """
    stored = await settings_repo.get(conn, SETTINGS_KEY)
    base = defaults(config)
    if not isinstance(stored, dict):
        return base
    readable: dict[str, Any] = {}
    for key, value in stored.items():
        try:
            apply(base, {key: value})
        except (ValueError, TypeError):
            continue
        readable[key] = value
    try:
        # The usual case: the values were stored together by :func:`change`, which checked
        # them together (quiet hours until 09:30 with every cycle at 10:00).
        whole = apply(base, readable)
        check(whole)
        return whole
    except TimingError:
        pass
    good: dict[str, Any] = {}
    for key, value in readable.items():
        try:
            candidate = apply(base, {**good, key: value})
            check(candidate)
        except (TimingError, ValueError, TypeError):
            continue
        good[key] = value
    return apply(base, good)


async def change(
    conn: aiosqlite.Connection,
    config: RemindersSettings,
    changes: dict[str, str],
    *,
    now: datetime,
    by: str,
) -> Timing:
    """Validate and store ``changes`` (key → typed text; ``default`` forgets the key).

    All or nothing: one wrong value raises :class:`TimingError` and nothing is stored. Call
    inside ``store.transaction()``.
    """
    stored = await settings_repo.get(conn, SETTINGS_KEY)
    current: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {}
    for key, text in changes.items():
        if key not in KEYS:
            parse_value(key, text)  # raises: there is no such setting
        if text.strip().lower() == "default":
            current.pop(key, None)
        else:
            current[key] = parse_value(key, text)
    timing = apply(defaults(config), current)
    check(timing)
    if current:
        await settings_repo.put(conn, SETTINGS_KEY, current, now, by)
    else:
        await settings_repo.delete(conn, SETTINGS_KEY)
    return timing


async def load_for(library: Library) -> Timing:
    """The timing in force for ``library`` (a consistent read of committed values)."""
    async with library.store.snapshot() as conn:
        return await load(conn, library.reminders)


async def change_for(
    library: Library, changes: dict[str, str], *, now: datetime, by: str
) -> Timing:
    """Validate and store ``changes`` in one transaction (see :func:`change`)."""
    async with library.store.transaction() as conn:
        return await change(conn, library.reminders, changes, now=now, by=by)
