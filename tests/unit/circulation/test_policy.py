"""The policy model and its loader; the presets carry RULES.md's numbers exactly."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.catalog.model import MaterialType
from bot.circulation.facts import ItemCondition, PatronCategory
from bot.circulation.policy import (
    Extension,
    IllScope,
    PickupDayKind,
    RenewalBase,
    ReplacementMethod,
)
from bot.circulation.policy_loader import PolicyError, load_policy, preset_text

from .support import CBNEM, GINESTRA


def test_ginestra_preset_numbers_are_the_regulations() -> None:
    loans = GINESTRA.loans
    adult = loans.days.adult
    assert (adult.book, adult.audiovisual, adult.ebook) == (30, 7, 14)  # G9
    assert adult.periodical is None  # G3: periodicals have no ordinary loan
    limits = loans.limits.adult
    assert (limits.total, limits.book, limits.audiovisual) == (40, 20, 10)  # G8
    assert (limits.periodical, limits.audiobook) == (5, 5)
    assert loans.limits.child == limits
    institution = loans.limits.institution  # G5: its own numbers
    assert institution != limits
    assert loans.days.institution != adult
    assert GINESTRA.loanability.conditions == {ItemCondition.POOR}
    assert GINESTRA.loanability.material_types == {MaterialType.PERIODICAL}
    assert GINESTRA.loanability.recent_release_months == 18
    assert {"local", "ref"} <= set(GINESTRA.sections)
    short = GINESTRA.short_loan
    assert short is not None
    assert (short.min_registration_days, short.max_items) == (30, 3)
    assert (short.saturday_from, short.before_holiday_from, short.evening_from) == (
        time(12, 30),
        time(13, 0),
        time(18, 30),
    )
    assert short.ends_at == time(9, 0)
    assert short.short_loan_exclusion_after_days_late == 7
    holds = GINESTRA.holds
    assert (holds.max_active, holds.on_available_items, holds.pickup_days) == (5, False, 3)
    assert holds.pickup_day_kind is PickupDayKind.OPENING
    assert holds.notify_within_hours == 24
    renewals = GINESTRA.renewals
    assert (renewals.max_renewals, renewals.base) == (2, RenewalBase.REQUEST_DATE)
    assert (renewals.earliest_days_before_due, renewals.latest_days_after_due) == (None, 0)
    assert renewals.extension[MaterialType.BOOK] == Extension(months=1)
    assert renewals.extension[MaterialType.AUDIOVISUAL] == Extension(days=7)
    assert GINESTRA.fines is None  # no money fines
    standing = GINESTRA.standing
    assert (standing.suspend_after_days_late, standing.exclude_after_days_late) == (30, 90)
    assert standing.unpaid_fines_rule is None
    assert standing.unpaid_services_rule == "G20"
    assert GINESTRA.replacement.in_print is ReplacementMethod.SAME_OR_EQUIVALENT_EDITION
    assert GINESTRA.replacement.out_of_print is ReplacementMethod.EQUAL_VALUE_ITEM
    ill = GINESTRA.interlibrary
    assert ill is not None
    assert ill.scopes[IllScope.PROVINCIAL].delivery_working_days == 5
    assert ill.scopes[IllScope.REGIONAL].delivery_working_days == 7
    assert not ill.scopes[IllScope.PROVINCIAL].patron_pays
    assert not ill.scopes[IllScope.REGIONAL].patron_pays
    assert ill.scopes[IllScope.NATIONAL].patron_pays
    assert ill.scopes[IllScope.INTERNATIONAL].patron_pays
    assert sorted(q.max_open for q in ill.quotas.values()) == [3, 3]
    assert ill.renewal_notice_days == 5
    delivery = GINESTRA.document_delivery
    assert delivery is not None
    assert (delivery.max_share_percent, delivery.max_requests_per_week) == (15, 3)
    assert delivery.patron_pays


def test_cbnem_preset_numbers_are_the_regulations() -> None:
    for category in PatronCategory:
        days = CBNEM.loans.days.get(category)
        assert (days.book, days.audiovisual) == (30, 7)  # C2
        limits = CBNEM.loans.limits.get(category)
        assert (limits.total, limits.audiovisual) == (20, 10)  # C2
    holds = CBNEM.holds
    assert (holds.max_active, holds.on_available_items, holds.pickup_days) == (20, True, 7)
    assert holds.pickup_day_kind is PickupDayKind.CALENDAR
    renewals = CBNEM.renewals
    assert (renewals.max_renewals, renewals.base) == (2, RenewalBase.DUE_DATE)
    assert (renewals.earliest_days_before_due, renewals.latest_days_after_due) == (3, 6)
    assert renewals.extension[MaterialType.BOOK] == Extension(days=30)
    assert renewals.extension[MaterialType.AUDIOVISUAL] == Extension(days=7)
    fines = CBNEM.fines
    assert fines is not None
    assert (fines.grace_days, fines.cents_per_day, fines.absolute_cap_cents) == (7, 10, 2000)
    assert (fines.caps.adult.one_title_cents, fines.caps.adult.several_titles_cents) == (
        1000,
        2000,
    )
    assert (fines.caps.child.one_title_cents, fines.caps.child.several_titles_cents) == (
        500,
        1000,
    )
    assert CBNEM.standing.suspend_after_days_late == 30
    assert CBNEM.standing.unpaid_fines_rule == "C8"
    assert CBNEM.standing.exclude_after_days_late is None
    assert CBNEM.replacement.minimum_cents == 1000
    assert CBNEM.short_loan is None
    assert CBNEM.interlibrary is None


def test_presets_are_package_data_and_named() -> None:
    assert "G13" in preset_text("ginestra")
    assert load_policy("cbnem").name == "cbnem"
    with pytest.raises(PolicyError, match="unknown preset"):
        preset_text("nowhere")


def test_a_file_extends_a_preset_and_overrides_one_number(tmp_path: Path) -> None:
    path = tmp_path / "my_library.toml"
    path.write_text(
        'extends = "cbnem"\n[fines]\ncents_per_day = 20\n[loans.limits.child]\ntotal = 5\n'
    )
    policy = load_policy(str(path))
    assert policy.name == "my_library"
    assert policy.fines is not None
    assert policy.fines.cents_per_day == 20
    assert policy.fines.grace_days == 7  # kept from the preset
    assert policy.loans.limits.child.total == 5
    assert policy.loans.limits.child.audiovisual == 10
    assert policy.loans.limits.adult.total == 20


def test_extends_a_file_relative_to_the_extending_one(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        'extends = "ginestra"\nname = "base"\n[holds]\nmax_active = 7\n'
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "branch.toml").write_text('extends = "../base.toml"\n[holds]\npickup_days = 4\n')
    policy = load_policy(sub / "branch.toml")
    assert (policy.holds.max_active, policy.holds.pickup_days) == (7, 4)
    assert policy.name == "branch"


def test_an_extends_cycle_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(PolicyError, match="cycle"):
        load_policy(tmp_path / "a.toml")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[loans.limits.adult]\ntotal = -1\n", "loans.limits.adult.total"),
        ("[holds]\nmax_holds = 3\n", "holds.max_holds: unknown key"),
        ("[renewals.extension.dvd]\ndays = 7\n", "renewals.extension.dvd"),
        ('[holds]\npickup_day_kind = "weekly"\n', "holds.pickup_day_kind"),
        ("[renewals.extension.book]\nmonths = 0\n", "renewals.extension.book"),
        ('[short_loan]\nevening_from = "25:00"\n', "short_loan.evening_from"),
    ],
)
def test_a_wrong_value_is_one_line_naming_the_key(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('extends = "ginestra"\n' + body)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("policy error: bad.toml: ")
    assert expected in message


def test_a_policy_from_scratch_must_have_every_section(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text('name = "empty"\n')
    with pytest.raises(PolicyError, match=r"loans: missing"):
        load_policy(path)


def test_not_toml_and_missing_files_are_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[loans\n")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(broken)
    with pytest.raises(PolicyError, match="no such file"):
        load_policy(tmp_path / "absent.toml")
    with pytest.raises(PolicyError, match="not a preset"):
        load_policy("cbnemm")


def test_section_codes_match_ignoring_case(tmp_path: Path) -> None:
    assert GINESTRA.section("Ref") is not None
    assert GINESTRA.section(" local ") is not None
    assert GINESTRA.section("GEN") is None
    derived = tmp_path / "derived.toml"
    derived.write_text('extends = "ginestra"\n[sections.ref]\nloan_days = 3\n')
    ref = load_policy(derived).section("REF")
    assert ref is not None
    assert (ref.loanable, ref.loan_days) == (False, 3)
    twice = tmp_path / "twice.toml"
    twice.write_text('extends = "ginestra"\n[sections.Loc]\n[sections.LOC]\n')
    with pytest.raises(PolicyError, match="listed twice"):
        load_policy(twice)
