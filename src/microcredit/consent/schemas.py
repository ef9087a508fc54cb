"""API shapes of consent: documents, acceptances, records."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from microcredit.platform.schema import InputSchema, OutputSchema

ConsentKind = Literal["user_agreement", "privacy_policy", "sensitive_info"]
ConsentChannel = Literal["online", "walk_in", "app"]
VERSION_FIELD = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$",
                      description="The version the person was shown (from /public/consent-documents)")


class ConsentAcceptance(InputSchema):
    """The version of each document the person read and accepted, as shown on the registration page."""

    user_agreement: str | None = Field(default=None, max_length=32, description="User agreement version")
    privacy_policy: str | None = Field(default=None, max_length=32, description="Privacy policy version")
    sensitive_info: str | None = Field(
        default=None, max_length=32,
        description="Version of the rules on sensitive personal information (the separate consent, PIPL art. 29)")


class ConsentDocumentSummary(OutputSchema):
    """A document version, without its text."""

    id: int
    kind: ConsentKind
    version: str
    title_zh: str
    title_en: str
    content_hash: str
    effective_from: datetime
    published_at: datetime


class ConsentDocumentRead(ConsentDocumentSummary):
    """A document version with its text in both languages."""

    body_zh: str
    body_en: str


class ConsentDocumentCreate(InputSchema):
    """A new version of one of the institution's documents (it takes effect at once)."""

    kind: ConsentKind
    version: str = VERSION_FIELD
    title_zh: str = Field(min_length=1, max_length=120)
    title_en: str = Field(min_length=1, max_length=120)
    body_zh: str = Field(min_length=1, max_length=50_000)
    body_en: str = Field(min_length=1, max_length=50_000)
    institution_id: int | None = Field(default=None, description="Defaults to the caller's institution")


class ConsentAccept(InputSchema):
    """Accept the version in effect of one document."""

    kind: ConsentKind
    version: str = VERSION_FIELD


class ConsentRecordRead(OutputSchema):
    """One consent: which document version, when, through which channel; withdrawn or not."""

    id: int
    kind: ConsentKind
    version: str
    content_hash: str
    channel: ConsentChannel
    accepted_at: datetime
    ip: str | None
    user_agent: str | None
    recorded_by_user_id: int | None
    withdrawn_at: datetime | None
    current: bool = Field(default=True, description="Whether the version is the one in effect now")
