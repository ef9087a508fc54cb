"""The close of business's steps: a registry, in order, of what is done to each active loan.

A step is a name, a position and a function over one loan (`LoanStep`): it runs inside the
partition's unit of work, in a savepoint of its own, and returns counts (entries posted, payments
asked for, minor units provisioned ...) that the task adds up. A step may instead work over the
whole institution once per run (`InstitutionStep`, e.g. collections, whose cases also follow loans
that stopped running that day): one task, in a savepoint; if it fails, the task stays unfinished
and resuming the run runs it again. The built-in steps:

    10 advance     accrue interest, detect overdue and days past due, charge penalties: servicing's
                   `advance` (the engine's fold on the business date; the accrual book recognises it)
    40 classify    the delinquency bucket and five-category class; the provision change posted
                   (provision_expense / loss_provision at the class's rate, once per change)
    50 autodebit   servicing's auto-debit for installments due today, and its retries
    60 remind      reminders queued in the outbox (3 days before, on the due date, 1/3/7 days after)
    70 —           the collections hook: the composition root (`runtime`) registers collections' sync
    80 features    the behaviour features early warning reads (`behaviour_of`)
    90 —           early warning's score and rules, 95 its concentration check (registered by `runtime`)
    98 archive     once over the institution: signed contracts whose archive time stamp's certificate ends
                   within a year get a new document time stamp (contracts.service.archive)

Other domains add theirs with `register(Step(...))` at import (cob never imports them): the
collections domain registers "collections" at position 70 (`COLLECTIONS_POSITION`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.cob import repository as repo
from microcredit.cob.models import LoanBehaviour, LoanStanding, ReminderSent
from microcredit.contracts.service import Files
from microcredit.contracts.service import archive as contract_archive
from microcredit.identity import service as identity
from microcredit.integrations.email import EmailChannel
from microcredit.integrations.payments import PaymentProvider
from microcredit.ledger import service as ledger
from microcredit.lending.classification import DEFAULT_PROVISION_RATES, ClassificationPolicy, RiskCategory, provision
from microcredit.lending.money import Money, RoundingPolicy
from microcredit.notifications import service as notifications
from microcredit.platform.actor import Actor
from microcredit.servicing.service import loans, payments, quiet, quiet_overdue

COLLECTIONS_POSITION = 70
ARCHIVE_POSITION = 98
POLICY = ClassificationPolicy(provision_rates=DEFAULT_PROVISION_RATES)
# (days after the due date, reminder kind, template): negative days are before it.
REMINDERS = ((-3, "before_3", "repayment_upcoming"), (0, "due", "repayment_due_today"),
             (1, "after_1", "repayment_overdue"), (3, "after_3", "repayment_overdue"),
             (7, "after_7", "repayment_overdue"))
LANGUAGE = "zh-CN"


@dataclass(frozen=True, slots=True)
class CobKit:
    """The parts the steps take: the clock, identity's kit (phones and the SMS signature for
    reminders), the payment provider (auto-debit), and the run's sizing."""

    clock: Clock
    identity: identity.IdentityKit
    payments: PaymentProvider
    partition_size: int = 500
    lease_seconds: int = 120
    email: EmailChannel | None = None
    """The e-mail channel (early warning's routing mails an assignee with an address); None: no e-mail."""
    contracts: Files | None = None
    """Where signed contracts are kept and who time-stamps them (the archive renewal step); None: it does nothing."""


@dataclass(frozen=True, slots=True)
class LoanAt:
    """The loan a step works on and the business date being closed."""

    institution_id: int
    loan_id: int
    on: date


