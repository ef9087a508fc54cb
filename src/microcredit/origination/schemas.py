"""API shapes of applications: the borrower's plan and figures in, the application and its timeline out.

The borrower's view (`MyApplicationRead`) carries what a borrower may know of a decision: the
status, the timeline, the reasons of a decline and the list of what is needed; never the score,
the grade's reasons or the fraud flags. Staff (`ApplicationDetail`) see every rule's result.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from microcredit.platform.schema import InputSchema, MoneyStr, OutputSchema, money_bounds
from microcredit.products.product_schemas import DocumentTypeName
from microcredit.products.schemas import MAX_AMOUNT, RepaymentMethodName

__all__ = [
    "EMPLOYMENTS",
    "PURPOSES",
    "AffordabilityRead",
    "ApplicationCreate",
    "ApplicationDetail",
    "ApplicationRuleResultRead",
    "ApplicationSummary",
    "ApplicationUpdate",
    "BorrowerNote",
    "ConsentRequest",
    "DeclineReason",
    "EventRead",
    "GroupApplicationCreate",
    "GroupApplicationRead",
    "GroupApplicationSummary",
    "GuarantorCreate",
    "GuarantorPartyRead",
    "GuarantorRead",
    "GuarantorRelease",
    "GuarantorSensitiveRead",
    "MyApplicationRead",
    "MyGroupRead",
    "NoteRequest",
    "QueueCounts",
    "QueueItem",
    "ReviewActionRequest",
    "ReviewGroupRead",
    "ReviewRead",
    "ReviewStepRead",
    "StatusCounts",
    "WalkInApplicationCreate",
    "WithdrawRequest",
]

# The coded purposes (labels zh/en live in the web catalogues, `origination.purpose.<code>`).
PURPOSES = ("business", "agriculture", "consumption", "education", "medical", "renovation", "vehicle", "other")
PurposeName = Literal["business", "agriculture", "consumption", "education", "medical", "renovation", "vehicle",
                      "other"]
EMPLOYMENTS = ("employed", "self_employed", "farmer", "business_owner", "student", "retired", "unemployed", "other")
EmploymentName = Literal["employed", "self_employed", "farmer", "business_owner", "student", "retired",
                         "unemployed", "other"]
StatusName = Literal["draft", "submitted", "approved", "declined", "referred", "returned", "withdrawn",
                     "awaiting_consent", "counter_offered", "human_review"]
Amount = Annotated[MoneyStr, money_bounds(gt="0", le=MAX_AMOUNT)]
Monthly = Annotated[MoneyStr, money_bounds(ge="0", le=MAX_AMOUNT)]

_EXAMPLE: dict[str, Any] = {
    "product_code": "FARM", "amount": "20000.00", "term": 12, "repayment_method": "equal_installment",
    "purpose": "agriculture", "purpose_note": "购买化肥和种子", "monthly_income": "8000.00",
    "monthly_debt_payments": "500.00", "monthly_spending": "3000.00", "employment": "farmer"}


class _Figures(InputSchema):
    """The purpose and the applicant's figures (all optional on an update)."""

    purpose_note: str | None = Field(default=None, max_length=500, description="Free text beside the purpose")
    monthly_income: Monthly | None = Field(default=None, description="Prefilled from the profile when omitted")
    monthly_debt_payments: Monthly | None = Field(default=None,
                                                  description="What the applicant pays on other debts each month")
    monthly_spending: Monthly | None = Field(default=None, description="Declared household spending a month")
    employment: EmploymentName | None = None


class ApplicationCreate(_Figures):
    """Apply with this plan: the product and the amount, term and method chosen on its quote, and the purpose."""

    product_code: str = Field(min_length=1, max_length=32)
    amount: Amount
    term: int = Field(ge=1, le=600)
    repayment_method: RepaymentMethodName
    purpose: PurposeName

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})


class WalkInApplicationCreate(ApplicationCreate):
    """A loan officer's application for a walk-in borrower."""

    borrower_id: int = Field(ge=1, le=2**53)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{**_EXAMPLE, "borrower_id": 42}]})


