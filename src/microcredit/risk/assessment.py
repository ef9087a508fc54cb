"""What origination hands to risk for a decision, and what it gets back.

This is the contract between the two domains: `origination` gathers the
facts of a submitted application (the applicant, the product's eligibility,
the documents attached, how many applications came lately from the same
identifiers) and calls `risk.service.assess(session, facts)`; `risk` runs the
automated pre-review (completeness, eligibility, identity check, credit
bureau, knock-out rules, fraud checks) and the decision (score, grade, price
and limit band, envelope), all as versioned rule sets, and answers with an
`Assessment`. Origination stores every `RuleResult` with the application and
moves the application on by `Assessment.decision`.

Nothing here touches the database; the types are plain and frozen so that a
result can be stored, compared and replayed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from microcredit.lending.money import Money


class Stage(enum.StrEnum):
    """The step of the automated review a rule belongs to, in the order they run."""

    COMPLETENESS = "completeness"
    ELIGIBILITY = "eligibility"
    IDENTITY = "identity"
    BUREAU = "bureau"
    KNOCKOUT = "knockout"
    FRAUD = "fraud"
    SCORE = "score"
    DECISION = "decision"


class Outcome(enum.StrEnum):
    """One rule's verdict: passed, failed (declines), flagged (a person looks), or material missing."""

    PASS = "pass"
    FAIL = "fail"
    FLAG = "flag"
    MISSING = "missing"


class Decision(enum.StrEnum):
    """What happens to the application next."""

    APPROVE = "approve"  # inside the automatic-approval envelope: no person needed
    DECLINE = "decline"  # a knock-out rule failed, or outside the automatic-decline envelope
    REFER = "refer"  # people decide, in the levels the product's policy asks for
    RETURN = "return"  # material missing or doubtful: back to the borrower with `needed`


@dataclass(frozen=True)
class Velocity:
    """How many applications (this one included) came from the same identifier lately."""

    id_number_24h: int = 1
    id_number_30d: int = 1
    phone_24h: int = 1
    device_24h: int = 0  # 0: no device id was sent
    ip_24h: int = 0  # 0: no address known
    bank_card_24h: int = 0  # 0: no card given


STEP = Money(10_000, "CNY")  # ¥100: offers are rounded down to this


@dataclass(frozen=True)
class PricingTerms:
    """What the decision needs of the product version to price and limit an application."""

    rates: Mapping[str, Decimal]  # grade → nominal annual rate in percent
    limits: Mapping[str, Money]  # grade → the largest amount (every grade; no table: the product's largest)
    max_dsr_percent: Decimal | None  # None: no bound by income
    amount_min: Money
    # (amount, annual rate in percent) → the loan's largest monthly payment (installment, fees included).
    monthly_payment: Callable[[Money, Decimal], Money]
    step: Money = STEP



@dataclass(frozen=True)
class ApplicantFacts:
    """Everything the automated review may look at, gathered by origination at submission.

    Money is `Money`; the rule language sees it as integer minor units (fen).
    Optional facts are None when the borrower did not give them; completeness
    rules decide whether that matters for the product.
    """

    institution_id: int
    application_number: str
    submitted_at: datetime
    channel: str  # "online" (the borrower) or "walk_in" (a loan officer)
    # The product version applied under, and what it asks of an applicant.
    product_code: str
    product_version: int
    customer_types: frozenset[str]
    age_min: int
    age_max: int
    required_documents: frozenset[str]
    # What is asked for.
    amount: Money
    term: int
    period_unit: str  # "day" | "week" | "month"
    repayment_method: str
    purpose: str  # a code of the purpose list
    # The applicant.
    name: str
    id_number: str  # the 18-character resident ID number (birth date and region inside)
    phone: str
    customer_type: str
    birth_date: date | None
    region_code: str | None  # the 6-digit administrative division code
    monthly_income: Money | None
    monthly_debt_payments: Money | None  # what the applicant pays on other debts each month
    monthly_spending: Money | None  # declared household spending
    employment: str | None
    documents: frozenset[str]  # the document types attached
    device_id: str | None = None
    ip: str | None = None
    bank_card: str | None = None
    velocity: Velocity = field(default_factory=Velocity)
    # Whether the applicant authorised the credit-bureau query (征信查询授权), recorded by origination.
    # False: the review stops before the bureau with `missing` and needed "bureau_authorisation".
    bureau_authorised: bool = True
    # The product version's price and limit tables and its bound by income (`risk.pricing`); None: the
    # version has neither a limit table nor a debt-service bound, and the decision does not price or limit.
    pricing: PricingTerms | None = None
    # The institution's time zone (IANA): the fraud check reads the hour of submission there.
    timezone: str = "Asia/Shanghai"
    # The application's first submission (its number new with it): nothing of it is stored yet, so the fraud
    # graph does not look for identifiers it gave before. False: a resubmission, or not known.
    first_submission: bool = False


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome, as stored with the application and shown to staff (and, for declines, the borrower).

    `message` is a catalogue key (`risk.rule.<code>`) the API renders in the
    request's language with `params`.
    """

    stage: Stage
    code: str
    outcome: Outcome
    message: str
    params: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    """The answer: the decision, every rule's result, and the score with its reasons."""

    decision: Decision
    results: tuple[RuleResult, ...]
    rule_set: str  # the code@version of the rule set that decided, e.g. "default@3"
    score: int | None = None
    grade: str | None = None  # "A" (best) … "E"
    reasons: tuple[str, ...] = ()  # reason codes behind the score, most important first
    needed: tuple[str, ...] = ()  # for RETURN: document types or fields the borrower must add
    max_amount: Money | None = None  # a limit lower than asked: a counter-offer people may make
    bureau_report_id: str | None = None  # the stored report this decision read
