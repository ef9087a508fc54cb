"""Every query of the parties domain."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, bindparam, func, literal, or_, select
from sqlalchemy.orm import Session

from microcredit.db.rows import columns_by_id
from microcredit.parties.models import (
    BankAccount,
    Borrower,
    BorrowerGroup,
    BorrowerGroupMember,
    Branch,
    GroupMeeting,
    Institution,
    ProfileChange,
    StaffMember,
)


@functools.lru_cache(maxsize=8)
def business_date_subquery(bound_by: str) -> Any:
    """The business date of the institution whose id is bound as `bound_by`, as a scalar subquery (built once a
    name) for another domain's statement to use in the same statement."""
    return select(Institution.business_date).where(Institution.id == bindparam(bound_by)).scalar_subquery()


def get_institution(session: Session, institution_id: int) -> Institution | None:
    """The institution with this id."""
    return session.get(Institution, institution_id)


def get_branch(session: Session, branch_id: int) -> Branch | None:
    """The branch with this id."""
    return session.get(Branch, branch_id)


def get_staff(session: Session, staff_id: int) -> StaffMember | None:
    """The staff record with this id."""
    return session.get(StaffMember, staff_id)


def get_borrower(session: Session, borrower_id: int, *, for_update: bool = False) -> Borrower | None:
    """The borrower with this id (row-locked until the transaction ends, `for_update`, where the
    database locks rows: a writer that locks first makes concurrent edits queue instead of conflict)."""
    return session.get(Borrower, borrower_id, with_for_update=for_update)


def borrower_columns(session: Session, borrower_id: int, names: tuple[str, ...]) -> Any | None:
    """Some columns of the borrower with this id, as a Core row (or the session's object, if it holds one)."""
    return columns_by_id(session, Borrower, borrower_id, names)


def get_change(session: Session, change_id: int) -> ProfileChange | None:
    """The profile change with this id."""
    return session.get(ProfileChange, change_id)


def institution_by_code(session: Session, code: str) -> Institution | None:
    """The institution with this code."""
    return session.scalar(select(Institution).where(Institution.code == code))


def institutions_query() -> Select[Any]:
    """All institutions."""
    return select(Institution)


def branch_by_code(session: Session, *, institution_id: int, code: str) -> Branch | None:
    """A branch by its code within the institution."""
    return session.scalar(select(Branch).where(Branch.institution_id == institution_id, Branch.code == code))


def branches_query(*, institution_id: int | None, branch_id: int | bool | None = False,
                   q: str | None = None) -> Select[Any]:
    """Branches, optionally of one institution, one branch only (`False`: any), matching `q`."""
    stmt = select(Branch)
    if institution_id is not None:
        stmt = stmt.where(Branch.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(Branch.id == branch_id)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Branch.name.like(like), Branch.code.like(like)))
    return stmt


def staff_by_user(session: Session, user_id: int) -> StaffMember | None:
    """The staff record of a user."""
    return session.scalar(select(StaffMember).where(StaffMember.user_id == user_id))


def staff_by_employee_number(session: Session, *, institution_id: int, number: str) -> StaffMember | None:
    """A staff member by employee number."""
    return session.scalar(select(StaffMember).where(StaffMember.institution_id == institution_id,
                                                    StaffMember.employee_number == number))


def staff_query(*, institution_id: int | None, user_ids: list[int] | None = None,
                q: str | None = None) -> Select[Any]:
    """Staff, optionally limited to some users, matching `q` on name / number / position."""
    stmt = select(StaffMember)
    if institution_id is not None:
        stmt = stmt.where(StaffMember.institution_id == institution_id)
    if user_ids is not None:
        stmt = stmt.where(StaffMember.user_id.in_(user_ids))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(StaffMember.name.like(like), StaffMember.employee_number.like(like),
                              StaffMember.position.like(like)))
    return stmt


def borrower_id_of_user(session: Session, user_id: int) -> int | None:
    """The id of a user's borrower profile (the column only)."""
    return session.scalar(select(Borrower.id).where(Borrower.user_id == user_id))


def borrower_by_user(session: Session, user_id: int) -> Borrower | None:
    """The borrower profile of a user."""
    return session.scalar(select(Borrower).where(Borrower.user_id == user_id))


def borrower_by_id_index(session: Session, *, institution_id: int, id_index: str) -> Borrower | None:
    """The borrower with this ID number (by blind index)."""
    return session.scalar(select(Borrower).where(Borrower.institution_id == institution_id,
                                                 Borrower.id_number_index == id_index))