class ApplicationUpdate(_Figures):
    """Changes to a draft, or to a returned application before it is resubmitted (only what is sent changes)."""

    amount: Amount | None = None
    term: int | None = Field(default=None, ge=1, le=600)
    repayment_method: RepaymentMethodName | None = None
    purpose: PurposeName | None = None

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"amount": "15000.00", "monthly_income": "9000.00"}]})


class WithdrawRequest(InputSchema):
    """Why the application is withdrawn (optional)."""

    note: str | None = Field(default=None, max_length=500)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "资金已另行解决"}]})


class EventRead(OutputSchema):
    """One step of the timeline."""

    at: datetime
    actor: str = Field(description="borrower | staff | system")
    user_id: int | None
    from_status: str | None
    to_status: str
    reason_code: str | None
    note: str | None


class ApplicationRuleResultRead(OutputSchema):
    """One rule's result (`message` is a catalogue key rendered with `params`)."""

    submission: int
    stage: str
    code: str
    outcome: str
    message: str
    params: dict[str, Any]


class DeclineReason(OutputSchema):
    """A reason a borrower is told: a rule that failed (its catalogue key and parameters)."""

    code: str
    message: str
    params: dict[str, Any]


class AffordabilityRead(OutputSchema):
    """The decision's price and limit for the grade (issue 19 §3): the figures behind the offer."""

    code: Literal["affordability", "debt_service_ratio", "grade_limit"] = Field(
        description="affordability: the amount asked is within the offer; otherwise the bound that set the offer")
    outcome: Literal["pass", "flag", "fail"] = Field(
        description="pass: within; flag: above the offer (referred, max_amount the offer); fail: the offer is "
                    "below the product's smallest amount (declined)")
    grade: str
    rate_percent: str
    asked: MoneyStr
    grade_limit: MoneyStr
    existing_payments: MoneyStr = Field(description="Monthly payments on other debts (the bureau's or stated)")
    installment: MoneyStr = Field(description="This loan's largest monthly payment at the grade's rate")
    income: MoneyStr | None
    dsr_percent: str | None = Field(description="(existing + installment) / income, after the loan asked")
    max_dsr_percent: str | None
    dsr_limit: MoneyStr | None = Field(description="The largest amount the bound by income allows")
    offer: MoneyStr = Field(description="grade_limit ∧ dsr_limit")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "code": "debt_service_ratio", "outcome": "flag", "grade": "B", "rate_percent": "8.4", "asked": "40000.00",
        "grade_limit": "50000.00", "existing_payments": "500.00", "installment": "3489.25", "income": "6000.00",
        "dsr_percent": "66.49", "max_dsr_percent": "50", "dsr_limit": "28600.00", "offer": "28600.00"}]})


class ApplicationSummary(OutputSchema):
    """An application in a list."""

    id: int
    number: str | None
    status: StatusName
    borrower_id: int
    borrower_name: str | None = None
    branch_id: int | None
    product_code: str
    product_version_number: int
    amount: MoneyStr
    term: int
    period_unit: str
    repayment_method: str
    purpose: str
    channel: str
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    group_application_id: int | None = Field(default=None, description="A member's share of this group "
                                                                       "application (小组联保)")


class _Plan(ApplicationSummary):
    purpose_note: str | None
    monthly_income: MoneyStr | None
    monthly_debt_payments: MoneyStr | None
    monthly_spending: MoneyStr | None
    employment: str | None
    annual_rate_percent: str | None
    levels_required: int | None
    version: int
    timeline: list[EventRead]
    review_level: int | None = Field(default=None, description="The approval level it waits at (1 初审, 2 复审, "
                                                                 "3 终审), of `levels_required`")
    counter_amount: MoneyStr | None = Field(default=None, description="A counter-offer waiting for the borrower")
    counter_term: int | None = None
    human_review: bool = Field(default=False, description="The review in progress is one the borrower asked for")
    human_review_requested_at: datetime | None = None


