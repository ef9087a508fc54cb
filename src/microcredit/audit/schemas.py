"""API shapes of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from microcredit.platform.schema import InputSchema, OutputSchema


class AuditRecordRead(OutputSchema):
    """One audit record."""

    seq: int | None = Field(description="Its number in the hash chain; null for the milliseconds between its "
                            "action's commit and its sealing (shown as \"sealing\")")
    at: datetime
    institution_id: int | None
    actor_user_id: int | None
    actor_name: str | None = None
    actor_kind: str
    action: str
    entity_type: str | None
    entity_id: str | None
    target_name: str | None = Field(default=None, description="The name of the record acted on, when known "
                                    "(a borrower's, a staff member's, a branch's …) in the request's language")
    ip: str | None
    request_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    hash: str | None


class VerifyRequest(InputSchema):
    """What to verify the chain against."""

    anchor: str | None = Field(default=None, max_length=64, description="A head hash kept outside the database "
                               "(`microcredit audit anchor`); it must still be in the chain",
                               examples=["9f2c" + "0" * 60])


class VerifyRead(OutputSchema):
    """The result of recomputing the chain."""

    ok: bool
    records: int
    head_seq: int
    head_hash: str
    problems: list[str]
    first_bad_seq: int | None
    unsealed: int = Field(default=0, description="Records written and not sealed yet (a problem only when old)")
