"""PINs are kept only as salted scrypt hashes: the database does not give the cards away."""

from __future__ import annotations

import pytest

from bot.circulation import PatronCategory
from bot.services import patrons
from bot.services.pins import BadPin, hash_pin, verify_pin
from tests.integration.circulation.conftest import World, at


async def stored_hash(world: World, card: str) -> str:
    rows = await world.store.reader.execute_fetchall(
        "SELECT pin_hash FROM patrons WHERE card = ?", (card,)
    )
    return str(next(iter(rows))[0])


async def test_the_store_keeps_a_salted_slow_hash_never_the_pin(cbnem: World) -> None:
    for card in ("P1", "P2"):
        await patrons.add_patron(
            cbnem.library,
            card=card,
            name="Anna Rossi",
            category=PatronCategory.ADULT,
            branch="BRU",
            pin="482913",
            now=at(2026, 1, 10),
        )
    first, second = await stored_hash(cbnem, "P1"), await stored_hash(cbnem, "P2")
    assert first.startswith("scrypt$16384$8$1$")  # memory-hard, and its cost is recorded
    assert "482913" not in first
    assert first != second  # each its own salt: equal PINs do not show
    assert verify_pin("482913", first)
    assert verify_pin("482913", second)
    assert not verify_pin("482914", first)


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", "١٢٣٤"])
def test_only_four_to_eight_ascii_digits_are_a_pin(pin: str) -> None:
    with pytest.raises(BadPin, match="4 to 8 digits"):
        hash_pin(pin)
    assert not verify_pin(pin, hash_pin("1234"))


def test_a_damaged_stored_hash_verifies_nothing() -> None:
    for stored in ("", "plain1234", "scrypt$x$8$1$AA==$AA==", "bcrypt$1$2$3$4$5", None):
        assert not verify_pin("1234", stored)