class MyApplicationRead(_Plan):
    """The borrower's own application: the plan, the timeline, and what they may know of the decision."""

    decline_reasons: list[DeclineReason]
    needed: list[str]
    score_factors: list[str] = Field(default_factory=list, description=(
        "An automatic decline's main score factors (catalogue keys `risk.reason.<code>`); never fraud flags"))
    human_review_available: bool = Field(default=False, description=(
        "Declined automatically and no human review asked for yet: the borrower may ask for one (PIPL Art. 24)"))
    offer: MoneyStr | None = Field(default=None, description=(
        "Above what the grade and the income allow: the most that can be lent (a reviewer confirms it as a "
        "counter-offer, which the borrower accepts or rejects)"))
    offer_reason: Literal["debt_service_ratio", "grade_limit"] | None = Field(
        default=None, description="What sets the offer: the income (debt-service ratio) or the grade's limit")


class GuarantorRead(OutputSchema):
    """A co-member who guarantees this application (joint liability, recorded when the group applied)."""

    guarantor_borrower_id: int
    guarantor_name: str | None = None
    group_id: int
    group_application_id: int
    kind: str = Field(examples=["joint_liability"])
    recorded_on: date = Field(description="The business date it was recorded")


class ApplicationDetail(_Plan):
    """An application as staff see it: everything, every rule result included."""

    officer_user_id: int | None
    device_id: str | None
    client_ip: str | None
    decision: str | None
    rule_set: str | None
    score: int | None
    grade: str | None
    reasons: list[str]
    needed: list[str]
    max_amount: MoneyStr | None
    bureau_report_id: str | None
    results: list[ApplicationRuleResultRead]
    affordability: AffordabilityRead | None = Field(
        default=None, description="The price and limit the decision found (null: the product has neither a limit "
                                  "table nor a bound by income, or no grade was reached)")
    guarantors: list[GuarantorRead] = Field(default_factory=list, description="The mutual guarantee of a group "
                                                                              "member's application: who stands for it")


class StatusCounts(OutputSchema):
    """How many applications in scope are in each status (after the other filters)."""

    counts: dict[str, int]
    total: int


# --- group applications (小组联保) -------------------------------------------------------------------

GroupApplicationStatus = Literal["awaiting_consent", "member_refused", "submitted", "held", "cancelled"]
ConsentName = Literal["pending", "consented", "refused", "removed"]


class GroupMemberPlan(InputSchema):
    """One member's amount in a group application."""

    borrower_id: int = Field(ge=1)
    amount: Amount


class GroupApplicationCreate(InputSchema):
    """A loan officer's application for an active group: one product, term and method, an amount per member."""

    group_id: int = Field(ge=1)
    product_code: str = Field(min_length=1, max_length=32)
    term: int = Field(ge=1, le=600)
    repayment_method: RepaymentMethodName
    purpose: PurposeName
    members: list[GroupMemberPlan] = Field(min_length=1, max_length=10,
                                           description="Every current member of the group, each once")


class GroupApplicationMemberRead(OutputSchema):
    """A member's part as staff see it: their application, amount and consent."""

    borrower_id: int
    name: str | None
    leader: bool
    amount: MoneyStr
    application_id: int
    application_status: StatusName
    application_number: str | None
    consent: ConsentName
    decided_at: datetime | None = Field(description="When they consented, refused or were removed")


class GroupApplicationRead(OutputSchema):
    """A group application with each member's consent and application."""

    id: int
    group_id: int
    group_name: str
    branch_id: int | None
    status: GroupApplicationStatus = Field(description="awaiting_consent: waiting for members; member_refused: "
                                                       "someone refused (remove them or cancel); submitted: every "
                                                       "member consented and was reviewed; held: members left the "
                                                       "group and fewer than 3 remain (cancel it); cancelled")
    held_reason: Literal["group_too_small"] | None = Field(
        default=None, description="Why it is held: fewer than 3 members remain after members left the group")
    product_code: str
    term: int
    repayment_method: str
    purpose: str
    created_at: datetime
    submitted_at: datetime | None
    total_amount: MoneyStr = Field(description="The parts of the members still in it", examples=["18000.00"])
    members: list[GroupApplicationMemberRead]


class GroupApplicationSummary(OutputSchema):
    """A group application in a list."""

    id: int
    group_id: int
    group_name: str
    status: GroupApplicationStatus
    product_code: str
    members: int
    consented: int
    created_at: datetime


