"""Routes of parties: joint-liability groups (小组联保) — list, form, members, leader, dissolve.

Staff who register borrowers (`borrower.register`, loan officers) form and change groups in their
scope; whoever reads borrowers (`borrower.read`) sees them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from microcredit.api.deps import DB, Kit, Meta, WallClock, require
from microcredit.api.params import Id, PageNo, PageSize
from microcredit.identity.principal import Principal
from microcredit.origination import service as origination
from microcredit.parties import service
from microcredit.parties.schemas import (
    GroupCreate,
    GroupLeaderSet,
    GroupMemberAdd,
    GroupMemberRead,
    GroupRead,
    GroupStatus,
    GroupSummary,
)
from microcredit.parties.service.groups import GroupView
from microcredit.platform.paging import PageRequest
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page
from microcredit.servicing import service as servicing

router = APIRouter(tags=["groups"], route_class=UnitOfWorkRoute)
StatusFilter = Annotated[GroupStatus | None, Query(description="Only groups in this status")]


def _read(view: GroupView) -> GroupRead:
    g = view.group
    return GroupRead(
        id=g.id, name=g.name, branch_id=g.branch_id, status=g.status,
        leader_borrower_id=g.leader_borrower_id, members=len(view.members), created_at=g.created_at,
        formed_by_user_id=g.formed_by_user_id, activated_at=g.activated_at, dissolved_at=g.dissolved_at,
        member_list=[GroupMemberRead(borrower_id=b.id, real_name=b.real_name, phone_masked=b.phone_masked,
                                     id_number_masked=b.id_number_masked, leader=b.id == g.leader_borrower_id,
                                     joined_at=m.joined_at)
                     for m, b in zip(view.memberships, view.members, strict=True)])


@router.get("/groups", response_model=Page[GroupSummary], operation_id="list_groups",
            summary="Joint-liability groups in scope")
def list_groups(session: DB, principal: Principal = require("borrower.read"), status: StatusFilter = None,
                page: PageNo = 1, page_size: PageSize = 20) -> Page[GroupSummary]:
    """Newest first, with the current member count."""
    r = service.groups.list_groups(session=session, principal=principal, page=PageRequest(page, page_size),
                                   status=status)
    counts = service.groups.member_counts(session=session, group_ids=[g.id for g in r.items])
    items = [GroupSummary(id=g.id, name=g.name, branch_id=g.branch_id, status=g.status,
                          leader_borrower_id=g.leader_borrower_id, members=counts.get(g.id, 0),
                          created_at=g.created_at) for g in r.items]
    return Page(items=items, total=r.total, page=r.page, page_size=r.page_size)


@router.post("/groups", response_model=GroupRead, status_code=201, operation_id="create_group",
             summary="Form a joint-liability group")
def create_group(body: GroupCreate, session: DB, clock: WallClock,
                 principal: Principal = require("borrower.register")) -> GroupRead:
    """Members are borrowers of the group's branch in no other open group; active at 3–10 with a leader."""
    return _read(service.groups.create_group(session=session, clock=clock, principal=principal, data=body))


@router.get("/groups/{group_id}", response_model=GroupRead, operation_id="get_group", summary="One group")
def get_group(group_id: Id, session: DB, principal: Principal = require("borrower.read")) -> GroupRead:
    """The group, its members and its leader."""
    return _read(service.groups.get_group(session=session, principal=principal, group_id=group_id))


@router.post("/groups/{group_id}/members", response_model=GroupRead, operation_id="add_group_member",
             summary="Add a member", responses={409: {"description": "In another group (`borrower_in_another_group`)"
                                                                     " or dissolved (`group_wrong_state`)"}})
def add_group_member(group_id: Id, body: GroupMemberAdd, session: DB, clock: WallClock,
                     principal: Principal = require("borrower.register")) -> GroupRead:
    """Refused past 10 members (`group_too_large`) or for a borrower of another branch."""
    return _read(service.groups.add_member(session=session, clock=clock, principal=principal, group_id=group_id,
                                           borrower_id=body.borrower_id))


@router.post("/groups/{group_id}/members/{borrower_id}/remove", response_model=GroupRead,
             operation_id="remove_group_member", summary="Remove a member (they leave the group)",
             responses={409: {"description": "The member's loan for the group is approved or not yet repaid "
                                             "(`group_member_loan_open`): a servicing matter"}})
def remove_group_member(group_id: Id, borrower_id: Id, session: DB, kit: Kit, meta: Meta,
                        principal: Principal = require("borrower.register")) -> GroupRead:
    """Below 3 members (or without its leader) the group is forming again. The member's part of the group's
    open application is withdrawn (they are told), and the group application goes on without it — held
    when fewer than 3 remain; refused, changing nothing, while their loan for the group is approved or
    not yet repaid."""
    view = service.groups.remove_member(session=session, clock=kit.clock, principal=principal, group_id=group_id,
                                        borrower_id=borrower_id)
    servicing.groups.ensure_may_leave(session=session, group_id=group_id, borrower_id=borrower_id)
    origination.group_applications.member_left(session=session, kit=kit, principal=principal, group_id=group_id,
                                               borrower_id=borrower_id, assess=origination.review.default_assessor(),
                                               language=meta.language)
    return _read(view)


@router.put("/groups/{group_id}/leader", response_model=GroupRead, operation_id="set_group_leader",
            summary="Choose the leader among the members")
def set_group_leader(group_id: Id, body: GroupLeaderSet, session: DB, clock: WallClock,
                     principal: Principal = require("borrower.register")) -> GroupRead:
    """The leader must be a current member."""
    return _read(service.groups.set_leader(session=session, clock=clock, principal=principal, group_id=group_id,
                                           borrower_id=body.borrower_id))


@router.post("/groups/{group_id}/dissolve", response_model=GroupRead, operation_id="dissolve_group",
             summary="Dissolve the group (final)",
             responses={409: {"description": "A member's loan for the group is approved or not yet repaid "
                                             "(`group_member_loan_open`: joint liability stands until it is "
                                             "repaid), or the group is dissolved already (`group_wrong_state`)"}})
def dissolve_group(group_id: Id, session: DB, kit: Kit, meta: Meta,
                   principal: Principal = require("borrower.register")) -> GroupRead:
    """Its members leave it and may join another group. The group's applications not yet decided are
    cancelled (each member's undecided application withdrawn, the member told); refused, changing nothing,
    while a member's loan for the group is approved or not yet repaid."""
    members = [m.id for m in service.groups.get_group(session=session, principal=principal,
                                                                group_id=group_id).members]
    view = service.groups.dissolve(session=session, clock=kit.clock, principal=principal, group_id=group_id)
    for borrower_id in members:
        servicing.groups.ensure_may_leave(session=session, group_id=group_id, borrower_id=borrower_id)
    origination.group_applications.group_dissolved(session=session, kit=kit, principal=principal,
                                                   group_id=group_id, language=meta.language)
    return _read(view)
