"""Applications: drafts (by the borrower online, or by a loan officer for a walk-in borrower), edits,
submission through the automated review, withdrawal, and what borrowers and staff see.

Submission is one transaction: the application is numbered and moves to `submitted`; its facts
(`facts.build_facts`) go to risk's review (`review.Assessor`); every rule result is stored; the
decision moves it on (approved with the rate of its grade, declined with reasons, referred with the
approval levels the product's policy asks for, or returned with the list of what is needed); the
borrower gets an SMS through the outbox and an in-app notification. Every step is on the timeline
and in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import NotFound, ValidationFailed
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.notifications import service as notifications
from microcredit.origination import repository as repo
from microcredit.origination.errors import NoBorrowerProfile
from microcredit.origination.models import STATUSES, Application, ApplicationEvent, ApplicationRuleResult
from microcredit.origination.schemas import ApplicationCreate
from microcredit.origination.service import facts as facts_of
from microcredit.origination.service import numbering, states
from microcredit.origination.service.review import Assessor, documents_on_file
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.platform.paging import PageRequest, PageResult, order_by, paginate
from microcredit.products import service as products
from microcredit.products.product_schemas import GRADES, ProductTerms
from microcredit.risk.assessment import Assessment, Decision, Outcome, Stage, Velocity

__all__ = [
    "ApplicationView",
    "Assessed",
    "GroupRisk",
    "affordability_of",
    "assess_loaded",
    "borrower_reasons",
    "counts",
    "create_own",
    "create_walk_in",
    "decide_loaded",
    "decisions_of",
    "enter_chain",
    "get_for_staff",
    "get_own",
    "group_risk",
    "hold_for_consent",
    "levels_needed",
    "list_for_staff",
    "list_own",
    "submit",
    "submit_loaded",
    "update",
    "withdraw",
]

EDITABLE_FIELDS = ("amount", "term", "repayment_method", "purpose", "purpose_note", "monthly_income",
                   "monthly_debt_payments", "monthly_spending", "employment")
SORTS = {"created_at": Application.created_at, "submitted_at": Application.submitted_at,
         "amount": Application.amount, "status": Application.status, "number": Application.number}
# What a customer type says about employment, to prefill a form.
EMPLOYMENT_OF_TYPE = {"farmer": "farmer", "sole_trader": "self_employed", "small_business": "business_owner"}
SMS_OF_STATUS = {"submitted": "application_submitted", "returned": "application_returned",
                 "approved": "application_approved", "declined": "application_declined"}


@dataclass(frozen=True, slots=True)
class RuleResultRow:
    """A rule result just written (the row's fields, without reading it back)."""

    application_id: int
    submission: int
    seq: int
    stage: str
    code: str
    outcome: str
    message: str
    params: dict[str, Any]


Result = ApplicationRuleResult | RuleResultRow


@dataclass(frozen=True)
class ApplicationView:
    """An application with its timeline, its rule results and the borrower's name."""

    application: Application
    events: list[Row[Any]]  # the timeline: `ApplicationEvent`'s columns but the ids (`repository.events_of`)
    results: Sequence[Result]
    borrower_name: str | None = None


# --- reading -----------------------------------------------------------------------------------


def decisions_of(*, session: Session, application_ids: list[int]) -> dict[int, tuple[str | None, str | None,
                                                                                     int | None, str | None]]:
    """Each application's number and its last automated assessment: (number, decision, score, grade), by id
    (what risk's early default table bands loans by)."""
    return {i: (number, decision, score, grade)
            for i, number, decision, score, grade in repo.decisions_of(session, application_ids)}

def _view(session: Session, application: Application, name: str | None = None) -> ApplicationView:
    return ApplicationView(application, repo.events_of(session, application.id),
                           repo.results_of(session, application.id), name)


def _own(session: Session, principal: Principal, application_id: int, *, for_update: bool = False) -> Application:
    application = repo.get(session, application_id, for_update=for_update)
    if application is None or application.borrower_user_id != principal.user_id:
        raise NotFound()
    return application


def _staff(session: Session, principal: Principal, application_id: int, *, for_update: bool = False
           ) -> Application:
    application = repo.get(session, application_id, for_update=for_update)
    if application is None:
        raise NotFound()
    scope.ensure_visible(principal, institution_id=application.institution_id, branch_id=application.branch_id)
    return application


def get_own(*, session: Session, principal: Principal, application_id: int) -> ApplicationView:
    """The caller's own application (anyone else's is not found)."""
    return _view(session, _own(session, principal, application_id))


def get_for_staff(*, session: Session, principal: Principal, application_id: int) -> ApplicationView:
    """An application in the caller's scope, with every rule result."""
    application = _staff(session, principal, application_id)
    names = parties.borrowers.borrower_names(session=session, borrower_ids=[application.borrower_id])
    return _view(session, application, names.get(application.borrower_id))


def list_own(*, session: Session, principal: Principal, page: PageRequest) -> PageResult[Application]:
    """The caller's own applications, newest first."""
    borrower_id = parties.borrowers.own_profile_id(session=session, principal=principal)
    stmt = repo.applications_query(institution_id=principal.institution_id, branch_id=False,
                                   borrower_id=-1 if borrower_id is None else borrower_id)
    return paginate(session, order_by(stmt, page.sort, SORTS, [Application.id.desc()]), page)


def _created_window(session: Session, principal: Principal, date_from: Any, date_to: Any
                    ) -> tuple[datetime | None, datetime | None]:
    """The UTC instants of the institution's calendar days `date_from` … `date_to` (inclusive)."""
    if date_from is None and date_to is None:
        return None, None
    zone = ZoneInfo(parties.organisation.institution(session=session,
                                                     institution_id=principal.institution_id).timezone)
    start = None if date_from is None else datetime.combine(date_from, time(), zone)
    end = None if date_to is None else datetime.combine(date_to + timedelta(days=1), time(), zone)
    return start, end


def list_for_staff(*, session: Session, principal: Principal, page: PageRequest, status: str | None = None,
                   product_code: str | None = None, branch_id: int | None = None, date_from: Any = None,
                   date_to: Any = None) -> tuple[PageResult[Application], dict[int, str]]:
    """Applications in the caller's scope, filtered (dates: created on those business days), with names."""
    f = scope.filters(principal)
    start, end = _created_window(session, principal, date_from, date_to)
    stmt = repo.applications_query(institution_id=f.institution_id, branch_id=f.branch_id, status=status,
                                   product_code=product_code, branch_filter=branch_id, created_from=start,
                                   created_before=end)
    result = paginate(session, order_by(stmt, page.sort, SORTS, [Application.id.desc()]), page)
    names = parties.borrowers.borrower_names(session=session, borrower_ids=[a.borrower_id for a in result.items])
    return result, names


def counts(*, session: Session, principal: Principal, product_code: str | None = None, branch_id: int | None = None,
           date_from: Any = None, date_to: Any = None) -> dict[str, int]:
    """How many applications in scope are in each status (every status named, zero included)."""
    f = scope.filters(principal)
    start, end = _created_window(session, principal, date_from, date_to)
    found = repo.status_counts(session, institution_id=f.institution_id, branch_id=f.branch_id,
                               product_code=product_code, branch_filter=branch_id, created_from=start,
                               created_before=end)
    return {status: found.get(status, 0) for status in STATUSES}


def borrower_reasons(view: ApplicationView) -> list[Result]:
    """What a declined borrower is told: the failed rules of the last submission, fraud checks excepted."""
    application = view.application
    if application.status != "declined":
        return []
    return [r for r in view.results if r.submission == application.submissions and r.outcome == Outcome.FAIL
            and r.stage != Stage.FRAUD]


PRICING_CODES = ("affordability", "debt_service_ratio", "grade_limit")  # risk.pricing's result codes


def affordability_of(view: ApplicationView) -> Result | None:
    """The last submission's pricing result (grade, rate, grade limit, debt-service ratio, the offer), if the
    decision priced it (a product with a limit table or a bound by income, an application that got a grade)."""
    found = [r for r in view.results if r.submission == view.application.submissions and r.code in PRICING_CODES
             and r.stage == Stage.DECISION]
    return found[-1] if found else None


# --- drafts ------------------------------------------------------------------------------------

def _event_row(kit: identity.IdentityKit, application: Application, *, actor: str, user_id: int | None,
               before: str | None, after: str, reason: str | None = None, note: str | None = None,
               at: datetime | None = None) -> dict[str, Any]:
    """A timeline entry's columns."""
    return {"application_id": application.id, "at": at or kit.clock.now(), "actor": actor, "user_id": user_id,
            "from_status": before, "to_status": after, "reason_code": reason, "note": note}


def _event(session: Session, kit: identity.IdentityKit, application: Application, *, actor: str,
           user_id: int | None, before: str | None, after: str, reason: str | None = None,
           note: str | None = None, at: datetime | None = None) -> None:
    repo.add(session, ApplicationEvent(**_event_row(kit, application, actor=actor, user_id=user_id, before=before,
                                                    after=after, reason=reason, note=note, at=at)))


def _audit(session: Session, kit: identity.IdentityKit, actor: Actor, application: Application, action: str,
           before: str | None, *, status: str | None = None, **after: Any) -> None:
    """Audit a step of the application (`status`: the status it led to, when the application has moved on)."""
    audit.record(session=session, clock=kit.clock, actor=actor, action=f"application.{action}",
                 entity_type="application", entity_id=application.id, institution_id=application.institution_id,
                 before=None if before is None else {"status": before},
                 after={"status": status or application.status, "number": application.number, **after})


def _check(terms: ProductTerms, kit: identity.IdentityKit, borrower: Any, *, amount: Money, term: int,
           method: str, on: Any) -> None:
    age = parties.borrowers.age_of(kit=kit, borrower=borrower, on=on)
    problems = facts_of.check_plan(terms, amount=amount, term=term, repayment_method=method,
                                   customer_type=borrower.customer_type, age=age)
    if problems:
        raise ValidationFailed(problems)


def _create(session: Session, kit: identity.IdentityKit, principal: Principal, borrower: Any,
            plan: ApplicationCreate, *, channel: str, device_id: str | None, ip: str | None) -> Application:
    today = parties.organisation.business_date(session=session, institution_id=borrower.institution_id)
    product, version = products.catalogue.offer(session=session, institution_id=borrower.institution_id,
                                                code=plan.product_code, on=today)
    terms = products.catalogue.terms_of(version)
    _check(terms, kit, borrower, amount=plan.amount, term=plan.term, method=plan.repayment_method, on=today)
    phone = identity.accounts.phone(session=session, kit=kit, user_id=borrower.user_id)
    now = kit.clock.now()
    application = Application(
        institution_id=borrower.institution_id, branch_id=borrower.branch_id, borrower_id=borrower.id,
        borrower_user_id=borrower.user_id, status="draft", product_code=product.code,
        product_version_id=version.id, product_version_number=version.number, amount=plan.amount, term=plan.term,
        period_unit=terms.period_unit, repayment_method=plan.repayment_method, purpose=plan.purpose,
        purpose_note=plan.purpose_note,
        monthly_income=plan.monthly_income if plan.monthly_income is not None else borrower.monthly_income,
        monthly_debt_payments=plan.monthly_debt_payments, monthly_spending=plan.monthly_spending,
        employment=plan.employment or EMPLOYMENT_OF_TYPE.get(borrower.customer_type), channel=channel,
        officer_user_id=principal.user_id if channel == "walk_in" else None, device_id=device_id, client_ip=ip,
        id_number_index=borrower.id_number_index, phone_index=identity.accounts.phone_index(kit, phone),
        submissions=0, created_by_user_id=principal.user_id, created_at=now, updated_at=now)
    repo.add(session, application)
    _event(session, kit, application, actor=principal.kind, user_id=principal.user_id, before=None, after="draft")
    _audit(session, kit, principal.actor, application, "created", None, channel=channel,
           product=f"{product.code}@{version.number}", amount=str(plan.amount), term=plan.term)
    return application


def create_own(*, session: Session, kit: identity.IdentityKit, principal: Principal, plan: ApplicationCreate,
               device_id: str | None, ip: str | None) -> Application:
    """A borrower's draft: apply with this plan (the product version on offer today, its ranges checked)."""
    try:
        borrower = parties.borrowers.own_profile(session=session, principal=principal)
    except NotFound:
        raise NoBorrowerProfile() from None
    return _create(session, kit, principal, borrower, plan, channel="online", device_id=device_id, ip=ip)


def create_walk_in(*, session: Session, kit: identity.IdentityKit, principal: Principal, borrower_id: int,
                   plan: ApplicationCreate, device_id: str | None, ip: str | None) -> Application:
    """A loan officer's draft for a walk-in borrower in their scope (the officer is recorded)."""
    borrower = parties.borrowers.get_borrower(session=session, principal=principal, borrower_id=borrower_id)
    return _create(session, kit, principal, borrower, plan, channel="walk_in", device_id=device_id, ip=ip)


def hold_for_consent(*, session: Session, kit: identity.IdentityKit, principal: Principal, application: Application,
                     group_application_id: int) -> None:
    """A group member's new draft waits for their consent (`awaiting_consent`), linked to the group application."""
    before = application.status
    application.status = states.step(before, "await_consent")
    application.group_application_id = group_application_id
    application.updated_at = kit.clock.now()
    session.flush()
    _event(session, kit, application, actor=principal.kind, user_id=principal.user_id, before=before,
           after=application.status, reason="group_application")
    _audit(session, kit, principal.actor, application, "awaiting_consent", before,
           group_application_id=group_application_id)


def _borrower_of(session: Session, principal: Principal, application: Application) -> Any:
    return parties.borrowers.get_borrower(session=session, principal=principal, borrower_id=application.borrower_id)


def _version(session: Session, application: Application) -> Any:
    return products.catalogue.version_by_id(session=session, version_id=application.product_version_id)


def update(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
           changes: dict[str, Any], own: bool) -> Application:
    """Change a draft or a returned application (only the fields sent); the plan is checked again."""
    application = (_own if own else _staff)(session, principal, application_id, for_update=True)
    states.ensure_editable(application.status)
    values = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    for key in ("amount", "term", "repayment_method", "purpose"):
        if key in values and values[key] is None:
            del values[key]  # a required part of the plan is kept, not cleared
    borrower = _borrower_of(session, principal, application)
    terms = products.catalogue.terms_of(_version(session, application))
    today = parties.organisation.business_date(session=session, institution_id=application.institution_id)
    _check(terms, kit, borrower, amount=values.get("amount", application.amount),
           term=values.get("term", application.term),
           method=values.get("repayment_method", application.repayment_method), on=today)
    before = {k: _plain(getattr(application, k)) for k in values}
    for key, value in values.items():
        setattr(application, key, value)
    application.updated_at = kit.clock.now()
    session.flush()
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="application.updated",
                 entity_type="application", entity_id=application.id, institution_id=application.institution_id,
                 before=before, after={k: _plain(v) for k, v in values.items()})
    return application


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Money) else value


