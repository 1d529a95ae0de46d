"""Properties of the store under any sequence of circulation operations (Hypothesis).

A state machine drives the service layer over a real SQLite file: checkouts, returns at any
branch, holds placed and cancelled, time passing, copies arriving, pickups expiring. Whatever
the sequence, after every step:

* a copy is never on loan twice, and a copy is ``on_loan`` exactly when a loan is open;
* each title's queue positions, as patrons see them, are 1..n with no gaps;
* a copy waiting on the hold shelf is kept for exactly one ready hold, and a trapped hold's
  copy is where the hold says (on the shelf, or travelling);
* a patron never holds the same title twice.

Refusals are part of the game (a rule said no); any other exception fails the test.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bot.services import holds, loans, patrons
from bot.services.errors import Refusal
from tests.integration.circulation.conftest import CBNEM_BRANCHES, _world, at

BRANCHES = list(CBNEM_BRANCHES)
CARDS = ["A", "B", "C", "D"]
COPIES = {"T1-a": (1, "BRU"), "T1-b": (1, "VIM"), "T2-a": (2, "COL"), "T3-a": (3, "CER")}


class Circulation(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.folder = Path(tempfile.mkdtemp(prefix="bibliobot-props-"))
        self.world = self.runner.run(
            _world(self.folder / "s.sqlite3", "cbnem", CBNEM_BRANCHES, None)
        )
        self.now = at(2026, 11, 2)
        self.records: dict[int, int] = {}
        self.runner.run(self._populate())

    async def _populate(self) -> None:
        for title in (1, 2, 3):
            self.records[title] = await self.world.record(f"Titolo {title}")
        for barcode, (title, branch) in COPIES.items():
            await self.world.copy(self.records[title], barcode, branch)
        for card in CARDS:
            await self.world.patron(card, "BRU")

    def teardown(self) -> None:
        self.runner.run(self.world.store.close())
        self.runner.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def attempt(self, operation: object) -> None:
        name = getattr(operation, "__name__", "operation")
        try:
            self.runner.run(operation)  # type: ignore[arg-type]
        except Refusal as refusal:
            event(f"{name}: refused {refusal.code}")
        else:
            event(f"{name}: done")
        for (state,) in self.rows("SELECT state FROM holds"):
            event(f"a hold was {state}")

    @property
    def library(self):  # type: ignore[no-untyped-def]
        return self.world.library

    # -- operations --------------------------------------------------------------------------

    @rule(card=st.sampled_from(CARDS), barcode=st.sampled_from(list(COPIES)))
    def checkout(self, card: str, barcode: str) -> None:
        self.attempt(loans.checkout(self.library, card=card, barcode=barcode, now=self.now))

    @rule(barcode=st.sampled_from(list(COPIES)), branch=st.sampled_from(BRANCHES))
    def checkin(self, barcode: str, branch: str) -> None:
        self.attempt(loans.checkin(self.library, barcode=barcode, branch=branch, now=self.now))

    @rule(
        card=st.sampled_from(CARDS),
        title=st.sampled_from([1, 2, 3]),
        pickup=st.sampled_from(BRANCHES),
    )
    def place_hold(self, card: str, title: int, pickup: str) -> None:
        self.attempt(
            holds.place_hold(
                self.library, card=card, record_id=self.records[title], pickup=pickup, now=self.now
            )
        )

    @rule(card=st.sampled_from(CARDS), pick=st.integers(min_value=0, max_value=5))
    def cancel_hold(self, card: str, pick: int) -> None:
        ids = self.hold_ids(card)
        if ids:
            self.attempt(
                holds.cancel_hold(
                    self.library, card=card, hold_id=ids[pick % len(ids)], now=self.now
                )
            )

    @rule(
        card=st.sampled_from(CARDS),
        pick=st.integers(min_value=0, max_value=5),
        days=st.integers(min_value=1, max_value=20),
    )
    def suspend_or_resume_hold(self, card: str, pick: int, days: int) -> None:
        ids = self.hold_ids(card)
        if not ids:
            return
        hold_id = ids[pick % len(ids)]
        local_today = self.now.astimezone(at(2026, 1, 1).tzinfo).date()
        self.attempt(
            holds.suspend_hold(
                self.library,
                card=card,
                hold_id=hold_id,
                until=local_today + timedelta(days=days),
                now=self.now,
            )
        )
        self.attempt(holds.resume_hold(self.library, card=card, hold_id=hold_id, now=self.now))

    @rule(card=st.sampled_from(CARDS), barcode=st.sampled_from(list(COPIES)))
    def renew(self, card: str, barcode: str) -> None:
        self.attempt(loans.renew(self.library, card=card, barcode=barcode, now=self.now))

    @rule(days=st.integers(min_value=1, max_value=12), hour=st.integers(min_value=8, max_value=20))
    def time_passes(self, days: int, hour: int) -> None:
        local = (self.now + timedelta(days=days)).astimezone(at(2026, 1, 1).tzinfo)
        self.now = at(local.year, local.month, local.day, hour)
        self.attempt(holds.receive_transits(self.library, now=self.now))
        self.attempt(holds.expire_pickups(self.library, now=self.now))

    def hold_ids(self, card: str) -> list[int]:
        summary = self.runner.run(patrons.summary(self.library, card=card, now=self.now))
        return [hold.hold_id for hold in summary.holds]

    # -- invariants --------------------------------------------------------------------------

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.world.store.path) as conn:
            return conn.execute(sql).fetchall()

    @invariant()
    def a_copy_is_never_on_loan_twice(self) -> None:
        assert (
            self.rows(
                "SELECT item_id FROM loans WHERE returned_at IS NULL GROUP BY item_id"
                " HAVING count(*) > 1"
            )
            == []
        )
        mismatched = self.rows(
            "SELECT i.barcode FROM items i WHERE (i.status = 'on_loan') != EXISTS"
            " (SELECT 1 FROM loans l WHERE l.item_id = i.id AND l.returned_at IS NULL)"
        )
        assert mismatched == []

    @invariant()
    def queue_positions_are_one_to_n(self) -> None:
        positions: dict[int, list[int]] = {}
        for card in CARDS:
            summary = self.runner.run(patrons.summary(self.library, card=card, now=self.now))
            for hold in summary.holds:
                assert hold.position is not None
                positions.setdefault(hold.record_id, []).append(hold.position)
        for seen in positions.values():
            assert sorted(seen) == list(range(1, len(seen) + 1))

    @invariant()
    def kept_copies_and_trapped_holds_agree(self) -> None:
        shelf = self.rows("SELECT id FROM items WHERE status = 'on_hold_shelf'")
        for (item_id,) in shelf:
            ready = self.rows(
                f"SELECT count(*) FROM holds WHERE item_id = {item_id} AND state = 'ready'"
            )
            assert ready == [(1,)]
        trapped = self.rows(
            "SELECT h.state, i.status FROM holds h JOIN items i ON i.id = h.item_id"
            " WHERE h.state IN ('ready', 'in_transit')"
        )
        for state, status in trapped:
            assert (state, status) in {("ready", "on_hold_shelf"), ("in_transit", "in_transit")}

    @invariant()
    def one_active_hold_per_patron_and_title(self) -> None:
        assert (
            self.rows(
                "SELECT patron_id, record_id FROM holds WHERE state IN"
                " ('waiting', 'suspended', 'in_transit', 'ready')"
                " GROUP BY patron_id, record_id HAVING count(*) > 1"
            )
            == []
        )


Circulation.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_circulation_properties = Circulation.TestCase
