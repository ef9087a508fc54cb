"""The review in levels: 初审 → 复审 → 终审 as the product's approval policy asks (`levels_required`).

An application the automated review referred to people waits at level 1 of a new *chain*
(`review_chain`, `review_level`, `level_entered_at`). A reviewer holding `loan.approve.level<L>`
acts at the level it waits at: approve (to the next level, or approved with the rate of its grade
at the last), decline (with a coded reason), request documents (back to `returned`; the
resubmission is reviewed automatically again and, referred again, starts a new chain at level 1) or
counter-offer (a lower amount and/or shorter term: the borrower accepts, and the chain goes on as
after an approval, or rejects, and the application is withdrawn). Notes need only `loan.read`.

Rules: nobody reviews an application they applied for or took in (`review_own_application`), nor
acts at two levels of one chain (`review_twice_in_chain`); the reviewer sends the level (and the
version) they saw, and the row is locked while it is checked, so of two racing on one step one wins
and the other is told (`review_stale`, 409). Acting against the model needs an override reason:
approving (or counter-offering) grade D or E or an automatic decline, approving or counter-offering an
amount above the product's offer (the grade's limit or what the income allows), declining grade A or B.

A borrower declined automatically may ask once for a person to review it (PIPL Art. 24): the
application goes to `human_review` at level 1 of a new chain, flagged; the reviewer upholds the
decline (decline) or overturns it (approve, an override), after which the chain goes on by the
policy's levels. Every act is a row of `application_reviews`, a timeline step and an audit record;
the borrower hears of counter-offers, received human review requests and decisions in the app and by
SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.config import ReviewSettings
from microcredit.errors import FieldProblem, ValidationFailed
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.lending import working_time
from microcredit.lending.calendar import HolidayCalendar
from microcredit.lending.money import Money
from microcredit.notifications import service as notifications
from microcredit.origination import repository as repo
from microcredit.origination.errors import (
    HumanReviewUsed,
    LevelNotAllowed,
    OwnApplication,
    ReviewStale,
    TwiceInChain,
    WrongState,
)
from microcredit.origination.models import Application, ApplicationReview
from microcredit.origination.service import applications as apps
from microcredit.origination.service import facts as facts_of
from microcredit.origination.service import states
from microcredit.parties import service as parties
from microcredit.platform.paging import PageRequest, PageResult, paginate
from microcredit.platform.todo import Todo
from microcredit.products import service as products
from microcredit.risk.assessment import Outcome, Stage

__all__ = ["LEVEL_PERMISSIONS", "ChainView", "QueueEntry", "accept_counter", "act", "add_note",
           "levels_of", "queue", "queue_counts", "reject_counter", "request_human_review", "review_of",
           "score_factors", "todos"]

LEVEL_PERMISSIONS = {1: "loan.approve.level1", 2: "loan.approve.level2", 3: "loan.approve.level3"}
LOW_GRADES = frozenset({"D", "E"})
HIGH_GRADES = frozenset({"A", "B"})


def levels_of(principal: Principal) -> list[int]:
    """The levels the caller may act at."""
    return [level for level, permission in LEVEL_PERMISSIONS.items() if principal.can(permission)]


def _leave_chain(application: Application) -> None:
    application.review_level = application.level_entered_at = None
    application.counter_amount = application.counter_term = None


@dataclass(frozen=True)
class SlaClock:
    """How long an application may wait at each level, on the wall clock or in working hours."""

    settings: ReviewSettings
    zone: ZoneInfo
    calendar: HolidayCalendar | None  # None: the wall clock

    def due(self, entered: datetime, level: int) -> datetime:
        """When an application that entered `level` at `entered` passes its SLA."""
        hours = self.settings.sla_hours(level)
        if self.calendar is None:
            return entered + timedelta(hours=hours)
        local = working_time.due(self._local(entered), hours, calendar=self.calendar, day=self._day)
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def cutoff(self, now: datetime, level: int) -> datetime:
        """Applications that entered `level` before this are past their SLA at `now`."""
        hours = self.settings.sla_hours(level)
        if self.calendar is None:
            return now - timedelta(hours=hours)
        local = working_time.cutoff(self._local(now), hours, calendar=self.calendar, day=self._day)
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    @property
    def _day(self) -> working_time.WorkingDay:
        return working_time.WorkingDay(self.settings.working_day_opens, self.settings.working_day_closes)

    def _local(self, instant: datetime) -> datetime:
        aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
        return aware.astimezone(self.zone).replace(tzinfo=None)


def sla_clock(session: Session, sla: ReviewSettings, institution_id: int, now: datetime) -> SlaClock:
    """The SLA clock of an institution: its time zone, and its holiday calendar when the SLA runs in
    working hours (the years around `now`; an SLA of at most 30 days of hours stays within them)."""
    inst = parties.organisation.institution(session=session, institution_id=institution_id)
    calendar = None
    if sla.sla_in_working_hours:
        calendar = products.calendar.holiday_calendar(session=session, institution_id=institution_id,
                                                      first=date(now.year - 1, 1, 1), last=date(now.year + 1, 12, 31))
    return SlaClock(sla, ZoneInfo(inst.timezone), calendar)


def _due(application: Application, clock: SlaClock) -> datetime | None:
    if application.review_level is None or application.level_entered_at is None:
        return None
    return clock.due(application.level_entered_at, application.review_level)


def product_offer(session: Session, application: Application) -> Money | None:
    """The product's offer the last automated review made below the asked amount (the grade's limit ∧ the
    income's bound: a flagged `grade_limit` or `debt_service_ratio` result), if it made one."""
    for r in reversed(repo.results_of(session, application.id)):
        if (r.submission == application.submissions and r.stage == Stage.DECISION and r.outcome == Outcome.FLAG
                and r.code in apps.PRICING_CODES and r.code != "affordability"):
            return Money.parse(str(r.params["offer"]), application.amount.currency)
    return None