# --- submission and the automated decision -------------------------------------------------------

def _velocity(session: Session, application: Application, now: datetime) -> Velocity:
    """The applications submitted from the same ID number, phone, device and IP in the last 24 hours (and 30 days
    for the ID number), this submission at `now` included: it is added here, not read back (the application is
    written once, with its decision)."""
    counts = repo.velocity_counts(
        session, institution_id=application.institution_id,
        values={"id_number_index": application.id_number_index, "phone_index": application.phone_index,
                "device_id": application.device_id, "client_ip": application.client_ip},
        windows={"24h": now - timedelta(hours=24), "30d": now - timedelta(days=30)},
        submitting=(application.id, now))
    return Velocity(id_number_24h=counts["id_number_index", "24h"], id_number_30d=counts["id_number_index", "30d"],
                    phone_24h=counts["phone_index", "24h"], device_24h=counts["device_id", "24h"],
                    ip_24h=counts["client_ip", "24h"])


def _facts(session: Session, kit: identity.IdentityKit, borrower: Any, application: Application,
           terms: ProductTerms, phone: str, *, number: str, at: datetime) -> Any:
    """What risk reads of this submission (numbered `number`, submitted `at`: not yet on the application)."""
    region = None
    if borrower.branch_id is not None:
        region = parties.organisation.branch_region(session=session, branch_id=borrower.branch_id)
    applicant = facts_of.Applicant(
        name=borrower.real_name, resident=parties.borrowers.resident_id_of(kit=kit, borrower=borrower),
        phone=phone, customer_type=borrower.customer_type, branch_region=region)
    timezone = parties.organisation.institution_info(session=session, cache=None,
                                                     institution_id=application.institution_id).timezone
    submission = facts_of.Submission(
        institution_id=application.institution_id, number=number,
        submitted_at=at, channel=application.channel, product_code=application.product_code,
        product_version=application.product_version_number, amount=application.amount, term=application.term,
        period_unit=application.period_unit, repayment_method=application.repayment_method,
        purpose=application.purpose, monthly_income=application.monthly_income,
        monthly_debt_payments=application.monthly_debt_payments, monthly_spending=application.monthly_spending,
        employment=application.employment, device_id=application.device_id, ip=application.client_ip,
        timezone=timezone, first=application.submissions == 0)
    return applicant, facts_of.build_facts(
        submission, applicant, terms, documents=documents_on_file(session, party_id=borrower.id),
        velocity=_velocity(session, application, at))


