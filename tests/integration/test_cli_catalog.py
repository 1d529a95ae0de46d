"""The `bibliobot` command as an administrator uses it: exit statuses, text and JSON output."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli.common import ProgressLine
from tests.conftest import BNCF, CATALOG, KOHA_952


def run(tmp_path: Path, *args: str, config: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")}
    env["BIBLIOBOT_DATABASE__PATH"] = str(tmp_path / "cli.sqlite3")
    command = [sys.executable, "-m", "bot"]
    if config:
        command += ["--config", config]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_import_twice_then_search(tmp_path: Path) -> None:
    first = run(tmp_path, "import-marc", str(BNCF), str(KOHA_952), "--json")
    assert first.returncode == 0, first.stderr
    summary = as_json(first)
    assert (summary["read"], summary["imported"], summary["skipped"]) == (1037, 1037, [])
    second = run(tmp_path, "import-marc", *map(str, sorted(CATALOG.glob("*.mrc"))), "--json")
    again = as_json(second)
    assert (again["imported"] - 500, again["updated"], again["unchanged"]) == (0, 0, 1037)

    text = run(tmp_path, "import-marc", str(BNCF))
    assert text.returncode == 0
    assert "read 602, imported 0, updated 0, unchanged 602, skipped 0" in text.stdout

    found = run(tmp_path, "search", "città", "--json")
    assert found.returncode == 0
    page = as_json(found)
    assert page["total"] > 0
    assert page["total"] == as_json(run(tmp_path, "search", "CITTA", "--json"))["total"]
    shuffle = as_json(run(tmp_path, "search", "E", "Street", "shuffle", "--json"))
    result = shuffle["results"][0]
    assert {"record_id", "title", "author", "year", "isbn", "available", "branches"} <= set(result)
    assert result["author"] == "Heylin, Clinton"
    assert all({"code", "on_shelf", "on_loan"} <= set(branch) for branch in result["branches"])
    human = run(tmp_path, "search", "E Street shuffle")
    assert "on the shelf" in human.stdout


def test_refusals_exit_1_with_a_reason_code(tmp_path: Path) -> None:
    missing = run(tmp_path, "import-marc", str(tmp_path / "nope.mrc"), "--json")
    assert missing.returncode == 1
    assert as_json(missing)["error"] == "file_not_found"
    branch = run(tmp_path, "import-marc", str(BNCF), "--branch", "XX", "--json")
    assert branch.returncode == 1
    assert as_json(branch) == {
        "error": "unknown_branch",
        "message": "--branch XX: no such branch (add it with `bibliobot branch add`)",
    }
    text = run(tmp_path, "import-marc", str(BNCF), "--branch", "XX")
    assert text.returncode == 1
    assert text.stderr.strip() == (
        "refused: --branch XX: no such branch (add it with `bibliobot branch add`)"
    )
    assert "Traceback" not in text.stderr


def test_bad_usage_and_bad_configuration_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path, "import-marc").returncode == 2
    assert run(tmp_path, "search", "x", "--page-size", "500").returncode == 2
    config = tmp_path / "bad.toml"
    config.write_text('[library]\ntimezone = "Nowhere/Town"\n', encoding="utf-8")
    result = run(tmp_path, "search", "x", config=str(config))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("config error: [library] timezone")


def test_branches_and_hand_made_copies(tmp_path: Path) -> None:
    added = run(tmp_path, "branch", "add", "BRU", "--name", "Brugherio", "--json")
    assert (added.returncode, as_json(added)["created"]) == (0, True)
    renamed = run(tmp_path, "branch", "add", "BRU", "--name", "Biblioteca di Brugherio")
    assert renamed.stdout.strip() == "updated branch BRU: Biblioteca di Brugherio"
    run(tmp_path, "import-marc", str(BNCF))
    record_id = as_json(run(tmp_path, "search", "Daisy Miller", "--json"))["results"][0][
        "record_id"
    ]
    item = run(
        tmp_path,
        "item",
        "add",
        "--record",
        str(record_id),
        "--barcode",
        "BRU0001",
        "--branch",
        "BRU",
        "--type",
        "book",
        "--section",
        "Ragazzi",
        "--json",
    )
    assert item.returncode == 0, item.stderr
    duplicate = run(
        tmp_path,
        "item",
        "add",
        "--record",
        str(record_id),
        "--barcode",
        "BRU0001",
        "--branch",
        "BRU",
        "--type",
        "book",
        "--json",
    )
    assert (duplicate.returncode, as_json(duplicate)["error"]) == (1, "barcode_in_use")
    unknown = run(
        tmp_path,
        "item",
        "add",
        "--record",
        "999999",
        "--barcode",
        "BRU0002",
        "--branch",
        "BRU",
        "--type",
        "book",
        "--json",
    )
    assert (unknown.returncode, as_json(unknown)["error"]) == (1, "unknown_record")
    result = as_json(run(tmp_path, "search", "Daisy Miller", "--json"))["results"][0]
    assert result["available"] == 1
    assert result["branches"][0]["code"] == "BRU"
    assert result["branches"][0]["name"] == "Biblioteca di Brugherio"


def test_db_upgrade_reports_what_it_did(tmp_path: Path) -> None:
    first = as_json(run(tmp_path, "db", "upgrade", "--json"))
    assert first["applied"] == list(range(1, first["version"] + 1))
    second = run(tmp_path, "db", "upgrade")
    assert "up to date" in second.stdout


@pytest.mark.parametrize("tty", [True, False])
def test_progress_is_drawn_only_on_a_terminal(tty: bool) -> None:
    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    stream = Stream()
    progress = ProgressLine(stream)
    progress("catalog.mrc", 50, 100, 300)
    progress("catalog.mrc", 100, 100, 600)
    progress.finish()
    if tty:
        assert " 50%  300 records" in stream.getvalue()
        assert stream.getvalue().endswith("100%  600 records\n")
    else:
        assert stream.getvalue() == ""


def test_a_reader_that_goes_away_is_not_a_traceback(tmp_path: Path) -> None:
    run(tmp_path, "import-marc", str(BNCF))
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")}
    env["BIBLIOBOT_DATABASE__PATH"] = str(tmp_path / "cli.sqlite3")
    writer = subprocess.Popen(
        [sys.executable, "-m", "bot", "search", "successo", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert writer.stdout is not None
    # The reader is gone before Python has even started, as with `| head` finishing early:
    # the command's first write meets a closed pipe.
    writer.stdout.close()
    _, errors = writer.communicate(timeout=60)
    assert b"Traceback" not in errors
    assert writer.returncode == 1