def override_needed(session: Session, application: Application) -> list[str]:
    """The acts that go against the model here (and so need an override reason): approving above the
    product's offer is one (the amount is above the grade's limit or what the income allows)."""
    against_approve = application.grade in LOW_GRADES or application.decision == "decline"
    out = ["approve", "counter_offer"] if against_approve else []
    if not against_approve:
        offer = product_offer(session, application)
        if offer is not None and application.amount > offer:
            out.append("approve")
    if application.grade in HIGH_GRADES and application.decision != "decline":
        out.append("decline")
    return out


def counter_above_offer(session: Session, application: Application, amount: Money) -> bool:
    """A counter-offer of `amount` still above the product's offer goes against the model as approving
    the ask would: lower than the ask is not enough, it must come down to the offer to need no reason."""
    offer = product_offer(session, application)
    return offer is not None and amount > offer


def score_factors(application: Application) -> list[str]:
    """What an automatically declined borrower is told of the score: its main reasons (catalogue keys)."""
    if application.decision != "decline" or application.status not in ("declined", "human_review"):
        return []
    return [r for r in (application.reasons or []) if r.startswith("risk.reason.")][:4]


def human_review_available(application: Application) -> bool:
    """Declined automatically (not by a person) and no human review asked for yet."""
    return (application.status == "declined" and application.decision == "decline"
            and application.human_review_requested_at is None and application.review_chain == 0)


# --- the queue -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueEntry:
    """An application waiting at a level, with its SLA."""

    application: Application
    borrower_name: str | None
    waiting_seconds: int
    due_at: datetime
    breached: bool


def queue(*, session: Session, clock: Clock, sla: ReviewSettings, principal: Principal, page: PageRequest,
          level: int | None = None, branch_id: int | None = None) -> PageResult[QueueEntry]:
    """Applications waiting at the levels the caller may act on (or at `level` of them), in scope, oldest
    first; not those the caller may not decide (their own, or a chain they decided at another level)."""
    levels = [lv for lv in levels_of(principal) if level is None or lv == level]
    f = scope.filters(principal)
    result = paginate(session, repo.queue_query(institution_id=f.institution_id, branch_id=f.branch_id,
                                                levels=levels or [0], branch_filter=branch_id,
                                                actor_user_id=principal.user_id), page)
    names = parties.borrowers.borrower_names(session=session, borrower_ids=[a.borrower_id for a in result.items])
    now = clock.now()
    sla_of = sla_clock(session, sla, principal.institution_id, now)
    entries = []
    for a in result.items:
        due = _due(a, sla_of)
        assert due is not None
        assert a.level_entered_at is not None
        entries.append(QueueEntry(a, names.get(a.borrower_id), max(0, int((now - a.level_entered_at)
                                                                           .total_seconds())), due, now > due))
    return PageResult(items=entries, total=result.total, page=result.page, page_size=result.page_size)


