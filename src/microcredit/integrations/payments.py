"""Moving money: the payment provider interface and the built-in payment provider SIMULATOR.

A real deployment plugs in its bank's or payment company's adapter (a bank-direct payout and
collection interface, UnionPay, a licensed third-party payment company) by implementing
`PaymentProvider`. The demo and the tests use `SimulatedPaymentProvider`, chosen by
`MICROCREDIT_PAYMENTS=simulator` (the default and, so far, the only adapter: as with the credit
bureau, a deployment adds its provider's adapter and names it there).

What a provider does for us:

* `pay_out` — send money to a borrower's card (a disbursement);
* `collect` — take money from a card the borrower bound with an auto-debit agreement (代扣);
* `start_online` — open a payment the borrower completes on the provider's page (收银台);
* `status_of` — where a payment stands now (the "poll" path when a callback does not come);
* `verify_callback` — check the signature (HMAC-SHA256 over the raw body) of a notification the
  provider POSTs to us, and read it;
* `statement` — the provider's daily statement (CSV) of what it settled that day.

Every call names our reference (the payment's idempotency key): asking twice under the same
reference gives the same payment, never a second one.

The simulator keeps its side in `sim_payment_orders` (so the API process, the CLI and the tests
see one provider). How it behaves is set by `PaymentSimulation` (settings `payments_simulator_*`),
deterministic for a seed: a payment's fate is drawn from a generator seeded with the seed and the
payment's reference, so the same reference always meets the same fate, whatever the order of calls.

``delay_seconds``     how long after the request (or after the payer pays) the payment settles
``failure_rate``      the share of payments that fail (reason ``insufficient_funds``)
``duplicate_rate``    the share whose callback is delivered twice
``late_rate``         the share whose callback comes ``late_seconds`` after settlement (polls see it first)

A card whose masked number ends in ``0002`` always fails (``card_declined``), and one that ends in
``0051`` always lacks the money (``insufficient_funds``), so that demos and browser tests can show
failures without a failure rate.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.integrations import repository as repo
from microcredit.integrations.models import SimulatedPayment
from microcredit.lending.money import Money

Kind = Literal["payout", "collect", "online"]
ProviderStatus = Literal["pending", "succeeded", "failed"]
STATEMENT_COLUMNS = ("provider_reference", "merchant_reference", "kind", "amount", "currency", "status",
                     "settled_at")
SIGNATURE_HEADER = "X-Payment-Signature"
ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class PaymentOrder:
    """What we ask of the provider. `reference` is ours (the payment's idempotency key); `account` names
    the card: the bound card's agreement token (here `card:<id>`) and its masked number."""

    reference: str
    amount: Money
    account: str
    account_masked: str
    memo: str = ""


@dataclass(frozen=True)
class ProviderPayment:
    """Where a payment stands at the provider."""

    provider_reference: str
    reference: str
    status: ProviderStatus
    amount: Money
    reason: str | None = None
    settled_at: datetime | None = None
    pay_url: str | None = None  # online payments: the provider's page the payer completes it on


@dataclass(frozen=True)
class SignedCallback:
    """A notification as the provider POSTs it: the raw body and its signature header."""

    body: bytes
    signature: str


@dataclass(frozen=True)
class StatementLine:
    """One line of a provider's daily statement."""

    provider_reference: str
    reference: str
    kind: str
    amount: Money
    status: str
    settled_at: str


class BadSignature(Exception):
    """A callback whose signature does not verify (or whose body cannot be read)."""


class UnknownProviderPayment(Exception):
    """The provider has no payment under that reference."""


class PaymentProvider(Protocol):
    """A bank's or payment company's interface for moving money."""

    name: str

    def pay_out(self, *, session: Session, order: PaymentOrder) -> ProviderPayment:
        """Send `order.amount` to the card (a disbursement)."""
        ...

    def collect(self, *, session: Session, order: PaymentOrder) -> ProviderPayment:
        """Take `order.amount` from a card under its auto-debit agreement (代扣)."""
        ...

    def start_online(self, *, session: Session, order: PaymentOrder) -> ProviderPayment:
        """Open a payment the payer completes on the provider's page (`pay_url`)."""
        ...

    def status_of(self, *, session: Session, provider_reference: str) -> ProviderPayment:
        """Where the payment stands now."""
        ...

    def verify_callback(self, body: bytes, signature: str) -> ProviderPayment:
        """The payment a callback reports, once its signature is verified (else `BadSignature`)."""
        ...

    def statement(self, *, session: Session, day: date) -> str:
        """The daily statement (CSV, `STATEMENT_COLUMNS`) of what the provider settled on `day`."""
        ...


def sign(secret: bytes, body: bytes) -> str:
    """The HMAC-SHA256 signature of a callback body (hex)."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def parse_statement(text: str, currency: str = "CNY") -> list[StatementLine]:
    """The lines of a statement file (the provider's CSV); a malformed file raises ValueError."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or tuple(reader.fieldnames) != STATEMENT_COLUMNS:
        raise ValueError(f"not a payment statement: the header must be {','.join(STATEMENT_COLUMNS)}")
    lines = []
    for n, row in enumerate(reader, start=2):
        try:
            amount = Money.parse(row["amount"], row["currency"] or currency)
        except (ValueError, ArithmeticError) as exc:
            raise ValueError(f"line {n}: amount {row['amount']!r} is not money") from exc
        lines.append(StatementLine(row["provider_reference"], row["merchant_reference"], row["kind"], amount,
                                   row["status"], row["settled_at"]))
    return lines


@dataclass(frozen=True)
class PaymentSimulation:
    """How the simulator behaves (see the module docstring)."""

    seed: int = 0
    delay_seconds: int = 0
    failure_rate: float = 0.0
    duplicate_rate: float = 0.0
    late_rate: float = 0.0
    late_seconds: int = 300


ALWAYS_FAIL = {"0002": "card_declined", "0051": "insufficient_funds"}


class SimulatedPaymentProvider:
    """Payment provider SIMULATOR (demo and tests): settles by the rules of `PaymentSimulation`, signs its
    callbacks with HMAC-SHA256 and writes a daily statement of what it settled."""

    name = "simulator"

    def __init__(self, *, clock: Clock, secret: bytes, simulation: PaymentSimulation | None = None,
                 public_url: str = "") -> None:
        self.clock = clock
        self.secret = secret
        self.simulation = simulation or PaymentSimulation()
        self.public_url = public_url.rstrip("/")

    # --- the provider's side of a payment ---------------------------------------------------

    def _fate(self, reference: str, account_masked: str) -> tuple[str | None, bool, bool]:
        """(failure reason or None, duplicate callback, late callback), the same for a reference always."""
        sim = self.simulation
        rng = random.Random(f"{sim.seed}:{reference}")  # noqa: S311 — a simulation, not a secret
        fail, dup, late = rng.random(), rng.random(), rng.random()
        reason = next((r for suffix, r in ALWAYS_FAIL.items() if account_masked.endswith(suffix)), None)
        if reason is None and fail < sim.failure_rate:
            reason = "insufficient_funds"
        return reason, dup < sim.duplicate_rate, late < sim.late_rate

    def _open(self, session: Session, kind: Kind, order: PaymentOrder) -> SimulatedPayment:
        found = repo.sim_payment_by_reference(session, order.reference)
        if found is not None:
            return found
        if not order.amount.is_positive:
            raise ValueError("a payment's amount must be positive")
        reason, duplicate, late = self._fate(order.reference, order.account_masked)
        now = self.clock.now()
        provider_reference = "SIM" + hashlib.sha256(order.reference.encode()).hexdigest()[:20].upper()
        row = SimulatedPayment(provider_reference=provider_reference, reference=order.reference, kind=kind,
                               amount=order.amount, account=order.account,
                               account_masked=order.account_masked, created_at=now, outcome=reason or "succeeded",
                               duplicate=duplicate, late=late, status="pending",
                               settle_at=None if kind == "online" else now + timedelta(
                                   seconds=self.simulation.delay_seconds),
                               callbacks_sent=0)
        repo.add_sim_payment(session, row)
        return row

    def _settle(self, row: SimulatedPayment) -> SimulatedPayment:
        """Bring the payment to where the clock says it is (settled once its time has come)."""
        if row.status == "pending" and row.settle_at is not None and self.clock.now() >= row.settle_at:
            row.status = "succeeded" if row.outcome == "succeeded" else "failed"
            row.settled_at = row.settle_at
        return row

    def _answer(self, row: SimulatedPayment) -> ProviderPayment:
        return ProviderPayment(provider_reference=row.provider_reference, reference=row.reference,
                               status=row.status,  # type: ignore[arg-type]
                               amount=row.amount, reason=None if row.status != "failed" else row.outcome,
                               settled_at=row.settled_at,
                               pay_url=f"{self.public_url}/_sim/payments/{row.provider_reference}"
                               if row.kind == "online" else None)

    def pay_out(self, *, session: Session, order: PaymentOrder) -> ProviderPayment:
        """Accept a payout; it settles after the delay."""
        return self._answer(self._settle(self._open(session, "payout", order)))

    def collect(self, *, session: Session, order: PaymentOrder) -> ProviderPayment:
        """Accept a collection under the card's agreement; it settles after the delay."""
        return self._answer(self._settle(self._open(session, "collect", order)))

    def start_online(self, *, session: Session, order: PaymentOrder) -> ProviderPayment:
        """Open an online payment: pending until the payer pays on the simulated cashier page (`pay`)."""
        return self._answer(self._open(session, "online", order))

    def status_of(self, *, session: Session, provider_reference: str) -> ProviderPayment:
        """Where the payment stands now."""
        return self._answer(self._settle(self._row(session, provider_reference)))

    def _row(self, session: Session, provider_reference: str, *, for_update: bool = False) -> SimulatedPayment:
        row = repo.sim_payment(session, provider_reference, for_update=for_update)
        if row is None:
            raise UnknownProviderPayment(provider_reference)
        return row

    # --- the simulated cashier and the callbacks ---------------------------------------------

    def pay(self, *, session: Session, provider_reference: str) -> ProviderPayment:
        """The payer completes an online payment on the cashier page: it settles after the delay."""
        row = self._row(session, provider_reference, for_update=True)
        if row.kind == "online" and row.settle_at is None:
            row.settle_at = self.clock.now() + timedelta(seconds=self.simulation.delay_seconds)
        session.flush()
        return self._answer(self._settle(row))

    def due_callbacks(self, *, session: Session) -> list[SignedCallback]:
        """The callbacks due by now, signed, each once — twice for a payment drawn to have its callback
        duplicated; a late one only `late_seconds` after settlement."""
        out: list[SignedCallback] = []
        now = self.clock.now()
        for row in repo.sim_payments_to_notify(session):
            self._settle(row)
            if row.status == "pending" or row.settled_at is None:
                continue
            if row.late and now < row.settled_at + timedelta(seconds=self.simulation.late_seconds):
                continue
            callback = self.callback_of(row)
            out.extend([callback, callback] if row.duplicate else [callback])
            row.callbacks_sent += 2 if row.duplicate else 1
        session.flush()
        return out

    def callback_of(self, row: SimulatedPayment) -> SignedCallback:
        """The signed notification of a settled payment (also what a test replays)."""
        body = json.dumps({"provider_reference": row.provider_reference, "merchant_reference": row.reference,
                           "kind": row.kind, "amount": str(row.amount), "currency": row.amount.currency,
                           "status": row.status, "reason": row.outcome if row.status == "failed" else None,
                           "settled_at": row.settled_at.isoformat() if row.settled_at else None},
                          sort_keys=True, separators=(",", ":")).encode()
        return SignedCallback(body, sign(self.secret, body))

    def verify_callback(self, body: bytes, signature: str) -> ProviderPayment:
        """Check the signature (constant time), then read the notification."""
        if not hmac.compare_digest(sign(self.secret, body), signature or ""):
            raise BadSignature("signature does not verify")
        try:
            data: dict[str, Any] = json.loads(body)
            amount = Money.parse(str(data["amount"]), str(data["currency"]))
            status = data["status"]
            if status not in ("pending", "succeeded", "failed"):
                raise ValueError(status)
            settled = datetime.fromisoformat(data["settled_at"]) if data.get("settled_at") else None
            return ProviderPayment(provider_reference=str(data["provider_reference"]),
                                   reference=str(data["merchant_reference"]), status=status, amount=amount,
                                   reason=data.get("reason"), settled_at=settled)
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise BadSignature(f"unreadable notification: {exc}") from None

    def statement(self, *, session: Session, day: date) -> str:
        """What settled on `day` (Shanghai time), as CSV: succeeded and failed alike."""
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(ZONE)
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(STATEMENT_COLUMNS)
        for row in repo.sim_payments_between(session, start, start + timedelta(days=1)):
            self._settle(row)
            if row.status == "pending" or row.settled_at is None or not start <= row.settled_at < start + timedelta(
                    days=1):
                continue
            writer.writerow([row.provider_reference, row.reference, row.kind, str(row.amount),
                             row.amount.currency, row.status, row.settled_at.isoformat()])
        return out.getvalue()
