"""The demo's living portfolio: loans in every state, made by the real operations over simulated business days.

Nothing here writes a row. Each loan is a `Story`: an application made by its borrower and approved
through the review in levels, a contract the borrower signs with an SMS code (the institution signs
it too), a loan opened and paid out by finance through the payment provider (the simulator), and
then what its borrower does on the days the story names — pay on the phone (the provider's cashier
page and its signed callback), pay cash at the branch (the teller's request above the threshold
confirmed by the branch manager), prepay, fall behind — and what staff do: a deferral, a write-off
proposed by the collector and approved by the branch manager, a recovery, a guarantor added to a running
loan that fell behind (what early warning's "ask for a guarantor" asks for; `servicing.service.guarantors`).
The group's last two meetings are collected in cash by the loan officer on the meeting's collection sheet;
finance confirms the earlier sheet's cash handed over the next day, the last one waits for its handover.

The business date starts `DAYS` before the demo's and steps forward to each day something happens
(a disbursement, a due date, a payment, a month end); `_close_day` brings every open loan to the
new date as the close of business would. The walk ends on the demo's business date, so the books
verify (`microcredit ledger verify`) and a visitor sees loans current, paid off, late (days past due,
bucket and class, penalty interest charged as each day closes, each with its collection case), prepaid, deferred,
written off and partly recovered, and a group's loans. Last, the provider's statement of the day is
reconciled: an online payment still waiting for its callback and two lines the provider got wrong are
the breaks the staff console lists.

The back-dated days are history, not news: the operations are told not to notify (`notify=False`, the
same flag the front half passes to origination), so the borrowers' message boxes and the SMS outbox
do not fill with months-old payouts and payments. What happens on the demo's own business date
(`Walk.live`) notifies as it would in use.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from microcredit.clock import local_date
from microcredit.cob import service as cob
from microcredit.collections import service as collections
from microcredit.config import DocumentSettings
from microcredit.contracts import service as contracts
from microcredit.demo.samples import sample_scan
from microcredit.documents import service as documents
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.identity.service import IdentityKit
from microcredit.integrations.payments import PaymentProvider, SimulatedPaymentProvider
from microcredit.lending.money import Money
from microcredit.origination import service as origination
from microcredit.origination.schemas import ApplicationCreate
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.platform.paging import PageRequest
from microcredit.platform.storage import Storage
from microcredit.platform.validators import id_check_character
from microcredit.servicing.service import changes, collection_sheets, guarantors, loans, payments
from microcredit.servicing.service import settings as servicing_settings

DAYS = 150  # the portfolio's first business day, before the demo's
CASH_APPROVAL_ABOVE = "2000.00"  # a branch repayment above it waits for a second person
SIGN_CODE = "246810"
# What the demo's products ask for on file (`demo.demo_products`).
REQUIRED_DOCUMENTS = {"FARM-BIZ": ("id_card", "income_proof", "land_contract"),
                      "CONSUMER": ("id_card", "bank_statement")}


@dataclass(frozen=True)
class Cast:
    """Who acts: the institution, its staff by role and the borrowers by phone."""

    institution_id: int
    finance: Principal
    manager: Principal
    collector: Principal
    officer: Principal
    administrator: Principal
    approvers: list[Principal]
    borrowers: dict[str, Principal]


@dataclass
class Story:
    """One demo loan: whose, on what plan, paid out `start` days into the walk, and what happens after
    (`acts`: (installment number or 0 for the payout day, days after its due date, what)."""

    key: str
    phone: str
    plan: ApplicationCreate | None
    start: int
    acts: list[tuple[int, int, str, dict[str, Any]]]
    application_id: int = 0
    loan_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _plan(code: str, amount: str, term: int, purpose: str, note: str) -> ApplicationCreate:
    return ApplicationCreate(product_code=code, amount=Money.parse(amount, "CNY"), term=term,
                             repayment_method="equal_installment", purpose=purpose, purpose_note=note,
                             monthly_debt_payments=Money.parse("300.00", "CNY"),
                             monthly_spending=Money.parse("2000.00", "CNY"))


def _pay(n: int, late: int = 0, **how: Any) -> tuple[int, int, str, dict[str, Any]]:
    return (n, late, "pay", how)


def stories() -> list[Story]:
    """The demo's loans, each a story (docs/servicing.md, "Demo portfolio", says which shows what)."""
    return [
        # 王芳: current, every installment paid on the phone on its due date (the loan of the contract
        # she signed in the front half of the demo).
        Story("current", "13900001003", None, 50, [_pay(n) for n in range(1, 13)]),
        # 张三: paid off, each installment in cash at the branch, above the threshold: the teller's
        # request, confirmed by the branch manager.
        Story("paid_off", "13900001001", _plan("FARM-BIZ", "6600.00", 3, "business", "小吃店旺季备货"), 0,
              [_pay(n, channel="cash") for n in range(1, 4)]),
        # 陈静: paid the first two installments, then stopped (more than 30 days past due); ten days after
        # the third fell due, asked for a guarantor, her brother guarantees the running loan (added by the
        # level-2 reviewer 吴芳, his signed consent confirmed).
        Story("late_30", "13900001005", _plan("CONSUMER", "5000.00", 6, "consumption", "家具"), 0,
              [_pay(1), _pay(2), (3, 10, "guarantor", {})]),
        # 吴桂兰: half of the first installment three weeks late, then nothing (more than 90 days past due).
        Story("late_90", "13900001009", _plan("FARM-BIZ", "6000.00", 6, "agriculture", "鱼苗饲料"), 0,
              [_pay(1, 21, part="half")]),
        # 张三: two installments, then a prepayment keeping the installment (a shorter term).
        Story("prepaid_shorter", "13900001001", _plan("FARM-BIZ", "10000.00", 12, "business", "添置冰柜"), 10,
              [_pay(1), _pay(2), (2, 0, "prepay", {"amount": "3000.00", "mode": "shorten_term"}),
               *[_pay(n) for n in range(3, 13)]]),
        # 陈静: two installments, then a prepayment keeping the term (a lower installment).
        Story("prepaid_lower", "13900001005", _plan("CONSUMER", "8000.00", 12, "consumption", "电动车"), 12,
              [_pay(1), _pay(2), (2, 0, "prepay", {"amount": "2000.00", "mode": "reduce_installment"}),
               *[_pay(n) for n in range(3, 13)]]),
        # 周明: two installments, then settled in full with the payoff quote.
        Story("prepaid_full", "13900001008", _plan("FARM-BIZ", "3000.00", 6, "agriculture", "柑橘苗"), 5,
              [_pay(1), _pay(2), (2, 15, "payoff", {})]),
        # 郑强: two installments; frost ruins the tea harvest, so two periods are deferred (展期) from the
        # third installment, proposed by finance and approved by the branch manager; paid on after that.
        Story("deferred", "13900001010", _plan("FARM-BIZ", "6000.00", 12, "agriculture", "茶园施肥"), 3,
              [_pay(1), _pay(2), (2, 3, "change", {"kind": "deferral", "from_installment": 3, "periods": 2,
                                                    "interest": "payable", "restructuring": True,
                                                    "reason_code": "natural_disaster",
                                                    "note": "倒春寒致茶叶减产，申请展期两期"}),
               *[_pay(n) for n in range(3, 15)]]),
        # 冯丽: never paid; written off (proposed by the collector, approved by the branch manager) past
        # 90 days, then part recovered in cash.
        Story("written_off", "13900001011", _plan("FARM-BIZ", "7000.00", 6, "business", "农资店进货"), 0,
              [(4, 5, "change", {"kind": "write_off", "reason_code": "uncollectible",
                                 "note": "多次催收无果，经营已停止"}),
               (4, 15, "recover", {"amount": "1500.00"})]),
    ]


GROUP_PHONES = ("13900001006", "13900001007", "13900001008")  # 城关联保一组


# --- the cast and the front half of each loan -----------------------------------------------------------------


def _approved(session: Session, kit: IdentityKit, cast: Cast, who: Principal, application_id: int) -> None:
    """Take a decided application through the review in levels until it is approved (or fail loudly)."""
    approvals = origination.approvals
    for _ in range(8):
        app = origination.applications.get_own(session=session, principal=who,
                                               application_id=application_id).application
        if app.status == "approved":
            return
        if app.status == "declined" and approvals.human_review_available(app):
            approvals.request_human_review(session=session, kit=kit, principal=who, application_id=app.id,
                                           note="收入已核实，请人工复核", language="zh-CN", notify=False)
            continue
        if app.status not in ("referred", "human_review") or not app.review_level:
            raise RuntimeError(f"demo application {app.id} is {app.status}, not approvable")
        override = "verified_income" if "approve" in approvals.override_needed(session, app) else None
        approvals.act(session=session, kit=kit, principal=cast.approvers[app.review_level - 1],
                      application_id=app.id, action="approve", level=app.review_level, note="同意",
                      override_reason=override, notify=False)
    raise RuntimeError(f"demo application {application_id} not approved")


def _sign(session: Session, kit: IdentityKit, files: contracts.Files, who: Principal, application_id: int,
          device: str) -> None:
    """The borrower signs the contract with an SMS code (saved as a sent one is); the institution signs too."""
    contract = contracts.contracts.open_contract(session=session, kit=kit, files=files, principal=who,
                                                 application_id=application_id, own=True)
    phone = identity.accounts.phone(session=session, kit=kit, user_id=who.user_id)
    index = identity.accounts.phone_index(kit, phone)
    kit.codes.save(session=session, phone_index=index, purpose=contracts.contracts.SIGN_PURPOSE,
                   code_hash=identity.smscodes.code_hash(kit, index, contracts.contracts.SIGN_PURPOSE, SIGN_CODE))
    contracts.contracts.sign(session=session, kit=kit, files=files, principal=who, application_id=application_id,
                             sms_code=SIGN_CODE, document_sha256=contract.pdf_sha256, device_id=device,
                             meta=RequestMeta(ip="203.0.113.40", user_agent="Demo/1.0 (seed)"), notify=False)


def _file_documents(session: Session, kit: IdentityKit, storage: Storage, policy: DocumentSettings, cast: Cast,
                    who: Principal, types: tuple[str, ...]) -> None:
    """The loan officer files the scans a borrower's product asks for (those not on file yet)."""
    borrower_id = parties.borrowers.own_profile_id(session=session, principal=who) or 0
    have = documents.types_for_party(session, party_id=borrower_id)
    owner = documents.Owner(borrower_id=borrower_id, institution_id=cast.institution_id, branch_id=who.branch_id)
    for type_ in types:
        if type_ in have:
            continue
        documents.upload(session=session, clock=kit.clock, storage=storage, policy=policy, actor=cast.officer.actor,
                         owner=owner, type_=type_, data=sample_scan(type_.replace("_", " ").title(),
                                                                    who.display_name),
                         filename=f"{type_}.jpg", declared_type="image/jpeg", channel="branch")


def _luhn(first15: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(first15)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return first15 + str((10 - total % 10) % 10)


def _bind_card(session: Session, kit: IdentityKit, who: Principal) -> None:
    """The borrower binds a bank card (once): loans are paid out to it."""
    borrower = parties.borrowers.own_profile(session=session, principal=who)
    if parties.borrowers.bank_cards(session=session, borrower_id=borrower.id):
        return
    number = _luhn(f"622588141420{who.user_id % 1000:03d}")
    parties.borrowers.add_bank_card(session=session, kit=kit, principal=who, borrower=borrower,
                                    bank_name="中国农业银行", card_number=number, primary=True)


# --- the walk over business days --------------------------------------------------------------------------------


@dataclass
class Walk:
    """The simulated days: what is due to happen on each, in order."""

    session: Session
    kit: IdentityKit
    cast: Cast
    provider: PaymentProvider
    end: date
    today: date
    queue: list[tuple[date, int, Callable[[], None]]] = field(default_factory=list)
    loan_ids: list[int] = field(default_factory=list)
    n: int = 0

    @property
    def live(self) -> bool:
        """Today is the demo's own business date: what happens tells the borrower; before it, it is history."""
        return self.today >= self.end

    def at(self, day: date, act: Callable[[], None]) -> None:
        """Do `act` on `day` (if the walk reaches it)."""
        if day <= self.end:
            self.n += 1
            heapq.heappush(self.queue, (day, self.n, act))

    def run(self) -> None:
        """Step to each day something happens, closing each day passed, up to the end."""
        self.at(self.end, lambda: None)
        while self.queue:
            day, _, act = heapq.heappop(self.queue)
            if day > self.today:
                for stop in _month_ends(self.today, day):
                    self.move(stop)
                self.move(day)
            act()

    def move(self, day: date) -> None:
        """Set the business date to `day` and close it."""
        parties.organisation.set_business_date_as(session=self.session, clock=self.kit.clock,
                                                  actor=Actor.system(self.cast.institution_id),
                                                  institution_id=self.cast.institution_id, new_date=day,
                                                  override_allowed=True)
        self.today = day
        _close_day(session=self.session, kit=self.kit, institution_id=self.cast.institution_id, day=day,
                   loan_ids=self.loan_ids)
        if day == self.end or (day + timedelta(days=1)).day == 1:
            _classify(self, day)


def _month_ends(after: date, before: date) -> list[date]:
    out: list[date] = []
    day = date(after.year, after.month, 1)
    while True:
        day = (day + timedelta(days=32)).replace(day=1)
        end = day - timedelta(days=1)
        if end >= before:
            return out
        if end > after:
            out.append(end)


def _close_day(*, session: Session, kit: IdentityKit, institution_id: int, day: date, loan_ids: list[int]) -> None:
    """The close of business of `day`: every open loan brought to it (servicing's `advance`), so that
    interest falls due, credit is used on due dates and days past due grow. The close-of-business batch
    (issue 18) replaces this body."""
    for loan_id in loan_ids:
        loan = loans.get(session=session, institution_id=institution_id, loan_id=loan_id)
        if loan.status in ("active", "overpaid"):
            loans.advance(session=session, clock=kit.clock, actor=Actor.system(institution_id),
                          institution_id=institution_id, loan_id=loan_id, business_date=day)


def _classify(walk: Walk, day: date) -> None:
    """At each month end and on the last day, the close of business's classify and features steps over
    the running loans (cob.service.steps, the same functions a run calls): each loan's bucket, five-category
    class and behaviour features stored, and the change of its provision posted — so the books carry
    provisions and the loan pages their standing. (Every day would only repeat the same postings; the
    demo's days between are closed by `_close_day`.)"""
    kit = cob.CobKit(clock=walk.kit.clock, identity=walk.kit, payments=walk.provider)
    steps = [s for s in cob.steps.registered() if s.name in ("classify", "features") and s.run is not None]
    for loan_id in walk.loan_ids:
        loan = loans.get(session=walk.session, institution_id=walk.cast.institution_id, loan_id=loan_id)
        if loan.status in ("active", "overpaid"):
            at = cob.steps.LoanAt(institution_id=walk.cast.institution_id, loan_id=loan_id, on=day)
            for step in steps:
                assert step.run is not None
                step.run(walk.session, kit, at)


def _state(walk: Walk, story: Story) -> Any:
    loan = loans.get(session=walk.session, institution_id=walk.cast.institution_id, loan_id=story.loan_id)
    return loan, loans.state_of(session=walk.session, loan=loan, as_of=walk.today)


def _online(walk: Walk, story: Story, amount: Money, purpose: str = "repayment", mode: str | None = None,
            callback: bool = True) -> None:
    """The borrower pays on the phone: the provider's cashier page, then its signed callback."""
    who = walk.cast.borrowers[story.phone]
    key = f"demo:{story.key}:{walk.n}:{walk.today.isoformat()}:{purpose}"
    walk.n += 1
    payment = payments.start_online(session=walk.session, clock=walk.kit.clock, principal=who, provider=walk.provider,
                                    loan_id=story.loan_id, amount=amount, purpose=purpose, mode=mode, key=key)
    assert isinstance(walk.provider, SimulatedPaymentProvider)
    assert payment.provider_reference
    walk.provider.pay(session=walk.session, provider_reference=payment.provider_reference)
    if callback:
        for sent in walk.provider.due_callbacks(session=walk.session):
            payments.on_callback(session=walk.session, clock=walk.kit.clock, provider=walk.provider,
                                 body=sent.body, signature=sent.signature, notify=walk.live)


def _pay_installment(walk: Walk, story: Story, n: int, how: dict[str, Any]) -> None:
    loan, state = _state(walk, story)
    if loan.status != "active":
        return
    owed = state.due_now.total - state.credit_balance
    if not owed.is_positive:
        return
    if how.get("part") == "half":
        owed = Money(owed.minor // 2, owed.currency)
    last_meetings = [r.due_date for r in state.installments if r.due_date <= walk.end][-2:]
    if how.get("channel") == "meeting" and walk.today in last_meetings:
        _meeting_sheet(walk, story, handed_over=walk.today == last_meetings[0])
        return
    if how.get("channel") == "cash":
        taken = changes.take_repayment(session=walk.session, clock=walk.kit.clock, principal=walk.cast.finance,
                                       loan_id=story.loan_id, amount=owed, on=None, channel="cash",
                                       reference=f"现金收据 {story.key}-{n}",
                                       idempotency_key=f"demo:cash:{story.loan_id}:{n}", notify=walk.live)
        if not isinstance(taken, loans.Recorded):
            changes.approve(session=walk.session, clock=walk.kit.clock, principal=walk.cast.manager,
                            change_id=taken.id, note="现金已点收", notify=walk.live)
        return
    _online(walk, story, owed)


def _meeting_sheet(walk: Walk, story: Story, *, handed_over: bool) -> None:
    """The group's meeting today, collected in cash by the loan officer on its collection sheet (once: the first
    member's act of the day saves it for all): each line's total, nothing from a member who pays late that
    installment (absent). The earlier of the last two sheets' cash is handed over to finance the next day."""
    session, kit, cast = walk.session, walk.kit, walk.cast
    group_id, saved = story.extra["group_id"], story.extra["sheets"]
    if walk.today in saved:
        return
    sheet = collection_sheets.read(session=session, principal=cast.officer, group_id=group_id, on=walk.today)
    by_loan = {s.loan_id: s for s in story.extra["members"]}
    answers = []
    for line in sheet.lines:
        due = {r.number for r in loans.state_of(session=session, loan=line.loan, as_of=walk.today).installments
               if r.due_date == walk.today}
        member = by_loan.get(line.loan.id)
        late = member is not None and any(n in due and days > 0 for n, days, what, _ in member.acts if what == "pay")
        answers.append(collection_sheets.LineAnswer(line.loan.id, Money.zero("CNY") if late else None,
                                                    "absent" if late else None))
    record = collection_sheets.save(session=session, clock=kit.clock, principal=cast.officer, group_id=group_id,
                                    on=walk.today, answers=answers,
                                    idempotency_key=f"demo:sheet:{group_id}:{walk.today.isoformat()}",
                                    notify=walk.live)
    saved[walk.today] = record.id
    if handed_over:
        walk.at(walk.today + timedelta(days=1), partial(_hand_over, walk, record.id, record.collected))


def _hand_over(walk: Walk, sheet_id: int, counted: Money) -> None:
    """Finance counts a sheet's cash (all there) and confirms it handed over."""
    collection_sheets.hand_over(session=walk.session, clock=walk.kit.clock, principal=walk.cast.finance,
                                sheet_id=sheet_id, counted=counted, reason=None)


_BROTHER = "11010519880315021"  # the first 17 characters of his ID number
# 陈静's brother, who guarantees her running loan once it fell behind (joint liability, up to 3,000).
LOAN_GUARANTOR = origination.guarantors.NewGuarantor(
    name="陈伟", id_number=_BROTHER + id_check_character(_BROTHER), phone="13900001032", relation="sibling",
    kind="joint_liability", amount=Money.parse("3000.00", "CNY"))


def _act(walk: Walk, story: Story, n: int, what: str, how: dict[str, Any]) -> None:
    session, kit, cast = walk.session, walk.kit, walk.cast
    if what == "pay":
        _pay_installment(walk, story, n, how)
    elif what == "prepay":
        _online(walk, story, Money.parse(how["amount"], "CNY"), "prepayment", how["mode"])
    elif what == "payoff":
        _loan, state = _state(walk, story)
        assert state.payoff is not None
        _online(walk, story, state.payoff.total - state.credit_balance, "prepayment", "shorten_term")
    elif what == "change":
        details = {k: v for k, v in how.items() if k not in ("kind", "reason_code", "note")}
        requester = cast.collector if how["kind"] == "write_off" else cast.finance
        change = changes.request_change(session=session, clock=kit.clock, principal=requester,
                                        loan_id=story.loan_id, kind=how["kind"], details=details,
                                        reason_code=how["reason_code"], note=how["note"])
        changes.approve(session=session, clock=kit.clock, principal=cast.manager, change_id=change.id, note="同意",
                        notify=walk.live)
    elif what == "guarantor":
        guarantors.add(session=session, kit=kit, principal=cast.approvers[1], loan_id=story.loan_id,
                       data=LOAN_GUARANTOR, consent_signed=True)
    elif what == "recover":
        loans.recover(session=session, clock=kit.clock, actor=cast.finance.actor, institution_id=cast.institution_id,
                      loan_id=story.loan_id, amount=Money.parse(how["amount"], "CNY"), channel="cash",
                      reference=f"收回 {story.key}", idempotency_key=f"demo:recover:{story.loan_id}")


def _pay_out(walk: Walk, story: Story) -> None:
    """Finance opens the loan and pays it out through the provider; the story's acts are put on its due dates."""
    session, kit, cast = walk.session, walk.kit, walk.cast
    loan = loans.open_loan(session=session, clock=kit.clock, actor=cast.finance.actor,
                           institution_id=cast.institution_id, application_id=story.application_id)
    story.loan_id = loan.id
    payments.request_payout(session=session, clock=kit.clock, actor=cast.finance.actor, provider=walk.provider,
                            institution_id=cast.institution_id, loan_id=loan.id, key=f"demo:payout:{loan.id}",
                            notify=walk.live)
    loan, state = _state(walk, story)
    if loan.status != "active":
        raise RuntimeError(f"demo loan {loan.number} was not paid out: {loan.status}")
    walk.loan_ids.append(loan.id)
    dues = {row.number: row.due_date for row in state.installments}
    for row in state.installments:
        walk.at(row.due_date, lambda: None)  # a due date is a day the books move
    for n, late, what, how in story.acts:
        # Installments move (a deferral adds some, a prepayment takes some away): an act is put on the
        # due date the loan has now, and looks again when the day comes (`_act_on_due`).
        walk.at(dues.get(n, max(dues.values())) + timedelta(days=late),
                partial(_act_on_due, walk, story, n, what, how))


def _act_on_due(walk: Walk, story: Story, n: int, what: str, how: dict[str, Any]) -> None:
    """Act on installment `n`, unless a change has moved its due date: then act on the new one."""
    if what == "pay":
        _loan, state = _state(walk, story)
        row = next((r for r in state.installments if r.number == n), None)
        if row is not None and row.due_date > walk.today:
            walk.at(row.due_date, lambda: _act_on_due(walk, story, n, what, how))
            return
    _act(walk, story, n, what, how)


# --- the whole ------------------------------------------------------------------------------------------------


def seed_portfolio(*, session: Session, kit: IdentityKit, storage: Storage, policy: DocumentSettings,
                   files: contracts.Files, provider: PaymentProvider, cast: Cast) -> None:
    """Make the living portfolio (see the module docstring); the business date ends where it began."""
    end = parties.organisation.business_date(session=session, institution_id=cast.institution_id)
    if isinstance(provider, SimulatedPaymentProvider):
        # The demo's history settles as it is asked for, whatever the installation's simulated delays.
        provider = SimulatedPaymentProvider(clock=provider.clock, secret=provider.secret,
                                            public_url=provider.public_url,
                                            simulation=replace(provider.simulation, delay_seconds=0, failure_rate=0.0,
                                                               duplicate_rate=0.0, late_rate=0.0))
    servicing_settings.update(session=session, clock=kit.clock, principal=cast.administrator,
                              repayment_approval_above=Money.parse(CASH_APPROVAL_ABOVE, "CNY"))
    assess = origination.review.default_assessor()
    told = stories()
    for story in told:
        who = cast.borrowers[story.phone]
        if story.plan is None:  # the contract signed in the front half
            story.application_id = next(
                a.id for a in origination.applications.list_own(session=session, principal=who,
                                                                page=PageRequest(1, 50)).items
                if a.status == "approved" and contracts.contracts.fully_signed(session=session, application_id=a.id))
            _bind_card(session, kit, who)
            continue
        _file_documents(session, kit, storage, policy, cast, who, REQUIRED_DOCUMENTS[story.plan.product_code])
        _bind_card(session, kit, who)
        draft = origination.applications.create_own(session=session, kit=kit, principal=who, plan=story.plan,
                                                    device_id=f"demo-device-{story.phone[-4:]}",
                                                    ip=f"203.0.113.{int(story.phone[-2:]) + 50}")
        origination.applications.submit(session=session, kit=kit, principal=who, application_id=draft.id, own=True,
                                        assess=assess, language="zh-CN", notify=False)
        _approved(session, kit, cast, who, draft.id)
        _sign(session, kit, files, who, draft.id, f"demo-device-{story.phone[-4:]}")
        story.application_id = draft.id
    told.extend(_group_stories(session, kit, storage, policy, files, cast, assess))
    start = end - timedelta(days=DAYS)
    walk = Walk(session=session, kit=kit, cast=cast, provider=provider, end=end, today=end)
    walk.move(start)
    for story in told:
        walk.at(start + timedelta(days=story.start), partial(_pay_out, walk, story))
    walk.run()
    _reconcile(walk, next(s for s in told if s.key == "current"))
    # The late loans' collection cases, opened and assigned as the close of business's step 7 does.
    collections.sync_cases(session=session, clock=kit.clock, kit=kit, institution_id=cast.institution_id,
                           business_date=end)


def _group_stories(session: Session, kit: IdentityKit, storage: Storage, policy: DocumentSettings,
                   files: contracts.Files, cast: Cast, assess: Any) -> list[Story]:
    """城关联保一组's applications, returned for documents: the officer files them, each member resubmits,
    signs; paid out together, repaid on the phone (周明 a week late once), the last two meetings on the
    collection sheet (`_meeting_sheet`)."""
    out: list[Story] = []
    group = next(g for g in parties.groups.list_groups(session=session, principal=cast.officer,
                                                       page=PageRequest(1, 50)).items if g.name == "城关联保一组")
    shared: dict[str, Any] = {"group_id": group.id, "members": out, "sheets": {}}  # one dict for the group's stories
    for i, phone in enumerate(GROUP_PHONES):
        who = cast.borrowers[phone]
        _file_documents(session, kit, storage, policy, cast, who, REQUIRED_DOCUMENTS["FARM-BIZ"])
        _bind_card(session, kit, who)
        returned = next(a for a in origination.applications.list_own(
            session=session, principal=who, page=PageRequest(1, 50)).items if a.status == "returned")
        origination.applications.submit(session=session, kit=kit, principal=who, application_id=returned.id,
                                        own=True, assess=assess, language="zh-CN", notify=False)
        _approved(session, kit, cast, who, returned.id)
        _sign(session, kit, files, who, returned.id, f"demo-device-group-0-{i}")
        acts = [_pay(n, 7 if (i == 2 and n == 3) else 0, channel="meeting") for n in range(1, 13)]
        out.append(Story(f"group_{i}", phone, None, 20, acts,
                         application_id=returned.id, extra=shared))
    return out


def _reconcile(walk: Walk, story: Story) -> None:
    """The provider's statement of today against our payments: 王芳 has paid on the cashier page and the
    callback has not come yet (the statement has it settled, we have it requested), and the provider's
    file carries two errors of its own — a collection we never asked for and an amount a fen short."""
    session, kit = walk.session, walk.kit
    assert isinstance(walk.provider, SimulatedPaymentProvider)
    _online(walk, story, Money.parse("100.00", "CNY"), callback=False)
    day = local_date(kit.clock)
    lines = walk.provider.statement(session=session, day=day).splitlines()
    header, body = lines[0], lines[1:]
    if body:
        cols = body[0].split(",")
        cols[3] = str(Money.parse(cols[3], "CNY") - Money.parse("0.01", "CNY"))
        body[0] = ",".join(cols)
    stamp = kit.clock.now().isoformat()
    body.append(f"SIMDEMOUNKNOWN0001,MC{walk.cast.institution_id}-999999,collect,200.00,CNY,succeeded,{stamp}")
    payments.reconcile(session=session, clock=kit.clock, provider=walk.provider,
                       institution_id=walk.cast.institution_id, text="\n".join([header, *body]) + "\n",
                       statement_date=day)
