"""The catalogs: complete in Italian, placeholders intact, in step with the code.

Each check is also run against a deliberately broken catalog, to prove that it would fail.
"""

from __future__ import annotations

import ast
import shutil
import sysconfig
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from bot.i18n import checks
from bot.i18n.catalogs import candidate_dirs, find_locales_dir
from tests.unit.i18n.support import (
    LOCALES,
    MAPPING,
    ROOT,
    SOURCE,
    TEMPLATE,
    italian_catalog,
    po_path,
    read,
)

LANGUAGES = ("it", "en")
KEYWORDS = {"_", "N_", "gettext", "ngettext", "pgettext", "npgettext"}


@pytest.fixture(scope="module")
def template() -> Catalog:
    return read(TEMPLATE)


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return checks.extract(SOURCE, MAPPING)


# -- completeness ---------------------------------------------------------------------------


def test_every_msgid_has_an_italian_translation(template: Catalog) -> None:
    italian = read(po_path("it"), "it")
    assert checks.drift(template, italian, what="the Italian catalog") == []
    assert checks.untranslated(italian) == []


def test_the_checker_reports_a_missing_translation() -> None:
    catalog = italian_catalog()
    catalog.add("Your loans", "I tuoi prestiti")
    catalog.add("Your holds", "")
    catalog.add(("{n} copy", "{n} copies"), ("{n} copia", ""))
    catalog.add("Renew all", "Rinnova tutti", flags=["fuzzy"])
    problems = checks.untranslated(catalog)
    assert len(problems) == 3
    assert "'Your holds': no it translation" in problems[0]
    assert "'{n} copy': no it translation" in problems[1]
    assert "'Renew all': fuzzy" in problems[2]


def test_the_checker_reports_a_message_missing_from_a_catalog(template: Catalog) -> None:
    italian = read(po_path("it"), "it")
    dropped = next(iter(checks.messages(italian)))
    italian.delete(dropped.id, context=dropped.context)
    assert checks.drift(template, italian, what="the Italian catalog") == [
        f"{dropped.id!r}: missing from the Italian catalog"
    ]


# -- placeholders ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_msgid(language: str) -> None:
    assert checks.placeholder_mismatches(read(po_path(language), language)) == []


@pytest.mark.parametrize(
    ("translation", "complaint"),
    [
        ("È ancora presto: potrai farlo più avanti.", "lacks {date}, has unknown {-}"),
        ("È ancora presto: potrai farlo da {data}.", "lacks {date}, has unknown {data}"),
        ("È ancora presto: potrai farlo da {date.", "malformed braces"),
    ],
)
def test_a_dropped_or_renamed_placeholder_is_reported(translation: str, complaint: str) -> None:
    catalog = italian_catalog()
    catalog.add("It is too early to renew: you can renew from {date}.", translation)
    [problem] = checks.placeholder_mismatches(catalog)
    assert complaint in problem


def test_a_plural_form_without_its_count_is_reported() -> None:
    catalog = italian_catalog()
    catalog.add(("{n} copy", "{n} copies"), ("una copia", "{n} copie"))
    [problem] = checks.placeholder_mismatches(catalog)
    assert "'una copia' lacks {n}" in problem


def test_msgids_follow_the_conventions(template: Catalog) -> None:
    assert checks.convention_problems(template) == []


def test_the_convention_check_reports_percent_and_positional_fields() -> None:
    catalog = Catalog()
    catalog.add("%(count)s copies")
    catalog.add("Due on {}")
    catalog.add("Due on {0}")
    catalog.add("Due on {date}")
    problems = checks.convention_problems(catalog)
    assert len(problems) == 3
    assert "%-formatting" in problems[0]
    assert all("positional" in problem for problem in problems[1:])


# -- in step with the code -----------------------------------------------------------------


def test_the_template_is_up_to_date_with_the_source(template: Catalog, extracted: Catalog) -> None:
    """If this fails, run `make i18n-update` and translate the new messages."""
    assert checks.drift(extracted, template, what="locales/bibliobot.pot") == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalog_was_updated_from_the_template(template: Catalog, language: str) -> None:
    catalog = read(po_path(language), language)
    assert checks.drift(template, catalog, what=f"the {language} catalog") == []


