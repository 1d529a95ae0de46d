"""``bibliobot import-marc``, ``bibliobot search`` and ``bibliobot item add``."""

from __future__ import annotations

import argparse
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from bot.catalog.importer import ImportRefused, ImportSummary, import_files
from bot.catalog.marc import MarcSyntax
from bot.catalog.model import MaterialType
from bot.catalog.search import Hit, SearchPage, search
from bot.cli.common import EXIT_OK, ProgressLine, Refused, emit_json, now_or_at
from bot.settings import Settings
from db import items as items_repo
from db.store import Store

Subparsers = Any


def register(commands: Subparsers) -> None:
    importer = commands.add_parser(
        "import-marc", help="load MARC21, MARCXML or UNIMARC files into the catalog"
    )
    importer.add_argument("files", nargs="+", type=Path, metavar="FILE")
    importer.add_argument(
        "--format", choices=[syntax.value for syntax in MarcSyntax], default="auto"
    )
    importer.add_argument(
        "--branch", metavar="CODE", help="give one copy at this branch to records with none"
    )
    importer.add_argument("--at", metavar="ISO-DATETIME", help="the import's timestamp")
    importer.add_argument("--json", action="store_true")
    importer.set_defaults(handler=import_marc)

    finder = commands.add_parser("search", help="search the catalog as patrons do")
    finder.add_argument("query", nargs="+", metavar="QUERY")
    finder.add_argument("--page", type=int, default=1)
    finder.add_argument("--page-size", type=int, default=5, choices=range(1, 51), metavar="N")
    finder.add_argument("--json", action="store_true")
    finder.set_defaults(handler=search_command)

    item = commands.add_parser("item", help="copies")
    actions = item.add_subparsers(dest="item_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a copy (for catalogs whose MARC has no holdings)")
    add.add_argument("--record", type=int, required=True, metavar="RECORD_ID")
    add.add_argument("--barcode", required=True)
    add.add_argument("--branch", required=True, metavar="CODE")
    add.add_argument("--type", required=True, choices=[kind.value for kind in MaterialType])
    add.add_argument("--section")
    add.add_argument("--shelf-mark")
    add.add_argument("--published", type=_iso_date, metavar="DATE")
    add.add_argument("--condition", choices=["good", "poor"], default="good")
    add.add_argument("--at", metavar="ISO-DATETIME")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=item_add)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


# import-marc ----------------------------------------------------------------------------------


async def import_marc(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    progress = ProgressLine()
    async with await Store.open(settings.database.path) as store:
        try:
            summary = await import_files(
                store,
                list(args.files),
                now=now,
                syntax=MarcSyntax(args.format),
                branch=args.branch,
                progress=progress,
            )
        except ImportRefused as exc:
            raise Refused(exc.code, str(exc)) from exc
        finally:
            progress.finish()
    if args.json:
        emit_json(summary.as_json())
    else:
        _print_summary(summary)
    return EXIT_OK


def _print_summary(summary: ImportSummary) -> None:
    for file_summary in summary.files:
        print(
            f"{file_summary.path} ({file_summary.syntax}): read {file_summary.read}, "
            f"imported {file_summary.imported}, updated {file_summary.updated}, "
            f"unchanged {file_summary.unchanged}, skipped {len(file_summary.skipped)}"
        )
    if len(summary.files) > 1:
        print(
            f"total: read {summary.read}, imported {summary.imported}, updated "
            f"{summary.updated}, unchanged {summary.unchanged}, skipped {len(summary.skipped)}"
        )
    if summary.branches_created:
        print(
            f"branches created: {', '.join(summary.branches_created)} "
            "(name them with `bibliobot branch add CODE --name NAME`)"
        )
    for problem in summary.skipped:
        print(f"skipped: {problem.file} record {problem.position}: {problem.reason}")
    for problem in summary.warnings:
        print(f"warning: {problem.file} record {problem.position}: {problem.reason}")


# search ---------------------------------------------------------------------------------------


async def search_command(args: argparse.Namespace, settings: Settings) -> int:
    text = " ".join(args.query)
    if args.page < 1:
        raise Refused("bad_page", "--page starts at 1")
    async with await Store.open(settings.database.path) as store:
        page = await search(store, text, page=args.page, page_size=args.page_size)
    if args.json:
        emit_json(page.as_json())
    else:
        _print_page(page)
    return EXIT_OK


def _print_page(page: SearchPage) -> None:
    if page.total == 0:
        print(f"nothing found for {page.query!r}: try fewer words, or an author's surname")
        return
    print(f"{page.total} found for {page.query!r}, page {page.page} of {page.pages}")
    first = (page.page - 1) * page.page_size + 1
    for number, hit in enumerate(page.hits, start=first):
        byline = " / ".join(part for part in (hit.author, str(hit.year or "")) if part)
        print(
            f"{number:3}. {hit.title}"
            + (f" — {byline}" if byline else "")
            + f"  [record {hit.record_id}]"
        )
        print(f"     {_availability_line(hit)}")


def _availability_line(hit: Hit) -> str:
    if hit.on_shelf:
        places = ", ".join(branch.name for branch in hit.branches if branch.on_shelf)
        return f"{hit.on_shelf} on the shelf: {places}"
    if hit.on_loan:
        return f"on loan, back by {hit.earliest_due}" if hit.earliest_due else "on loan"
    if hit.not_loanable:
        return "reading room only (not for loan)"
    return "no copies in the network"


# item add -------------------------------------------------------------------------------------


async def item_add(args: argparse.Namespace, settings: Settings) -> int:
    now = now_or_at(args, settings)
    barcode = args.barcode.strip()
    if not barcode or len(barcode) > 64:
        raise Refused("bad_barcode", "a barcode is 1-64 characters")
    async with await Store.open(settings.database.path) as store:
        try:
            async with store.transaction() as conn:
                item_id = await items_repo.add_item(
                    conn,
                    record_id=args.record,
                    barcode=barcode,
                    branch_code=args.branch,
                    material_type=MaterialType(args.type),
                    section=args.section,
                    shelf_mark=args.shelf_mark,
                    published_on=args.published,
                    condition=args.condition,
                    now=now,
                )
        except items_repo.ItemRefused as exc:
            raise Refused(exc.code, str(exc)) from exc
        except sqlite3.IntegrityError as exc:
            raise Refused("conflict", f"the store refused the copy: {exc}") from exc
    if args.json:
        emit_json(
            {
                "item_id": item_id,
                "barcode": barcode,
                "record_id": args.record,
                "branch": args.branch,
            }
        )
    else:
        print(f"added copy {barcode} of record {args.record} at {args.branch}")
    return EXIT_OK
