"""Who is acting and from where: carried into services for audit and scoping."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class RequestMeta:
    """Where a request came from."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    language: str = "zh-CN"


@dataclass(frozen=True)
class Actor:
    """The user (or the system) on whose behalf something happens."""

    kind: str  # staff | borrower | system | anonymous
    user_id: int | None = None
    institution_id: int | None = None
    meta: RequestMeta = field(default_factory=RequestMeta)

    @classmethod
    def system(cls, institution_id: int | None = None, *, request_id: str | None = None) -> Actor:
        """The system itself (CLI, batch jobs)."""
        return cls(kind="system", institution_id=institution_id, meta=RequestMeta(request_id=request_id))

    @classmethod
    def anonymous(cls, meta: RequestMeta, institution_id: int | None = None) -> Actor:
        """Someone not signed in (registration, login)."""
        return cls(kind="anonymous", institution_id=institution_id, meta=meta)

    def as_user(self, user_id: int, kind: str, institution_id: int) -> Actor:
        """The same request, now known to be `user_id`."""
        return replace(self, user_id=user_id, kind=kind, institution_id=institution_id)
