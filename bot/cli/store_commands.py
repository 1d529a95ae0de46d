"""``bibliobot db upgrade|backup`` and ``bibliobot branch add`` (``branch hours``: elsewhere)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli import calendar_commands
from bot.cli.common import EXIT_OK, Refused, emit_json, now_or_at
from bot.settings import Settings
from db import catalog as catalog_repo
from db.backup import BackupError, backup_store
from db.store import Store

Subparsers = Any  # argparse's _SubParsersAction is private


def register(commands: Subparsers) -> None:
    db = commands.add_parser("db", help="the database file")
    db_actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_actions.add_parser("upgrade", help="apply pending migrations")
    upgrade.add_argument("--json", action="store_true")
    upgrade.set_defaults(handler=db_upgrade)
    backup = db_actions.add_parser(
        "backup", help="copy the database while the bot runs (SQLite's online backup)"
    )
    backup.add_argument(
        "target",
        type=Path,
        help="the new file, or a folder to put bibliobot-YYYYMMDD-HHMMSS.sqlite3 in",
    )
    backup.add_argument("--json", action="store_true")
    backup.set_defaults(handler=db_backup)

    branch = commands.add_parser("branch", help="library branches")
    branch_actions = branch.add_subparsers(dest="branch_command", metavar="ACTION", required=True)
    add = branch_actions.add_parser("add", help="add a branch, or rename an existing one")
    add.add_argument("code")
    add.add_argument("--name", required=True)
    add.add_argument("--town")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=branch_add)
    calendar_commands.add_branch_actions(branch_actions)


async def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.database.path
    async with await Store.open(path, migrate=False) as store:
        applied = await store.upgrade()
        version = await store.schema_version()
    if args.json:
        emit_json({"database": str(path), "applied": applied, "version": version})
    elif applied:
        print(f"{path}: applied migrations {', '.join(map(str, applied))}; now at {version}")
    else:
        print(f"{path}: up to date (schema version {version})")
    return EXIT_OK


def db_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Plain, not async: the copy is one blocking SQLite call, nothing else runs meanwhile."""
    target: Path = args.target
    if target.is_dir():
        stamp = datetime.now(UTC).astimezone(settings.library.zone).strftime("%Y%m%d-%H%M%S")
        target = target / f"bibliobot-{stamp}.sqlite3"
    try:
        made = backup_store(settings.database.path, target)
    except BackupError as error:
        raise Refused(error.code, str(error)) from error
    if args.json:
        emit_json(made.as_json())
    else:
        print(f"backup: {made.path} ({made.bytes} bytes, schema version {made.schema_version})")
    return EXIT_OK


def _valid_code(code: str) -> str:
    code = code.strip()
    if not code or len(code) > 32 or any(ch.isspace() for ch in code):
        raise Refused("bad_branch_code", f"{code!r}: a branch code is 1-32 characters, no spaces")
    return code


async def branch_add(args: argparse.Namespace, settings: Settings) -> int:
    code = _valid_code(args.code)
    name = args.name.strip()
    if not name:
        raise Refused("bad_branch_name", "--name must not be empty")
    async with await Store.open(settings.database.path) as store, store.transaction() as conn:
        branch_id, created = await catalog_repo.add_branch(
            conn, code, name, now_or_at(args, settings), town=args.town
        )
    if args.json:
        emit_json({"branch_id": branch_id, "code": code, "name": name, "created": created})
    else:
        print(f"{'added' if created else 'updated'} branch {code}: {name}")
    return EXIT_OK
