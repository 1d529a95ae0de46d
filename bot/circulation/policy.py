"""The circulation policy: every number of a regulation, as data.

A library's regulation is a policy file (TOML) rather than code, because the two seed
regulations differ in nearly every number and in some mechanisms (fines or none, renewal from
the request date or from the due date, pickup in opening days or calendar days), and a third
library must be able to change a number without a release. The two shipped presets
(``presets/ginestra.toml``, ``presets/cbnem.toml``) encode RULES.md exactly; the loader is in
:mod:`bot.circulation.policy_loader`.

Every section names the rule ID(s) it implements, so that a decision can cite the rule of the
regulation in force (``G8`` under Ginestra, ``C2`` under the consortium) and a policy written
from scratch must say which rule of its own regulation each number comes from.

A section that a regulation does not have (fines under Ginestra, short loan under CBNEM) is
absent, and the feature it drives is then "not offered".
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from bot.circulation.facts import ItemCondition, MaterialType, PatronCategory

RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")]
Days = Annotated[int, Field(ge=0, le=3650)]
PositiveDays = Annotated[int, Field(ge=1, le=3650)]
Count = Annotated[int, Field(ge=0, le=10_000)]
Cents = Annotated[int, Field(ge=0, le=100_000_000)]

T = TypeVar("T")


class _Model(BaseModel):
    # A misspelt key is an error, not a silently ignored number; a policy never changes once
    # loaded, so decisions can share it across threads and requests.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ByCategory(_Model, Generic[T]):
    """One value per patron category; all three are required so no category is forgotten."""

    adult: T
    child: T
    institution: T

    def get(self, category: PatronCategory) -> T:
        match category:
            case PatronCategory.ADULT:
                return self.adult
            case PatronCategory.CHILD:
                return self.child
            case PatronCategory.INSTITUTION:
                return self.institution


class LoanDays(_Model):
    """Loan period in calendar days per material type (G9, C2).

    A type left out has no ordinary loan period in the regulation (Ginestra's periodicals, G3),
    so it cannot be lent ordinarily even if a section would allow it.
    """

    book: PositiveDays | None = None
    audiovisual: PositiveDays | None = None
    periodical: PositiveDays | None = None
    audiobook: PositiveDays | None = None
    ebook: PositiveDays | None = None

    def for_type(self, material: MaterialType) -> int | None:
        return _per_type(self, material)


class LoanLimits(_Model):
    """How many items a patron may have at once: overall and per type (G8, C2).

    A type without a number is bounded by the total only.
    """

    total: Count
    book: Count | None = None
    audiovisual: Count | None = None
    periodical: Count | None = None
    audiobook: Count | None = None
    ebook: Count | None = None

    def for_type(self, material: MaterialType) -> int | None:
        return _per_type(self, material)


def _per_type(model: LoanDays | LoanLimits, material: MaterialType) -> int | None:
    match material:
        case MaterialType.BOOK:
            return model.book
        case MaterialType.AUDIOVISUAL:
            return model.audiovisual
        case MaterialType.PERIODICAL:
            return model.periodical
        case MaterialType.AUDIOBOOK:
            return model.audiobook
        case MaterialType.EBOOK:
            return model.ebook


class LoanRules(_Model):
    """``[loans]``: periods, limits, and where a due date may fall."""

    rule: RuleId  # the regulation's loan periods (G9, C2)
    limits_rule: RuleId  # the regulation's quantity limits (G8, C2)
    override_rule: RuleId  # per-section / per-item periods and section limits (G10, C2)
    closed_day_rule: RuleId  # due date on a closed day (G11)
    digital_rule: RuleId | None = None  # e-books are lent by the digital library (N4)

    days: ByCategory[LoanDays]
    limits: ByCategory[LoanLimits]
    move_due_to_opening_day: bool = True
    digital_only: frozenset[MaterialType] = frozenset()

    @model_validator(mode="after")
    def _digital_rule_named(self) -> LoanRules:
        if self.digital_only and self.digital_rule is None:
            raise ValueError("digital_only needs digital_rule (the rule that says so, e.g. N4)")
        return self


class LoanabilityRules(_Model):
    """``[loanability]``: what may not be lent (G3); everything else may (G2).

    Sections that may not be lent are in ``[sections.CODE] loanable = false``, next to the other
    per-section numbers; the ``not_for_loan`` flag of a copy is always honoured.
    """

    rule: RuleId  # refusals (G3)
    loanable_rule: RuleId  # what is lent (G2)
    conditions: frozenset[ItemCondition] = frozenset()
    material_types: frozenset[MaterialType] = frozenset()
    recent_release_types: frozenset[MaterialType] = frozenset()
    recent_release_months: Annotated[int, Field(ge=0, le=600)] = 0


class SectionRule(_Model):
    """``[sections.CODE]``: a collection or section with its own rules (G3, G10, C2)."""

    loanable: bool = True
    loan_days: PositiveDays | None = None
    limit: Count | None = None


class ShortLoanRules(_Model):
    """``[short_loan]``: the loan of normally excluded material for a night or a weekend (G4)."""

    rule: RuleId
    min_registration_days: Days
    max_items: Annotated[int, Field(ge=1, le=100)]
    saturday_from: time
    before_holiday_from: time
    evening_from: time
    ends_at: time
    short_loan_exclusion_after_days_late: Days


class PickupDayKind(StrEnum):
    """How the days a ready hold is kept are counted (G13 opening days, C4 calendar days)."""

    OPENING = "opening"
    CALENDAR = "calendar"


class HoldRules(_Model):
    """``[holds]``: how many, on what, and for how long it waits at the desk (G13, C1, C4)."""

    rule: RuleId
    max_active: Annotated[int, Field(ge=0, le=1000)]
    on_available_items: bool
    pickup_days: Annotated[int, Field(ge=1, le=365)]
    pickup_day_kind: PickupDayKind
    notify_within_hours: Annotated[int, Field(ge=1, le=720)] | None = None


class RenewalBase(StrEnum):
    """What a renewal's extension counts from (G14 the request date, C5 the due date)."""

    REQUEST_DATE = "request_date"
    DUE_DATE = "due_date"


class Extension(_Model):
    """How much a renewal adds: calendar months, then days (G14 "1 month", C5 "30 days")."""

    months: Annotated[int, Field(ge=0, le=120)] = 0
    days: Days = 0

    @model_validator(mode="after")
    def _extends(self) -> Extension:
        if self.months == 0 and self.days == 0:
            raise ValueError("a renewal must add at least one day or month")
        return self


class RenewalRules(_Model):
    """``[renewals]`` (G14, C5). A material type without an extension is not renewable."""

    rule: RuleId
    max_renewals: Count
    base: RenewalBase
    earliest_days_before_due: Days | None = None
    latest_days_after_due: Days = 0
    refuse_if_held: bool = True
    extension: dict[MaterialType, Extension]


class FineCaps(_Model):
    """C7's caps for one category: one title, several titles late at the same time."""

    one_title_cents: Cents
    several_titles_cents: Cents


class FineRules(_Model):
    """``[fines]``: overdue fines (C6 grace, C7 rate and caps)."""

    rule: RuleId
    grace_rule: RuleId
    grace_days: Days
    cents_per_day: Cents
    caps: ByCategory[FineCaps]
    absolute_cap_cents: Cents | None = None


class StandingRules(_Model):
    """``[standing]``: when a patron is suspended or excluded (G16, C8, G20).

    A threshold or rule that is absent does not apply: Ginestra has no money fines, so unpaid
    fines suspend nobody there; the consortium excludes nobody for lateness alone.
    """

    overdue_rule: RuleId
    suspend_after_days_late: PositiveDays | None = None
    exclusion_rule: RuleId | None = None
    exclude_after_days_late: PositiveDays | None = None
    unpaid_fines_rule: RuleId | None = None
    unpaid_services_rule: RuleId | None = None

    @model_validator(mode="after")
    def _exclusion_has_rule(self) -> StandingRules:
        if self.exclude_after_days_late is not None and self.exclusion_rule is None:
            raise ValueError("exclude_after_days_late needs exclusion_rule")
        return self


class ReplacementMethod(StrEnum):
    """What a patron owes for a lost or ruined item (G17, C9)."""

    SAME_OR_EQUIVALENT_EDITION = "same_or_equivalent_edition"
    BUY_AGAIN = "buy_again"
    EQUAL_VALUE_ITEM = "equal_value_item"
    COVER_PRICE = "cover_price"
    BOUND_REPRODUCTION = "bound_reproduction"


class ReplacementRules(_Model):
    """``[replacement]`` (G17, C9)."""

    rule: RuleId
    in_print: ReplacementMethod
    out_of_print: ReplacementMethod
    valuable: ReplacementMethod | None = None
    minimum_cents: Cents = 0


class IllScope(StrEnum):
    """``ill_requests.scope``."""

    PROVINCIAL = "provincial"
    REGIONAL = "regional"
    NATIONAL = "national"
    INTERNATIONAL = "international"


class IllScopeRules(_Model):
    """One interlibrary scope: who pays and how soon it arrives (G18)."""

    patron_pays: bool
    delivery_working_days: PositiveDays | None = None


class IllQuota(_Model):
    """At most ``max_open`` open requests across ``scopes`` (G18: 3 provincial + 3 wider)."""

    scopes: frozenset[IllScope]
    max_open: Count


class InterlibraryRules(_Model):
    """``[interlibrary]`` (G18). A scope that is not listed is not offered."""

    rule: RuleId
    scopes: dict[IllScope, IllScopeRules]
    quotas: dict[str, IllQuota] = Field(default_factory=dict)
    renewal_notice_days: Days = 0
    refuse_if_held_locally: bool = True


class DocumentDeliveryRules(_Model):
    """``[document_delivery]``: copies of articles and parts of books (G19)."""

    rule: RuleId
    max_share_percent: Annotated[int, Field(ge=1, le=100)]
    max_requests_per_week: Count
    patron_pays: bool


class Policy(_Model):
    """A whole regulation. Build it with :func:`bot.circulation.policy_loader.load_policy`."""

    name: str
    description: str = ""
    loans: LoanRules
    loanability: LoanabilityRules
    sections: dict[str, SectionRule] = Field(default_factory=dict)
    short_loan: ShortLoanRules | None = None
    holds: HoldRules
    renewals: RenewalRules
    fines: FineRules | None = None
    standing: StandingRules
    replacement: ReplacementRules
    interlibrary: InterlibraryRules | None = None
    document_delivery: DocumentDeliveryRules | None = None

    @field_validator("sections")
    @classmethod
    def _fold_section_codes(cls, value: dict[str, SectionRule]) -> dict[str, SectionRule]:
        # Catalog files spell section codes in any case ("REF", "ref"); the policy must match
        # them all, and two spellings of one code in a file would be a contradiction.
        folded: dict[str, SectionRule] = {}
        for code, rule in value.items():
            key = code.strip().casefold()
            if not key:
                raise ValueError("a section code cannot be empty")
            if key in folded:
                raise ValueError(f"section {code!r} is listed twice")
            folded[key] = rule
        return folded

    def section(self, code: str | None) -> SectionRule | None:
        """The rules of a copy's section, if the policy gives that section any."""
        if code is None:
            return None
        return self.sections.get(code.strip().casefold())
