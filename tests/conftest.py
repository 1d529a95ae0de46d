"""Fixtures shared by every tier: a real SQLite store in a temporary folder, fixed instants."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from db.store import Store

CATALOG = Path(__file__).parent / "data" / "catalog"
BNCF = CATALOG / "bncf_sbnweb_unimarc.mrc"
KOHA_XML = CATALOG / "koha_ktd_marc21.xml"
KOHA_952 = CATALOG / "koha_ktd_marc21_952.mrc"
EVERGREEN_MARC8 = CATALOG / "evergreen_lul_fre500_marc8.mrc"

settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("ci")


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bibliobot.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(db_path)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(scope="session")
def catalog_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with three real catalogs imported, built once and copied by each test."""
    from bot.catalog.importer import import_files

    path = tmp_path_factory.mktemp("catalog") / "template.sqlite3"

    async def build() -> None:
        async with await Store.open(path) as store:
            await import_files(
                store,
                [BNCF, KOHA_952, EVERGREEN_MARC8],
                now=datetime(2026, 11, 1, tzinfo=UTC),
            )

    asyncio.run(build())
    return path


@pytest.fixture
async def catalog(catalog_template: Path, db_path: Path) -> AsyncIterator[Store]:
    """A store holding the BNCF, Koha (with holdings) and Evergreen catalogs."""
    shutil.copyfile(catalog_template, db_path)
    opened = await Store.open(db_path)
    try:
        yield opened
    finally:
        await opened.close()
