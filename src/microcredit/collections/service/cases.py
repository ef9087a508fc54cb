"""Cases: opened, escalated and closed from the loans' days past due (`sync`, the close of business's
step), assigned to the collectors of the loan's branch by load, reassigned by a manager, listed and read.

`sync` reads each overdue loan's state on the business date (servicing's fold): the overdue amount by
component is what is outstanding on installments already due; the stage is the last of the
institution's stages whose entry rule (days past due, and an overdue amount if the stage sets one)
the case meets; the priority is days past due × the overdue amount in yuan. A case whose loan is
current again closes as paid, one whose loan was written off as written off. Promises to pay are
followed up: kept when the repayments since the promise reach its amount by its date, broken when
the date passed without. Running it again on the same date changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.collections import repository as repo
from microcredit.collections.errors import AgencyNotTaking, NotACollector, NothingOverdue
from microcredit.collections.models import CollectionAction, CollectionCase
from microcredit.collections.service import messages, settings
from microcredit.errors import NotFound
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.platform.paging import PageRequest, PageResult, order_by, paginate
from microcredit.platform.todo import Todo
from microcredit.servicing.service import loans, quiet

COMPONENTS = ("principal", "interest", "fee", "penalty")
SORTS = {"priority": CollectionCase.priority, "dpd": CollectionCase.dpd, "id": CollectionCase.id,
         "opened_on": CollectionCase.opened_on, "overdue_total": CollectionCase.overdue_total}


@dataclass
class SyncReport:
    """What a sync did on one business date."""

    business_date: date
    opened: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    promises_kept: list[int] = field(default_factory=list)
    promises_broken: list[int] = field(default_factory=list)
    texted: list[int] = field(default_factory=list)  # cases whose new stage's SMS was queued
    set_based: int = 0  # cases `sync_cases_set` refreshed from the loans' columns (not one by one)


def stage_for(stages: list[dict[str, Any]], dpd: int, overdue_total: Money) -> str:
    """The last stage whose entry rule the case meets (the first stage at least)."""
    chosen = stages[0]["code"]
    for stage in stages:
        floor = stage.get("min_amount")
        enough = floor is None or overdue_total >= Money.parse(str(floor), overdue_total.currency)
        if dpd >= stage["min_dpd"] and enough:
            chosen = stage["code"]
    return str(chosen)


def _rank(stages: list[dict[str, Any]], code: str) -> int:
    return next((i for i, s in enumerate(stages) if s["code"] == code), -1)


def _repaid_between(state: Any, first: date, last: date | None) -> Money:
    """Repayments and prepayments (not credit used) valued in [first, last]."""
    total = Money.zero(state.currency)
    for p in state.payments:
        if p.event_id is not None and p.on >= first and (last is None or p.on <= last):
            total += p.amount
    return total


def _refresh(case: CollectionCase, state: Any, stages: list[dict[str, Any]]) -> None:
    due = state.due_now
    case.overdue = {c: getattr(due, c).minor for c in COMPONENTS}
    case.overdue_total = due.total
    case.dpd = state.dpd
    case.stage = stage_for(stages, state.dpd, due.total)
    if case.stage_floor is not None and _rank(stages, case.stage_floor) > _rank(stages, case.stage):
        case.stage = case.stage_floor
    case.priority = state.dpd * (due.total.minor // 100)
    case.recovered = _repaid_between(state, case.opened_on, None)


def sync_cases(*, session: Session, clock: Clock, kit: identity.IdentityKit, institution_id: int,
               business_date: date) -> SyncReport:
    """Open, escalate and close the institution's cases from its loans' days past due on `business_date`,
    and follow up the promises to pay (the module docstring). A case opened into a stage, or escalated to
    one, whose rule names an SMS template has that message queued to the borrower (`messages.stage_message`;
    `kit` reads the borrower's phone)."""
    rules = settings.rules(session=session, institution_id=institution_id)
    live = {c.loan_id: c for c in repo.live_cases(session, institution_id)}
    overdue = {loan.id: loan for loan in loans.overdue(session=session, institution_id=institution_id,
                                                                 business_date=business_date)}
    return _sync(session, clock, kit, institution_id, business_date, rules, live, overdue)


def _sync(session: Session, clock: Clock, kit: identity.IdentityKit, institution_id: int, business_date: date,
          rules: settings.Rules, live: dict[int, CollectionCase], overdue: dict[int, Any]) -> SyncReport:
    """`sync_cases` over these live cases (by loan) and overdue loans (by id, in id order)."""
    actor = Actor.system(institution_id)
    report = SyncReport(business_date)
    states: dict[int, Any] = {}
    for loan in [*overdue.values(), *loans.by_ids(session=session, loan_ids=[i for i in live if i not in overdue])]:
        if loan.status != "pending_disbursement":
            states[loan.id] = loans.state_of(session=session, loan=loan, as_of=business_date)
    now = clock.now()
    for loan_id, loan in overdue.items():
        state = states[loan_id]
        if state.dpd <= 0:
            continue
        case = live.get(loan_id)
        if case is None:
            case = CollectionCase(institution_id=institution_id, branch_id=loan.branch_id, loan_id=loan.id,
                                  borrower_id=loan.borrower_id, status="open", opened_on=business_date,
                                  synced_on=business_date, created_at=now, updated_at=now)
            _refresh(case, state, rules.stages)
            case.assigned_user_id = _least_loaded(session, institution_id, loan.branch_id)
            repo.add(session, case)
            live[loan_id] = case
            report.opened.append(case.id)
            audit.record(session=session, clock=clock, actor=actor, action="collection.case_opened",
                         entity_type="collection_case", entity_id=case.id, institution_id=institution_id,
                         after={"loan_id": loan.id, "stage": case.stage, "dpd": case.dpd,
                                "overdue": str(case.overdue_total), "assigned_user_id": case.assigned_user_id})
            if messages.stage_message(session=session, clock=clock, kit=kit, case=case, rules=rules) is not None:
                report.texted.append(case.id)
            continue
        before = case.stage
        _refresh(case, state, rules.stages)
        case.synced_on, case.updated_at = business_date, now
        if _rank(rules.stages, case.stage) > _rank(rules.stages, before):
            report.escalated.append(case.id)
            audit.record(session=session, clock=clock, actor=actor, action="collection.case_escalated",
                         entity_type="collection_case", entity_id=case.id, institution_id=institution_id,
                         before={"stage": before}, after={"stage": case.stage, "dpd": case.dpd})
            if messages.stage_message(session=session, clock=clock, kit=kit, case=case, rules=rules) is not None:
                report.texted.append(case.id)
    for loan_id, case in live.items():
        state = states.get(loan_id)
        if state is None or (loan_id in overdue and state.dpd > 0):
            continue
        _refresh(case, state, rules.stages)
        written_off = state.written_off_on is not None
        case.status, case.close_reason = "closed", "written_off" if written_off else "paid"
        case.closed_on, case.synced_on, case.updated_at = business_date, business_date, now
        report.closed.append(case.id)
        audit.record(session=session, clock=clock, actor=actor, action="collection.case_closed",
                     entity_type="collection_case", entity_id=case.id, institution_id=institution_id,
                     after={"reason": case.close_reason, "recovered": str(case.recovered)})
    _follow_up(session, clock, actor, report, list(live.values()), states)
    session.flush()
    return report


def sync_cases_set(*, session: Session, clock: Clock, kit: identity.IdentityKit, institution_id: int,
                   business_date: date, partition: int = 500) -> SyncReport:
    """`sync_cases` with the day of the cases that only move on read and written per partition (the close of
    business's step 7): the live cases read `partition` at a time by loan (one query, rows, no ORM objects), their
    loans' figures from servicing's columns of the day's fold (`quiet.unpaid_dues`: days past due, what is
    outstanding by component on the installments due, the repayments — one query, no JSON, no fold), the cases with
    a promise pending asked in one query; a case whose loan is still past due, with no promise pending, that is not
    escalated is refreshed exactly as `_refresh` does, in Python over the rows, and written in one executemany UPDATE
    per partition (the version moved as the ORM's; a case whose figures did not change is not written, as the flush
    writes nothing). Everything else — a case to open (the assignment by the collectors' load, in loan order), to
    escalate (its audit record and the stage's SMS), to close, a promise to follow up, a loan whose fold of the day
    has no columns — goes through `sync_cases`'s own code over those loans and cases alone (`_sync`), as before."""
    rules = settings.rules(session=session, institution_id=institution_id)
    stages = rules.stages
    now = clock.now()
    done: set[int] = set()
    others: list[int] = []
    after = 0
    while True:
        rows = repo.live_case_rows(session, institution_id, after_loan_id=after, limit=partition)
        if not rows:
            break
        after = rows[-1].loan_id
        facts = quiet.unpaid_dues(session, institution_id=institution_id, on=business_date,
                                  ids=[r.loan_id for r in rows])
        promised = repo.with_pending_promises(session, [r.id for r in rows])
        writes: list[dict[str, Any]] = []
        for row in rows:
            one = facts.get(row.loan_id)
            if one is None or one.dpd <= 0 or row.id in promised:
                others.append(row.id)
                continue
            due = one.due_by(business_date)
            total = Money(sum(due.values()), one.currency)
            stage = stage_for(stages, one.dpd, total)
            if row.stage_floor is not None and _rank(stages, row.stage_floor) > _rank(stages, stage):
                stage = row.stage_floor
            if _rank(stages, stage) > _rank(stages, row.stage):
                others.append(row.id)  # escalated: audited and texted by `_sync`
                continue
            done.add(row.loan_id)
            new = {"b_status": "open", "b_stage": stage, "b_dpd": one.dpd, "b_overdue": due, "b_overdue_total": total,
                   "b_priority": one.dpd * (total.minor // 100),
                   "b_recovered": Money(one.repaid_from(row.opened_on), one.currency),
                   "b_synced_on": business_date, "b_updated_at": now}
            old = {"b_status": row.status, "b_stage": row.stage, "b_dpd": row.dpd, "b_overdue": row.overdue,
                   "b_overdue_total": row.overdue_total, "b_priority": row.priority, "b_recovered": row.recovered,
                   "b_synced_on": row.synced_on, "b_updated_at": row.updated_at}
            if new != old:
                writes.append({"b_id": row.id, "b_version": row.version, **new})
        repo.update_cases(session, writes)
    live = {c.loan_id: c for c in repo.cases_by_ids_in_order(session, others)}
    rest = [i for i in quiet.overdue_ids(session, institution_id=institution_id, business_date=business_date)
            if i not in done]
    overdue = {loan.id: loan for loan in loans.by_ids(session=session, loan_ids=rest)}
    report = _sync(session, clock, kit, institution_id, business_date, rules, live, overdue)
    report.set_based = len(done)
    return report


def _follow_up(session: Session, clock: Clock, actor: Actor, report: SyncReport, cases: list[CollectionCase],
               states: dict[int, Any]) -> None:
    by_id = {c.id: c for c in cases}
    for promise in repo.pending_promises(session, by_id):
        case = by_id[promise.case_id]
        state = states.get(case.loan_id)
        assert promise.promise_date is not None
        assert promise.promise_amount is not None
        assert promise.promise_made_on is not None
        paid = _repaid_between(state, promise.promise_made_on, promise.promise_date) if state is not None \
            else Money.zero(promise.promise_amount.currency)
        if paid >= promise.promise_amount:
            promise.promise_status = "kept"
            report.promises_kept.append(promise.id)
        elif report.business_date > promise.promise_date:
            promise.promise_status = "broken"
            report.promises_broken.append(promise.id)
        else:
            continue
        audit.record(session=session, clock=clock, actor=actor, action=f"collection.promise_{promise.promise_status}",
                     entity_type="collection_case", entity_id=case.id, institution_id=case.institution_id,
                     after={"action_id": promise.id, "amount": str(promise.promise_amount), "paid": str(paid)})
    for case in cases:
        if case.status != "closed":
            case.status = "promised" if repo.pending_promises(session, [case.id]) else "open"


def step_up(*, session: Session, clock: Clock, kit: identity.IdentityKit, actor: Actor, institution_id: int,
            loan_id: int, business_date: date, reason: str) -> CollectionCase:
    """Step up the collection of a past-due loan (an early warning's action): its case opened now if the
    sync has not opened one, else moved to the next stage, which the sync then keeps as the case's floor.

    A case that enters a stage here gets that stage's automatic SMS, as one the sync moves does (held
    through the debtor's quiet hours); a case already at the last stage stays there and is not texted again."""
    rules = settings.rules(session=session, institution_id=institution_id)
    loan = loans.get(session=session, institution_id=institution_id, loan_id=loan_id)
    state = loans.state_of(session=session, loan=loan, as_of=business_date)
    if state.dpd <= 0:
        raise NothingOverdue(field="action")
    now = clock.now()
    case = repo.live_case_of_loan(session, loan_id)
    if case is None:
        case = CollectionCase(institution_id=institution_id, branch_id=loan.branch_id, loan_id=loan.id,
                              borrower_id=loan.borrower_id, status="open", opened_on=business_date,
                              synced_on=business_date, created_at=now, updated_at=now)
        _refresh(case, state, rules.stages)
        case.assigned_user_id = _least_loaded(session, institution_id, loan.branch_id)
        repo.add(session, case)
        audit.record(session=session, clock=clock, actor=actor, action="collection.case_opened",
                     entity_type="collection_case", entity_id=case.id, institution_id=institution_id,
                     after={"loan_id": loan.id, "stage": case.stage, "dpd": case.dpd, "reason": reason,
                            "overdue": str(case.overdue_total), "assigned_user_id": case.assigned_user_id})
        messages.stage_message(session=session, clock=clock, kit=kit, case=case, rules=rules)
        return case
    before = case.stage
    following = min(_rank(rules.stages, before) + 1, len(rules.stages) - 1)
    case.stage = case.stage_floor = rules.stages[following]["code"]
    case.updated_at = now
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="collection.case_escalated",
                 entity_type="collection_case", entity_id=case.id, institution_id=institution_id,
                 before={"stage": before}, after={"stage": case.stage, "dpd": case.dpd, "reason": reason})
    if case.stage != before:
        messages.stage_message(session=session, clock=clock, kit=kit, case=case, rules=rules)
    return case


def _least_loaded(session: Session, institution_id: int, branch_id: int | None) -> int | None:
    """The collector of the branch with the fewest cases not closed (the lowest id on a tie); None: none."""
    collectors = identity.accounts.staff_holding(session=session, institution_id=institution_id,
                                                 permission="collection.act", branch_id=branch_id)
    if not collectors:
        return None
    counts = repo.live_counts_by_user(session, [c.id for c in collectors])
    return min(collectors, key=lambda c: (counts.get(c.id, 0), c.id)).id


# --- reading and assigning (scope checked) -----------------------------------------------------


def visible(*, session: Session, principal: Principal, case_id: int, for_update: bool = False) -> CollectionCase:
    """A case the caller's data scope covers (else not found)."""
    case = repo.get_case(session, case_id, for_update=for_update)
    if case is None:
        raise NotFound(field="case_id")
    scope.ensure_visible(principal, institution_id=case.institution_id, branch_id=case.branch_id)
    return case


def list_cases(*, session: Session, principal: Principal, page: PageRequest, status: str | None = None,
               stage: str | None = None, assigned_user_id: int | None = None, unassigned: bool = False,
               mine: bool = False) -> PageResult[CollectionCase]:
    """Cases in the caller's scope (`mine`: assigned to the caller, not closed), highest priority first."""
    f = scope.filters(principal)
    stmt = repo.cases_query(institution_id=f.institution_id, branch_id=f.branch_id, status=status, stage=stage,
                            assigned_user_id=principal.user_id if mine else assigned_user_id,
                            unassigned=unassigned, live=mine and status is None)
    return paginate(session, order_by(stmt, page.sort, SORTS, [CollectionCase.priority.desc(), CollectionCase.id]),
                    page)


def assign(*, session: Session, clock: Clock, principal: Principal, case_id: int, user_id: int | None,
           agency: str | None) -> CollectionCase:
    """Give the case to a collector of the institution, or to an active agency on the allow-list that takes cases
    of the case's stage (audited)."""
    case = visible(session=session, principal=principal, case_id=case_id, for_update=True)
    if user_id is not None:
        collectors = identity.accounts.staff_holding(session=session, institution_id=case.institution_id,
                                                     permission="collection.act")
        if user_id not in {c.id for c in collectors}:
            raise NotACollector(field="user_id")
    else:
        found = settings.rules(session=session, institution_id=case.institution_id).agency(agency)
        if found is None:
            raise NotACollector(field="agency")
        if not found["active"] or case.stage not in found["stages"]:
            raise AgencyNotTaking(field="agency", stage=case.stage)
    before = {"assigned_user_id": case.assigned_user_id, "agency": case.agency}
    case.assigned_user_id, case.agency = user_id, agency if user_id is None else None
    case.updated_at = clock.now()
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="collection.case_assigned",
                 entity_type="collection_case", entity_id=case.id, institution_id=case.institution_id,
                 before=before, after={"assigned_user_id": case.assigned_user_id, "agency": case.agency})
    return case


