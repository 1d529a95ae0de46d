"""The circulation rules engine: pure decisions over a policy, a calendar and the time.

Nothing here touches the store, Telegram or a clock: every function takes the facts it
decides on (small frozen dataclasses from :mod:`.facts`), the :class:`Policy` (a regulation as
data, loaded by :func:`load_policy`), the :class:`LibraryCalendar` and ``now`` / ``today``, and
returns a frozen decision with ``allowed``, a stable ``reason`` code (:class:`Reason`) and the
rule ID of RULES.md that decided. The service layer reads the facts, calls a decision and
writes its outcome in one transaction.

Modules: ``policy`` / ``policy_loader`` (the regulation), ``library_calendar`` (opening days,
holidays, transport), ``loanability`` (G2, G3), ``checkout`` (G7-G11, C2), ``renewal`` (G14,
C5, G18), ``fines`` (C6, C7), ``standing`` (G4, G16, G20, C8), ``holds`` (G13, C1, C4),
``returns`` (C3, N1), ``short_loan`` (G4), ``replacement`` (G17, C9), ``interlibrary``
(G18-G20).
"""

from bot.circulation.checkout import CheckoutDecision, DueDate, checkout_decision, due_date
from bot.circulation.facts import (
    CopyFacts,
    HoldFacts,
    HoldState,
    ItemCondition,
    ItemFacts,
    LoanFacts,
    PatronCategory,
    PatronFacts,
)
from bot.circulation.fines import ItemFine, Lateness, PatronFines, item_fine, patron_fines
from bot.circulation.holds import (
    HoldDecision,
    copy_for_request,
    hold_decision,
    next_hold_to_fill,
    pickup_deadline,
    pickup_expired,
    queue_positions,
    title_held_by_others,
    title_hold_decision,
)
from bot.circulation.interlibrary import (
    DocumentDeliveryDecision,
    IllDecision,
    document_delivery_decision,
    ill_delivery_target,
    ill_request_decision,
    withdrawal_charge,
)
from bot.circulation.library_calendar import (
    BranchSchedule,
    CalendarError,
    Closure,
    LibraryCalendar,
    OpeningInterval,
    UnknownBranchError,
)
from bot.circulation.loanability import Loanability, loanability
from bot.circulation.money import format_euros, parse_euros
from bot.circulation.policy import IllScope, Policy
from bot.circulation.policy_loader import PRESETS, PolicyError, load_policy
from bot.circulation.reasons import Decision, Reason
from bot.circulation.renewal import (
    RenewalDecision,
    ill_renewal_request_decision,
    renewal_decision,
)
from bot.circulation.replacement import ReplacementTerms, replacement_terms
from bot.circulation.returns import ReturnAction, ReturnRouting, route_returned_item
from bot.circulation.short_loan import (
    ShortLoanDecision,
    ShortLoanWindow,
    short_loan_decision,
    short_loan_return_restrictions,
    short_loan_window,
)
from bot.circulation.standing import (
    GOOD_STANDING,
    AccountFacts,
    Restriction,
    RestrictionKind,
    Standing,
    StandingStatus,
    assess_standing,
)

__all__ = [
    "GOOD_STANDING",
    "PRESETS",
    "AccountFacts",
    "BranchSchedule",
    "CalendarError",
    "CheckoutDecision",
    "Closure",
    "CopyFacts",
    "Decision",
    "DocumentDeliveryDecision",
    "DueDate",
    "HoldDecision",
    "HoldFacts",
    "HoldState",
    "IllDecision",
    "IllScope",
    "ItemCondition",
    "ItemFacts",
    "ItemFine",
    "Lateness",
    "LibraryCalendar",
    "LoanFacts",
    "Loanability",
    "OpeningInterval",
    "PatronCategory",
    "PatronFacts",
    "PatronFines",
    "Policy",
    "PolicyError",
    "Reason",
    "RenewalDecision",
    "ReplacementTerms",
    "Restriction",
    "RestrictionKind",
    "ReturnAction",
    "ReturnRouting",
    "ShortLoanDecision",
    "ShortLoanWindow",
    "Standing",
    "StandingStatus",
    "UnknownBranchError",
    "assess_standing",
    "checkout_decision",
    "copy_for_request",
    "document_delivery_decision",
    "due_date",
    "format_euros",
    "hold_decision",
    "ill_delivery_target",
    "ill_renewal_request_decision",
    "ill_request_decision",
    "item_fine",
    "load_policy",
    "loanability",
    "next_hold_to_fill",
    "parse_euros",
    "patron_fines",
    "pickup_deadline",
    "pickup_expired",
    "queue_positions",
    "renewal_decision",
    "replacement_terms",
    "route_returned_item",
    "short_loan_decision",
    "short_loan_return_restrictions",
    "short_loan_window",
    "title_held_by_others",
    "title_hold_decision",
    "withdrawal_charge",
]