def _number(session: Session, application: Application) -> str:
    # The business date in force read with the counter, in its UPDATE (not the reference cache: the number carries
    # the date of the row); the day's first submission (and MariaDB) reads the institution's row first.
    institution_id = application.institution_id
    if repo.numbers_without_lock(session):
        day = parties.organisation.business_date(session=session, institution_id=institution_id)
        drawn = repo.sequence_without_lock(session, institution_id=institution_id, business_date=day)
        if drawn is not None:
            code = parties.organisation.institution_info(session=session, cache=None,
                                                         institution_id=institution_id).code
            return numbering.format_number(numbering.prefix_of(code), day, drawn)
    raised = repo.raise_todays_sequence(session, institution_id=institution_id,
                                        business_date=parties.organisation.business_date_subquery("of_institution"))
    if raised is None:
        inst = parties.organisation.institution(session=session, institution_id=institution_id)
        sequence, day = repo.next_sequence(session, institution_id=inst.id, business_date=inst.business_date), \
            inst.business_date
    else:
        sequence, day = raised
    code = parties.organisation.institution_info(session=session, cache=None, institution_id=institution_id).code
    return numbering.format_number(numbering.prefix_of(code), day, sequence)


def _store(session: Session, application: Application, assessment: Assessment, submission: int
           ) -> list[RuleResultRow]:
    """Write the assessment's rule results of the `submission`-th submission (one statement) and its outcome on
    the application; the results as (unsaved) rows, for the view."""
    written = [RuleResultRow(application_id=application.id, submission=submission, seq=i,
                             stage=str(r.stage), code=r.code, outcome=str(r.outcome), message=r.message,
                             params=dict(r.params)) for i, r in enumerate(assessment.results, start=1)]
    rows = [{"application_id": w.application_id, "submission": w.submission, "seq": w.seq, "stage": w.stage,
             "code": w.code, "outcome": w.outcome, "message": w.message, "params": w.params} for w in written]
    repo.add_results(session, rows)
    application.decision = str(assessment.decision)
    application.rule_set = assessment.rule_set
    application.score, application.grade = assessment.score, assessment.grade
    application.reasons, application.needed = list(assessment.reasons), list(assessment.needed)
    application.max_amount = assessment.max_amount
    application.bureau_report_id = assessment.bureau_report_id
    return written