def collectors(*, session: Session, principal: Principal) -> list[tuple[Any, int]]:
    """The institution's collectors (in the caller's branch, for a branch-scoped caller) with their live cases."""
    f = scope.filters(principal)
    people = identity.accounts.staff_holding(session=session, institution_id=principal.institution_id,
                                             permission="collection.act",
                                             branch_id=False if f.branch_id is False else f.branch_id)
    counts = repo.live_counts_by_user(session, [p.id for p in people])
    return [(p, counts.get(p.id, 0)) for p in people]


def user_names(*, session: Session, user_ids: list[int]) -> dict[int, str]:
    """Display names by user id."""
    found = identity.accounts.accounts_by_ids(session=session, user_ids=[u for u in set(user_ids) if u])
    return {i: a.display_name for i, a in found.items()}


def cases_of_debtor(*, session: Session, borrower_id: int) -> list[CollectionCase]:
    """A debtor's cases, newest first."""
    return repo.cases_of_borrower(session, borrower_id)


def history(*, session: Session, borrower_id: int) -> list[CollectionAction]:
    """The contact history of a debtor, newest first."""
    return repo.actions_of_borrower(session, borrower_id)


def todos(*, session: Session, principal: Principal, business_date: date | None = None) -> list[Todo]:
    """Promises to pay due today on the collector's cases; unassigned cases for managers."""
    out: list[Todo] = []
    if principal.institution_id is None:
        return out
    if principal.can("collection.act") or principal.can("collection.manage"):
        day = business_date or parties.organisation.business_date(session=session,
                                                                  institution_id=principal.institution_id)
        mine = None if principal.can("collection.manage") else principal.user_id
        out.append(Todo("collection_promises_due", repo.promises_due(
            session, institution_id=principal.institution_id, on=day, assigned_user_id=mine)))
    if principal.can("collection.manage"):
        f = scope.filters(principal)
        out.append(Todo("collection_cases_unassigned", repo.count(session, repo.cases_query(
            institution_id=f.institution_id, branch_id=f.branch_id, unassigned=True, live=True))))
    return out
