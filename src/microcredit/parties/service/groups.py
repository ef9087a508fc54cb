"""Joint-liability groups (小组联保): a loan officer forms a group of 3–10 borrowers of one branch and
chooses its leader among them; group applications (origination) are made for active groups.

The status follows the membership: `forming` while the group has fewer than 3 members or no leader,
`active` once it has 3–10 and a leader (and back to `forming` if it falls below); `dissolved` is final
(a person's decision). A borrower is a current member of at most one group that is not dissolved, so
that a joint liability is never owed to two groups at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import FieldProblem, NotFound, ValidationFailed
from microcredit.identity import scope
from microcredit.identity.principal import Principal
from microcredit.parties import repository as repo
from microcredit.parties.errors import BorrowerInAnotherGroup, GroupWrongState
from microcredit.parties.models import (
    GROUP_MAX_MEMBERS,
    GROUP_MIN_MEMBERS,
    Borrower,
    BorrowerGroup,
    BorrowerGroupMember,
)
from microcredit.parties.schemas import GroupCreate
from microcredit.parties.service.borrowers import get_borrower
from microcredit.platform.paging import PageRequest, PageResult, paginate

__all__ = [
    "GROUP_MAX_MEMBERS",
    "GROUP_MIN_MEMBERS",
    "GroupView",
    "add_member",
    "borrower",
    "create_group",
    "dissolve",
    "get_group",
    "get_group_unscoped",
    "group_by_id",
    "group_for_application",
    "led_by",
    "list_groups",
    "member_counts",
    "remove_member",
    "set_leader",
]


@dataclass(frozen=True)
class GroupView:
    """A group with its current members (borrowers, in the order they joined)."""

    group: BorrowerGroup
    memberships: list[BorrowerGroupMember]
    members: list[Borrower]


def _problem(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, code, en, zh)])


def _view(session: Session, group: BorrowerGroup) -> GroupView:
    memberships = repo.current_members(session, group.id)
    by_id = {b.id: b for b in repo.borrowers_by_ids(session, [m.borrower_id for m in memberships])}
    return GroupView(group, memberships, [by_id[m.borrower_id] for m in memberships])


def _scoped(session: Session, principal: Principal, group_id: int, *, for_update: bool = False) -> BorrowerGroup:
    group = repo.get_group(session, group_id, for_update=for_update)
    if group is None:
        raise NotFound()
    scope.ensure_visible(principal, institution_id=group.institution_id, branch_id=group.branch_id)
    return group


def _open(group: BorrowerGroup) -> None:
    if group.status == "dissolved":
        raise GroupWrongState(params={"status": group.status})


def _settle(session: Session, clock: Clock, group: BorrowerGroup) -> None:
    """The status the membership calls for (forming ↔ active), and the time it became active."""
    members = {m.borrower_id for m in repo.current_members(session, group.id)}
    if group.leader_borrower_id not in members:
        group.leader_borrower_id = None
    ready = GROUP_MIN_MEMBERS <= len(members) <= GROUP_MAX_MEMBERS and group.leader_borrower_id is not None
    status = "active" if ready else "forming"
    if status == "active" and group.status != "active":
        group.activated_at = clock.now()
    group.status = status
    group.updated_at = clock.now()
    session.flush()


def _audit(session: Session, clock: Clock, principal: Principal, group: BorrowerGroup, action: str,
           **after: Any) -> None:
    audit.record(session=session, clock=clock, actor=principal.actor, action=f"group.{action}",
                 entity_type="borrower_group", entity_id=group.id, institution_id=group.institution_id,
                 after={"status": group.status, "leader": group.leader_borrower_id, **after})


def _join(session: Session, clock: Clock, principal: Principal, group: BorrowerGroup, borrower_id: int,
          field: str) -> None:
    member = get_borrower(session=session, principal=principal, borrower_id=borrower_id)
    if member.institution_id != group.institution_id or member.branch_id != group.branch_id:
        raise _problem(field, "group_member_other_branch", "Group members are borrowers of the group's branch",
                       "联保小组成员须为本小组所在网点的借款人")
    if repo.open_membership(session, member.id) is not None:
        raise BorrowerInAnotherGroup(field=field)
    repo.add(session, BorrowerGroupMember(group_id=group.id, borrower_id=member.id, joined_at=clock.now(),
                                          added_by_user_id=principal.user_id))


def create_group(*, session: Session, clock: Clock, principal: Principal, data: GroupCreate) -> GroupView:
    """A new group in the officer's branch (or the one named, in scope), with its first members."""
    branch_id = data.branch_id if data.branch_id is not None else principal.branch_id
    scope.ensure_visible(principal, institution_id=principal.institution_id, branch_id=branch_id)
    ids = list(dict.fromkeys(data.member_ids))
    if data.leader_id is not None and data.leader_id not in ids:
        raise _problem("leader_id", "group_leader_not_member", "The leader must be one of the members",
                       "组长须为小组成员")
    now = clock.now()
    group = BorrowerGroup(institution_id=principal.institution_id, branch_id=branch_id, name=data.name.strip(),
                          status="forming", formed_by_user_id=principal.user_id, created_at=now, updated_at=now)
    repo.add(session, group)
    for i, borrower_id in enumerate(ids):
        _join(session, clock, principal, group, borrower_id, f"member_ids.{i}")
    group.leader_borrower_id = data.leader_id
    _settle(session, clock, group)
    _audit(session, clock, principal, group, "created", name=group.name, members=ids)
    return _view(session, group)


