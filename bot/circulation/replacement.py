"""What a patron owes for a lost or ruined item (G17, C9)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.circulation.policy import Policy, ReplacementMethod


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplacementTerms:
    """How the patron makes good the item, and the amount when it is money.

    ``amount_cents`` is None when the patron brings a copy (G17's same or equivalent edition,
    C9's "buy it again"): the library then charges nothing unless the patron does not.
    """

    method: ReplacementMethod
    amount_cents: int | None
    rule: str


def replacement_terms(
    policy: Policy,
    *,
    in_print: bool,
    cover_price_cents: int | None = None,
    valuable: bool = False,
) -> ReplacementTerms:
    """The replacement a lost or ruined item calls for.

    ``valuable`` marks a document of particular interest and value (Ginestra asks for a bound
    reproduction). For a cash method the cover price is charged, never less than the minimum
    (C9: at least € 10); an unknown cover price charges the minimum, which staff may raise.
    """
    rules = policy.replacement
    if valuable and rules.valuable is not None:
        # rule G17: documents of particular value -> a bound reproduction.
        method = rules.valuable
    elif in_print:
        # rule G17: the same edition or an equivalent one; rule C9: buy it again.
        method = rules.in_print
    else:
        # rule G17: an item of equal value chosen by the library; rule C9: the cover price.
        method = rules.out_of_print
    amount = None
    if method is ReplacementMethod.COVER_PRICE:
        # rule C9: at least € 10.
        amount = max(cover_price_cents or 0, rules.minimum_cents)
    return ReplacementTerms(method=method, amount_cents=amount, rule=rules.rule)
