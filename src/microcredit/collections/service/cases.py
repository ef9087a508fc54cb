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
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

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
from microcredit.notifications import service as notifications
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

    def extend(self, other: SyncReport) -> None:
        """Add what another sync of the same date did (a part of this one)."""
        for name in ("opened", "escalated", "closed", "promises_kept", "promises_broken", "texted"):
            getattr(self, name).extend(getattr(other, name))
        self.set_based += other.set_based


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
    """`sync_cases` a partition of loans at a time (the close of business's step 7), with what it does read from the
    loans' columns and written in a few statements per partition, and the same result.

    The loans walked are those past due on `business_date` and those of the cases not closed, by id, `partition` at
    a time: their cases as rows (one query), their figures from servicing's columns of the day's fold
    (`quiet.unpaid_dues`: days past due, what is outstanding by component on the installments due, the repayments —
    one query, no JSON, no fold), the cases with a promise pending (one query). In loan order, as `_sync` goes:
    - a loan past due without a case gets one, figured as `_refresh` does and assigned to the least loaded collector
      of its branch (`_Desk`: the branch's collectors and their cases read once, then counted as they are assigned);
    - a case whose loan is still past due, with no promise pending, is refreshed, and audited and texted when it moves
      up a stage;
    and all of a partition is written at once (`_Partition.write`: the new cases in one INSERT, the moved ones in one
    executemany UPDATE with the ORM's version check, the stages' SMS logged in one INSERT and queued in another, the
    audit records in one append), so the day's memory is one partition's. A loan without columns, or a case with a
    promise pending, goes through `_sync` on its own at its place in the order (the partition's earlier rows written
    first, so ids and loads are what they would be); the cases to close (the loan no longer past due) go through
    `_sync` at the end, as `sync_cases` closes after it opened and escalated."""
    rules = settings.rules(session=session, institution_id=institution_id)
    overdue = quiet.overdue_ids(session, institution_id=institution_id, business_date=business_date)
    walk = _Partition(session, clock, kit, institution_id, business_date, rules, frozenset(overdue))
    loan_ids = sorted(walk.overdue.union(repo.live_case_loan_ids(session, institution_id)))
    for start in range(0, len(loan_ids), partition):
        walk.walk(loan_ids[start:start + partition])
    closing = {c.loan_id: c for c in repo.cases_by_ids_in_order(session, walk.closing)}
    walk.report.extend(_sync(session, clock, kit, institution_id, business_date, rules, closing, {}))
    return walk.report


class _Desk:
    """The collectors of each branch and how many cases not closed each holds, read once per branch and collector and
    then counted as the sync assigns: what `_least_loaded` asks the database at each opening, with the same answer."""

    def __init__(self, session: Session, institution_id: int) -> None:
        self.session, self.institution_id = session, institution_id
        self.staff: dict[int | None, list[int]] = {}
        self.counts: dict[int, int] = {}

    def assign(self, branch_id: int | None) -> int | None:
        """`_least_loaded` for a case opened now, counted."""
        staff = self.staff.get(branch_id)
        if staff is None:
            staff = self.staff[branch_id] = [c.id for c in identity.accounts.staff_holding(
                session=self.session, institution_id=self.institution_id, permission="collection.act",
                branch_id=branch_id)]
            unseen = [u for u in staff if u not in self.counts]
            held = repo.live_counts_by_user(self.session, unseen)
            self.counts.update({u: held.get(u, 0) for u in unseen})
        if not staff:
            return None
        chosen = min(staff, key=lambda u: (self.counts[u], u))
        self.counts[chosen] += 1
        return chosen

    def took(self, user_id: int | None) -> None:
        """A case opened by `_sync` (from the database's counts) went to this user."""
        if user_id is not None and user_id in self.counts:
            self.counts[user_id] += 1


@dataclass
class _Moved:
    """A case opened (`row`: its columns, id once written) or escalated in a partition, for its audit and SMS."""

    loan: quiet.UnpaidDues
    stage: str
    total: Money
    action: str  # audited as
    after: dict[str, Any]
    before: dict[str, Any] | None = None
    row: dict[str, Any] | None = None
    case_id: int = 0


