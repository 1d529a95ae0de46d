"""Overdue fines (C6, C7): exact, in cents, with every cap.

RULES.md's Decision: days are calendar days; an item returned 8 days late owes 8 × € 0.10
(the grace waives, it does not shift the count) and 7 days late owes nothing. The one-title cap
bounds each item's fine; the several-titles cap bounds the sum of the fines of one patron's
items late at the same time; the absolute cap bounds everything owed for lateness.

"Late at the same time" is read as: the items' late periods (the day after the due date up to
the return, or today) overlap, directly or through a chain of fined items; each such group is
capped on its own. When a cap bites, the amount is taken from the items in due-date order, so
each item's share is deterministic and the shares add up to the capped total exactly.
A policy without ``[fines]`` (Ginestra) charges nothing, ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.circulation.dates import days_late
from bot.circulation.facts import PatronCategory
from bot.circulation.policy import Policy


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemFine:
    """One item's fine on its own (before the caps that involve other items)."""

    days_late: int
    amount_cents: int
    uncapped_cents: int  # days × rate, or 0 within the grace
    rule: str | None  # C6 within the grace, C7 past it; None without fines


@dataclass(frozen=True, slots=True, kw_only=True)
class Lateness:
    """An item's late period: ``key`` is the caller's (a loan id), ``end_on`` the return date
    or today for an item still out."""

    key: int
    due_on: date
    end_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class PatronFines:
    """A patron's overdue fines after every cap: per item, per group and in total."""

    total_cents: int
    by_key: Mapping[int, int]
    groups: tuple[tuple[int, ...], ...]  # keys of the fined items late at the same time
    rule: str | None
    capped: bool  # whether any cap reduced the sum of the items' own fines


def item_fine(policy: Policy, category: PatronCategory, *, due_on: date, end_on: date) -> ItemFine:
    """The fine of one item due on ``due_on`` and returned (or still out) on ``end_on``."""
    late = days_late(due_on, end_on)
    rules = policy.fines
    if rules is None:
        return ItemFine(days_late=late, amount_cents=0, uncapped_cents=0, rule=None)
    # rule C6: up to 7 days late costs nothing.
    if late <= rules.grace_days:
        return ItemFine(days_late=late, amount_cents=0, uncapped_cents=0, rule=rules.grace_rule)
    # rule C7: € 0.10 a day per item from the first day after the due date ...
    uncapped = late * rules.cents_per_day
    # ... up to the one-title cap of the patron's category.
    cap = rules.caps.get(category).one_title_cents
    return ItemFine(
        days_late=late, amount_cents=min(uncapped, cap), uncapped_cents=uncapped, rule=rules.rule
    )


def patron_fines(
    policy: Policy,
    category: PatronCategory,
    lateness: Sequence[Lateness],
    *,
    owed_elsewhere_cents: int = 0,
) -> PatronFines:
    """The overdue fines of one patron's items, with C7's three caps.

    ``lateness`` lists the items whose fines are being (re)computed; ``owed_elsewhere_cents`` is
    what the patron already owes for lateness on other items (charged and unpaid), which the
    absolute cap also bounds.
    """
    if len({item.key for item in lateness}) != len(lateness):
        raise ValueError("each item's key must be unique")
    rules = policy.fines
    if rules is None:
        zero = {item.key: 0 for item in lateness}
        return PatronFines(total_cents=0, by_key=zero, groups=(), rule=None, capped=False)
    caps = rules.caps.get(category)
    own = {
        item.key: item_fine(policy, category, due_on=item.due_on, end_on=item.end_on)
        for item in lateness
    }
    amounts = {key: fine.amount_cents for key, fine in own.items()}
    capped = any(f.amount_cents < f.uncapped_cents for f in own.values())
    fined = [item for item in lateness if amounts[item.key] > 0]
    groups = late_together(fined)
    # rule C7: several titles late at the same time share the several-titles cap.
    for group in groups:
        if len(group) > 1:
            capped |= _take(amounts, group, caps.several_titles_cents)
    # rule C7: never more than € 20 in any case, counting what is already owed.
    if rules.absolute_cap_cents is not None:
        room = max(0, rules.absolute_cap_cents - max(0, owed_elsewhere_cents))
        order = {item.key: (item.due_on, item.key) for item in lateness}
        ordered = sorted((key for group in groups for key in group), key=order.__getitem__)
        capped |= _take(amounts, ordered, room)
    return PatronFines(
        total_cents=sum(amounts.values()),
        by_key=amounts,
        groups=tuple(tuple(group) for group in groups),
        rule=rules.rule,
        capped=capped,
    )


def late_together(items: Sequence[Lateness]) -> list[list[int]]:
    """Group items whose late periods overlap (transitively), each group in due-date order."""
    ordered = sorted(items, key=lambda i: (i.due_on, i.key))
    groups: list[list[int]] = []
    group_end: date | None = None
    for item in ordered:
        first_late_day = date.fromordinal(item.due_on.toordinal() + 1)
        if groups and group_end is not None and first_late_day <= group_end:
            groups[-1].append(item.key)
            group_end = max(group_end, item.end_on)
        else:
            groups.append([item.key])
            group_end = item.end_on
    return groups


def _take(amounts: dict[int, int], keys: Sequence[int], cap: int) -> bool:
    """Reduce ``amounts[keys]`` in order so they sum to at most ``cap``; True if reduced."""
    remaining = cap
    reduced = False
    for key in keys:
        keep = min(amounts[key], remaining)
        reduced |= keep < amounts[key]
        amounts[key] = keep
        remaining -= keep
    return reduced
