"""A joint-liability group's repayment meeting schedule (小组例会): set, changed or removed by the staff who
manage groups (`borrower.register`, as for every group change), audited with before and after.

Members' loans are synced to it when they are opened (`sync_for`, used by servicing and by the contract):
the first installment falls due on the first meeting at least `MIN_DAYS_TO_FIRST_MEETING` days after the
payout and every later one on a meeting (`lending.meetings`). A loan keeps the dates it was made with: a
schedule changed or removed later moves no loan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import NotFound
from microcredit.identity.principal import Principal
from microcredit.lending.meetings import MeetingFrequency, first_meeting_after, frequency_matches, meetings_from
from microcredit.parties import repository as repo
from microcredit.parties.models import GroupMeeting
from microcredit.parties.schemas import GroupMeetingWrite
from microcredit.parties.service.groups import _open, _scoped

__all__ = ["MIN_DAYS_TO_FIRST_MEETING", "MeetingSync", "get_meeting", "next_meetings", "own_meeting",
           "remove_meeting", "set_meeting", "sync_for", "synced_first_due"]

# Fineract's minimumDaysBetweenDisbursalAndFirstRepayment, ours for every product: a borrower has at least a
# week between the payout and the first meeting they repay at.
MIN_DAYS_TO_FIRST_MEETING = 7
# Repayment methods with one installment per period (the others are not repaid at every meeting).
PERIODIC_METHODS = frozenset({"equal_installment", "equal_principal", "interest_monthly_principal_at_maturity"})


def _snapshot(meeting: GroupMeeting | None) -> dict[str, Any] | None:
    if meeting is None:
        return None
    return {"frequency": meeting.frequency, "first_on": meeting.first_on.isoformat(),
            "time_of_day": meeting.time_of_day, "place": meeting.place}


def next_meetings(meeting: GroupMeeting, day: date, count: int = 3) -> list[date]:
    """The next `count` meetings on or after `day`."""
    return meetings_from(MeetingFrequency(meeting.frequency), meeting.first_on, day, count)


def get_meeting(*, session: Session, principal: Principal, group_id: int) -> GroupMeeting:
    """The schedule of a group in scope (not found: no schedule, or no such group)."""
    group = _scoped(session, principal, group_id)
    meeting = repo.group_meeting(session, group.id)
    if meeting is None:
        raise NotFound()
    return meeting


def set_meeting(*, session: Session, clock: Clock, principal: Principal, group_id: int,
                data: GroupMeetingWrite) -> GroupMeeting:
    """Set or change the schedule (a dissolved group's is refused); audited with before and after."""
    group = _scoped(session, principal, group_id, for_update=True)
    _open(group)
    meeting = repo.group_meeting(session, group.id)
    before = _snapshot(meeting)
    fields = {"frequency": data.frequency, "first_on": data.first_on, "time_of_day": data.time_of_day,
              "place": data.place.strip(), "updated_by_user_id": principal.user_id, "updated_at": clock.now()}
    if meeting is None:
        meeting = GroupMeeting(group_id=group.id, **fields)
        repo.add(session, meeting)
    else:
        for name, value in fields.items():
            setattr(meeting, name, value)
        session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="group.meeting_set",
                 entity_type="borrower_group", entity_id=group.id, institution_id=group.institution_id,
                 before=before, after=_snapshot(meeting))
    return meeting


def remove_meeting(*, session: Session, clock: Clock, principal: Principal, group_id: int) -> None:
    """Remove the schedule (not found: none); loans already made keep their dates."""
    group = _scoped(session, principal, group_id, for_update=True)
    meeting = repo.group_meeting(session, group.id)
    if meeting is None:
        raise NotFound()
    before = _snapshot(meeting)
    session.delete(meeting)
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="group.meeting_removed",
                 entity_type="borrower_group", entity_id=group.id, institution_id=group.institution_id,
                 before=before, after=None)


@dataclass(frozen=True)
class OwnMeeting:
    """The borrower's group and its schedule."""

    group_id: int
    group_name: str
    meeting: GroupMeeting


def own_meeting(*, session: Session, borrower_id: int) -> OwnMeeting:
    """The schedule of the group the borrower is a current member of (not found: no group or no schedule)."""
    membership = repo.open_membership(session, borrower_id)
    group = repo.get_group(session, membership.group_id) if membership is not None else None
    meeting = repo.group_meeting(session, group.id) if group is not None else None
    if group is None or meeting is None:
        raise NotFound()
    return OwnMeeting(group.id, group.name, meeting)


@dataclass(frozen=True)
class MeetingSync:
    """Whether a loan's installments fall on its group's meetings; why not when they do not.

    `schedule` is the group's schedule as it was (kept on the loan: the payout re-dates from it, not
    from the group's schedule then); `first_due_date` the first meeting after the start when synced."""

    synced: bool
    reason: str | None
    schedule: dict[str, Any] | None
    first_due_date: date | None

    def as_json(self) -> dict[str, Any]:
        """What the loan keeps of it."""
        return {"synced": self.synced, "reason": self.reason, "schedule": self.schedule}


def synced_first_due(schedule: dict[str, Any], start: date) -> date:
    """The first due date of a loan synced to `schedule` (a kept snapshot) paid out on `start`."""
    return first_meeting_after(MeetingFrequency(schedule["frequency"]), date.fromisoformat(schedule["first_on"]),
                               start, MIN_DAYS_TO_FIRST_MEETING)


def sync_for(*, session: Session, group_id: int, start: date, unit: str, every: int, method: str) -> MeetingSync:
    """How a member's loan of the group, repaid every `every` `unit`s by `method` from `start`, meets the
    group's schedule: synced (the first due date), or not, with the reason (`no_meeting_schedule`,
    `method_not_periodic`, `frequency_mismatch`)."""
    meeting = repo.group_meeting(session, group_id)
    if meeting is None:
        return MeetingSync(False, "no_meeting_schedule", None, None)
    schedule = _snapshot(meeting)
    if method not in PERIODIC_METHODS:
        return MeetingSync(False, "method_not_periodic", schedule, None)
    if not frequency_matches(MeetingFrequency(meeting.frequency), unit, every):
        return MeetingSync(False, "frequency_mismatch", schedule, None)
    assert schedule is not None
    return MeetingSync(True, None, schedule, synced_first_due(schedule, start))