def queue_counts(*, session: Session, clock: Clock, sla: ReviewSettings, principal: Principal,
                 branch_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Per level the caller may act on: (waiting, SLA breached), in scope."""
    f = scope.filters(principal)
    now = clock.now()
    levels = levels_of(principal)
    if not levels:
        return {}
    sla_of = sla_clock(session, sla, principal.institution_id, now)
    cutoffs = {level: sla_of.cutoff(now, level) for level in levels}
    if not cutoffs:
        return {}
    return repo.waiting_counts(session, institution_id=f.institution_id, branch_id=f.branch_id, cutoffs=cutoffs,
                               branch_filter=branch_id, actor_user_id=principal.user_id)


def todos(*, session: Session, clock: Clock, sla: ReviewSettings, principal: Principal) -> list[Todo]:
    """Applications waiting per level the caller may act on, and those past their SLA."""
    counts = queue_counts(session=session, clock=clock, sla=sla, principal=principal)
    if not counts:
        return []
    return [*(Todo(f"applications_level{level}", n) for level, (n, _) in counts.items()),
            Todo("applications_sla_breached", sum(late for _, late in counts.values()))]


# --- the review screen -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainView:
    """Where an application's review stands, and whether the caller may act now (or why not)."""

    application: Application
    steps: list[ApplicationReview]
    due_at: datetime | None
    breached: bool
    override_needed: list[str]
    offer: Money | None  # the product's offer below the ask: a counter-offer above it needs an override reason
    refusal: str | None
    names: dict[int, str]  # the reviewers' display names by user id
    group: apps.GroupRisk | None  # a group member's: the group's total and worst grade set its levels


def _refusal(session: Session, principal: Principal, application: Application) -> str | None:
    """The code of the first rule that stops the caller acting now (None: they may)."""
    try:
        _may_act(session, principal, application)
    except (WrongState, LevelNotAllowed, OwnApplication, TwiceInChain) as refused:
        return refused.code
    return None


def review_of(*, session: Session, clock: Clock, sla: ReviewSettings, principal: Principal,
              application_id: int) -> ChainView:
    """An application's review: the chain so far (and earlier chains), notes, SLA, whether the caller may act."""
    application = apps._staff(session, principal, application_id)
    due = _due(application, sla_clock(session, sla, application.institution_id, clock.now()))
    steps = repo.reviews_of(session, application.id)
    accounts = identity.accounts.accounts_by_ids(session=session, user_ids=sorted({r.user_id for r in steps}))
    return ChainView(application, steps, due, due is not None and clock.now() > due,
                     override_needed(session, application), product_offer(session, application),
                     _refusal(session, principal, application),
                     {uid: a.display_name for uid, a in accounts.items()}, apps.group_risk(session, application))


# --- acting ------------------------------------------------------------------------------------------

def _may_act(session: Session, principal: Principal, application: Application) -> int:
    """The level the caller acts at, or the refusal (status, permission, own application, twice in a chain)."""
    if application.status not in states.REVIEWABLE or application.review_level is None:
        raise WrongState(status=application.status, action="review")
    level = application.review_level
    if not principal.can(LEVEL_PERMISSIONS[level]):
        raise LevelNotAllowed(level=level)
    if principal.user_id in (application.borrower_user_id, application.officer_user_id,
                             application.created_by_user_id):
        raise OwnApplication()
    acted = [lv for lv in repo.levels_acted(session, application_id=application.id, chain=application.review_chain,
                                            user_id=principal.user_id) if lv != level]
    if acted:
        raise TwiceInChain(level=acted[0])
    return level


def _problem(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, code, en, zh)])


def _sms(session: Session, kit: identity.IdentityKit, application: Application, template: str, language: str,
         **params: Any) -> None:
    """The borrower hears of it in the app (notifications.notify_user) and by SMS (the outbox)."""
    notifications.notify_user(session, clock=kit.clock, institution_id=application.institution_id,
                              user_id=application.borrower_user_id, template=template,
                              params={"number": application.number or "", **params},
                              subject_kind="application", subject_id=application.id)
    phone = identity.accounts.phone(session=session, kit=kit, user_id=application.borrower_user_id)
    notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=kit.clock,
                              institution_id=application.institution_id, phone=phone, template=template,
                              params={"signature": kit.sender_name(session, application.institution_id, language),
                                      "number": application.number or "", **params}, language=language)


def _approve(session: Session, application: Application, now: datetime) -> str:
    """The chain's level is done: on to the next level, or approved at the last (the rate of the grade)."""
    level = application.review_level or 1
    if level < (application.levels_required or 1):
        application.review_level, application.level_entered_at = level + 1, now
        application.counter_amount = application.counter_term = None
        application.status = "referred"
        return "referred"
    terms = products.catalogue.terms_of(apps._version(session, application))
    grade = application.grade if application.grade in ("A", "B", "C", "D", "E") else None
    application.annual_rate_percent = f"{terms.rate.rate_for(grade).normalize():f}"  # type: ignore[arg-type]
    application.status = "approved"
    application.decided_at = now
    _leave_chain(application)
    return "approved"