_B = Borrower.__table__.c
# What a list of borrowers shows of each (parties.schemas.BorrowerRead): masked, nothing decrypted.
LISTED_COLUMNS = (_B.id, _B.user_id, _B.institution_id, _B.branch_id, _B.branch_assignment, _B.real_name,
                  _B.id_number_masked, _B.phone_masked, _B.gender, _B.birth_year, _B.customer_type, _B.occupation,
                  _B.employer, _B.email, _B.province, _B.city, _B.address, _B.monthly_income, _B.total_assets,
                  _B.total_liabilities, _B.channel, _B.created_at, _B.updated_at)

# The conditions a list of borrowers may have, each over a bound parameter of the same name (the
# value comes with each request) or, for the two "no branch" conditions, none. The caller's data
# scope is two of them (`institution_id`, and `scope_branch_id` or `scope_no_branch`).
BORROWER_CONDITIONS: dict[str, Any] = {
    "institution_id": _B.institution_id == bindparam("institution_id"),
    "scope_branch_id": _B.branch_id == bindparam("scope_branch_id"),
    "scope_no_branch": _B.branch_id.is_(None),
    "name": _B.real_name.like(bindparam("name")),
    "id_index": _B.id_number_index == bindparam("id_index"),
    "id_tail": _B.id_number_masked.like(bindparam("id_tail")),
    "user_ids": _B.user_id.in_(bindparam("user_ids", expanding=True)),
    "customer_type": _B.customer_type == bindparam("customer_type"),
    "channel": _B.channel == bindparam("channel"),
    "branch_filter": _B.branch_id == bindparam("branch_filter"),
    "unassigned": _B.branch_id.is_(None),
}


def listed_borrowers(conditions: Iterable[str]) -> Select[Any]:
    """Rows of `LISTED_COLUMNS` meeting the named `BORROWER_CONDITIONS` (values bound at execution).

    A plain SQLAlchemy Core statement over the table's columns: a list needs no identity map, no
    unit of work and no attribute instrumentation. Built once per set of conditions and sort
    (`platform.paging.listing`), never per request (docs/performance.md, "Sixth pass").
    """
    return select(*LISTED_COLUMNS).where(*(BORROWER_CONDITIONS[name] for name in sorted(conditions)))


def active_branches(session: Session, institution_id: int) -> list[Branch]:
    """The institution's open branches."""
    return list(session.scalars(select(Branch).where(Branch.institution_id == institution_id,
                                                     Branch.status == "active").order_by(Branch.code)))


def count_unassigned(session: Session, institution_id: int | None) -> int:
    """Borrowers without a branch (in one institution, or all)."""
    stmt = select(func.count()).select_from(Borrower).where(Borrower.branch_id.is_(None))
    if institution_id is not None:
        stmt = stmt.where(Borrower.institution_id == institution_id)
    return session.scalar(stmt) or 0


