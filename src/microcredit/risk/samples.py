"""The library of sample applications a draft rule set is previewed against (and expressions type-checked on).

Each sample's ID number picks a simulator scenario through its sequence code
(integrations.bureau and integrations.id_check), so the previews read the
same reports every time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from microcredit.lending.money import Money
from microcredit.platform.validators import id_check_character
from microcredit.risk.assessment import ApplicantFacts, Velocity


def sample_id_number(sequence: str, *, region: str = "110105", born: date = date(1990, 5, 17)) -> str:
    """A valid resident ID number with this three-digit sequence code (positions 15–17)."""
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    return first17 + id_check_character(first17)


def base_facts(*, institution_id: int = 0) -> ApplicantFacts:
    """A clean application: a salaried adult with a thick, clean credit file asking for ¥20,000 over 12 months."""
    return ApplicantFacts(
        institution_id=institution_id, application_number="SAMPLE-CLEAN",
        submitted_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC), channel="online",
        product_code="SAMPLE", product_version=1, customer_types=frozenset({"individual"}), age_min=18, age_max=60,
        required_documents=frozenset({"id_card_front", "id_card_back"}),
        amount=Money(2_000_000, "CNY"), term=12, period_unit="month", repayment_method="equal_installment",
        purpose="consumption", name="张三", id_number=sample_id_number("941"), phone="13800000001",
        customer_type="individual", birth_date=None, region_code="110105",
        monthly_income=Money(1_200_000, "CNY"), monthly_debt_payments=Money(100_000, "CNY"),
        monthly_spending=Money(500_000, "CNY"), employment="salaried",
        documents=frozenset({"id_card_front", "id_card_back"}), device_id="dev-1", ip="203.0.113.7")


def samples(*, institution_id: int = 0) -> dict[str, ApplicantFacts]:
    """The named samples (clean first)."""
    base = base_facts(institution_id=institution_id)

    def named(name: str, **changes: object) -> ApplicantFacts:
        return replace(base, application_number=f"SAMPLE-{name.upper()}", **changes)  # type: ignore[arg-type]

    return {
        "clean": base,
        "blacklisted": named("blacklisted", id_number=sample_id_number("945")),
        "thin_file": named("thin_file", id_number=sample_id_number("951")),
        "no_file": named("no_file", id_number=sample_id_number("901")),
        "late_payments": named("late_payments", id_number=sample_id_number("961")),
        "high_dti": named("high_dti", monthly_income=Money(400_000, "CNY"),
                          monthly_debt_payments=Money(150_000, "CNY")),
        "large_amount": named("large_amount", amount=Money(8_000_000, "CNY"), term=24),
        "serious_delinquency": named("serious_delinquency", id_number=sample_id_number("911")),
        "many_inquiries": named("many_inquiries", id_number=sample_id_number("921")),
        "court_judgment": named("court_judgment", id_number=sample_id_number("931")),
        "velocity": named("velocity", velocity=Velocity(id_number_24h=4, id_number_30d=6, phone_24h=4,
                                                        device_24h=5)),
        "income_below_spending": named("income_below_spending", monthly_spending=Money(2_500_000, "CNY")),
        "missing_income": named("missing_income", monthly_income=None),
        "missing_documents": named("missing_documents", documents=frozenset({"id_card_front"})),
        "too_old": named("too_old", id_number=sample_id_number("941", born=date(1950, 3, 2))),
        "name_mismatch": named("name_mismatch", id_number=sample_id_number("981")),
        "id_not_found": named("id_not_found", id_number=sample_id_number("991")),
    }


BLACKLISTED_SAMPLE = "blacklisted"
