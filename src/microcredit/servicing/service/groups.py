"""Group loans (小组联保): the members' loans linked through their group's applications, and the
group statement — each current member's loan as of the business date (principal, outstanding
principal, what is overdue and for how many days, the next due date) and the group's totals.

Staff see the statement of a group in their scope; the group's leader sees it in the borrower app,
since joint liability makes a member's arrears the whole group's concern (a member who is not the
leader sees their own loan only, as ever).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from microcredit.errors import NotFound
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.origination import service as origination
from microcredit.parties import service as parties
from microcredit.servicing import repository as repo
from microcredit.servicing.errors import GroupMemberLoanOpen
from microcredit.servicing.models import Loan
from microcredit.servicing.service import loans


@dataclass(frozen=True)
class MemberLine:
    """One member's loan on the statement (none: a member with no loan made for the group)."""

    borrower_id: int
    name: str
    leader: bool
    loan: Loan | None
    overdue: Money
    dpd: int


@dataclass(frozen=True)
class GroupStatement:
    """A group's loans as of a day, member by member, with the totals."""

    group_id: int
    name: str
    as_of: date
    members: list[MemberLine]
    principal: Money
    outstanding_principal: Money
    overdue: Money
    members_in_arrears: int


def latest_loans(*, session: Session, group_id: int) -> dict[int, Loan]:
    """Each member's latest loan made for the group, by borrower."""
    applications = origination.handover.group_applications(session=session, group_id=group_id)
    by_application = {x.application_id: x for x in repo.by_applications(session, [a.id for a in applications])}
    latest: dict[int, Loan] = {}
    for application in applications:  # oldest first: a member's latest loan for the group wins
        loan = by_application.get(application.id)
        if loan is not None:
            latest[application.borrower_id] = loan
    return latest


def statement(*, session: Session, group_id: int, institution_id: int) -> GroupStatement:
    """The statement of a group (the caller's right to see it already checked)."""
    group = parties.groups.group_by_id(session=session, group_id=group_id)
    if group is None or group.institution_id != institution_id:
        raise NotFound(field="group_id")
    view = parties.groups.get_group_unscoped(session=session, group=group)
    today = parties.organisation.business_date(session=session, institution_id=institution_id)
    latest = latest_loans(session=session, group_id=group_id)
    zero = Money.zero("CNY")
    lines = []
    for member in view.members:
        loan = latest.get(member.id)
        overdue, dpd = zero, 0
        if loan is not None and loan.status == "active":
            state = loans.state_of(session=session, loan=loan, as_of=today)
            overdue = sum((row.outstanding.total for row in state.installments if row.due_date < today), zero)
            dpd = state.dpd
        lines.append(MemberLine(member.id, member.real_name, member.id == group.leader_borrower_id, loan, overdue,
                                dpd))
    made = [line.loan for line in lines if line.loan is not None]
    return GroupStatement(group.id, group.name, today, lines,
                          sum((x.principal for x in made), zero),
                          sum((x.outstanding_principal for x in made), zero),
                          sum((line.overdue for line in lines), zero),
                          sum(1 for line in lines if line.overdue.is_positive))


def for_staff(*, session: Session, principal: Principal, group_id: int) -> GroupStatement:
    """A group in the staff caller's scope (else not found)."""
    parties.groups.get_group(session=session, principal=principal, group_id=group_id)
    return statement(session=session, group_id=group_id, institution_id=principal.institution_id)


def for_leader(*, session: Session, principal: Principal) -> GroupStatement:
    """The statement of the group the borrower caller leads (not found: they lead none)."""
    borrower_id = parties.borrowers.own_profile_id(session=session, principal=principal)
    view = parties.groups.led_by(session=session, borrower_id=borrower_id) if borrower_id is not None else None
    if view is None:
        raise NotFound(field="group_id")
    return statement(session=session, group_id=view.group.id, institution_id=view.group.institution_id)


OPEN_LOAN = frozenset({"pending_disbursement", "active"})


def ensure_may_leave(*, session: Session, group_id: int, borrower_id: int) -> None:
    """Refuse a member's leaving the group while a loan made for it is theirs to repay: an application of
    the group's approved without its loan yet, or its loan not paid out or being repaid (joint liability
    stands until it is repaid; a change then is the loan's, not the group's). Undecided applications are
    origination's to withdraw (`origination.group_applications.member_left`)."""
    mine = [a for a in origination.handover.group_applications(session=session, group_id=group_id)
            if a.borrower_id == borrower_id and a.status == "approved"]
    loans_of = {x.application_id: x for x in repo.by_applications(session, [a.id for a in mine])}
    for application in mine:
        loan = loans_of.get(application.id)
        if loan is None or loan.status in OPEN_LOAN:
            raise GroupMemberLoanOpen(field="borrower_id")
