"""``bibliobot handoff``: what administrators own about the chat with the librarians, and the
transcripts.

* ``handoff themes show|set|remove|reset`` — the subjects patrons choose from, and the branch
  whose staff answer each (N7: the network's specialised poles);
* ``handoff canned show|set|remove`` — the ready answers staff send with ``/canned KEY``;
* ``handoff option sign_with_name on|off``, ``handoff option reopen_minutes N``;
* ``handoff export [--conversation ID | --card CARD] [--json]`` — every message of the
  conversations, as stored (a deleted topic loses nothing here).
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.common import EXIT_OK, Refused, emit_json, now_or_at
from bot.cli.desk_commands import open_library
from bot.i18n import I18n
from bot.services import handoff
from bot.settings import Settings

Subparsers = Any  # argparse's _SubParsersAction is private


def register(commands: Subparsers) -> None:
    parser = commands.add_parser("handoff", help="the chat with the librarians")
    actions = parser.add_subparsers(dest="handoff_command", metavar="WHAT", required=True)

    themes = actions.add_parser("themes", help="the subjects patrons choose from")
    theme_actions = themes.add_subparsers(dest="themes_command", metavar="ACTION", required=True)
    show = theme_actions.add_parser("show", help="list the themes")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=themes_show)
    put = theme_actions.add_parser(
        "set",
        help="add or change a theme",
        description="Add a theme, or change one: --name it=Musica --name en=Music, and the "
        "branch whose staff answer it (default: the patron's home library).",
    )
    put.add_argument("key", help="a short key: a-z, 0-9, _")
    put.add_argument("--name", action="append", default=[], metavar="LANG=NAME")
    put.add_argument("--branch", metavar="CODE", help="the specialised library (N7)")
    put.add_argument("--home", action="store_true", help="answered by the patron's home library")
    put.add_argument("--json", action="store_true")
    put.set_defaults(handler=themes_set)
    remove = theme_actions.add_parser("remove", help="remove a theme")
    remove.add_argument("key")
    remove.add_argument("--json", action="store_true")
    remove.set_defaults(handler=themes_remove)
    reset = theme_actions.add_parser("reset", help="back to the default themes")
    reset.add_argument("--json", action="store_true")
    reset.set_defaults(handler=themes_reset)

    canned = actions.add_parser("canned", help="ready answers for staff (/canned KEY)")
    canned_actions = canned.add_subparsers(dest="canned_command", metavar="ACTION", required=True)
    show = canned_actions.add_parser("show", help="list the ready answers")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=canned_show)
    put = canned_actions.add_parser("set", help="add or change a ready answer")
    put.add_argument("key")
    put.add_argument("--text", action="append", default=[], metavar="LANG=TEXT", required=True)
    put.add_argument("--json", action="store_true")
    put.set_defaults(handler=canned_set)
    remove = canned_actions.add_parser("remove", help="remove a ready answer")
    remove.add_argument("key")
    remove.add_argument("--json", action="store_true")
    remove.set_defaults(handler=canned_remove)

    option = actions.add_parser(
        "option",
        help="sign_with_name on|off, reopen_minutes N",
        description="sign_with_name on: staff replies are signed with the librarian's first "
        "name (off: as the library). reopen_minutes N: after /close, a patron's message "
        "within N minutes reopens the conversation.",
    )
    option.add_argument("name", choices=["sign_with_name", "reopen_minutes"])
    option.add_argument("value")
    option.add_argument("--json", action="store_true")
    option.set_defaults(handler=option_set)

    export = actions.add_parser("export", help="transcripts of the conversations")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--conversation", type=int, metavar="ID")
    which.add_argument("--card", metavar="CARD")
    export.add_argument("--json", action="store_true")
    export.set_defaults(handler=export_command)


def _pairs(values: list[str], what: str, languages: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        language, sep, text = value.partition("=")
        language = language.strip().lower()
        if not sep or not text.strip() or language not in languages:
            raise Refused(
                f"bad_{what}",
                f"{value!r}: write LANG={what.upper()} with LANG one of {', '.join(languages)}",
            )
        found[language] = text.strip()
    return found


def _named(settings: Settings, theme: handoff.Theme) -> handoff.Theme:
    """A default theme with its names written out in every language (to be stored)."""
    if theme.msgid is None:
        return theme
    i18n = I18n.from_settings(settings)
    names = {
        language: i18n.translator(language).gettext(theme.msgid) for language in i18n.languages
    }
    return handoff.Theme(theme.key, theme.branch, names)


async def themes_show(args: argparse.Namespace, settings: Settings) -> int:
    async with open_library(settings) as library:
        themes = [_named(settings, theme) for theme in await handoff.themes(library)]
    if args.json:
        emit_json({"themes": [theme.as_json() for theme in themes]})
        return EXIT_OK
    for theme in themes:
        names = ", ".join(f"{k}={v}" for k, v in theme.names.items())
        print(f"{theme.key:<16} {theme.branch or '(home library)':<16} {names}")
    return EXIT_OK


async def themes_set(args: argparse.Namespace, settings: Settings) -> int:
    names = _pairs(args.name, "name", tuple(settings.library.languages))
    async with open_library(settings) as library:
        themes = [_named(settings, theme) for theme in await handoff.themes(library)]
        old = next((theme for theme in themes if theme.key == args.key), None)
        if old is None and not names:
            raise Refused("bad_theme", f"new theme {args.key}: give its --name LANG=NAME")
        branch = None if args.home else (args.branch or (old.branch if old else None))
        merged = {**(dict(old.names) if old else {}), **names}
        new = handoff.Theme(args.key, branch, merged)
        themes = [new if theme.key == args.key else theme for theme in themes]
        if old is None:
            themes.append(new)
        await handoff.set_themes(library, themes, now=now_or_at(args, settings), by="cli")
    if args.json:
        emit_json(new.as_json())
    else:
        print(f"theme {new.key}: {new.branch or '(home library)'}")
    return EXIT_OK


async def themes_remove(args: argparse.Namespace, settings: Settings) -> int:
    async with open_library(settings) as library:
        themes = [_named(settings, theme) for theme in await handoff.themes(library)]
        kept = [theme for theme in themes if theme.key != args.key]
        if len(kept) == len(themes):
            raise Refused("unknown_theme", f"no theme {args.key}")
        await handoff.set_themes(library, kept, now=now_or_at(args, settings), by="cli")
    if args.json:
        emit_json({"removed": args.key})
    else:
        print(f"removed theme {args.key}")
    return EXIT_OK


async def themes_reset(args: argparse.Namespace, settings: Settings) -> int:
    async with open_library(settings) as library:
        await handoff.reset_themes(library)
    if args.json:
        emit_json({"reset": True})
    else:
        print("themes: back to the defaults")
    return EXIT_OK


def _written_out(settings: Settings, replies: list[handoff.Canned]) -> dict[str, dict[str, str]]:
    """Every ready answer in every language (the built-in ones translated)."""
    i18n = I18n.from_settings(settings)
    return {
        reply.key: (
            {lang: i18n.translator(lang).gettext(reply.msgid) for lang in i18n.languages}
            if reply.msgid is not None
            else dict(reply.texts)
        )
        for reply in replies
    }


def _defaults(settings: Settings) -> dict[str, dict[str, str]]:
    built_in = [handoff.Canned(key, {}, msgid) for key, msgid in handoff.DEFAULT_CANNED.items()]
    return _written_out(settings, built_in)


async def canned_show(args: argparse.Namespace, settings: Settings) -> int:
    async with open_library(settings) as library:
        replies = await handoff.canned_replies(library)
    table = _written_out(settings, replies)
    if args.json:
        emit_json({"canned": table})
        return EXIT_OK
    for key, texts in table.items():
        for language, text in texts.items():
            print(f"{key:<12} {language}  {text}")
    return EXIT_OK


async def canned_set(args: argparse.Namespace, settings: Settings) -> int:
    texts = _pairs(args.text, "text", tuple(settings.library.languages))
    async with open_library(settings) as library:
        await handoff.set_canned(
            library,
            args.key,
            texts,
            now=now_or_at(args, settings),
            by="cli",
            defaults=_defaults(settings),
        )
    if args.json:
        emit_json({"key": args.key, "texts": texts})
    else:
        print(f"ready answer {args.key}: set")
    return EXIT_OK


async def canned_remove(args: argparse.Namespace, settings: Settings) -> int:
    async with open_library(settings) as library:
        removed = await handoff.remove_canned(
            library, args.key, now=now_or_at(args, settings), defaults=_defaults(settings)
        )
    if not removed:
        raise Refused("unknown_canned", f"no ready answer {args.key}")
    if args.json:
        emit_json({"removed": args.key})
    else:
        print(f"removed ready answer {args.key}")
    return EXIT_OK


async def option_set(args: argparse.Namespace, settings: Settings) -> int:
    value: bool | int
    if args.name == "sign_with_name":
        if args.value not in ("on", "off"):
            raise Refused("bad_option", "sign_with_name is on or off")
        value, key = args.value == "on", handoff.SIGN_KEY
    else:
        digits = args.value.isascii() and args.value.isdigit()  # int() refuses "²"
        if not digits or int(args.value) > 7 * 24 * 60:
            raise Refused("bad_option", "reopen_minutes is a number of minutes (0 to 10080)")
        value, key = int(args.value), handoff.REOPEN_KEY
    async with open_library(settings) as library:
        await handoff.set_option(library, key, value, now=now_or_at(args, settings))
    if args.json:
        emit_json({args.name: value})
    else:
        print(f"{args.name}: {args.value}")
    return EXIT_OK


async def export_command(args: argparse.Namespace, settings: Settings) -> int:
    async with open_library(settings) as library:
        conversations = await handoff.export(
            library, conversation_id=args.conversation, card=args.card
        )
    if args.json:
        emit_json({"conversations": conversations})
        return EXIT_OK
    for conversation in conversations:
        rating = f", rated {conversation['rating']}/5" if conversation["rating"] else ""
        print(
            f"# conversation {conversation['conversation_id']} — card "
            f"{conversation['card'] or '-'} — {conversation['theme']} — "
            f"{conversation['branch'] or '-'} — {conversation['state']}{rating}"
        )
        for message in conversation["messages"]:
            body = message["text"] or f"[{message['type']}]"
            edited = " (edited)" if message["edited_at"] else ""
            sender = message["sender"] or ""
            print(f"{message['at']} {message['direction']:<7} {sender}: {body}{edited}")
        print()
    return EXIT_OK