@dataclass(frozen=True)
class GroupRisk:
    """A group member's application as part of the group's loan (小组联保): what the review in levels
    weighs for it — the group application's total (the parts of the members still in it), how many
    members, and the worst grade among them."""

    group_application_id: int
    group_name: str
    total: Money
    members: int
    worst_grade: str


def group_risk(session: Session, application: Application) -> GroupRisk | None:
    """The group's risk for a group member's application (None: not a group member's).

    The worst grade counts the grades the members' applications have (a member not graded yet does
    not count); the application's own grade counts always, E when it has none (as for anyone).
    """
    if application.group_application_id is None:
        return None
    ga = repo.get_group_application(session, application.group_application_id)
    assert ga is not None
    parts = [m for m in repo.group_members(session, ga.id) if m.consent != "removed"]
    grades = [application.grade if application.grade in GRADES else "E"]
    for m in parts:
        if m.application_id != application.id:
            other = repo.get(session, m.application_id)
            if other is not None and other.grade in GRADES:
                grades.append(other.grade)
    total = sum((m.amount for m in parts), Money.zero(application.amount.currency))
    return GroupRisk(ga.id, ga.group_name, total, len(parts), max(grades, key=GRADES.index))


def levels_needed(session: Session, application: Application, terms: ProductTerms) -> int:
    """The approval levels the product's policy asks of a referred application: by its amount and grade
    (no grade: the worst, E); a group member's by the group's total and the worst grade among the
    members (`group_risk`), since the group's loan is one risk."""
    risk = group_risk(session, application)
    if risk is None:
        return terms.levels_for(application.amount, application.grade if application.grade in GRADES else "E")
    return terms.levels_for(risk.total, risk.worst_grade)