class CoMemberRead(OutputSchema):
    """A member as a co-member sees them: the name masked, the amount, whether they consented."""

    name_masked: str
    leader: bool
    me: bool
    amount: MoneyStr
    consent: ConsentName


class MyGroupRead(OutputSchema):
    """What a member reads before consenting: the group, everyone's amount and the joint liability."""

    group_application_id: int
    group_name: str
    status: GroupApplicationStatus
    product_code: str
    term: int
    period_unit: str
    repayment_method: str
    my_amount: MoneyStr
    my_consent: ConsentName
    total_amount: MoneyStr
    members: list[CoMemberRead]


class ConsentRequest(InputSchema):
    """A member's answer: consent to the group application and the mutual guarantee."""

    agree_joint_liability: bool = Field(description="Must be true: the member read and accepts the joint liability")
# --- the review in levels ----------------------------------------------------------------------------

# Coded reasons (labels zh/en in the web catalogues, `review.declineReason.<code>`, `review.override.<code>`).
DeclineReasonCode = Literal["insufficient_income", "high_debt", "poor_credit_history", "unverifiable_information",
                            "suspected_fraud", "purpose_ineligible", "policy_limit", "other"]
OverrideReasonCode = Literal["verified_income", "collateral_offered", "guarantor_offered", "long_relationship",
                             "data_error", "adverse_information", "policy_exception", "other"]
ReviewAction = Literal["approve", "decline", "request_documents", "counter_offer"]
Note = Annotated[str, Field(min_length=1, max_length=2000)]


class ReviewActionRequest(InputSchema):
    """One reviewer's act at the level the application waits at.

    `level` (and `version`, when sent) are what the reviewer saw: if someone acted first, the answer
    is 409 `review_stale` and nothing changes. `reason_code` is required to decline; `needed` to
    request documents; `amount` and/or `term` (lower, within the product's ranges) to counter-offer.
    `override_reason` is required where the act goes against the model: approving or counter-offering
    on grade D or E or on an automatic decline (a human review), declining grade A or B.
    """

    action: ReviewAction
    level: int = Field(ge=1, le=3)
    version: int | None = Field(default=None, ge=1)
    reason_code: DeclineReasonCode | None = None
    override_reason: OverrideReasonCode | None = None
    note: str | None = Field(default=None, max_length=2000)
    needed: list[DocumentTypeName] | None = Field(default=None, min_length=1, max_length=10)
    amount: Amount | None = None
    term: int | None = Field(default=None, ge=1, le=600)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "approve", "level": 1, "version": 3, "note": "收入流水核实无误"},
        {"action": "decline", "level": 2, "reason_code": "high_debt", "override_reason": "adverse_information"},
        {"action": "request_documents", "level": 1, "needed": ["income_proof"], "note": "请补充近 6 个月流水"},
        {"action": "counter_offer", "level": 1, "amount": "5000.00", "term": 6}]})


class NoteRequest(InputSchema):
    """A note on an application, shown on the review screen."""

    note: Note

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "已电话核实经营情况"}]})


class BorrowerNote(InputSchema):
    """The borrower's answer or request, with an optional note."""

    note: str | None = Field(default=None, max_length=500)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "我的收入证明已更新，请复核"}]})


class ReviewStepRead(OutputSchema):
    """One act in the review: a decision at a level (`level` set) or a note."""

    id: int
    chain: int
    level: int | None
    user_id: int
    user_name: str | None = None
    action: str
    reason_code: str | None
    override_reason: str | None
    note: str | None
    needed: list[str] | None
    counter_amount: MoneyStr | None
    counter_term: int | None
    at: datetime


class ReviewGroupRead(OutputSchema):
    """The group a member's application belongs to, as the review in levels weighs it: the product's
    approval policy is read at the group's total and the worst grade among its members."""

    group_application_id: int
    group_name: str
    total: MoneyStr = Field(description="The group application's total: the parts of the members still in it",
                            examples=["40000.00"])
    members: int = Field(description="Members still in the group application", examples=[4])
    worst_grade: str = Field(description="The worst grade among the members graded so far", examples=["C"])


