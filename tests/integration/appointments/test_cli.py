"""``bibliobot appointment``: administrators define services and slots from the command line."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.integration.test_cli_desk import Desk


def refused(desk: Desk, *args: str) -> dict[str, Any]:
    """A refusal, run in this process: exit status 1 and the JSON error."""
    out = io.StringIO()
    with redirect_stdout(out):
        status = main([*args, "--json"])
    assert status == 1, (args, out.getvalue())
    payload: dict[str, Any] = json.loads(out.getvalue())
    return payload


def test_define_services_and_slots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = Desk(tmp_path, "cbnem", monkeypatch)
    desk.given("branch", "add", "BRU", "--name", "Brugherio")
    desk.given("branch", "hours", "BRU", "lun-ven 9-12.30,14.30-19; sab 9-12.30")
    added = desk.ok(
        "appointment", "service", "add", "ILL", "--branch", "BRU",
        "--name-it", "Aiuto per il prestito interbibliotecario",
        "--name-en", "Help with an interlibrary loan request",
        "--duration", "20", "--capacity", "2", "--min-notice-hours", "12",
        "--max-ahead-days", "14", "--cancel-cutoff-hours", "6",
    )  # fmt: skip
    assert added["created"] is True
    assert (added["duration_minutes"], added["capacity"], added["max_ahead_days"]) == (20, 2, 14)
    slot = desk.given("appointment", "slot", "add", "ILL", "--branch", "BRU",
                   "--weekday", "mer", "--at", "10:30")  # fmt: skip
    assert slot == {
        "code": "ILL", "branch": "BRU", "weekday": "wed", "at": "10:30", "changed": True,
        "outside_opening_hours": False,
    }  # fmt: skip
    sunday = desk.given("appointment", "slot", "add", "ILL", "--branch", "BRU",
                     "--weekday", "sun", "--at", "10:00")  # fmt: skip
    assert sunday["outside_opening_hours"] is True
    again = desk.given("appointment", "slot", "add", "ILL", "--branch", "BRU",
                    "--weekday", "wed", "--at", "10:30")  # fmt: skip
    assert again["changed"] is False
    removed = desk.given("appointment", "slot", "remove", "ILL", "--branch", "BRU",
                      "--weekday", "sun", "--at", "10:00")  # fmt: skip
    assert removed["changed"] is True
    listing = desk.given("appointment", "list")
    assert [(s["code"], s["slots"]) for s in listing["services"]] == [
        ("ILL", [{"weekday": "wed", "at": "10:30"}])
    ]
    # Changing a service keeps its slots.
    changed = desk.given(
        "appointment", "service", "add", "ILL", "--branch", "BRU",
        "--name-it", "Prestito interbibliotecario", "--name-en", "Interlibrary loans",
    )  # fmt: skip
    assert changed["created"] is False
    assert desk.given("appointment", "list", "--branch", "BRU")["services"][0]["slots"]
    assert desk.given("appointment", "settings")["reminder_hours"] == 24
    assert desk.given("appointment", "settings", "--reminder-hours", "2")["reminder_hours"] == 2
    assert desk.given("appointment", "upcoming") == {"appointments": []}
    text = desk.run("appointment", "list")
    assert "BRU ILL: Prestito interbibliotecario / Interlibrary loans" in text.stdout
    assert "slots: wed 10:30" in text.stdout


def test_refusals_and_bad_usage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = Desk(tmp_path, "cbnem", monkeypatch)
    desk.given("branch", "add", "BRU", "--name", "Brugherio")
    unknown_branch = refused(desk, "appointment", "service", "add", "X", "--branch", "NOPE",
                                  "--name-it", "a", "--name-en", "b")  # fmt: skip
    assert unknown_branch["error"] == "unknown_branch"
    bad_rule = refused(desk, "appointment", "service", "add", "X", "--branch", "BRU",
                            "--name-it", "a", "--name-en", "b", "--capacity", "0")  # fmt: skip
    assert bad_rule["error"] == "bad_service_rule"
    no_service = refused(desk, "appointment", "slot", "add", "X", "--branch", "BRU",
                              "--weekday", "mon", "--at", "10:00")  # fmt: skip
    assert no_service["error"] == "unknown_service"
    bad_hours = refused(desk, "appointment", "settings", "--reminder-hours", "1000")
    assert bad_hours["error"] == "bad_reminder_hours"
    usage = desk.run("appointment", "slot", "add", "X", "--branch", "BRU",
                     "--weekday", "someday", "--at", "10:00")  # fmt: skip
    assert usage.returncode == 2
    assert "'someday' is not a day" in usage.stderr
    late = desk.run("appointment", "slot", "add", "X", "--branch", "BRU",
                    "--weekday", "mon", "--at", "25:00")  # fmt: skip
    assert late.returncode == 2