LoanStep = Callable[[Session, CobKit, LoanAt], Mapping[str, int]]
InstitutionStep = Callable[[Session, CobKit, int, date], Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class Bulk:
    """What a step's set-based part did over a partition: the loans it did (the per-loan function is not
    run for them) and the counts of their work (the same keys the per-loan function returns)."""

    done: frozenset[int]
    counts: Mapping[str, int]


# A step's set-based part: (session, kit, institution, business date, the partition's loan ids to do) ->
# the loans it did, provably as the per-loan function would have; the others go through `run` one by one.
BulkStep = Callable[[Session, CobKit, int, date, list[int]], Bulk]


@dataclass(frozen=True, slots=True)
class Step:
    """A named step at a position in the run, done to each active loan (`run`), or once over the
    institution (`whole`: its id and the business date)."""

    name: str
    position: int
    run: LoanStep | None = None
    whole: InstitutionStep | None = None
    bulk: BulkStep | None = None
    """The set-based part over a partition (before `run`, for the loans it proves it can do); `run` stays
    the reference the 60-day test applies one loan at a time."""

    def __post_init__(self) -> None:
        if (self.run is None) == (self.whole is None):
            raise ValueError("a step works either on each loan or on the whole institution")


_REGISTRY: dict[str, Step] = {}


def register(step: Step) -> None:
    """Add (or replace) a step; positions are unique."""
    taken = {s.position: s.name for s in _REGISTRY.values() if s.name != step.name}
    if step.position in taken:
        raise ValueError(f"position {step.position} is {taken[step.position]}'s")
    _REGISTRY[step.name] = step


def registered() -> list[Step]:
    """The steps in order."""
    return sorted(_REGISTRY.values(), key=lambda s: s.position)


def step(name: str) -> Step:
    """A registered step by name."""
    return _REGISTRY[name]


# --- the built-in steps ---------------------------------------------------------------------------------


def advance(session: Session, kit: CobKit, at: LoanAt) -> Mapping[str, int]:
    """Steps 1-3: the loan's books brought to the date (accrual, overdue, DPD, penalties)."""
    entries = loans.advance(session=session, clock=kit.clock, actor=Actor.system(at.institution_id),
                            institution_id=at.institution_id, loan_id=at.loan_id, business_date=at.on)
    return {"entries": len(entries)}


def advance_quiet(session: Session, kit: CobKit, institution_id: int, on: date, ids: list[int]) -> Bulk:
    """Steps 1-3 for the partition's quiet loans at once (`servicing.service.quiet`: a day that is only an
    accrual posts nothing and moves the cached fold's accrual); the others are left to `advance`."""
    if not ids:
        return Bulk(frozenset(), {})
    day = quiet.advance_quiet(session=session, clock=kit.clock, institution_id=institution_id, day=on,
                              first=ids[0], last=ids[-1], only=frozenset(ids))
    # The overdue loans' day with its reads and writes once per partition (`servicing.service.quiet_overdue`).
    late = quiet_overdue.advance_overdue(session=session, clock=kit.clock, institution_id=institution_id, day=on,
                                         first=ids[0], last=ids[-1], only=frozenset(ids) - set(day.advanced))
    counts = {"entries": late.entries, "quiet": len(day.advanced), "overdue": len(late.advanced),
              "penalties": late.penalties}
    return Bulk(frozenset(day.advanced) | frozenset(late.advanced), counts)


def classify(session: Session, kit: CobKit, at: LoanAt) -> Mapping[str, int]:
    """Step 4: bucket and class stored, and the provision's change posted (idempotent by its source)."""
    loan = loans.get(session=session, institution_id=at.institution_id, loan_id=at.loan_id)
    state = loans.state_of(session=session, loan=loan, as_of=at.on)
    category = state.classification.category
    target = provision(state.outstanding.principal, category, rounding=RoundingPolicy.default_for(loan.currency),
                       policy=POLICY).minor
    row = repo.standing(session, at.loan_id)
    held = row.provision if row is not None else 0
    change = target - held
    posted = 0
    if change:
        draft = _provision_draft(at.loan_id, loan.number, loan.currency, at.on, held, target)
        if ledger.posting.find_by_source(session=session, institution_id=at.institution_id,
                                         source=draft.source) is None:
            ledger.posting.post_many(session=session, clock=kit.clock, actor=Actor.system(at.institution_id),
                                     institution_id=at.institution_id, business_date=at.on, drafts=[draft],
                                     not_after=at.on)
            posted = 1
    if row is None:
        row = LoanStanding(loan_id=at.loan_id, institution_id=at.institution_id)
        repo.add(session, row)
    row.as_of, row.dpd, row.bucket, row.category = at.on, state.dpd, state.bucket.name, int(category)
    row.provision, row.principal = target, state.outstanding.principal.minor
    session.flush()
    return {"provision_entries": posted, "provision_change": change}


def _provision_draft(loan_id: int, number: str, currency: str, on: date, held: int,
                     target: int) -> ledger.posting.Draft:
    """The entry moving a loan's provision from `held` to `target` (minor units) on `on`: its source names the
    loan, the day and both figures (it posts once)."""
    amount = Money(abs(target - held), currency)
    up = target > held
    postings = [ledger.Posting(ledger.DEFAULT_POSTING_MAP.provision_expense,
                               ledger.Side.DEBIT if up else ledger.Side.CREDIT, amount),
                ledger.Posting(ledger.DEFAULT_POSTING_MAP.loss_provision,
                               ledger.Side.CREDIT if up else ledger.Side.DEBIT, amount)]
    return ledger.posting.Draft(f"贷款损失准备 {number} / loan loss provision", postings,
                                ledger.Source("cob_provision", f"{loan_id}:{on.isoformat()}:{held}:{target}"),
                                "accrual")


def autodebit(session: Session, kit: CobKit, at: LoanAt) -> Mapping[str, int]:
    """Step 5: servicing's auto-debit for this loan (due today, or a retry day of an earlier failure)."""
    report = payments.autodebit(session=session, clock=kit.clock, provider=kit.payments,
                                institution_id=at.institution_id, on=at.on, loan_ids=[at.loan_id])
    return {"requested": len(report.requested), "confirmed": report.confirmed, "failed": report.failed}


def remind(session: Session, kit: CobKit, at: LoanAt) -> Mapping[str, int]:
    """Step 6: the reminders due today queued as SMS, each (loan, kind, due date) once."""
    loan = loans.get(session=session, institution_id=at.institution_id, loan_id=at.loan_id)
    if loan.status != "active":
        return {"reminders": 0}
    state = loans.state_of(session=session, loan=loan, as_of=at.on)
    queued = 0
    for row in state.installments:
        if row.number < 1 or row.settled:
            continue
        for days, kind, template in REMINDERS:
            if row.due_date + timedelta(days=days) != at.on or repo.reminder_sent(session, at.loan_id, kind,
                                                                                  row.due_date):
                continue
            phone = identity.accounts.phone(session=session, kit=kit.identity, user_id=loan.borrower_user_id)
            params = {"signature": kit.identity.sender_name(session, at.institution_id, LANGUAGE),
                      "number": loan.number, "due_date": row.due_date.isoformat(),
                      "amount": str(row.outstanding.total), "days": max(days, 0)}
            message = notifications.enqueue_sms(session=session, cipher=kit.identity.keys.cipher, clock=kit.clock,
                                                institution_id=at.institution_id, phone=phone, template=template,
                                                params=params, language=LANGUAGE)
            session.flush()
            repo.add(session, ReminderSent(loan_id=at.loan_id, kind=kind, due_date=row.due_date, sent_on=at.on,
                                           outbox_id=message.id))
            queued += 1
    session.flush()
    return {"reminders": queued}


def features(session: Session, kit: CobKit, at: LoanAt) -> Mapping[str, int]:
    """Step 8: late and partial payments, days since the last payment, the largest DPD seen."""
    loan = loans.get(session=session, institution_id=at.institution_id, loan_id=at.loan_id)
    state = loans.state_of(session=session, loan=loan, as_of=at.on)
    due_of = {row.number: row.due_date for row in state.installments}
    paid = [p for p in state.payments if p.event_id is not None]
    late = sum(1 for p in paid if any(due_of.get(line.installment, p.on) < p.on for line in p.lines))
    partial = sum(1 for row in state.installments
                  if row.due_date <= at.on and not row.settled and row.paid.total.is_positive)
    last = max((p.on for p in paid), default=None)
    row = repo.behaviour(session, at.loan_id)
    max_dpd = max(row.max_dpd if row is not None else 0, state.dpd)
    if row is None:
        row = LoanBehaviour(loan_id=at.loan_id, institution_id=at.institution_id)
        repo.add(session, row)
    row.as_of, row.late_payments, row.partial_payments = at.on, late, partial
    row.days_since_last_payment = (at.on - last).days if last is not None else None
    row.max_dpd = max_dpd
    session.flush()
    return {"late_payments": late, "partial_payments": partial}


# --- the later steps' set-based parts ------------------------------------------------------------------------
# Each in two tiers over the partition: first from the loan row's columns (`quiet.day_columns_query`,
# `quiet.nothing_due`: the kept fold's figures, written with it — no JSON; classify and features join them in SQL
# and read no row of a loan with nothing to do), selecting the loans with nothing to do; then, for the
# loans the columns do not answer (a fold made before migration 0042, a standing without its principal, or
# something to do), from the kept fold's JSON of the day (`quiet.cached_on`); the rest go one by one.


def _tiers(columns: Bulk, ids: list[int], rest: list[int] | None,
           cached: Callable[[list[int]], Bulk]) -> Bulk:
    """The columns' tier and then the JSON's over the loans of `ids` it left (or over `rest`, when given)."""
    left = [i for i in ids if i not in columns.done] if rest is None else rest
    then = cached(left) if left else Bulk(frozenset(), {})
    counts = {key: columns.counts.get(key, 0) + then.counts.get(key, 0) for key in {*columns.counts, *then.counts}}
    counts["by_columns"] = len(columns.done)  # of the loans done set-based, how many by the columns alone
    return Bulk(columns.done | then.done, counts)


def _minor(text: str, currency: str) -> int:
    return Money.parse(text, currency).minor


def _unsettled(row: Mapping[str, Any], currency: str) -> bool:
    return _minor(row["outstanding"]["total"], currency) != 0


def classify_unchanged(session: Session, kit: CobKit, institution_id: int, on: date, ids: list[int]) -> Bulk:
    """Step 4 by the loan's columns, in SQL (`quiet.day_columns_query`): for the loans whose bucket, class, days
    past due and outstanding principal are what their standing holds (so is the provision, a function of the class
    and the principal) only the standing's date moves, in one UPDATE ... FROM that reads no row into Python; a new
    or changed standing is then read and done at once (`_classify_moved`). Then the JSON's tier
    (`_classify_cached`) for the loans without columns or whose standing has no principal; the others one by one."""
    if not ids:
        return Bulk(frozenset(), {})
    day = quiet.day_columns_query(institution_id=institution_id, on=on, first=min(ids), last=max(ids))
    wanted = set(ids)
    with_columns = {r.loan_id for r in repo.day_loans(session, day)}
    leave = with_columns - wanted  # in the range, not handed to the step (a failure of the run: skipped)
    with_columns &= wanted
    repo.date_unchanged_standings(session, on=on, day=day, leave=leave)
    differ = repo.standings_to_move(session, day=day, leave=leave)
    # A loan's first standing, or a changed one; a standing without its principal (before 0042) is the JSON's.
    moved = [r for r in differ if not r.held or r.held_principal is not None]
    counts = _classify_moved(session, kit, institution_id, on, moved)
    unknown = {r.loan_id for r in differ if r.held and r.held_principal is None}
    rest = [i for i in ids if i not in with_columns or i in unknown]
    return _tiers(Bulk(frozenset(with_columns - unknown), counts), ids, rest,
                  lambda left: _classify_cached(session, institution_id, on, left))


def _classify_moved(session: Session, kit: CobKit, institution_id: int, on: date, moved: list[Any]) -> dict[str, int]:
    """`classify` for loans whose standing is new or changes (`repo.standings_to_move`'s rows), at once: what it
    posts (each provision change once, by its source) and writes are the same."""
    counts = {"provision_entries": 0, "provision_change": 0}
    if not moved:
        return counts
    rows: list[dict[str, Any]] = []
    drafts: list[ledger.posting.Draft] = []
    for one in moved:
        was = one.held_provision if one.held else 0
        target = provision(Money(one.principal, one.currency), RiskCategory(one.category),
                           rounding=RoundingPolicy.default_for(one.currency), policy=POLICY).minor
        if target != was:
            drafts.append(_provision_draft(one.loan_id, one.number, one.currency, on, was, target))
            counts["provision_change"] += target - was
        rows.append({"loan_id": one.loan_id, "institution_id": institution_id, "as_of": on, "dpd": one.dpd,
                     "bucket": one.bucket, "category": one.category, "provision": target, "principal": one.principal})
    if drafts:
        posted = ledger.posting.entries_of_sources(session=session, institution_id=institution_id,
                                                   kind="cob_provision", refs=[d.source.ref or "" for d in drafts])
        drafts = [d for d in drafts if d.source.ref not in posted]
    if drafts:
        ledger.posting.post_many(session=session, clock=kit.clock, actor=Actor.system(institution_id),
                                 institution_id=institution_id, business_date=on, drafts=drafts, not_after=on)
        counts["provision_entries"] = len(drafts)
    held = {one.loan_id for one in moved if one.held}
    new = [r for r in rows if r["loan_id"] not in held]
    if new:
        session.execute(insert(LoanStanding), new)
    changed = [{f"b_{k}": v for k, v in r.items()} for r in rows if r["loan_id"] in held]
    if changed:
        table = LoanStanding.__table__
        assert isinstance(table, Table)
        session.execute(update(table).where(table.c.loan_id == bindparam("b_loan_id"))
                        .values(as_of=on, dpd=bindparam("b_dpd"), bucket=bindparam("b_bucket"),
                                category=bindparam("b_category"), provision=bindparam("b_provision"),
                                principal=bindparam("b_principal")), changed)
    return counts


def _classify_cached(session: Session, institution_id: int, on: date, ids: list[int]) -> Bulk:
    """Step 4 for the loans whose bucket, class, days past due and provision are what their standing holds (from
    the cached fold of the day): the standing's date and principal move; the others go one by one."""
    cached = quiet.cached_on(session, institution_id=institution_id, on=on, ids=ids)
    if not cached:
        return Bulk(frozenset(), {})
    held = {r.loan_id: r for r in session.execute(select(
        LoanStanding.loan_id, LoanStanding.dpd, LoanStanding.bucket, LoanStanding.category, LoanStanding.provision)
        .where(LoanStanding.loan_id.in_(list(cached)))).all()}
    same: dict[int, int] = {}
    for loan_id, one in cached.items():
        row = held.get(loan_id)
        if row is None:
            continue
        category = RiskCategory[str(one.state["classification"]).upper()]
        principal = Money.parse(one.state["totals"]["outstanding"]["principal"], one.currency)
        target = provision(principal, category, rounding=RoundingPolicy.default_for(one.currency), policy=POLICY).minor
        if (row.dpd, row.bucket, row.category, row.provision) == (one.state["dpd"], one.state["bucket"],
                                                                  int(category), target):
            same[loan_id] = principal.minor
    if same:
        table = LoanStanding.__table__
        assert isinstance(table, Table)
        session.execute(update(table).where(table.c.loan_id == bindparam("b_id"))
                        .values(as_of=on, principal=bindparam("b_principal")),
                        [{"b_id": i, "b_principal": p} for i, p in same.items()])
    return Bulk(frozenset(same), {"provision_entries": 0, "provision_change": 0})


def autodebit_nothing_due(session: Session, kit: CobKit, institution_id: int, on: date, ids: list[int]) -> Bulk:
    """Step 5 for the loans with no installment due by the day and unpaid, or whose earliest unpaid one fell due on
    no retry day of today (`payments.RETRY_DAYS`: an overdue loan between its tries) — by the loan's columns, then
    the first kind by the cached fold of the day: servicing's auto-debit would skip them ("nothing_due",
    "not_a_retry_day"; it takes the earliest unsettled installment's due date, the `unpaid_due_from` column)."""
    counts = {"requested": 0, "confirmed": 0, "failed": 0}
    done = quiet.nothing_due(session, institution_id=institution_id, on=on, ids=ids, through=on,
                             or_earliest_not_on=[on - timedelta(days=d) for d in payments.RETRY_DAYS])
    return _tiers(Bulk(done, counts), ids, None, lambda left: _autodebit_cached(session, institution_id, on, left))


def _autodebit_cached(session: Session, institution_id: int, on: date, ids: list[int]) -> Bulk:
    cached = quiet.cached_on(session, institution_id=institution_id, on=on, ids=ids)
    day = on.isoformat()
    done = frozenset(loan_id for loan_id, one in cached.items()
                     if not any(r["due_date"] <= day and _unsettled(r, one.currency)
                                for r in one.state["installments"]))
    return Bulk(done, {"requested": 0, "confirmed": 0, "failed": 0})


def remind_nothing(session: Session, kit: CobKit, institution_id: int, on: date, ids: list[int]) -> Bulk:
    """Step 6 over a partition: by the loan's columns, first the loans with no installment unsettled and due by the
    latest day a reminder can fall on (ids only), then the others — the overdue tenth, and a loan due within three
    days — by their unsettled installments' due dates and amounts (`quiet.unpaid_dues`), their reminders of the
    day queued at once (`_remind_dues`); then by the cached fold of the day those no reminder falls on today for (no
    unpaid installment whose due date is 3 days after, or 0, 1, 3, 7 days before, the day); the rest one by one."""
    latest = max(on - timedelta(days=d) for d, _, _ in REMINDERS)
    nothing = quiet.nothing_due(session, institution_id=institution_id, on=on, ids=ids, through=latest)
    dues = _remind_dues(session, kit, institution_id, on, [i for i in ids if i not in nothing])
    counts = {"reminders": dues.counts["reminders"]}
    return _tiers(Bulk(nothing | dues.done, counts), ids, None,
                  lambda left: _remind_cached(session, institution_id, on, left))


def _remind_dues(session: Session, kit: CobKit, institution_id: int, on: date, ids: list[int]) -> Bulk:
    """`remind` for the loans whose kept fold of the day carries `unpaid_dues`, at once: the same reminders (each
    (loan, kind, due date) once: those already queued read in one query), the same SMS rows (`notifications.sms_row`:
    the borrower's phone — all read in one query —, the institution's signature read once, the same template,
    parameters and language), written in one INSERT with their ids (`notifications.write_sms`), the reminders
    recorded in one INSERT, in the order the per-loan step queues them (loan, installment, kind)."""
    found = quiet.unpaid_dues(session, institution_id=institution_id, on=on, ids=ids)
    due: list[tuple[quiet.UnpaidDues, date, int, int, str, str]] = []
    for loan_id in sorted(found):
        one = found[loan_id]
        for row in one.dues:
            for days, kind, template in REMINDERS:
                if row.number >= 1 and row.due_date + timedelta(days=days) == on:
                    due.append((one, row.due_date, row.total, days, kind, template))
    if due:
        sent = repo.reminders_sent(session, {d[0].loan_id for d in due}, {d[1] for d in due})
        due = [d for d in due if (d[0].loan_id, d[4], d[1]) not in sent]
    if due:
        phones = identity.accounts.phones(session=session, kit=kit.identity,
                                          user_ids=[d[0].borrower_user_id for d in due])
        signature = kit.identity.sender_name(session, institution_id, LANGUAGE)
        rows = [notifications.sms_row(cipher=kit.identity.keys.cipher, clock=kit.clock, institution_id=institution_id,
                                      phone=phones[one.borrower_user_id], template=template, language=LANGUAGE,
                                      params={"signature": signature, "number": one.number,
                                              "due_date": due_date.isoformat(),
                                              "amount": str(Money(minor, one.currency)), "days": max(days, 0)})
                for one, due_date, minor, days, _, template in due]
        outbox = notifications.write_sms(session, rows)
        repo.add_reminders(session, [{"loan_id": one.loan_id, "kind": kind, "due_date": due_date, "sent_on": on,
                                      "outbox_id": message}
                                     for (one, due_date, _, _, kind, _), message in zip(due, outbox, strict=True)])
    return Bulk(frozenset(found), {"reminders": len(due)})


def _remind_cached(session: Session, institution_id: int, on: date, ids: list[int]) -> Bulk:
    cached = quiet.cached_on(session, institution_id=institution_id, on=on, ids=ids)
    days = {(on - timedelta(days=d)).isoformat() for d, _, _ in REMINDERS}
    done = frozenset(loan_id for loan_id, one in cached.items()
                     if not any(r["number"] >= 1 and r["due_date"] in days and _unsettled(r, one.currency)
                                for r in one.state["installments"]))
    return Bulk(done, {"reminders": 0})


def features_cached(session: Session, kit: CobKit, institution_id: int, on: date, ids: list[int]) -> Bulk:
    """Step 8 from the loan's columns (the figures `features` computes from the fold, `accrual.day_columns`), in
    SQL (`quiet.day_columns_query`): the rows of the loans that have one by one UPDATE ... FROM, the first rows of
    those that have none by one INSERT ... SELECT, no row read into Python but the loans' ids and counts; then, for
    the loans without columns, from the cached fold of the day (a loan without a row there goes one by one)."""
    if not ids:
        return Bulk(frozenset(), {})
    day = quiet.day_columns_query(institution_id=institution_id, on=on, first=min(ids), last=max(ids))
    wanted = set(ids)
    rows = repo.day_loans(session, day)
    leave = {r.loan_id for r in rows if r.loan_id not in wanted}  # not handed to the step (a failure: skipped)
    mine = [r for r in rows if r.loan_id in wanted]
    repo.features_from_day(session, institution_id=institution_id, on=on, day=day, leave=leave)
    counts = {"late_payments": sum(r.late_payments for r in mine),
              "partial_payments": sum(r.partial_payments for r in mine)}
    done = frozenset(r.loan_id for r in mine)
    rest = [i for i in ids if i not in done]
    return _tiers(Bulk(done, counts), ids, rest, lambda left: _features_json(session, institution_id, on, left))


def _write_features(session: Session, on: date, params: list[dict[str, Any]]) -> None:
    repo.set_behaviours(session, on=on, rows=params)


def _features_json(session: Session, institution_id: int, on: date, ids: list[int]) -> Bulk:
    cached = quiet.cached_on(session, institution_id=institution_id, on=on, ids=ids)
    if not cached:
        return Bulk(frozenset(), {})
    kept = {r.loan_id: r.max_dpd for r in session.execute(select(LoanBehaviour.loan_id, LoanBehaviour.max_dpd)
                                                          .where(LoanBehaviour.loan_id.in_(list(cached)))).all()}
    day = on.isoformat()
    params: list[dict[str, Any]] = []
    late_total = partial_total = 0
    for loan_id, one in cached.items():
        if loan_id not in kept:
            continue
        state, code = one.state, one.currency
        due_of = {r["number"]: r["due_date"] for r in state["installments"]}
        paid = [p for p in state["payments"] if p["event_id"] is not None]
        late = sum(1 for p in paid if any(due_of.get(line["installment"], p["on"]) < p["on"] for line in p["lines"]))
        partial = sum(1 for r in state["installments"] if r["due_date"] <= day and _unsettled(r, code)
                      and _minor(r["paid"]["total"], code) > 0)
        last = max((p["on"] for p in paid), default=None)
        params.append({"b_id": loan_id, "b_late": late, "b_partial": partial,
                       "b_since": (on - date.fromisoformat(last)).days if last is not None else None,
                       "b_max": max(kept[loan_id], int(state["dpd"]))})
        late_total += late
        partial_total += partial
    _write_features(session, on, params)
    return Bulk(frozenset(p["b_id"] for p in params), {"late_payments": late_total, "partial_payments": partial_total})


def behaviour_of(*, session: Session, loan_id: int) -> LoanBehaviour | None:
    """The behaviour features step 8 last stored for a loan (early warning reads them)."""
    return repo.behaviour(session, loan_id)


def behaviours_between(*, session: Session, first: int, last: int) -> dict[int, Any]:
    """`behaviour_of` for the loans of ids [first, last] that have features, in one query by the id range (no `IN`
    list of ids): loan id → its row (`late_payments`, `partial_payments`, `days_since_last_payment`, `max_dpd`)."""
    return {row.loan_id: row for row in repo.behaviours_between(session, first, last)}


def archive(session: Session, kit: CobKit, institution_id: int, on: date) -> Mapping[str, int]:
    """Once over the institution: the archive time stamps of its signed contracts renewed before their
    certificate's end (at most `contract_archive.PER_RUN` a day, each in a savepoint; a failure is counted and
    the contract is due again the next day)."""
    if kit.contracts is None:
        return {}
    report = contract_archive.renew_in_session(session=session, clock=kit.clock, files=kit.contracts,
                                               institution_id=institution_id)
    return {"contracts_checked": report.checked, "contracts_renewed": report.renewed,
            "contracts_failed": report.failed}


for _step in (Step("advance", 10, advance, bulk=advance_quiet),
              Step("classify", 40, classify, bulk=classify_unchanged),
              Step("autodebit", 50, autodebit, bulk=autodebit_nothing_due),
              Step("remind", 60, remind, bulk=remind_nothing),
              Step("features", 80, features, bulk=features_cached),
              Step("archive", ARCHIVE_POSITION, whole=archive)):
    register(_step)