def test_the_drift_check_reports_a_new_message(tmp_path: Path, template: Catalog) -> None:
    source = tmp_path / "bot"
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "handler.py").write_text(
        'def reply(t):\n    return t.gettext("A message nobody extracted yet")\n',
        encoding="utf-8",
    )
    assert checks.drift(checks.extract(source, MAPPING), template, what="the template") == [
        "'A message nobody extracted yet': missing from the template"
    ]


def test_extraction_finds_every_form_of_the_api(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "loans.py").write_text(
        "from bot.i18n import N_\n"
        'LABEL = N_("Renew all")\n'
        "def reply(t, n, _):\n"
        '    t.gettext("Your loans")\n'
        '    t.ngettext("{n} copy", "{n} copies", n, n=n)\n'
        '    t.pgettext("button", "Back")\n'
        '    t.npgettext("search", "{n} result", "{n} results", n)\n'
        '    _("Hello")\n'
        "    # TRANSLATORS: the patron's name\n"
        '    t.gettext("Hello {name}", name="Ada")\n',
        encoding="utf-8",
    )
    catalog = checks.extract(tmp_path, MAPPING)
    assert {checks.key(message) for message in checks.messages(catalog)} == {
        (None, "Renew all"),
        (None, "Your loans"),
        (None, ("{n} copy", "{n} copies")),
        ("button", "Back"),
        ("search", ("{n} result", "{n} results")),
        (None, "Hello"),
        (None, "Hello {name}"),
    }
    hello = catalog.get("Hello {name}")
    assert hello is not None
    assert hello.auto_comments == ["TRANSLATORS: the patron's name"]


def _non_literal_msgids(tree: ast.AST) -> list[int]:
    """Lines where a gettext-family call is given an f-string, a % or a .format as its text."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in KEYWORDS:
            continue
        for argument in node.args:
            built = isinstance(argument, ast.JoinedStr | ast.BinOp) or (
                isinstance(argument, ast.Call)
                and isinstance(argument.func, ast.Attribute)
                and argument.func.attr == "format"
            )
            if built:
                lines.append(node.lineno)
    return lines


def test_no_msgid_is_built_at_run_time() -> None:
    """An f-string id changes with its data, so it is never found in a catalog."""
    offenders = {
        str(path.relative_to(SOURCE)): lines
        for path in sorted(SOURCE.rglob("*.py"))
        if (lines := _non_literal_msgids(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}


def test_the_run_time_check_reports_an_f_string() -> None:
    tree = ast.parse(
        'def f(t, x):\n    t.gettext(f"Due {x}")\n    t.gettext("a %s" % x)\n'
        '    t.gettext("Due {x}".format(x=x))\n    t.gettext("fine")\n'
    )
    assert _non_literal_msgids(tree) == [2, 3, 4]


# -- where they are found -------------------------------------------------------------------


def test_the_source_checkout_locales_are_found() -> None:
    find_locales_dir.cache_clear()
    assert find_locales_dir() == LOCALES


def test_an_installed_copy_looks_in_the_installation_data_directory() -> None:
    data = Path(sysconfig.get_paths()["data"]) / "share" / "bibliobot" / "locales"
    assert data in candidate_dirs()


def test_every_catalog_is_shipped_with_an_installation() -> None:
    """pyproject.toml's data-files must list each catalog, or `pip install .` drops it."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        data_files = tomllib.load(handle)["tool"]["setuptools"]["data-files"]
    shipped = {
        (ROOT / source, target) for target, sources in data_files.items() for source in sources
    }
    expected = {(TEMPLATE, "share/bibliobot/locales")} | {
        (po, f"share/bibliobot/locales/{po.parent.parent.name}/LC_MESSAGES")
        for po in LOCALES.glob("*/LC_MESSAGES/bibliobot.po")
    }
    assert shipped == expected


def test_no_compiled_catalog_is_committed() -> None:
    """The bot compiles .po files in memory; a .mo in git could only disagree with its .po."""
    assert (LOCALES / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*.mo"
