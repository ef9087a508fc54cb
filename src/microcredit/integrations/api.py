"""Routes of the built-in simulators: the SMS operator simulator's message box, the payment provider
simulator's cashier page, callbacks and statement (demo and tests only).

The app factory builds the router, only when the simulator is switched on,
with two callables that give the simulator and the database of the moment; it
needs nothing of the API's request machinery (no sign-in: it shows what a
phone would, and production refuses to start with the simulator on).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Query
from fastapi.responses import PlainTextResponse

from microcredit.clock import Clock
from microcredit.db.engine import Database
from microcredit.errors import DomainError, NotFound
from microcredit.integrations.payments import (
    ProviderPayment,
    SignedCallback,
    SimulatedPaymentProvider,
    UnknownProviderPayment,
)
from microcredit.integrations.sms import SimulatedSmsOperator
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import OutputSchema
from microcredit.platform.validators import InvalidIdentifier, validate_phone


class SimulatedMessage(OutputSchema):
    """A text message as the simulated phone received it."""

    id: int
    phone_masked: str
    text: str
    sent_at: datetime


def build_sms_router(*, operator: Callable[[], SimulatedSmsOperator | None],
                     db: Callable[[], Database]) -> APIRouter:
    """The simulator's message box at /_sim/sms (empty when the simulator is not the SMS channel)."""
    router = APIRouter(prefix="/_sim", tags=["simulators"], route_class=UnitOfWorkRoute)

    @router.get("/sms", response_model=list[SimulatedMessage], operation_id="list_simulated_sms",
                summary="SMS operator simulator: messages 'delivered' (demo and tests only)")
    def list_simulated_sms(phone: Annotated[str | None, Query(max_length=20)] = None,
                           limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[SimulatedMessage]:
        """The newest messages to `phone`, or to anyone. Off in production."""
        simulator = operator()
        if simulator is None:
            return []
        with db().unit_of_work(write=False) as session:
            if phone:
                try:
                    messages = simulator.inbox(session, validate_phone(phone), limit)
                except InvalidIdentifier:
                    messages = []
            else:
                messages = simulator.recent(session, limit)
        return [SimulatedMessage(id=m.id, phone_masked=m.phone_masked, text=m.text, sent_at=m.sent_at)
                for m in messages]

    return router


class SimulatedPaymentRead(OutputSchema):
    """A payment as the payment provider simulator's cashier page shows it."""

    provider_reference: str
    reference: str
    status: str
    amount: str
    reason: str | None


class SimulatorDelivery(OutputSchema):
    """What the simulator did: the payment (when one was paid) and how many callbacks it delivered."""

    payment: SimulatedPaymentRead | None
    callbacks_delivered: int


def _read(p: ProviderPayment) -> SimulatedPaymentRead:
    return SimulatedPaymentRead(provider_reference=p.provider_reference, reference=p.reference, status=p.status,
                                amount=str(p.amount), reason=p.reason)


def due_callbacks(simulator: SimulatedPaymentProvider, database: Database) -> list[SignedCallback]:
    """The simulator's callbacks due now, each taken once (in the simulator's own table)."""
    with database.unit_of_work() as session:
        return simulator.due_callbacks(session=session)


def post_callbacks(simulator: SimulatedPaymentProvider, database: Database, clock: Clock,
                   receive: Callable[..., Any], callbacks: list[SignedCallback],
                   then: Callable[[], Any] | None = None) -> None:
    """Post `callbacks` to `receive` (what our public callback route calls), each in its own transaction as a
    separate HTTP request would be; a refused one is left (the provider would retry it). `then`: what our
    route does after answering (the outbox's dispatch, which applies them)."""
    for callback in callbacks:
        try:
            with database.unit_of_work() as session:
                receive(session=session, clock=clock, provider=simulator, body=callback.body,
                        signature=callback.signature)
        except DomainError:
            continue
    if then is not None and callbacks:
        then()


def build_payments_router(*, provider: Callable[[], Any], db: Callable[[], Database], clock: Callable[[], Clock],
                          receive: Callable[..., Any], then: Callable[[], Any] | None = None) -> APIRouter:
    """The payment provider simulator's cashier and controls at /_sim/payments (demo and tests only).

    The callbacks due are sent after the simulator's answer, from a background task (as a provider sends
    them from its own queue), to `receive` — what our public callback route calls — and then `then`."""
    router = APIRouter(prefix="/_sim/payments", tags=["simulators"], route_class=UnitOfWorkRoute)

    def simulator() -> SimulatedPaymentProvider:
        found = provider()
        if not isinstance(found, SimulatedPaymentProvider):
            raise NotFound(field="provider")
        return found

    @router.get("/statement", response_class=PlainTextResponse, operation_id="simulated_payment_statement",
                summary="Payment provider simulator: the daily statement (CSV)")
    def simulated_payment_statement(day: date) -> str:
        """What the simulator settled on `day`, as the statement file reconciliation reads."""
        with db().unit_of_work(write=False) as session:
            return simulator().statement(session=session, day=day)

    @router.post("/deliver", response_model=SimulatorDelivery, operation_id="deliver_simulated_callbacks",
                 summary="Payment provider simulator: deliver the callbacks due now")
    def deliver_simulated_callbacks(background: BackgroundTasks) -> SimulatorDelivery:
        """Signed, to the same handler the public callback route calls, after this answer."""
        sim = simulator()
        callbacks = due_callbacks(sim, db())
        background.add_task(post_callbacks, sim, db(), clock(), receive, callbacks, then)
        return SimulatorDelivery(payment=None, callbacks_delivered=len(callbacks))

    @router.get("/{provider_reference}", response_model=SimulatedPaymentRead, operation_id="get_simulated_payment",
                summary="Payment provider simulator: a payment on its cashier page")
    def get_simulated_payment(provider_reference: Annotated[str, Path(max_length=40)]) -> SimulatedPaymentRead:
        """What the payer is asked to pay."""
        with db().unit_of_work() as session:
            try:
                return _read(simulator().status_of(session=session, provider_reference=provider_reference))
            except UnknownProviderPayment:
                raise NotFound(field="provider_reference") from None

    @router.post("/{provider_reference}/pay", response_model=SimulatorDelivery, operation_id="pay_simulated_payment",
                 summary="Payment provider simulator: the payer pays")
    def pay_simulated_payment(provider_reference: Annotated[str, Path(max_length=40)],
                              background: BackgroundTasks) -> SimulatorDelivery:
        """The payment settles after the simulator's delay; the callbacks then due are sent after this answer."""
        sim = simulator()
        with db().unit_of_work() as session:
            try:
                paid = _read(sim.pay(session=session, provider_reference=provider_reference))
            except UnknownProviderPayment:
                raise NotFound(field="provider_reference") from None
        callbacks = due_callbacks(sim, db())
        background.add_task(post_callbacks, sim, db(), clock(), receive, callbacks, then)
        return SimulatorDelivery(payment=paid, callbacks_delivered=len(callbacks))

    return router
