"""Receipts and vouchers (PDF): a receipt for money received (repayment, prepayment, recovery), a
voucher for money paid out (disbursement, refund of credit).

Each states the institution, the borrower, the loan, the amount in figures and in capital Chinese
numerals (大写, as contracts write it), its allocation by component as the loan stands today (a
back-dated payment recorded later may have moved it: the receipt says what the books now hold), the
value date, the channel, the event id and the numbers of the journal entries it posted. Rendered on
demand the way contracts are (Jinja2 sandbox → WeasyPrint, CJK fonts, nothing fetched); nothing is
stored, so a receipt always agrees with the books.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.contracts import rendering
from microcredit.errors import NotFound
from microcredit.lending.loan import LoanState
from microcredit.lending.money import Money
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.servicing.models import Loan, LoanEvent
from microcredit.servicing.service import loans

# Which events have a document, and which.
KIND = {"repayment": "receipt", "prepayment": "receipt", "recovery": "receipt", "disbursement": "voucher",
        "refund": "voucher"}
TITLES = {"repayment": ("还款回单", "Repayment receipt"), "prepayment": ("提前还款回单", "Prepayment receipt"),
          "recovery": ("核销后收回回单", "Recovery receipt"), "disbursement": ("放款凭证", "Disbursement voucher"),
          "refund": ("溢缴款退款凭证", "Credit refund voucher")}
CHANNELS = {"cash": "现金 / cash", "bank_transfer": "银行转账 / bank transfer", "auto_debit": "代扣 / auto-debit",
            "mobile_payment": "移动支付 / mobile payment", "internal": "内部 / internal",
            "meeting_cash": "小组例会现金 / cash at a group meeting"}
COMPONENTS = {"principal": "本金 / principal", "interest": "利息 / interest", "fee": "费用 / fees",
              "penalty": "罚息 / penalty"}
BASES = {"both": "收付实现制与权责发生制 / both books", "cash": "收付实现制 / cash book",
         "accrual": "权责发生制 / accrual book"}

TEMPLATE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page { size: A5 landscape; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; font-size: 10pt; line-height: 1.5; }
h1 { font-size: 15pt; text-align: center; margin: 0 0 2mm; } .sub { text-align: center; color: #555; }
table { width: 100%; border-collapse: collapse; margin-top: 3mm; }
th, td { border: 0.5pt solid #888; padding: 1.2mm 2mm; text-align: left; } th { width: 32%; background: #f2f2f2; }
.num { text-align: right; font-variant-numeric: tabular-nums; } .reversed { color: #b00; font-weight: bold; }
</style></head><body>
<h1>{{ title_zh }} / {{ title_en }}</h1>
<p class="sub">{{ institution }}</p>
{% if reversed %}<p class="reversed">已冲正 / REVERSED</p>{% endif %}
<table>
<tr><th>借款人 / Borrower</th><td>{{ borrower }}</td></tr>
<tr><th>贷款编号 / Loan</th><td>{{ loan_number }}</td></tr>
<tr><th>金额 / Amount</th><td>{{ currency }} {{ amount }}</td></tr>
<tr><th>大写 / In words</th><td>人民币{{ amount_words }}</td></tr>
<tr><th>起息日 / Value date</th><td>{{ value_date }}</td></tr>
<tr><th>记账日 / Business date</th><td>{{ business_date }}</td></tr>
<tr><th>渠道 / Channel</th><td>{{ channel }}</td></tr>
{% if reference %}<tr><th>参考号 / Reference</th><td>{{ reference }}</td></tr>{% endif %}
<tr><th>事件编号 / Event</th><td>{{ event_id }} (#{{ seq }})</td></tr>
<tr><th>会计分录 / Ledger entries</th><td>{% for e in entries %}No. {{ e.id }} {{ e.basis }}<br>
{% else %}—{% endfor %}</td></tr>
</table>
{% if lines %}<table><tr><th>分配 / Allocation</th><th class="num">{{ currency }}</th></tr>
{% for label, value in lines %}<tr><td>{{ label }}</td><td class="num">{{ value }}</td></tr>{% endfor %}
</table>{% endif %}
<p class="sub">{{ recorded_at }}</p>
</body></html>"""


@dataclass(frozen=True)
class Document:
    """A rendered receipt or voucher."""

    filename: str
    data: bytes


def has_document(event_type: str) -> bool:
    """Whether events of this type have a receipt or voucher."""
    return event_type in KIND


def _lines(state: LoanState, event: LoanEvent) -> list[tuple[str, str]]:
    """What a payment paid, by component, as the loan stands today (or nothing: not a payment)."""
    payment = next((p for p in state.payments if p.event_id == event.event_id), None)
    if payment is None:
        return []
    by: dict[str, Money] = {}
    for line in payment.lines:
        by[line.component.value] = by.get(line.component.value, Money.zero(state.currency)) + line.amount
    out = [(COMPONENTS[c], str(by[c])) for c in COMPONENTS if c in by and not by[c].is_zero]
    if payment.interest_prepaid.is_positive:
        out.append(("提前还款利息 / interest to the day", str(payment.interest_prepaid)))
    if payment.principal_prepaid.is_positive:
        out.append(("提前还本 / principal prepaid", str(payment.principal_prepaid)))
    if payment.credit.is_positive:
        out.append(("溢缴款 / held as credit", str(payment.credit)))
    return out


def document(*, session: Session, clock: Clock, actor: Actor, loan: Loan, seq: int) -> Document:
    """The receipt or voucher of a loan's event (not found: no such event, or one without a document);
    who downloaded which is audited, as for contracts."""
    rows = loans.events(session=session, loan=loan)
    event = next((r for r in rows if r.seq == seq), None)
    if event is None or event.type not in KIND:
        raise NotFound(field="seq")
    state = loans.state_of(session=session, loan=loan)
    amount = Money.parse(str(event.payload["amount"]), loan.currency)
    entries = loans.trail(session=session, loan=loan, rows=[event]).get(event.seq, [])
    zh, en = TITLES[event.type]
    context: dict[str, Any] = {
        "title_zh": zh, "title_en": en,
        "institution": parties.organisation.institution(session=session, institution_id=loan.institution_id).name,
        "borrower": loans.borrower_names(session=session, rows=[loan]).get(loan.borrower_id, ""),
        "loan_number": loan.number, "currency": loan.currency, "amount": str(amount),
        "amount_words": rendering.amount_in_words(Decimal(str(amount))),
        "value_date": event.value_date.isoformat(), "business_date": event.business_date.isoformat(),
        "channel": CHANNELS.get(str(event.payload.get("channel", "internal")), "—"), "reference": event.reference,
        "event_id": event.event_id, "seq": event.seq,
        "entries": [{"id": i, "basis": BASES.get(b, b)} for i, b in sorted(entries)],
        "lines": _lines(state, event) if KIND[event.type] == "receipt" else [],
        "reversed": event.event_id in state.reversed,
        "recorded_at": event.recorded_at.strftime("%Y-%m-%d %H:%M UTC"),
    }
    html = rendering.render_html(TEMPLATE, context)
    pdf = rendering.html_to_pdf(html)
    audit.record(session=session, clock=clock, actor=actor, action="loan.document_downloaded", entity_type="loan",
                 entity_id=loan.id, institution_id=loan.institution_id,
                 after={"event": event.event_id, "seq": event.seq, "document": KIND[event.type]})
    return Document(f"{KIND[event.type]}-{loan.number}-{event.event_id}.pdf", pdf)
