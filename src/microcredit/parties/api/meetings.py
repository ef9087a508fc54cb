"""Routes of parties: a joint-liability group's repayment meeting schedule (小组例会).

Staff who manage groups (`borrower.register`) set, change and remove it; whoever reads borrowers
(`borrower.read`) sees it; a borrower sees their own group's next meeting.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from microcredit.api.deps import DB, WallClock, require
from microcredit.api.params import Id
from microcredit.errors import NotFound
from microcredit.identity.principal import Principal
from microcredit.parties import service
from microcredit.parties.models import GroupMeeting
from microcredit.parties.schemas import GroupMeetingRead, GroupMeetingWrite, MyGroupMeetingRead
from microcredit.platform.routing import UnitOfWorkRoute

router = APIRouter(tags=["groups"], route_class=UnitOfWorkRoute)


def _read(session: DB, principal: Principal, meeting: GroupMeeting) -> GroupMeetingRead:
    today = service.organisation.business_date(session=session, institution_id=principal.institution_id)
    return GroupMeetingRead(group_id=meeting.group_id, frequency=meeting.frequency,
                            first_on=meeting.first_on, time_of_day=meeting.time_of_day, place=meeting.place,
                            next_meetings=service.meetings.next_meetings(meeting, today),
                            updated_at=meeting.updated_at)


@router.get("/groups/{group_id}/meeting", response_model=GroupMeetingRead, operation_id="get_group_meeting",
            summary="The group's repayment meeting schedule")
def get_group_meeting(group_id: Id, session: DB, principal: Principal = require("borrower.read")) -> GroupMeetingRead:
    """With the next 3 meetings from the business date. Not found: the group has no schedule."""
    return _read(session, principal,
                 service.meetings.get_meeting(session=session, principal=principal, group_id=group_id))


@router.put("/groups/{group_id}/meeting", response_model=GroupMeetingRead, operation_id="set_group_meeting",
            summary="Set or change the group's repayment meeting schedule",
            responses={409: {"description": "The group is dissolved (`group_wrong_state`)"}})
def set_group_meeting(group_id: Id, body: GroupMeetingWrite, session: DB, clock: WallClock,
                      principal: Principal = require("borrower.register")) -> GroupMeetingRead:
    """Members' loans opened from now on fall due on the meetings when their repayment frequency matches;
    loans already made keep their dates. A monthly meeting after the 28th is refused
    (`meeting_day_after_28th` on `first_on`)."""
    return _read(session, principal, service.meetings.set_meeting(session=session, clock=clock, principal=principal,
                                                                  group_id=group_id, data=body))


@router.delete("/groups/{group_id}/meeting", status_code=204, operation_id="remove_group_meeting",
               summary="Remove the group's repayment meeting schedule", response_class=Response)
def remove_group_meeting(group_id: Id, session: DB, clock: WallClock,
                         principal: Principal = require("borrower.register")) -> Response:
    """Loans already made keep their dates. Not found: the group has no schedule."""
    service.meetings.remove_meeting(session=session, clock=clock, principal=principal, group_id=group_id)
    return Response(status_code=204)


@router.get("/me/group-meeting", response_model=MyGroupMeetingRead, operation_id="get_my_group_meeting",
            summary="The next meeting of the borrower's group")
def get_my_group_meeting(session: DB, principal: Principal = require("profile.read_own")) -> MyGroupMeetingRead:
    """For any current member of a group with a schedule; not found otherwise."""
    borrower_id = service.borrowers.own_profile_id(session=session, principal=principal)
    if borrower_id is None:
        raise NotFound()
    own = service.meetings.own_meeting(session=session, borrower_id=borrower_id)
    today = service.organisation.business_date(session=session, institution_id=principal.institution_id)
    m = own.meeting
    return MyGroupMeetingRead(group_id=own.group_id, group_name=own.group_name,
                              frequency=m.frequency,
                              time_of_day=m.time_of_day, place=m.place,
                              next_meeting=service.meetings.next_meetings(m, today, 1)[0])