def _check_counter(session: Session, kit: identity.IdentityKit, principal: Principal, application: Application,
                   amount: Money | None, term: int | None) -> tuple[Money, int]:
    amount = application.amount if amount is None else amount
    term = application.term if term is None else term
    if amount > application.amount:
        raise _problem("amount", "counter_offer_not_lower", "A counter-offer lowers the amount, never raises it",
                       "调整方案的金额不能高于申请金额")
    if term > application.term:
        raise _problem("term", "counter_offer_not_shorter", "A counter-offer shortens the term, never lengthens it",
                       "调整方案的期限不能长于申请期限")
    if application.group_application_id is not None and term != application.term:
        # A group's members repay on one term (the group application's); a member is countered on the amount.
        raise _problem("term", "counter_offer_group_term", "A group member's term is the group's: lower the amount",
                       "联保小组成员的期限与小组一致，只能调整金额")
    if amount == application.amount and term == application.term:
        raise _problem("amount", "counter_offer_unchanged", "Lower the amount or shorten the term",
                       "请降低金额或缩短期限")
    terms = products.catalogue.terms_of(apps._version(session, application))
    borrower = apps._borrower_of(session, principal, application)
    today = parties.organisation.business_date(session=session, institution_id=application.institution_id)
    problems = facts_of.check_plan(terms, amount=amount, term=term, repayment_method=application.repayment_method,
                                   customer_type=borrower.customer_type,
                                   age=parties.borrowers.age_of(kit=kit, borrower=borrower, on=today))
    problems = [p for p in problems if p.field in ("amount", "term")]
    if problems:
        raise ValidationFailed(problems)
    return amount, term


def act(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int, action: str,
        level: int, version: int | None = None, reason_code: str | None = None, override_reason: str | None = None,
        note: str | None = None, needed: list[str] | None = None, amount: Money | None = None,
        term: int | None = None, language: str = "zh-CN", notify: bool = True) -> Application:
    """A reviewer's act at the level the application waits at (see the module's text); `notify` False
    tells the borrower nothing (seeded history, such as the demo's)."""
    application = apps._staff(session, principal, application_id, for_update=True)
    if application.review_chain and (application.status not in states.REVIEWABLE
                                     or application.review_level != level
                                     or (version is not None and version != application.version)):
        raise ReviewStale(status=application.status, level=application.review_level)
    acting_level = _may_act(session, principal, application)
    if action == "decline" and reason_code is None:
        raise _problem("reason_code", "reason_required", "Choose the reason of the decline", "请选择拒绝原因")
    if action == "request_documents" and not needed:
        raise _problem("needed", "needed_required", "Name the documents needed", "请选择需补充的材料")
    before, now = application.status, kit.clock.now()
    states.step(before, action)  # refuses request_documents and counter_offer on a human review
    counter: tuple[Money, int] | None = None
    if action == "counter_offer":
        counter = _check_counter(session, kit, principal, application, amount, term)
    against = action in override_needed(session, application) or (
        counter is not None and counter_above_offer(session, application, counter[0]))
    if against and override_reason is None:
        raise _problem("override_reason", "override_reason_required",
                       "This goes against the model's assessment: give the override reason",
                       "该操作与模型结论不一致，请选择推翻理由")
    review = ApplicationReview(
        application_id=application.id, chain=application.review_chain, level=acting_level, user_id=principal.user_id,
        action=action, reason_code=reason_code if action == "decline" else None,
        override_reason=override_reason if against else None, note=note,
        needed=list(needed or []) if action == "request_documents" else None,
        counter_amount=counter[0] if counter else None, counter_term=counter[1] if counter else None, at=now)
    repo.add(session, review)  # the unique (application, chain, level) backs the lock up
    human = application.human_review
    event_reason: str | None = f"level{acting_level}_{action}"
    template: str | None = None
    params: dict[str, Any] = {}
    if action == "approve":
        if human and acting_level == 1:  # an overturned decline: the policy's levels from here on
            terms = products.catalogue.terms_of(apps._version(session, application))
            application.levels_required = apps.levels_needed(session, application, terms)
            event_reason = "human_review_overturned"
        _approve(session, application, now)
        if application.status == "approved":
            template, params = "application_approved", {"amount": str(application.amount)}
    elif action == "decline":
        application.status, application.decided_at = "declined", now
        application.annual_rate_percent = None
        _leave_chain(application)
        event_reason = "human_review_upheld" if human and acting_level == 1 else reason_code
        template, params = "application_declined", {"count": 1}
    elif action == "request_documents":
        application.status, application.needed = "returned", list(needed or [])
        _leave_chain(application)
        template, params = "application_returned", {"count": len(application.needed)}
    else:  # counter_offer
        assert counter is not None
        application.status = "counter_offered"
        application.counter_amount, application.counter_term = counter
        template, params = "application_counter_offer", {"amount": str(counter[0]), "term": counter[1]}
    application.updated_at = now
    session.flush()
    # The borrower reads the timeline: a reviewer's note goes on it only where it is addressed to them.
    apps._event(session, kit, application, actor="staff", user_id=principal.user_id, before=before,
                after=application.status, reason=(event_reason or action)[:64],
                note=note if action in ("request_documents", "counter_offer") else None)
    apps._audit(session, kit, principal.actor, application, f"review.{action}", before, level=acting_level,
                chain=review.chain, reason_code=review.reason_code, override_reason=review.override_reason,
                review_level=application.review_level, human_review=human,
                counter_amount=None if counter is None else str(counter[0]),
                counter_term=None if counter is None else counter[1])
    if template and notify:
        _sms(session, kit, application, template, language, **params)
    return application


