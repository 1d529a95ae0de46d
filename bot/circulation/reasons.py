"""Stable reason codes and the shape every circulation decision shares.

The UI, the CLI's ``{"error": CODE}`` and the tests all key on these codes, so they are part of
the product's outside (INTERFACE.md): a code may be added, never renamed. The domain never
writes prose; the handlers translate a code into the patron's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Why a decision refused, or why a patron's standing is restricted."""

    # Patron standing (G4, G16, G20, C8)
    SUSPENDED = "suspended"
    EXCLUDED = "excluded"
    OVERDUE = "overdue"  # a loan is more days late than the suspension threshold
    LONG_OVERDUE = "long_overdue"  # a loan is more days late than the exclusion threshold
    UNPAID_FINES = "unpaid_fines"
    UNPAID_SERVICE = "unpaid_service"
    SHORT_LOAN_NOT_RETURNED = "short_loan_not_returned"
    SHORT_LOAN_LATE = "short_loan_late"
    STAFF_RESTRICTION = "staff_restriction"  # an open restriction the rules do not derive

    # Checkout (G2, G3, G7, G8, C2, N4)
    NOT_LOANABLE = "not_loanable"
    DIGITAL_ONLY = "digital_only"
    NOT_AVAILABLE = "not_available"
    ON_HOLD = "on_hold"
    LOAN_LIMIT = "loan_limit"
    TYPE_LIMIT = "type_limit"
    SECTION_LIMIT = "section_limit"

    # Renewal (G14, C5)
    NOT_RENEWABLE = "not_renewable"
    RENEWAL_LIMIT = "renewal_limit"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"

    # Holds (G13, C1, C4)
    HOLD_LIMIT = "hold_limit"
    NOT_HOLDABLE = "not_holdable"
    ITEM_AVAILABLE = "item_available"
    ALREADY_HELD = "already_held"
    ALREADY_ON_LOAN = "already_on_loan"
    UNKNOWN_BRANCH = "unknown_branch"

    # Short loan (G4)
    NOT_OFFERED = "not_offered"
    REGISTERED_TOO_RECENTLY = "registered_too_recently"
    OVERDUE_LOANS = "overdue_loans"
    SHORT_LOAN_EXCLUDED = "short_loan_excluded"
    SHORT_LOAN_LIMIT = "short_loan_limit"
    SHORT_LOAN_NOT_ELIGIBLE = "short_loan_not_eligible"
    OUTSIDE_SHORT_LOAN_WINDOW = "outside_short_loan_window"

    # Interlibrary loan and document delivery (G18, G19)
    ILL_LIMIT = "ill_limit"
    HELD_LOCALLY = "held_locally"
    COPY_SHARE_EXCEEDED = "copy_share_exceeded"
    DOCUMENT_DELIVERY_LIMIT = "document_delivery_limit"


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What every decision answers: may it happen, and if not, why and under which rule.

    ``rule`` is the rule ID of RULES.md that decided (``"C5"``), also when the answer is yes
    (the rule that set the due date, say), so that a receipt or a dispute can cite it.
    ``detail`` narrows a reason for staff (``not_loanable`` because of ``"section"``) without
    multiplying reason codes.
    """

    allowed: bool
    reason: Reason | None = None
    rule: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        # A refusal without a reason cannot be translated; an approval with one is a bug.
        if self.allowed == (self.reason is not None):
            raise ValueError("a decision has a reason exactly when it refuses")
