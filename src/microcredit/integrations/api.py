"""Routes of the built-in simulators: the SMS operator simulator's message box (demo and tests only).

The app factory builds the router, only when the simulator is switched on,
with two callables that give the simulator and the database of the moment; it
needs nothing of the API's request machinery (no sign-in: it shows what a
phone would, and production refuses to start with the simulator on).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from microcredit.db.engine import Database
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