class _Partition:
    """`sync_cases_set`'s walk: a partition of loans read, decided in loan order, written at once."""

    def __init__(self, session: Session, clock: Clock, kit: identity.IdentityKit, institution_id: int,
                 business_date: date, rules: settings.Rules, overdue: frozenset[int]) -> None:
        self.session, self.clock, self.kit, self.rules = session, clock, kit, rules
        self.institution_id, self.business_date, self.overdue = institution_id, business_date, overdue
        self.report = SyncReport(business_date)
        self.desk = _Desk(session, institution_id)
        self.actor = Actor.system(institution_id)
        self.zone = ZoneInfo(parties.organisation.institution(session=session, institution_id=institution_id).timezone)
        self.closing: list[int] = []
        self.moved: list[_Moved] = []
        self.updates: list[dict[str, Any]] = []

    def walk(self, loan_ids: list[int]) -> None:
        rows = {r.loan_id: r for r in repo.live_case_rows(self.session, self.institution_id, first=loan_ids[0],
                                                           last=loan_ids[-1])}
        facts = quiet.unpaid_dues(self.session, institution_id=self.institution_id, on=self.business_date,
                                  ids=loan_ids)
        promised = repo.with_pending_promises(self.session, [r.id for r in rows.values()])
        self.now = self.clock.now()
        for loan_id in loan_ids:
            row, one = rows.get(loan_id), facts.get(loan_id)
            if row is None:  # past due, no case yet
                if one is None:
                    self.one_by_one(loan_id, None)
                elif one.dpd > 0:
                    self.open(one)
            elif loan_id not in self.overdue or (one is not None and one.dpd <= 0):
                self.closing.append(row.id)
            elif one is None or row.id in promised:
                self.one_by_one(loan_id, row.id)
            else:
                self.refresh(row, one)
        self.write()

    def _figures(self, one: quiet.UnpaidDues) -> tuple[dict[str, int], Money]:
        due = one.due_by(self.business_date)
        return due, Money(sum(due.values()), one.currency)

    def open(self, one: quiet.UnpaidDues) -> None:
        """A case for a loan past due, as `_sync` opens one (`_refresh`'s figures)."""
        due, total = self._figures(one)
        stage = stage_for(self.rules.stages, one.dpd, total)
        assignee = self.desk.assign(one.branch_id)
        row = {"institution_id": self.institution_id, "branch_id": one.branch_id, "loan_id": one.loan_id,
               "borrower_id": one.borrower_id, "status": "open", "close_reason": None, "stage": stage,
               "stage_floor": None, "dpd": one.dpd, "overdue": due, "overdue_total": total,
               "priority": one.dpd * (total.minor // 100),
               "recovered": Money(one.repaid_from(self.business_date), one.currency), "assigned_user_id": assignee,
               "agency": None, "opened_on": self.business_date, "closed_on": None, "synced_on": self.business_date,
               "created_at": self.now, "updated_at": self.now, "version": 1}
        self.moved.append(_Moved(one, stage, total, "collection.case_opened", {
            "loan_id": one.loan_id, "stage": stage, "dpd": one.dpd, "overdue": str(total),
            "assigned_user_id": assignee}, row=row))

    def refresh(self, row: Any, one: quiet.UnpaidDues) -> None:
        """A live case whose loan is still past due, figured as `_refresh` does; escalated when its stage moves up."""
        stages = self.rules.stages
        due, total = self._figures(one)
        stage = stage_for(stages, one.dpd, total)
        if row.stage_floor is not None and _rank(stages, row.stage_floor) > _rank(stages, stage):
            stage = row.stage_floor
        self.report.set_based += 1
        new = {"b_status": "open", "b_stage": stage, "b_dpd": one.dpd, "b_overdue": due, "b_overdue_total": total,
               "b_priority": one.dpd * (total.minor // 100),
               "b_recovered": Money(one.repaid_from(row.opened_on), one.currency),
               "b_synced_on": self.business_date, "b_updated_at": self.now}
        old = {"b_status": row.status, "b_stage": row.stage, "b_dpd": row.dpd, "b_overdue": row.overdue,
               "b_overdue_total": row.overdue_total, "b_priority": row.priority, "b_recovered": row.recovered,
               "b_synced_on": row.synced_on, "b_updated_at": row.updated_at}
        if new != old:
            self.updates.append({"b_id": row.id, "b_version": row.version, **new})
        if _rank(stages, stage) > _rank(stages, row.stage):
            self.report.escalated.append(row.id)
            self.moved.append(_Moved(one, stage, total, "collection.case_escalated", {"stage": stage, "dpd": one.dpd},
                                     before={"stage": row.stage}, case_id=row.id))

    def one_by_one(self, loan_id: int, case_id: int | None) -> None:
        """`_sync` over this loan (and its case) alone, after what the partition has decided so far is written."""
        self.write()
        live = {c.loan_id: c for c in repo.cases_by_ids_in_order(self.session, [case_id])} if case_id else {}
        overdue = {loan.id: loan for loan in loans.by_ids(session=self.session, loan_ids=[loan_id])}
        done = _sync(self.session, self.clock, self.kit, self.institution_id, self.business_date, self.rules, live,
                     overdue)
        if done.opened:
            self.desk.took(live[loan_id].assigned_user_id)
        self.report.extend(done)

    def write(self) -> None:
        """What the partition decided: new cases, moved ones, the stages' SMS, the audit records."""
        opened = [m for m in self.moved if m.row is not None]
        for m, case_id in zip(opened, repo.insert_returning_ids(self.session, CollectionCase,
                                                                 [m.row for m in opened if m.row is not None]),
                              strict=True):
            m.case_id = case_id
            self.report.opened.append(case_id)
        repo.update_cases(self.session, self.updates)
        texts = self._texts()
        entries: list[audit.Entry] = []
        for m in self.moved:
            entries.append(audit.Entry(action=m.action, entity_type="collection_case", entity_id=m.case_id,
                                       before=m.before, after=m.after, institution_id=self.institution_id))
            if m.case_id in texts:
                entries.append(texts[m.case_id])
        if entries:
            audit.record_many(session=self.session, clock=self.clock, actor=self.actor, entries=entries)
        self.moved, self.updates = [], []

    def _texts(self) -> dict[int, audit.Entry]:
        """The automatic SMS of the stages the partition's cases entered (`messages.stage_message`'s, for all of
        them at once): logged in one INSERT, queued in one, their audit records by case."""
        wanted = [(m, t) for m in self.moved if (t := messages.stage_template(self.rules, m.stage)) is not None]
        if not wanted:
            return {}
        loans_of = [m.loan for m, _ in wanted]
        names = parties.borrowers.borrower_names(session=self.session,
                                                 borrower_ids=sorted({one.borrower_id for one in loans_of}))
        debtors = repo.debtor_rows(self.session, (one.borrower_id for one in loans_of))
        sent: list[tuple[_Moved, str, str, datetime, datetime]] = []
        for m, template in wanted:
            one = m.loan
            text = messages.text_of(template, messages.LANGUAGE, name=names.get(one.borrower_id, ""),
                                    number=one.number, dpd=one.dpd, amount=m.total)
            if settings.prohibited_in(text, self.rules.prohibited_phrases) is not None:
                continue
            debtor = debtors.get(one.borrower_id)
            local = self.now.astimezone(ZoneInfo(debtor.time_zone) if debtor is not None and debtor.time_zone
                                        else self.zone)
            when = local if debtor is not None and debtor.night_contact_consent else messages.next_allowed(
                local, self.rules)
            sent.append((m, template["code"], text, local, when))
        if not sent:
            return {}
        ids = repo.insert_returning_ids(self.session, CollectionAction, [messages.action_row(
            institution_id=self.institution_id, case_id=m.case_id, borrower_id=m.loan.borrower_id, template=code,
            text=text, when=when) for m, code, text, _, when in sent])
        phones = identity.accounts.phones(session=self.session, kit=self.kit,
                                          user_ids=[m.loan.borrower_user_id for m, *_ in sent])
        signature = parties.organisation.display_name(session=self.session, institution_id=self.institution_id,
                                                      language=messages.LANGUAGE)
        notifications.write_messages(self.session, sms=[notifications.sms_row(
            cipher=self.kit.keys.cipher, clock=self.clock, institution_id=self.institution_id,
            phone=phones[m.loan.borrower_user_id], template="collection_message",
            params={"signature": signature, "text": text}, language=messages.LANGUAGE,
            not_before=when.astimezone(UTC) if when != local else None) for m, _, text, local, when in sent])
        texts: dict[int, audit.Entry] = {}
        for (m, code, _, _, when), action_id in zip(sent, ids, strict=True):
            self.report.texted.append(m.case_id)
            texts[m.case_id] = messages.sms_audit(institution_id=self.institution_id, case_id=m.case_id,
                                                  action_id=action_id, template=code, stage=m.stage, when=when)
        return texts


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