def _apply(session: Session, application: Application, assessment: Assessment, terms: ProductTerms) -> str | None:
    """Carry out the decision on the application; the reason code of the timeline step."""
    application.annual_rate_percent = application.levels_required = None
    if assessment.decision is Decision.APPROVE:
        grade = assessment.grade if assessment.grade in GRADES else None
        application.annual_rate_percent = f"{terms.rate.rate_for(grade).normalize():f}"  # type: ignore[arg-type]
        return assessment.grade and f"grade_{assessment.grade}"
    if assessment.decision is Decision.REFER:
        application.levels_required = levels_needed(session, application, terms)
        return "referred_to_review"
    if assessment.decision is Decision.RETURN:
        return "material_needed"
    failed = [r.code for r in assessment.results if r.outcome is Outcome.FAIL]
    return (failed or list(assessment.reasons) or ["declined"])[0][:64]


def _messages(session: Session, kit: identity.IdentityKit, application: Application, language: str,
              assessment: Assessment | None = None, *, phone: str | None = None, status: str | None = None,
              ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The borrower's in-app message and SMS of the application's status (`status`: of that one instead), as
    rows for `notifications.write_messages` (None: no message for this status)."""
    template = SMS_OF_STATUS.get(status or application.status)
    if template is None:
        return None
    params: dict[str, Any] = {
        "signature": kit.sender_name(session, application.institution_id, language),
        "number": application.number or "", "amount": str(application.amount)}
    if template == "application_returned":
        params["count"] = len(application.needed or [])
    if template == "application_declined" and assessment is not None:
        params["count"] = max(1, sum(1 for r in assessment.results
                                     if r.outcome is Outcome.FAIL and r.stage is not Stage.FRAUD))
    if phone is None:
        phone = identity.accounts.phone(session=session, kit=kit, user_id=application.borrower_user_id)
    inbox = notifications.inbox_row(clock=kit.clock, institution_id=application.institution_id,
                                    user_id=application.borrower_user_id, template=template,
                                    params={k: v for k, v in params.items() if k != "signature"},
                                    subject_kind="application", subject_id=application.id)
    sms = notifications.sms_row(cipher=kit.keys.cipher, clock=kit.clock, institution_id=application.institution_id,
                                phone=phone, template=template, params=params, language=language)
    return inbox, sms


def submit(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int, own: bool,
           assess: Assessor, language: str, action: str | None = None, notify: bool = True) -> ApplicationView:
    """Submit a draft or resubmit a returned application (`action` None: whichever it is) and decide it at once.

    All in the caller's transaction: a failure anywhere leaves the application as it was. `notify`
    False queues no SMS (seeded history, such as the demo's, is not news to anyone).
    """
    application = (_own if own else _staff)(session, principal, application_id, for_update=True)
    # The borrower's columns the review reads, as a row: no Borrower object built for them.
    borrower = parties.borrowers.borrower_for_review(session=session, principal=principal,
                                                     borrower_id=application.borrower_id)
    return submit_loaded(session=session, kit=kit, principal=principal, application=application,
                         borrower=borrower, assess=assess, language=language, action=action, notify=notify)


def submit_loaded(*, session: Session, kit: identity.IdentityKit, principal: Principal, application: Application,
                  borrower: Any, assess: Assessor, language: str, action: str | None = None,
                  notify: bool = True) -> ApplicationView:
    """`submit` for an application (locked) and its borrower the caller already holds."""
    assessed = assess_loaded(session=session, kit=kit, application=application, borrower=borrower, assess=assess,
                             action=action)
    return decide_loaded(session=session, kit=kit, principal=principal, assessed=assessed, language=language,
                         notify=notify)


@dataclass(frozen=True)
class Assessed:
    """An application submitted and assessed, its decision not yet carried out (`decide_loaded`)."""

    application: Application
    action: str
    before: str
    at: datetime
    phone: str
    terms: ProductTerms
    assessment: Assessment
    results: list[RuleResultRow]


def assess_loaded(*, session: Session, kit: identity.IdentityKit, application: Application, borrower: Any,
                  assess: Assessor, action: str | None = None) -> Assessed:
    """The first half of `submit_loaded`: numbered, submitted, assessed and the results stored (the grade
    on the application). A group's last consent assesses every member's application so, before deciding
    any: a referred member's levels read the grades of all (`levels_needed`)."""
    if action is None:
        action = "resubmit" if application.status == "returned" else "submit"
    before = application.status
    status = states.step(before, action)
    # The application is changed only after the review and its results are stored, so that it is written once,
    # in one UPDATE with the decision (the queries on the way autoflush; the velocity counts add this
    # submission themselves).
    number = application.number if application.number is not None else _number(session, application)
    now = kit.clock.now()
    submission = application.submissions + 1
    # The borrower's phone, read once: the facts and both messages use it.
    phone = identity.accounts.phone(session=session, kit=kit, user_id=application.borrower_user_id)
    terms = products.catalogue.terms_by_version_id(session=session, version_id=application.product_version_id)
    _, facts = _facts(session, kit, borrower, application, terms, phone, number=number, at=now)
    assessment = assess(session, facts)
    results = _store(session, application, assessment, submission)
    application.status, application.number, application.submissions = status, number, submission
    application.submitted_at, application.updated_at = now, now
    return Assessed(application, action, before, now, phone, terms, assessment, results)


def decide_loaded(*, session: Session, kit: identity.IdentityKit, principal: Principal, assessed: Assessed,
                  language: str, notify: bool = True) -> ApplicationView:
    """The second half of `submit_loaded`: the decision carried out, on the timeline, audited, the borrower told."""
    application, assessment, action, before = assessed.application, assessed.assessment, assessed.action, \
        assessed.before
    application.status = states.decided("submitted", assessment.decision)
    reason = _apply(session, application, assessment, assessed.terms)
    application.decided_at = application.updated_at = kit.clock.now()
    if application.status == "referred":
        enter_chain(application, application.decided_at)
    # Both steps' timeline entries, audit records and messages are written together after the decision, in the
    # order they happened: the timeline in one INSERT and the messages in one per table (Core, no ids needed), the
    # application's own UPDATE before the timeline's (`write_changes`: nothing left for a flush), the audit
    # records at commit.
    decided = application.status
    timeline = [_event_row(kit, application, actor=principal.kind, user_id=principal.user_id, before=before,
                           after="submitted", reason=action, at=assessed.at),
                _event_row(kit, application, actor="system", user_id=None, before="submitted", after=decided,
                           reason=reason)]
    _audit(session, kit, principal.actor, application,
           {"submit": "submitted", "resubmit": "resubmitted", "group_submit": "submitted"}[action], before,
           status="submitted")
    _audit(session, kit, Actor.system(application.institution_id, request_id=principal.meta.request_id),
           application, application.status, "submitted", decision=str(assessment.decision),
           rule_set=assessment.rule_set, grade=assessment.grade, levels_required=application.levels_required,
           annual_rate_percent=application.annual_rate_percent)
    if notify:  # both steps' messages: one INSERT per table (no ids needed, no ORM objects)
        messages = [m for m in (_messages(session, kit, application, language, phone=assessed.phone,
                                          status="submitted"),
                                _messages(session, kit, application, language, assessment, phone=assessed.phone))
                    if m is not None]
        notifications.write_messages(session, inbox=[i for i, _ in messages], sms=[s for _, s in messages])
    repo.write_changes(session, application)  # the application written once, its version raised for the view
    repo.add_events(session, timeline)
    # A first submission's results are the ones just written: not read back.
    return ApplicationView(application, repo.events_of(session, application.id),
                           assessed.results if application.submissions == 1
                           else repo.results_of(session, application.id))


def enter_chain(application: Application, now: datetime, *, human: bool = False) -> None:
    """Start a new chain of the review in levels at level 1 (a referral, or a human review request)."""
    application.review_chain = (application.review_chain or 0) + 1
    application.review_level, application.level_entered_at = 1, now
    application.human_review = human
    application.counter_amount = application.counter_term = None


def withdraw(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
             note: str | None, own: bool, reason: str | None = None) -> ApplicationView:
    """Withdraw an application before a decision (draft, submitted, returned, referred, or a group
    member's awaiting_consent). Locks follow one order — a group application before its members'
    applications — so a member withdrawing never deadlocks with the officer acting on the group."""
    application = (_own if own else _staff)(session, principal, application_id)
    if application.group_application_id is not None:
        repo.get_group_application(session, application.group_application_id, for_update=True)
    application = (_own if own else _staff)(session, principal, application_id, for_update=True)
    before = application.status
    application.status = states.step(before, "withdraw")
    application.updated_at = kit.clock.now()
    session.flush()
    _event(session, kit, application, actor=principal.kind, user_id=principal.user_id, before=before,
           after="withdrawn", reason=reason or ("withdrawn_by_borrower" if own else "withdrawn_by_staff"), note=note)
    _audit(session, kit, principal.actor, application, "withdrawn", before, note=note,
           **({"reason": reason} if reason else {}))
    if application.group_application_id is not None and before == "awaiting_consent":
        _group_member_withdrew(session, kit, application)
    return _view(session, application)


def _group_member_withdrew(session: Session, kit: identity.IdentityKit, application: Application) -> None:
    """A group member withdrew their waiting application: a refusal, holding the group application for the
    officer (nothing to do when the officer removed them, or cancelled the group application)."""
    assert application.group_application_id is not None
    ga = repo.get_group_application(session, application.group_application_id, for_update=True)
    part = next((m for m in repo.group_members(session, application.group_application_id)
                 if m.application_id == application.id), None)
    if ga is None or part is None or ga.status not in ("awaiting_consent", "member_refused") \
            or part.consent == "removed":
        return
    part.consent, part.decided_at = "refused", kit.clock.now()
    ga.status, ga.updated_at = "member_refused", kit.clock.now()
    session.flush()



