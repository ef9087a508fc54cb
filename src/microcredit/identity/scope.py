"""Data scoping: what part of the data a principal may see.

Every list query is narrowed by `filters(principal)`, and every object fetched
by id passes `ensure_visible`, which answers "not found" — never "forbidden" —
for an object outside the caller's reach, so ids cannot be probed (OWASP
API1, Fineract CVE-2025-58137).
"""

from __future__ import annotations

from dataclasses import dataclass

from microcredit.errors import NotFound
from microcredit.identity.permissions import DataScope
from microcredit.identity.principal import Principal


@dataclass(frozen=True)
class Filters:
    """Institution and branch a query must be limited to (None / False: no limit)."""

    institution_id: int | None
    branch_id: int | bool | None  # False: any branch; None: only rows without a branch


def filters(principal: Principal) -> Filters:
    """The limits of the caller's data scope."""
    if principal.scope is DataScope.ALL:
        return Filters(None, False)
    if principal.scope is DataScope.INSTITUTION:
        return Filters(principal.institution_id, False)
    if principal.scope is DataScope.BRANCH:
        return Filters(principal.institution_id, principal.branch_id)
    # Own scope (borrowers) never lists others: a branch id no row has.
    return Filters(principal.institution_id, -1)


def ensure_visible(principal: Principal, *, institution_id: int, branch_id: int | None = None,
                   owner_user_id: int | None = None) -> None:
    """Refuse (as not found) an object outside the caller's scope."""
    if principal.scope is DataScope.ALL:
        return
    if institution_id != principal.institution_id:
        raise NotFound()
    if principal.scope is DataScope.INSTITUTION:
        return
    if principal.scope is DataScope.BRANCH:
        # As in `filters`: staff without a branch (head office) see the objects no branch holds.
        if branch_id != principal.branch_id:
            raise NotFound()
        return
    if owner_user_id is None or owner_user_id != principal.user_id:
        raise NotFound()


def ensure_institution_visible(principal: Principal, institution_id: int) -> None:
    """Refuse (as not found) an institution other than the caller's; the platform sees every one.

    Unlike `ensure_visible`, the caller's branch does not matter: branch-scoped
    staff still belong to, and may read, their institution.
    """
    if principal.scope is not DataScope.ALL and institution_id != principal.institution_id:
        raise NotFound()


def institution_for_write(principal: Principal, requested: int | None) -> int:
    """The institution a create acts on: the caller's own, or any for platform scope."""
    if requested is None or requested == principal.institution_id:
        return principal.institution_id
    if principal.scope is DataScope.ALL:
        return requested
    raise NotFound()