def add_note(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
             note: str) -> ApplicationReview:
    """A note on an application (any staff member who sees it), shown on the review screen."""
    application = apps._staff(session, principal, application_id)
    row = ApplicationReview(application_id=application.id, chain=application.review_chain, level=None,
                            user_id=principal.user_id, action="note", note=note, at=kit.clock.now())
    repo.add(session, row)
    apps._audit(session, kit, principal.actor, application, "review.note", application.status, note_id=row.id)
    return row


# --- the borrower's side -----------------------------------------------------------------------------

def accept_counter(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
                   note: str | None, language: str) -> Application:
    """The borrower takes the counter-offer: the amount and term change and the chain goes on."""
    application = apps._own(session, principal, application_id, for_update=True)
    before = application.status
    states.step(before, "accept_counter")
    assert application.counter_amount is not None
    assert application.counter_term is not None
    old = {"amount": str(application.amount), "term": application.term}
    application.amount, application.term = application.counter_amount, application.counter_term
    now = kit.clock.now()
    _approve(session, application, now)
    application.updated_at = now
    session.flush()
    apps._event(session, kit, application, actor="borrower", user_id=principal.user_id, before=before,
                after=application.status, reason="counter_offer_accepted", note=note)
    apps._audit(session, kit, principal.actor, application, "counter_offer_accepted", before, before_plan=old,
                amount=str(application.amount), term=application.term, review_level=application.review_level)
    if application.status == "approved":
        _sms(session, kit, application, "application_approved", language, amount=str(application.amount))
    return application


def reject_counter(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
                   note: str | None) -> Application:
    """The borrower turns the counter-offer down: the application is withdrawn."""
    application = apps._own(session, principal, application_id, for_update=True)
    before = application.status
    application.status = states.step(before, "reject_counter")
    _leave_chain(application)
    application.updated_at = kit.clock.now()
    session.flush()
    apps._event(session, kit, application, actor="borrower", user_id=principal.user_id, before=before,
                after=application.status, reason="counter_offer_rejected", note=note)
    apps._audit(session, kit, principal.actor, application, "counter_offer_rejected", before, note=note)
    return application


def request_human_review(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
                         note: str | None, language: str, notify: bool = True) -> Application:
    """The borrower of an automatic decline asks for a person to review it (once per application)."""
    application = apps._own(session, principal, application_id, for_update=True)
    before = application.status
    states.step(before, "request_human_review")
    if not human_review_available(application):
        raise HumanReviewUsed()
    now = kit.clock.now()
    application.status, application.human_review_requested_at = "human_review", now
    application.levels_required = 1  # the first person upholds or overturns; overturned, the policy decides
    apps.enter_chain(application, now, human=True)
    application.updated_at = now
    session.flush()
    apps._event(session, kit, application, actor="borrower", user_id=principal.user_id, before=before,
                after=application.status, reason="human_review_requested", note=note)
    apps._audit(session, kit, principal.actor, application, "human_review_requested", before, note=note)
    if notify:
        _sms(session, kit, application, "application_human_review", language)
    return application