def count_pending_changes(session: Session, *, institution_id: int | None, branch_id: int | bool | None) -> int:
    """Profile changes waiting for review in a scope (`branch_id=False`: any branch)."""
    stmt = select(func.count()).select_from(ProfileChange).where(ProfileChange.status == "pending")
    if institution_id is not None:
        stmt = stmt.where(ProfileChange.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(ProfileChange.branch_id == branch_id)
    return session.scalar(stmt) or 0


def bank_accounts_of(session: Session, borrower_id: int) -> list[BankAccount]:
    """A borrower's bank cards, primary first."""
    return list(session.scalars(select(BankAccount).where(BankAccount.borrower_id == borrower_id)
                                .order_by(BankAccount.is_primary.desc(), BankAccount.id)))


def pending_change_of(session: Session, borrower_id: int) -> ProfileChange | None:
    """The borrower's change waiting for review, if any."""
    return session.scalar(select(ProfileChange).where(ProfileChange.borrower_id == borrower_id,
                                                      ProfileChange.status == "pending")
                          .order_by(ProfileChange.id.desc()).limit(1))


def changes_of(session: Session, borrower_id: int, limit: int = 20) -> list[ProfileChange]:
    """A borrower's recent profile changes."""
    return list(session.scalars(select(ProfileChange).where(ProfileChange.borrower_id == borrower_id)
                                .order_by(ProfileChange.id.desc()).limit(limit)))


def changes_query(*, institution_id: int | None, branch_id: int | bool | None = False,
                  status: str | None = None) -> Select[Any]:
    """Profile changes in scope, optionally by status."""
    stmt = select(ProfileChange)
    if institution_id is not None:
        stmt = stmt.where(ProfileChange.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(ProfileChange.branch_id == branch_id)
    if status:
        stmt = stmt.where(ProfileChange.status == status)
    return stmt


def borrower_names(session: Session, borrower_ids: list[int]) -> dict[int, str]:
    """Real names by borrower id."""
    if not borrower_ids:
        return {}
    rows = session.execute(select(Borrower.id, Borrower.real_name).where(Borrower.id.in_(set(borrower_ids))))
    return {bid: name for bid, name in rows}


def names_by_id(session: Session, entity_type: str, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """(name, English name or None) of institutions, branches, staff or borrowers by id."""
    key, name, name_en = {
        "institution": (Institution.id, Institution.name, Institution.name_en),
        "branch": (Branch.id, Branch.name, Branch.name_en),
        "staff": (StaffMember.id, StaffMember.name, None),
        "borrower": (Borrower.id, Borrower.real_name, None),
    }[entity_type]
    if not ids:
        return {}
    english: Any = name_en if name_en is not None else literal(None)
    rows = session.execute(select(key, name, english).where(key.in_(set(ids))))
    return {int(i): (str(zh), en) for i, zh, en in rows}


# --- joint-liability groups ------------------------------------------------------------------------


def add(session: Session, row: Any) -> None:
    """Store a new row (flushed, so it has its id)."""
    session.add(row)
    session.flush()


def get_group(session: Session, group_id: int, *, for_update: bool = False) -> BorrowerGroup | None:
    """The group with this id (row-locked with `for_update`)."""
    stmt = select(BorrowerGroup).where(BorrowerGroup.id == group_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def groups_query(*, institution_id: int | None, branch_id: int | bool | None, status: str | None) -> Select[Any]:
    """Groups in scope (`branch_id` False: any branch), newest first."""
    stmt = select(BorrowerGroup)
    if institution_id is not None:
        stmt = stmt.where(BorrowerGroup.institution_id == institution_id)
    if branch_id is not False:
        stmt = stmt.where(BorrowerGroup.branch_id.is_(None) if branch_id is None
                          else BorrowerGroup.branch_id == branch_id)
    if status is not None:
        stmt = stmt.where(BorrowerGroup.status == status)
    return stmt.order_by(BorrowerGroup.id.desc())


def current_members(session: Session, group_id: int) -> list[BorrowerGroupMember]:
    """The group's current members, in the order they joined."""
    return list(session.scalars(select(BorrowerGroupMember).where(
        BorrowerGroupMember.group_id == group_id, BorrowerGroupMember.left_at.is_(None))
        .order_by(BorrowerGroupMember.id)))


def member_counts(session: Session, group_ids: list[int]) -> dict[int, int]:
    """Current members per group."""
    if not group_ids:
        return {}
    rows = session.execute(select(BorrowerGroupMember.group_id, func.count()).where(
        BorrowerGroupMember.group_id.in_(group_ids), BorrowerGroupMember.left_at.is_(None))
        .group_by(BorrowerGroupMember.group_id))
    return {int(g): int(n) for g, n in rows}


def open_membership(session: Session, borrower_id: int) -> BorrowerGroupMember | None:
    """The borrower's current membership of a group that is not dissolved, if any."""
    return session.scalar(select(BorrowerGroupMember)
                          .join(BorrowerGroup, BorrowerGroup.id == BorrowerGroupMember.group_id)
                          .where(BorrowerGroupMember.borrower_id == borrower_id,
                                 BorrowerGroupMember.left_at.is_(None), BorrowerGroup.status != "dissolved")
                          .limit(1))


def borrowers_by_ids(session: Session, borrower_ids: list[int]) -> list[Borrower]:
    """The borrowers with these ids (any order)."""
    if not borrower_ids:
        return []
    return list(session.scalars(select(Borrower).where(Borrower.id.in_(borrower_ids))))


_BORROWER_ID_BY_INDEX = select(Borrower.id).where(  # built once: every scored decision asks (repayment history)
    Borrower.institution_id == bindparam("institution_id"), Borrower.id_number_index == bindparam("id_index"))


# The borrower's id by ID-number blind index as a scalar subquery (bound by `institution_id` and `id_index`), for
# another domain's query to filter by.
BORROWER_ID_BY_INDEX_SUBQUERY = _BORROWER_ID_BY_INDEX.scalar_subquery()


def group_meeting(session: Session, group_id: int) -> GroupMeeting | None:
    """The group's meeting schedule, if it has one."""
    return session.scalar(select(GroupMeeting).where(GroupMeeting.group_id == group_id))