def get_group(*, session: Session, principal: Principal, group_id: int) -> GroupView:
    """A group in the caller's scope, with its members."""
    return _view(session, _scoped(session, principal, group_id))


def list_groups(*, session: Session, principal: Principal, page: PageRequest,
                status: str | None = None) -> PageResult[BorrowerGroup]:
    """Groups in the caller's scope, newest first."""
    f = scope.filters(principal)
    return paginate(session, repo.groups_query(institution_id=f.institution_id, branch_id=f.branch_id,
                                               status=status), page)


def member_counts(*, session: Session, group_ids: list[int]) -> dict[int, int]:
    """Current members per group."""
    return repo.member_counts(session, group_ids)


def add_member(*, session: Session, clock: Clock, principal: Principal, group_id: int, borrower_id: int) -> GroupView:
    """Add a borrower of the group's branch (refused past 10 members or when they are in another group)."""
    group = _scoped(session, principal, group_id, for_update=True)
    _open(group)
    if len(repo.current_members(session, group.id)) >= GROUP_MAX_MEMBERS:
        raise _problem("borrower_id", "group_too_large", f"A group has at most {GROUP_MAX_MEMBERS} members",
                       f"联保小组最多 {GROUP_MAX_MEMBERS} 人")
    if any(m.borrower_id == borrower_id for m in repo.current_members(session, group.id)):
        raise _problem("borrower_id", "group_member_already", "Already a member", "已是本小组成员")
    _join(session, clock, principal, group, borrower_id, "borrower_id")
    _settle(session, clock, group)
    _audit(session, clock, principal, group, "member_added", borrower_id=borrower_id)
    return _view(session, group)


def remove_member(*, session: Session, clock: Clock, principal: Principal, group_id: int,
                  borrower_id: int) -> GroupView:
    """A member leaves (the leader too: the group then needs a new one to be active)."""
    group = _scoped(session, principal, group_id, for_update=True)
    _open(group)
    membership = next((m for m in repo.current_members(session, group.id) if m.borrower_id == borrower_id), None)
    if membership is None:
        raise NotFound()
    membership.left_at = clock.now()
    session.flush()
    _settle(session, clock, group)
    _audit(session, clock, principal, group, "member_removed", borrower_id=borrower_id)
    return _view(session, group)


def set_leader(*, session: Session, clock: Clock, principal: Principal, group_id: int, borrower_id: int) -> GroupView:
    """Make one of the members the leader."""
    group = _scoped(session, principal, group_id, for_update=True)
    _open(group)
    if not any(m.borrower_id == borrower_id for m in repo.current_members(session, group.id)):
        raise _problem("borrower_id", "group_leader_not_member", "The leader must be one of the members",
                       "组长须为小组成员")
    group.leader_borrower_id = borrower_id
    _settle(session, clock, group)
    _audit(session, clock, principal, group, "leader_set", borrower_id=borrower_id)
    return _view(session, group)


def dissolve(*, session: Session, clock: Clock, principal: Principal, group_id: int) -> GroupView:
    """End the group (final); its members are free to join another."""
    group = _scoped(session, principal, group_id, for_update=True)
    _open(group)
    now = clock.now()
    for m in repo.current_members(session, group.id):
        m.left_at = now
    group.status, group.dissolved_at, group.updated_at = "dissolved", now, now
    session.flush()
    _audit(session, clock, principal, group, "dissolved")
    return _view(session, group)


def group_for_application(*, session: Session, principal: Principal, group_id: int) -> GroupView:
    """An active group in scope, locked, for a group application (refused if not active)."""
    group = _scoped(session, principal, group_id, for_update=True)
    if group.status != "active":
        raise _problem("group_id", "group_not_active", "The group needs 3–10 members and a leader to apply",
                       "联保小组须有 3–10 名成员和组长才能申请")
    return _view(session, group)


def group_by_id(*, session: Session, group_id: int) -> BorrowerGroup | None:
    """A group by id, unscoped (for a member's view of their group application)."""
    return repo.get_group(session, group_id)


def get_group_unscoped(*, session: Session, group: BorrowerGroup) -> GroupView:
    """A group with its current members, for a service that has checked who may see it."""
    return _view(session, group)


def led_by(*, session: Session, borrower_id: int) -> GroupView | None:
    """The group (not dissolved) the borrower currently leads, with its members, if any."""
    membership = repo.open_membership(session, borrower_id)
    group = repo.get_group(session, membership.group_id) if membership is not None else None
    if group is None or group.leader_borrower_id != borrower_id:
        return None
    return _view(session, group)


def borrower(*, session: Session, borrower_id: int) -> Borrower:
    """A borrower by id, unscoped: for services acting for a group whose membership they checked."""
    found = repo.get_borrower(session, borrower_id)
    if found is None:
        raise NotFound()
    return found


def fellow_members(*, session: Session, borrower_id: int) -> list[int]:
    """The borrower ids of the other current members of the borrower's group (none: not in a group).
    Collections may contact them only as the institution's rules allow."""
    membership = repo.open_membership(session, borrower_id)
    if membership is None:
        return []
    return [m.borrower_id for m in repo.current_members(session, membership.group_id) if m.borrower_id != borrower_id]
