"""From an application to what risk reads (pure): the plan checked against the product version,
and the `ApplicantFacts` of a submission.

The plan check names each field that is out of the version's range (`amount`, `term`,
`repayment_method`, `customer_type`, `age`) so that a form shows the problem beside it. The facts
take the birth date and region from the ID number (its first six digits), falling back to the
branch's region; the velocity counts are gathered by the caller from the applications table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from microcredit.errors import FieldProblem
from microcredit.lending.money import Money
from microcredit.platform.validators import ResidentId
from microcredit.products import service as products
from microcredit.products.product_schemas import GRADES, ProductTerms
from microcredit.risk.assessment import ApplicantFacts, PricingTerms, Velocity

METHOD_LABELS = {"equal_installment": "等额本息", "equal_principal": "等额本金",
                 "interest_monthly_principal_at_maturity": "按月付息到期还本",
                 "interest_quarterly_principal_at_maturity": "按季付息到期还本", "bullet": "到期一次还本付息",
                 "revolving_daily": "随借随还"}


def check_plan(terms: ProductTerms, *, amount: Money, term: int, repayment_method: str, customer_type: str,
               age: int) -> list[FieldProblem]:
    """Every way the plan and the applicant fall outside the product version (empty: none)."""
    problems = []
    if not terms.amount_min <= amount <= terms.amount_max:
        problems.append(FieldProblem(
            "amount", "amount_out_of_range", f"the amount must be between {terms.amount_min} and {terms.amount_max}",
            f"金额须在 {terms.amount_min} 至 {terms.amount_max} 之间"))
    if not terms.term_min <= term <= terms.term_max:
        problems.append(FieldProblem(
            "term", "term_out_of_range", f"the term must be between {terms.term_min} and {terms.term_max}",
            f"期限须在 {terms.term_min} 至 {terms.term_max} 期之间"))
    if repayment_method not in terms.repayment_methods:
        allowed = ", ".join(terms.repayment_methods)
        allowed_zh = "、".join(METHOD_LABELS.get(m, m) for m in terms.repayment_methods)
        problems.append(FieldProblem("repayment_method", "method_not_offered",
                                     f"this product offers: {allowed}", f"本产品可选还款方式：{allowed_zh}"))
    if customer_type not in terms.customer_types:
        problems.append(FieldProblem("customer_type", "customer_type_not_eligible",
                                     f"this product is for: {', '.join(terms.customer_types)}",
                                     "您的客户类型不在本产品的申请范围内"))
    if not terms.age_min <= age <= terms.age_max:
        problems.append(FieldProblem("age", "age_not_eligible",
                                     f"applicants must be {terms.age_min} to {terms.age_max} years old",
                                     f"申请人年龄须在 {terms.age_min} 至 {terms.age_max} 周岁之间"))
    return problems


@dataclass(frozen=True)
class Applicant:
    """Who applies, as origination knows them at submission."""

    name: str
    resident: ResidentId
    phone: str
    customer_type: str
    branch_region: str | None = None


@dataclass(frozen=True)
class Submission:
    """The application's side of the facts: its number, when, how, and the plan with the figures."""

    institution_id: int
    number: str
    submitted_at: datetime
    channel: str
    product_code: str
    product_version: int
    amount: Money
    term: int
    period_unit: str
    repayment_method: str
    purpose: str
    monthly_income: Money | None
    monthly_debt_payments: Money | None
    monthly_spending: Money | None
    employment: str | None
    device_id: str | None
    ip: str | None
    timezone: str = "Asia/Shanghai"  # the institution's (the fraud check's hour of submission)
    first: bool = False  # the application's first submission (numbered with it)


def region_of(applicant: Applicant) -> str | None:
    """The 6-digit division code of the ID number, or the branch's when the number's is unusable."""
    code = applicant.resident.region
    if code.isdigit() and not code.endswith("0000"):
        return code
    return applicant.branch_region or code


def pricing_of(terms: ProductTerms, submission: Submission) -> PricingTerms | None:
    """The version's price and limit tables for the decision (None: it has no limit table and no bound by
    income, and the decision neither limits nor prices by them)."""
    if terms.limits is None and terms.max_dsr_percent is None:
        return None
    return PricingTerms(
        rates={g: terms.rate.rate_for(g) for g in GRADES},  # type: ignore[arg-type]
        limits={g: terms.limit_for(g) for g in GRADES}, max_dsr_percent=terms.max_dsr_percent,
        amount_min=terms.amount_min,
        monthly_payment=products.payments.monthly_payment_of(
            terms, term=submission.term, method=submission.repayment_method,
            start=submission.submitted_at.date()))


def build_facts(submission: Submission, applicant: Applicant, terms: ProductTerms, *,
                documents: frozenset[str], velocity: Velocity) -> ApplicantFacts:
    """The facts risk reads for one submission."""
    return ApplicantFacts(
        institution_id=submission.institution_id, application_number=submission.number,
        submitted_at=submission.submitted_at, channel=submission.channel, product_code=submission.product_code,
        product_version=submission.product_version, customer_types=frozenset(terms.customer_types),
        age_min=terms.age_min, age_max=terms.age_max, required_documents=frozenset(terms.required_documents),
        amount=submission.amount, term=submission.term, period_unit=submission.period_unit,
        repayment_method=submission.repayment_method, purpose=submission.purpose, name=applicant.name,
        id_number=applicant.resident.number, phone=applicant.phone, customer_type=applicant.customer_type,
        birth_date=applicant.resident.birth_date, region_code=region_of(applicant),
        monthly_income=submission.monthly_income, monthly_debt_payments=submission.monthly_debt_payments,
        monthly_spending=submission.monthly_spending, employment=submission.employment, documents=documents,
        device_id=submission.device_id, ip=submission.ip, velocity=velocity, pricing=pricing_of(terms, submission),
        timezone=submission.timezone, first_submission=submission.first)
