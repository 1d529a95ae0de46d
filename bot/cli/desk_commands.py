"""The staff desk on the command line: patrons, loans, holds, payments (INTERFACE.md).

Every command that changes the store calls one service function (``bot.services``), which runs
in one transaction and decides by the library's regulation; this module only parses, prints and
turns a service's :class:`~bot.services.errors.Refusal` into the CLI's :class:`Refused` (exit 1,
``{"error": CODE, "message": TEXT}`` under ``--json``). Commands whose effect depends on the day
take ``--at ISO-DATETIME``: the desk records circulation done offline, and tests back-date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, NoReturn

from bot.circulation import (
    CalendarError,
    PatronCategory,
    PolicyError,
    RestrictionKind,
    format_euros,
    load_policy,
    parse_euros,
)
from bot.cli import calendar_commands
from bot.cli.calendar_commands import iso_date
from bot.cli.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Refused, emit_json, now_or_at
from bot.services import accounts, holds, loans, patrons
from bot.services.context import Library
from bot.services.errors import Refusal
from bot.services.holds import HoldStatus
from bot.services.loans import CheckinResult, LoanReceipt, RenewalOutcome
from bot.services.patrons import PatronSummary
from bot.services.routing import Routed
from bot.settings import Settings
from db.store import Store

Subparsers = Any  # argparse's _SubParsersAction is private

HOLD_ACTIONS = ("cancel", "suspend", "resume")
LANGUAGES = ("it", "en")

_HOLD_USAGE = """\
bibliobot hold CARD RECORD_ID --pickup CODE       place a hold (a request, if on the shelf)
       bibliobot hold cancel CARD HOLD_ID
       bibliobot hold suspend CARD HOLD_ID --until DATE
       bibliobot hold resume CARD HOLD_ID"""


# shared -----------------------------------------------------------------------------------


@asynccontextmanager
async def open_library(settings: Settings) -> AsyncIterator[Library]:
    """The store and the regulation for one command; a service's refusal becomes the CLI's.

    A policy file that cannot be read is bad configuration (exit 2, one line), like every
    other wrong setting; a calendar that cannot answer (a branch never open) is a refusal.
    """
    try:
        load_policy(settings.library.policy)  # before the store: a bad file creates nothing
    except PolicyError as error:
        problem = str(error).removeprefix("policy error: ")
        print(f"config error: [library] policy: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from error
    try:
        async with await Store.open(settings.database.path) as store:
            yield Library.from_settings(store, settings)
    except Refusal as refusal:
        raise Refused(refusal.code, refusal.message) from refusal
    except CalendarError as error:
        raise Refused("no_opening_hours", f"the library calendar cannot answer: {error}") from error


def euros(text: str) -> int:
    """An amount typed at the desk ("0.80", "0,80", "10") as cents; malformed is bad usage."""
    try:
        return parse_euros(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _local(instant: datetime, settings: Settings) -> datetime:
    return instant.astimezone(settings.library.zone)


def _add_common(parser: argparse.ArgumentParser) -> None:
    """``--at`` and ``--json``: every desk command's effect depends on the day it acts at."""
    parser.add_argument(
        "--at",
        metavar="ISO-DATETIME",
        help="act as at this instant (back-dating; library time unless an offset is given)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


# registration -----------------------------------------------------------------------------


def register(commands: Subparsers) -> None:
    """The desk's commands, and ``closure`` (the calendar they count days by)."""
    _register_patron(commands)
    calendar_commands.register(commands)

    checkout = commands.add_parser("checkout", help="lend a copy to a patron")
    checkout.add_argument("card", metavar="CARD")
    checkout.add_argument("barcode", metavar="BARCODE")
    checkout.add_argument(
        "--branch", metavar="CODE", help="the lending branch (default: where the copy is)"
    )
    checkout.add_argument(
        "--short", action="store_true", help="a short loan of normally excluded material (G4)"
    )
    _add_common(checkout)
    checkout.set_defaults(handler=checkout_command)

    checkin = commands.add_parser("checkin", help="a copy comes back (at any member library)")
    checkin.add_argument("barcode", metavar="BARCODE")
    checkin.add_argument(
        "--branch", metavar="CODE", help="where it was returned (default: the copy's home)"
    )
    _add_common(checkin)
    checkin.set_defaults(handler=checkin_command)

    renew = commands.add_parser(
        "renew",
        help="renew one loan, or all of a patron's",
        description="Renew a patron's loan of BARCODE, or with --all every loan the rules "
        "allow. With --all the exit status is 1 only when every loan was refused (each with "
        "its reason); a card with no loans renews nothing and exits 0.",
    )
    renew.add_argument("card", metavar="CARD")
    renew.add_argument("barcode", nargs="?", metavar="BARCODE")
    renew.add_argument("--all", action="store_true", help="renew every loan of the card")
    _add_common(renew)
    renew.set_defaults(handler=renew_command, usage_error=renew.error)

    hold = commands.add_parser(
        "hold",
        usage=_HOLD_USAGE,
        help="place, cancel, suspend or resume a hold",
        description="Place a hold on a title for pickup at any member library (C1), or act "
        "on one: when the first word is cancel, suspend or resume it is the action, otherwise "
        "it is the card.",
    )
    hold.add_argument("words", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    hold.add_argument("--pickup", metavar="CODE", help="the pickup branch (placing a hold)")
    hold.add_argument(
        "--until", type=iso_date, metavar="DATE", help="suspend until this day (suspend)"
    )
    _add_common(hold)
    hold.set_defaults(handler=hold_command, usage_error=hold.error)

    pay = commands.add_parser(
        "pay",
        help="record a payment of fines",
        description="Record a payment in euros (0.80, 0,80 or 10). A malformed amount is bad "
        "usage (exit 2); zero, or more than the card owes, is refused (exit 1).",
    )
    pay.add_argument("card", metavar="CARD")
    pay.add_argument("amount", type=euros, metavar="AMOUNT")
    _add_common(pay)
    pay.set_defaults(handler=pay_command)

    lost = commands.add_parser(
        "lost", help="a copy on loan is lost or ruined: end the loan, record the replacement"
    )
    lost.add_argument("barcode", metavar="BARCODE")
    lost.add_argument(
        "--out-of-print", action="store_true", help="the edition cannot be bought again"
    )
    lost.add_argument(
        "--cover-price", type=euros, metavar="EUROS", help="the cover price (out of print, C9)"
    )
    _add_common(lost)
    lost.set_defaults(handler=lost_command)

    transit = commands.add_parser("transit", help="copies travelling between libraries (N1)")
    transit_actions = transit.add_subparsers(dest="transit_command", metavar="ACTION")
    transit_actions.required = True
    receive = transit_actions.add_parser(
        "receive", help="copies due by today are at their destination: ready, or on the shelf"
    )
    _add_common(receive)
    receive.set_defaults(handler=transit_receive)

    holds_group = commands.add_parser("holds", help="the hold shelf")
    holds_actions = holds_group.add_subparsers(dest="holds_command", metavar="ACTION")
    holds_actions.required = True
    expire = holds_actions.add_parser(
        "expire", help="release holds not collected in time to the next in the queue"
    )
    _add_common(expire)
    expire.set_defaults(handler=holds_expire)


def _register_patron(commands: Subparsers) -> None:
    patron = commands.add_parser("patron", help="patrons and their accounts")
    actions = patron.add_subparsers(dest="patron_command", metavar="ACTION")
    actions.required = True

    add = actions.add_parser("add", help="register a patron (one card for every branch, C1)")
    add.add_argument("--card", required=True)
    add.add_argument("--name", required=True)
    add.add_argument(
        "--category", required=True, choices=[category.value for category in PatronCategory]
    )
    add.add_argument("--branch", required=True, metavar="CODE", help="the home branch")
    add.add_argument(
        "--pin", help="4-8 digits for the bot's login; '-' reads it from standard input"
    )
    add.add_argument("--registered", type=iso_date, metavar="DATE", help="default: today")
    add.add_argument("--language", choices=LANGUAGES, default="it")
    _add_common(add)
    add.set_defaults(handler=patron_add)

    show = actions.add_parser("show", help="a patron's account: status, loans, holds, fines")
    show.add_argument("card", metavar="CARD")
    _add_common(show)
    show.set_defaults(handler=patron_show)

    link = actions.add_parser(
        "link-code", help="a one-time code that links the patron's Telegram account"
    )
    link.add_argument("card", metavar="CARD")
    _add_common(link)
    link.set_defaults(handler=patron_link_code)

    lift = actions.add_parser(
        "lift",
        help="staff end a restriction (G16's exclusion, a short-loan ban)",
        description="End one of the patron's restrictions, named as `patron show` lists it. "
        "A restriction whose cause is still there opens again at once.",
    )
    lift.add_argument("card", metavar="CARD")
    lift.add_argument("--kind", required=True, choices=[kind.value for kind in RestrictionKind])
    lift.add_argument("--rule", required=True, help="the rule ID, e.g. G16")
    _add_common(lift)
    lift.set_defaults(handler=patron_lift)


# patron -----------------------------------------------------------------------------------


async def patron_add(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    pin = args.pin
    if pin == "-":
        pin = sys.stdin.readline().strip()
    async with open_library(settings) as library:
        patron = await patrons.add_patron(
            library,
            card=args.card,
            name=args.name,
            category=PatronCategory(args.category),
            branch=args.branch,
            now=now,
            pin=pin,
            registered_on=args.registered,
            language=args.language,
        )
    if args.json:
        emit_json(
            {
                "card": patron.card,
                "name": patron.name,
                "category": patron.category.value,
                "home_branch": patron.home_branch,
                "registered_on": patron.registered_on.isoformat(),
                "language": patron.language,
                "pin_set": patron.pin_hash is not None,
            }
        )
    else:
        print(
            f"registered card {patron.card}: {patron.name} ({patron.category.value}, home "
            f"branch {patron.home_branch}, since {patron.registered_on})"
            + ("" if patron.pin_hash else "; no PIN: give a link code to use the bot")
        )
    return EXIT_OK


async def patron_show(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    async with open_library(settings) as library:
        account = await patrons.summary(library, card=args.card, now=now)
    if args.json:
        emit_json(account.as_json())
    else:
        print("\n".join(account_lines(account)))
    return EXIT_OK


_LIFTED_BY = {
    "return": "until the late items come back",
    "payment": "until the fines are paid",
    "regular": "until the position is regular (nothing late, nothing owed)",
    "staff": "until staff lift it",
}


def account_lines(account: PatronSummary) -> list[str]:
    """The account page staff read at the desk: what the patron may do, and why not."""
    lines = [
        f"card {account.card}: {account.name} ({account.category}, home branch "
        f"{account.home_branch}, language {account.language})",
        f"status: {account.status}",
    ]
    for r in account.restrictions:
        how = _LIFTED_BY.get(r.lifted_by, f"until {r.lifted_by}")
        line = f"  {r.kind} (rule {r.rule}): {r.reason.replace('_', ' ')}, {how}"
        if r.lifted_by == "staff":
            line += f" (`bibliobot patron lift {account.card} --kind {r.kind} --rule {r.rule}`)"
        lines.append(line)
    lines.append(f"loans: {len(account.loans)}" if account.loans else "loans: none")
    for loan in account.loans:
        late = f", OVERDUE {loan.overdue_days} days" if loan.overdue_days else ""
        short = ", short loan" if loan.short_loan else ""
        lines.append(
            f"  {loan.barcode}  {loan.title}: due {loan.due_on}, renewals {loan.renewals}"
            f"{short}{late}"
        )
    lines.append(f"holds: {len(account.holds)}" if account.holds else "holds: none")
    lines.extend(f"  {_hold_line(hold)}" for hold in account.holds)
    lines.append(f"fines owed: € {format_euros(account.fines_owed_cents)}")
    if account.fines_accruing_cents:
        lines.append(
            f"fines accruing on late loans: € {format_euros(account.fines_accruing_cents)} "
            "(charged when they come back)"
        )
    lines.append(
        "telegram: linked"
        if account.telegram_linked
        else f"telegram: not linked (`bibliobot patron link-code {account.card}`)"
    )
    return lines


def _hold_line(hold: HoldStatus) -> str:
    head = f"hold {hold.hold_id}: {hold.title} [record {hold.record_id}]"
    if hold.state == "ready":
        return f"{head}: READY at {hold.pickup}, collect by {hold.expires_on}"
    if hold.state == "in_transit":
        when = f", ready on {hold.ready_on}" if hold.ready_on else ""
        return f"{head}: in transit to {hold.pickup}{when}"
    where = f"position {hold.position}" if hold.position is not None else "no position"
    if hold.state == "suspended":
        return f"{head}: suspended until {hold.suspended_until}, {where}, pickup {hold.pickup}"
    return f"{head}: {hold.state}, {where}, pickup {hold.pickup}"


async def patron_link_code(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    async with open_library(settings) as library:
        code, expires = await patrons.link_code(library, card=args.card, now=now)
    expires_local = _local(expires, settings)
    if args.json:
        emit_json(
            {
                "card": args.card.strip(),
                "code": code,
                "start": f"link-{code}",
                "expires_at": expires_local.isoformat(timespec="seconds"),
            }
        )
    else:
        print(f"link code for card {args.card.strip()}: {code}")
        print(f"the patron sends the bot: /start link-{code}")
        print(
            f"valid until {expires_local:%Y-%m-%d %H:%M} ({settings.library.timezone}), once; "
            "a new code replaces it"
        )
    return EXIT_OK


async def patron_lift(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    kind = RestrictionKind(args.kind)
    rule = args.rule.strip()
    async with open_library(settings) as library:
        standing = await accounts.lift_restriction(
            library, card=args.card, key=(kind, rule), now=now, by="desk"
        )
    reopened = any(r.key == (kind, rule) for r in standing.restrictions)
    if args.json:
        emit_json(
            {
                "card": args.card.strip(),
                "lifted": {"kind": kind.value, "rule": rule},
                "reopened": reopened,
                "status": standing.status.value,
                "restrictions": [
                    {"kind": r.kind.value, "rule": r.rule, "reason": r.reason.value}
                    for r in standing.restrictions
                ],
            }
        )
    else:
        print(f"lifted {kind.value} {rule} for card {args.card.strip()}")
        if reopened:
            print("  it opened again at once: its cause is still there")
        print(f"status now: {standing.status.value}")
    return EXIT_OK


# loans ------------------------------------------------------------------------------------


def _receipt_line(verb: str, receipt: LoanReceipt, settings: Settings) -> str:
    if receipt.short_loan_until is not None:
        due = f"due back {_local(receipt.short_loan_until, settings):%Y-%m-%d %H:%M} (short loan)"
    else:
        due = f"due {receipt.due_on}"
        if receipt.moved_from is not None:
            due += f" (moved from {receipt.moved_from}, a closed day)"
    renewals = f", renewal {receipt.renewals}" if receipt.renewals else ""
    return f"{verb} {receipt.barcode} {receipt.title}: {due}{renewals}; receipt {receipt.receipt}"


async def checkout_command(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    async with open_library(settings) as library:
        receipt = await loans.checkout(
            library,
            card=args.card,
            barcode=args.barcode,
            now=now,
            branch=args.branch,
            short_loan=args.short,
        )
    if args.json:
        emit_json(receipt.as_json())
    else:
        print(_receipt_line(f"lent to {args.card.strip()}:", receipt, settings))
    return EXIT_OK


_ROUTES = {
    "reshelve": "back on the shelf",
    "return_home": "send it home",
    "hold_ready": "put it on the hold shelf",
    "hold_in_transit": "send it for a hold",
}


def _checkin_lines(result: CheckinResult) -> list[str]:
    whose = f" from card {result.card}" if result.card else ""
    lines = [f"returned {result.barcode} {result.title}{whose}"]
    if result.fine_cents:
        lines.append(f"  fine charged: € {format_euros(result.fine_cents)}")
    action = _ROUTES.get(result.action, result.action)
    if result.hold_trapped is not None:
        action += f": hold {result.hold_trapped}"
    if result.in_transit_to is not None:
        action += f", in transit to {result.in_transit_to}"
    lines.append(f"  → {action}")
    return lines


async def checkin_command(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    async with open_library(settings) as library:
        result = await loans.checkin(library, barcode=args.barcode, now=now, branch=args.branch)
    if args.json:
        emit_json(result.as_json())
    else:
        print("\n".join(_checkin_lines(result)))
    return EXIT_OK


async def renew_command(args: argparse.Namespace, settings: Settings) -> int:
    usage_error: Callable[[str], NoReturn] = args.usage_error
    if args.all == (args.barcode is not None):
        usage_error("give either BARCODE or --all")
    now = now_or_at(args, settings)
    if not args.all:
        async with open_library(settings) as library:
            receipt = await loans.renew(library, card=args.card, barcode=args.barcode, now=now)
        if args.json:
            emit_json(receipt.as_json())
        else:
            print(_receipt_line("renewed", receipt, settings))
        return EXIT_OK
    async with open_library(settings) as library:
        outcomes = await loans.renew_all(library, card=args.card, now=now)
    return _report_renewals(args, outcomes, settings)


def _report_renewals(
    args: argparse.Namespace, outcomes: list[RenewalOutcome], settings: Settings
) -> int:
    """``renew --all``: exit 1 only when there were loans and every one was refused."""
    renewed = [outcome.receipt for outcome in outcomes if outcome.receipt is not None]
    refused = [(outcome, outcome.refusal) for outcome in outcomes if outcome.refusal is not None]
    payload: dict[str, object] = {
        "renewed": [receipt.as_json() for receipt in renewed],
        "refused": [
            {"barcode": outcome.barcode, "error": refusal.code, "message": refusal.message}
            for outcome, refusal in refused
        ],
    }
    failed = bool(refused) and not renewed
    if failed:
        codes = {refusal.code for _, refusal in refused}
        payload = {
            "error": codes.pop() if len(codes) == 1 else "renewal_refused",
            "message": f"no loan of card {args.card.strip()} could be renewed",
            **payload,
        }
    if args.json:
        emit_json(payload)
    elif not outcomes:
        print(f"card {args.card.strip()} has no loans to renew")
    else:
        for receipt in renewed:
            print(_receipt_line("renewed", receipt, settings))
        for outcome, refusal in refused:
            print(f"not renewed {outcome.barcode} {outcome.title}: {refusal.message}")
        if failed:
            print(f"refused: {payload['message']}", file=sys.stderr)
    return EXIT_REFUSED if failed else EXIT_OK


# holds ------------------------------------------------------------------------------------


def _int_argument(text: str, name: str, usage_error: Callable[[str], NoReturn]) -> int:
    try:
        value = int(text)
    except ValueError:
        usage_error(f"{name} must be a number, not {text!r}")
    if value <= 0:
        usage_error(f"{name} must be a positive number, not {text!r}")
    return value


async def hold_command(args: argparse.Namespace, settings: Settings) -> int:
    """``hold CARD RECORD_ID --pickup CODE`` or ``hold cancel|suspend|resume CARD HOLD_ID``.

    One command with the action as an optional first word keeps INTERFACE.md's ``hold CARD
    RECORD_ID`` while the other actions read naturally (a card is never one of those words).
    """
    usage_error: Callable[[str], NoReturn] = args.usage_error
    words: list[str] = args.words
    action = words[0] if words[0] in HOLD_ACTIONS else "place"
    operands = words[1:] if action != "place" else words
    if len(operands) != 2:
        expected = "CARD RECORD_ID" if action == "place" else "CARD HOLD_ID"
        usage_error(f"hold {'' if action == 'place' else action + ' '}takes {expected}")
    card = operands[0]
    number = _int_argument(
        operands[1], "RECORD_ID" if action == "place" else "HOLD_ID", usage_error
    )
    if (action == "place") != (args.pickup is not None):
        usage_error("--pickup CODE is for placing a hold, and placing one needs it")
    if (action == "suspend") != (args.until is not None):
        usage_error("--until DATE is for suspend, and suspend needs it")
    now = now_or_at(args, settings)
    async with open_library(settings) as library:
        if action == "place":
            status = await holds.place_hold(
                library, card=card, record_id=number, pickup=args.pickup, now=now
            )
        elif action == "suspend":
            status = await holds.suspend_hold(
                library, card=card, hold_id=number, until=args.until, now=now
            )
        elif action == "resume":
            status = await holds.resume_hold(library, card=card, hold_id=number, now=now)
        else:
            routed = await holds.cancel_hold(library, card=card, hold_id=number, now=now)
            return _report_cancel(args, number, routed)
    if args.json:
        emit_json(status.as_json())
    else:
        verb = {"place": "placed", "suspend": "suspended", "resume": "resumed"}[action]
        print(f"{verb} {_hold_line(status)}")
    return EXIT_OK


def routed_json(routed: Routed) -> dict[str, object]:
    return {
        "barcode": routed.barcode,
        "action": routed.action,
        "hold_id": routed.hold_id,
        "in_transit_to": routed.in_transit_to,
        "arrives_on": routed.arrives_on.isoformat() if routed.arrives_on else None,
        "ready_on": routed.ready_on.isoformat() if routed.ready_on else None,
        "expires": routed.expires_on.isoformat() if routed.expires_on else None,
    }


def _report_cancel(args: argparse.Namespace, hold_id: int, routed: Routed | None) -> int:
    if args.json:
        emit_json(
            {
                "hold_id": hold_id,
                "state": "cancelled",
                "copy": routed_json(routed) if routed else None,
            }
        )
    else:
        print(f"cancelled hold {hold_id}")
        if routed is not None:
            target = f" {routed.hold_id}" if routed.hold_id is not None else ""
            print(f"  the copy it kept: {_ROUTES.get(routed.action, routed.action)}{target}")
    return EXIT_OK


async def transit_receive(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    async with open_library(settings) as library:
        arrived = await holds.receive_transits(library, now=now)
    if args.json:
        emit_json(
            {
                "at": _local(now, settings).isoformat(timespec="seconds"),
                "arrived": [routed_json(routed) for routed in arrived],
            }
        )
    else:
        print(f"{len(arrived)} copies arrived")
        for routed in arrived:
            hold = f" {routed.hold_id}" if routed.hold_id is not None else ""
            print(f"  {routed.barcode}: {_ROUTES.get(routed.action, routed.action)}{hold}")
    return EXIT_OK


async def holds_expire(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    async with open_library(settings) as library:
        expired = await holds.expire_pickups(library, now=now)
    if args.json:
        emit_json(
            {
                "at": _local(now, settings).isoformat(timespec="seconds"),
                "expired": [
                    {
                        "hold_id": expiry.hold_id,
                        "record_id": expiry.record_id,
                        "title": expiry.title,
                        "next_hold_id": expiry.next_hold_id,
                        "next_action": expiry.next_action,
                    }
                    for expiry in expired
                ],
            }
        )
    else:
        print(f"{len(expired)} holds expired")
        for expiry in expired:
            then = _ROUTES.get(expiry.next_action or "", "copy still travelling")
            if expiry.next_hold_id is not None:
                then += f": hold {expiry.next_hold_id}"
            print(f"  hold {expiry.hold_id} {expiry.title}: {then}")
    return EXIT_OK


# money ------------------------------------------------------------------------------------


async def pay_command(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    async with open_library(settings) as library:
        payment = await accounts.pay(library, card=args.card, amount_cents=args.amount, now=now)
    if args.json:
        emit_json(payment.as_json())
    else:
        print(
            f"paid € {format_euros(payment.paid_cents)} on card {payment.card}; still owed "
            f"€ {format_euros(payment.owed_cents)}; status {payment.status}"
        )
    return EXIT_OK


async def lost_command(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    async with open_library(settings) as library:
        method, charged = await loans.declare_lost(
            library,
            barcode=args.barcode,
            now=now,
            in_print=not args.out_of_print,
            cover_price_cents=args.cover_price,
        )
    if args.json:
        emit_json(
            {
                "barcode": args.barcode.strip(),
                "method": method,
                "charged": format_euros(charged) if charged else None,
            }
        )
    else:
        money = f"; charged € {format_euros(charged)}" if charged else ""
        print(f"{args.barcode.strip()} is lost: replacement by {method.replace('_', ' ')}{money}")
    return EXIT_OK
