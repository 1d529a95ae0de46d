"""The staff desk on the command line, as a librarian uses it (INTERFACE.md "Command line").

The real console entry runs in a subprocess against a fresh SQLite file, so exit statuses,
the JSON shapes scripts rely on and the absence of tracebacks are checked end to end. Dates are
back-dated with ``--at`` (library time, Europe/Rome), which is how the desk records offline
circulation and how these tests travel through a loan's life.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout
from datetime import time
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.cli.calendar_commands import HoursSpecError, parse_week
from tests.conftest import BNCF

BRU_WEEK = "lun-sab 9-12.30; lun-ven 14.30-19"
COL_WEEK = "mon-fri 09:00-12:30,14:30-19:00; sat 09:00-12:30"


class Desk:
    """``bibliobot`` against one store file under one policy preset.

    ``run``/``ok``/``refused`` start the real console entry in a subprocess (what is under
    test); ``given`` sets the scene (branches, copies, patrons) through the same ``main`` in
    this process, so the test's time goes to the desk rather than to interpreter start-ups.
    """

    def __init__(self, tmp_path: Path, policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp_path = tmp_path
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")
        }
        self.env["BIBLIOBOT_DATABASE__PATH"] = str(tmp_path / "desk.sqlite3")
        self.env["BIBLIOBOT_LIBRARY__POLICY"] = policy
        for key in os.environ:
            if key.startswith("BIBLIOBOT_"):
                monkeypatch.delenv(key)
        monkeypatch.setenv("BIBLIOBOT_DATABASE__PATH", self.env["BIBLIOBOT_DATABASE__PATH"])
        monkeypatch.setenv("BIBLIOBOT_LIBRARY__POLICY", policy)
        monkeypatch.chdir(tmp_path)

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.tmp_path,
            timeout=120,
            input=stdin,
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def ok(self, *args: str) -> Any:
        """A command that must succeed; its JSON."""
        result = self.run(*args, "--json")
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return json.loads(result.stdout)

    def refused(self, *args: str) -> dict[str, Any]:
        """A command the rules must refuse: exit 1 and ``{"error", "message"}``."""
        result = self.run(*args, "--json")
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        payload: dict[str, Any] = json.loads(result.stdout)
        assert {"error", "message"} <= set(payload)
        return payload

    def given(self, *args: str) -> Any:
        """A step that sets the scene, run in this process; its JSON."""
        out = io.StringIO()
        with redirect_stdout(out):
            status = main([*args, "--json"])
        assert status == 0, (args, out.getvalue())
        return json.loads(out.getvalue())

    def record_id(self, query: str) -> int:
        return int(self.given("search", query)["results"][0]["record_id"])

    def copy(self, record_id: int, barcode: str, branch: str, kind: str = "book") -> None:
        self.given(
            "item", "add", "--record", str(record_id), "--barcode", barcode,
            "--branch", branch, "--type", kind, "--published", "2015-01-01",
        )  # fmt: skip


def test_cbnem_desk_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = Desk(tmp_path, "cbnem", monkeypatch)
    for code, name in (("BRU", "Brugherio"), ("COL", "Cologno Monzese")):
        desk.given("branch", "add", code, "--name", name)

    # The calendar first: due dates and pickup days count opening days.
    refused = desk.refused("patron", "add", "--card", "1001", "--name", "Maria Rossi",
                           "--category", "adult", "--branch", "BRU")  # fmt: skip
    assert refused["error"] == "no_opening_hours"
    week = desk.ok("branch", "hours", "BRU", BRU_WEEK)["week"]
    assert week["mon"] == ["09:00-12:30", "14:30-19:00"]
    assert (week["sat"], week["sun"]) == (["09:00-12:30"], [])
    hours = desk.given("branch", "hours", "COL", COL_WEEK, "--saint-day", "06-29")
    assert hours["week"] == week
    assert hours["patron_saint_day"] == "06-29"
    bad = desk.refused("branch", "hours", "BRU", "lun-ven 9-12; fry 14-18")
    assert bad["error"] == "bad_hours"
    assert "'fry 14-18'" in bad["message"]
    assert "'fry' is not a day" in bad["message"]
    text = desk.run("branch", "hours", "BRU", "mon 9-12:75")
    assert text.returncode == 1
    assert text.stderr.startswith("refused: bad opening hours in 'mon 9-12:75'")
    assert desk.given("branch", "hours", "BRU")["week"] == week  # the refusals changed nothing

    # The catalog and the copies.
    assert desk.run("import-marc", str(BNCF)).returncode == 0
    daisy = desk.record_id("Daisy Miller")
    templari = desk.record_id("città perduta dei templari")
    desk.copy(daisy, "BRU001", "BRU")
    desk.copy(templari, "COL001", "COL")
    desk.copy(desk.record_id("Agrigento romana"), "BRU002", "BRU")

    # Patrons: one card for every branch (C1).
    maria = desk.ok(
        "patron", "add", "--card", "1001", "--name", "Maria  Rossi", "--category", "adult",
        "--branch", "BRU", "--pin", "1234", "--registered", "2026-10-01",
    )  # fmt: skip
    assert maria == maria | {
        "card": "1001",
        "name": "Maria Rossi",
        "category": "adult",
        "home_branch": "BRU",
        "registered_on": "2026-10-01",
    }
    for card, name, branch in (("1002", "Luca Bianchi", "COL"), ("1003", "Anna Verdi", "BRU")):
        desk.given("patron", "add", "--card", card, "--name", name, "--category", "adult",
                "--branch", branch, "--at", "2026-10-01T10:00")  # fmt: skip
    assert desk.refused("patron", "add", "--card", "1001", "--name", "Again", "--category",
                        "adult", "--branch", "BRU")["error"] == "card_in_use"  # fmt: skip

    # Checkout on Friday 30 October: +30 days is Sunday 29 November, closed: Monday 30 (G11).
    loan = desk.ok("checkout", "1001", "BRU001", "--at", "2026-10-30T10:00")
    assert {"loan_id", "barcode", "due", "renewals", "receipt"} <= set(loan)
    assert (loan["barcode"], loan["due"], loan["renewals"]) == ("BRU001", "2026-11-30", 0)
    assert loan["moved_from"] == "2026-11-29"
    assert isinstance(loan["loan_id"], int)
    assert loan["receipt"]
    assert desk.refused("checkout", "1003", "BRU001", "--at", "2026-10-30T11:00")["error"] == (
        "not_available"
    )

    # C5: a renewal from the 3rd day before the due date; 10 days before is too early.
    early = desk.refused("renew", "1001", "BRU001", "--at", "2026-11-20T10:00")
    assert early["error"] == "too_early"
    everything = desk.run("renew", "1001", "--all", "--at", "2026-11-20T10:00", "--json")
    assert everything.returncode == 1  # every loan refused
    report = json.loads(everything.stdout)
    assert report["error"] == "too_early"
    assert report["renewed"] == []
    assert (
        report["refused"][0] | {"barcode": "BRU001", "error": "too_early"} == (report["refused"][0])
    )
    renewed = desk.ok("renew", "1001", "--all", "--at", "2026-11-28T10:00")
    assert renewed["refused"] == []
    assert [(r["barcode"], r["due"], r["renewals"]) for r in renewed["renewed"]] == [
        ("BRU001", "2026-12-30", 1)
    ]

    # Holds: FIFO positions; a title on the shelf elsewhere travels to the pickup (C4, N1).
    first = desk.ok("hold", "1002", str(daisy), "--pickup", "COL", "--at", "2026-11-29T10:00")
    assert first == first | {"state": "waiting", "position": 1, "pickup": "COL"}
    second = desk.ok("hold", "1003", str(daisy), "--pickup", "BRU", "--at", "2026-11-29T10:05")
    assert second == second | {"state": "waiting", "position": 2, "pickup": "BRU"}
    request = desk.ok("hold", "1002", str(templari), "--pickup", "BRU", "--at", "2026-11-29T11:00")
    assert request == request | {"state": "in_transit", "position": 1, "pickup": "BRU"}
    assert request["ready_on"] == "2026-11-30"  # Sunday: the van runs on Monday
    on_hold = desk.refused("renew", "1001", "BRU001", "--at", "2026-12-29T10:00")
    assert on_hold["error"] == "on_hold"

    # Eight days late (C6, C7): € 0.80, charged on return; C8 suspends until it is paid.
    late = desk.ok("patron", "show", "1001", "--at", "2027-01-07T09:00")
    assert late["loans"][0] | {"barcode": "BRU001", "due": "2026-12-30", "renewals": 1,
                               "overdue_days": 8} == late["loans"][0]  # fmt: skip
    assert (late["status"], late["fines_owed"]) == ("ok", "0.00")
    returned = desk.ok("checkin", "BRU001", "--at", "2027-01-07T10:00")
    assert returned == returned | {
        "barcode": "BRU001",
        "fine": "0.80",
        "hold_trapped": first["hold_id"],
        "in_transit_to": "COL",
    }
    account = desk.ok("patron", "show", "1001", "--at", "2027-01-07T11:00")
    assert {"card", "category", "status", "loans", "holds", "fines_owed", "telegram_linked"} <= (
        set(account)
    )
    assert account == account | {
        "card": "1001",
        "category": "adult",
        "status": "suspended",
        "loans": [],
        "holds": [],
        "fines_owed": "0.80",
        "telegram_linked": False,
    }
    page = desk.run("patron", "show", "1001", "--at", "2027-01-07T11:00")
    assert "status: suspended" in page.stdout
    assert "C8" in page.stdout
    assert "€ 0.80" in page.stdout
    assert desk.refused("checkout", "1001", "BRU002", "--at", "2027-01-07T11:00")["error"] == (
        "suspended"
    )
    paid = desk.ok("pay", "1001", "0,80", "--at", "2027-01-07T11:05")
    assert paid == paid | {"card": "1001", "paid": "0.80", "fines_owed": "0.00", "status": "ok"}
    assert desk.given("patron", "show", "1001", "--at", "2027-01-07T11:10")["status"] == "ok"
    assert desk.refused("pay", "1001", "1", "--at", "2027-01-07T11:10")["error"] == (
        "exceeds_balance"
    )

    # The van arrives on Friday 8 January: the copy is ready at COL for the first in the queue.
    desk.ok("transit", "receive", "--at", "2027-01-08T08:00")
    holds = {
        hold["hold_id"]: hold
        for hold in desk.given("patron", "show", "1002", "--at", "2027-01-08T09:00")["holds"]
    }
    assert holds[first["hold_id"]] | {"state": "ready", "pickup": "COL"} == holds[first["hold_id"]]
    assert holds[first["hold_id"]]["expires"] == "2027-01-15"  # C4: 7 days
    # The domain ranks every active hold, the one kept on the shelf too: 1003 is still second.
    queued = desk.given("patron", "show", "1003", "--at", "2027-01-08T09:00")["holds"]
    assert [(hold["state"], hold["position"]) for hold in queued] == [("waiting", 2)]
    # 1002 changes her mind: the copy kept for her goes to the next in the queue, at BRU (N1).
    cancelled = desk.ok("hold", "cancel", "1002", str(first["hold_id"]), "--at", "2027-01-08T09:30")
    assert cancelled["state"] == "cancelled"
    assert cancelled["copy"] == cancelled["copy"] | {
        "action": "hold_in_transit",
        "hold_id": second["hold_id"],
        "in_transit_to": "BRU",
    }
    queued = desk.given("patron", "show", "1003", "--at", "2027-01-08T09:35")["holds"]
    assert [(hold["state"], hold["position"]) for hold in queued] == [("in_transit", 1)]
    again = desk.refused(
        "hold", "cancel", "1002", str(first["hold_id"]), "--at", "2027-01-08T09:40"
    )
    assert again["error"] == "hold_closed"
    suspend = desk.run(
        "hold", "suspend", "1003", str(second["hold_id"]), "--until", "2027-02-01", "--json"
    )
    assert (suspend.returncode, json.loads(suspend.stdout)["error"]) == (1, "hold_not_waiting")

    # C9: a lost book out of print costs its cover price, at least EUR 10; staff lift only
    # what is open.
    desk.given("checkout", "1001", "BRU002", "--at", "2027-01-08T10:00")
    lost = desk.ok("lost", "BRU002", "--out-of-print", "--cover-price", "6,50", "--at",
                   "2027-01-08T10:05")  # fmt: skip
    assert lost == lost | {"barcode": "BRU002", "method": "cover_price", "charged": "10.00"}
    lift = desk.refused("patron", "lift", "1001", "--kind", "exclusion", "--rule", "G16")
    assert lift["error"] == "no_such_restriction"

    # A one-time code links the patron's Telegram account without the PIN.
    link = desk.ok("patron", "link-code", "1001", "--at", "2027-01-08T10:00")
    assert link == link | {"card": "1001", "start": f"link-{link['code']}"}
    assert link["expires_at"].startswith("2027-01-15T10:00")
    shown = desk.run("patron", "link-code", "1001")
    assert shown.returncode == 0
    assert "/start link-" in shown.stdout

    # Bad usage exits 2; an unknown card is refused with its code, never a traceback.
    for usage in (
        ("checkout", "1001"),
        ("renew", "1001"),
        ("renew", "1001", "BRU001", "--all"),
        ("hold", "1001", str(daisy)),
        ("hold", "1001", "x", "--pickup", "BRU"),
        ("hold", "suspend", "1001", "5"),
        ("pay", "1001", "abc"),
        ("patron", "add", "--card", "9", "--name", "X", "--category", "alien", "--branch", "BRU"),
        ("closure", "add", "2027-02-30"),
    ):
        assert desk.run(*usage).returncode == 2, usage
    assert desk.refused("patron", "show", "9999") == {
        "error": "unknown_card",
        "message": "no patron has card '9999'",
    }
    missing = desk.run("checkout", "9999", "BRU002")
    assert (missing.returncode, missing.stderr.startswith("refused: ")) == (1, True)
    assert desk.refused("checkin", "NOPE")["error"] == "unknown_item"
    assert desk.refused("checkout", "1001", "BRU002", "--branch", "XX")["error"] == (
        "unknown_branch"
    )


def test_ginestra_dvd_week_and_five_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = Desk(tmp_path, "ginestra", monkeypatch)
    desk.given("branch", "add", "MON", "--name", "Montevarchi")
    desk.given("branch", "hours", "MON", BRU_WEEK, "--saint-day", "08-10")
    closure = desk.ok("closure", "add", "2026-12-24", "2026-12-31", "--reason", "inventario")
    assert closure == closure | {"branch": None, "first_on": "2026-12-24", "last_on": "2026-12-31"}
    desk.given("import-marc", str(BNCF))
    records = [
        hit["record_id"] for hit in desk.given("search", "storia", "--page-size", "7")["results"]
    ]
    assert len(records) == 7
    desk.copy(records[0], "DVD1", "MON", kind="audiovisual")
    for number, record in enumerate(records[1:], start=1):
        desk.copy(record, f"LIB{number}", "MON")
    for card in ("A", "B", "C"):
        desk.given("patron", "add", "--card", card, "--name", f"Patron {card}", "--category",
                "adult", "--branch", "MON", "--registered", "2026-01-10")  # fmt: skip

    # G9: audiovisual 7 days; Monday 2 November → Monday 9 November.
    dvd = desk.ok("checkout", "A", "DVD1", "--at", "2026-11-02T10:00")
    assert (dvd["due"], dvd["renewals"]) == ("2026-11-09", 0)
    # G11: a book lent on 24 November is due on 24 December, closed: the next opening day is
    # 2 January (25-26 December are holidays, the closure runs to the 31st, 1 January too).
    book = desk.ok("checkout", "A", "LIB1", "--at", "2026-11-24T10:00")
    assert (book["due"], book["moved_from"]) == ("2027-01-02", "2026-12-24")
    for number in range(2, 7):
        desk.given("checkout", "A", f"LIB{number}", "--at", "2026-11-24T10:05")

    # G4: a recent DVD is not for loan, but a short loan over the weekend is (Saturday 12:30
    # to Monday 09:00).
    desk.given("item", "add", "--record", str(records[6]), "--barcode", "NEWDVD", "--branch",
               "MON", "--type", "audiovisual", "--published", "2026-10-01")  # fmt: skip
    assert desk.refused("checkout", "C", "NEWDVD", "--at", "2026-11-07T12:45")["error"] == (
        "not_loanable"
    )
    short = desk.ok("checkout", "C", "NEWDVD", "--short", "--at", "2026-11-07T12:45")
    assert (short["due"], short["due_at"]) == ("2026-11-09", "2026-11-09T08:00:00+00:00")

    # G13: holds only on items on loan, at most 5: the 6th is refused.
    for record in records[:5]:
        placed = desk.given("hold", "B", str(record), "--pickup", "MON", "--at", "2026-11-25T10:00")
        assert (placed["state"], placed["position"]) == ("waiting", 1)
    sixth = desk.refused(
        "hold", "B", str(records[5]), "--pickup", "MON", "--at", "2026-11-25T10:00"
    )
    assert sixth["error"] == "hold_limit"
    assert len(desk.given("patron", "show", "B", "--at", "2026-11-25T11:00")["holds"]) == 5


def test_hours_spec_grammar() -> None:
    week = parse_week("Lunedì-venerdì 9-12.30, 14.30-19; SAB 9:00 - 12:30\nsun closed")
    assert [(day, opens) for day, opens, _ in week if day in (0, 5)] == [
        (0, time(9)),
        (0, time(14, 30)),
        (5, time(9)),
    ]
    assert {day for day, _, _ in week} == set(range(6))
    assert {day for day, _, _ in parse_week("ven-lun: 10-12")} == {4, 5, 6, 0}
    assert parse_week("mon,wed 9-12; mon 15-18") == [
        (0, time(9), time(12)),
        (0, time(15), time(18)),
        (2, time(9), time(12)),
    ]
    for spec, part, problem in (
        ("mon 9-12; fry 9-12", "fry 9-12", "'fry' is not a day"),
        ("mon 9-12 15", "mon 9-12 15", "'15' is not an interval"),
        ("mon 12-9", "mon 12-9", "closes before it opens"),
        ("mon 9-25", "mon 9-25", "'25' is not a time of day"),
        ("mon-fri 9-13; wed 12-14", "wed 12-14", "intervals overlap"),
        ("mon closed; mon-tue 9-12", "mon closed", "mon is closed here"),
        ("mon", "mon", "give opening hours"),
        ("sun closed", "sun closed", "never be open"),
    ):
        with pytest.raises(HoursSpecError) as raised:
            parse_week(spec)
        assert raised.value.part == part, spec
        assert problem in raised.value.problem, spec