class ReviewRead(OutputSchema):
    """Where an application's review stands, for the review screen."""

    application_id: int
    status: StatusName
    version: int
    chain: int
    level: int | None
    levels_required: int | None
    level_entered_at: datetime | None
    sla_due_at: datetime | None
    sla_breached: bool
    human_review: bool
    grade: str | None
    automated_decision: str | None
    override_needed: list[ReviewAction] = Field(description="The acts that need `override_reason` here")
    offer: MoneyStr | None = Field(
        description="The product's offer below the asked amount (the grade's limit or what the income allows), "
                    "if the automated review made one: a counter-offer above it needs `override_reason`, "
                    "as approving the ask does", examples=["15000.00"])
    can_act: bool = Field(description="The caller may act at this level now")
    refusal: str | None = Field(description="Why not, when not: a problem code")
    group: ReviewGroupRead | None = Field(
        default=None, description="A group member's application (小组联保): the group whose total and worst grade "
                                  "set `levels_required`; null for anyone else's")
    steps: list[ReviewStepRead] = Field(description="Every act, this chain's and earlier chains', oldest first")


class QueueItem(OutputSchema):
    """An application waiting at a level the caller may act on."""

    id: int
    number: str | None
    status: StatusName
    borrower_name: str | None
    branch_id: int | None
    product_code: str
    amount: MoneyStr
    term: int
    period_unit: str
    grade: str | None
    score: int | None
    level: int
    levels_required: int | None
    human_review: bool
    level_entered_at: datetime
    waiting_seconds: int
    sla_due_at: datetime
    sla_breached: bool


class QueueCounts(OutputSchema):
    """Waiting and breached counts per level the caller may act on (tabs of the queue)."""

    levels: dict[str, int]
    breached: dict[str, int]


# --- guarantors (people who guarantee an application; not borrowers) ----------------------------------

GuarantorRelation = Literal["spouse", "parent", "child", "sibling", "relative", "friend", "colleague",
                            "business_partner", "other"]
GuaranteeKind = Literal["joint_liability", "general"]


class GuarantorCreate(InputSchema):
    """A guarantor added to an application by the officer, who saw their ID card and their signed consent."""

    name: str = Field(min_length=2, max_length=50, description="Real name as on the ID card")
    id_number: str = Field(min_length=15, max_length=20, description="Resident ID number (validated as a "
                           "borrower's: format, region, birth date, check character; 18 or older)")
    phone: str = Field(min_length=11, max_length=20, description="Mainland mobile number")
    relation: GuarantorRelation = Field(description="The guarantor's relation to the borrower")
    kind: GuaranteeKind = Field(description="连带责任保证 (joint_liability) or 一般保证 (general)")
    amount: Amount | None = Field(default=None, description="The amount guaranteed; none: the whole debt")
    consent_signed: bool = Field(default=False, description="Required true: the guarantor signed the consent to "
                                 "processing sensitive personal information in force (kept with its hash)")

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{
        "name": "王五", "id_number": "11010519491231002X", "phone": "13900002222", "relation": "spouse",
        "kind": "joint_liability", "amount": "20000.00", "consent_signed": True}]})


class GuarantorRelease(InputSchema):
    """Why the guarantor is released."""

    reason: str = Field(min_length=1, max_length=200)

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [{"reason": "担保人撤回担保意愿"}]})


class GuarantorPartyRead(OutputSchema):
    """A guarantor as staff see them: ID number and phone masked."""

    id: int
    application_id: int
    name: str
    id_number_masked: str = Field(examples=["110105********002X"])
    phone_masked: str = Field(examples=["139****2222"])
    relation: str = Field(examples=["spouse"])
    kind: str = Field(examples=["joint_liability"])
    amount: MoneyStr | None = None
    status: str = Field(examples=["active"])
    consented_at: datetime
    created_at: datetime
    released_at: datetime | None = None
    release_reason: str | None = None


class GuarantorSensitiveRead(OutputSchema):
    """A guarantor's full ID number and phone (each view audited)."""

    id_number: str
    phone: str
