"""Routes of the built-in simulators: the SMS message box (demo and tests only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from microcredit.api.deps import DB, Ctx, public
from microcredit.integrations.sms import SimulatedSmsOperator
from microcredit.platform.schema import OutputSchema
from microcredit.platform.validators import InvalidIdentifier, validate_phone

router = APIRouter(prefix="/_sim", tags=["simulators"])


class SimulatedMessage(OutputSchema):
    """A text message as the simulated phone received it."""

    id: int
    phone_masked: str
    text: str
    sent_at: datetime


@router.get("/sms", response_model=list[SimulatedMessage], operation_id="list_simulated_sms",
            summary="SMS simulator: messages 'delivered' (demo and tests only)", dependencies=[public()])
def list_simulated_sms(session: DB, ctx: Ctx,
                       phone: Annotated[str | None, Query(max_length=20)] = None,
                       limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[SimulatedMessage]:
    """The newest messages to `phone`, or to anyone. Off in production."""
    operator: SimulatedSmsOperator = ctx.extras["sms_channel"]
    if phone:
        try:
            messages = operator.inbox(session, validate_phone(phone), limit)
        except InvalidIdentifier:
            messages = []
    else:
        messages = operator.recent(session, limit)
    return [SimulatedMessage(id=m.id, phone_masked=m.phone_masked, text=m.text, sent_at=m.sent_at)
            for m in messages]
