"""The authenticated caller: who they are, what they may do, how far they see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from microcredit.identity.permissions import DataScope
from microcredit.platform.actor import Actor, RequestMeta


@dataclass(frozen=True)
class Principal:
    """A signed-in user for the length of one request."""

    user_id: int
    kind: str  # borrower | staff
    institution_id: int
    branch_id: int | None
    display_name: str
    session_id: int
    permissions: frozenset[str]
    roles: tuple[str, ...]
    scope: DataScope
    stage: str  # full | mfa_enrolment
    reauthenticated_at: datetime | None
    meta: RequestMeta = field(default_factory=RequestMeta)
    touch_due: bool = False

    def can(self, permission: str) -> bool:
        """Whether the caller holds `permission` (a restricted session holds none)."""
        return self.stage == "full" and permission in self.permissions

    @property
    def actor(self) -> Actor:
        """This caller as the actor of audited actions."""
        return Actor(kind=self.kind, user_id=self.user_id, institution_id=self.institution_id,
                     meta=self.meta)

    @property
    def sees_all_institutions(self) -> bool:
        """Platform administrators see every institution."""
        return self.scope is DataScope.ALL
