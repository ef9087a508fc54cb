"""Group applications (小组联保): a loan officer applies for an active joint-liability group under a
product that allows group lending — one term and method, an amount per member.

Each member gets an application of their own (origination's walk-in create, its checks included),
held in `awaiting_consent` and linked to the group application; each member is asked to consent (SMS
and in-app). While any member has not consented nothing is submitted. The last consent submits every
member's application through the normal automated review, in that one transaction, and records the
mutual guarantee on each (the co-members stand for it: `ApplicationGuarantor`). A refusal (or a
member withdrawing) holds the group application in `member_refused`: the officer removes that member
(3 must remain) and the rest proceed, or cancels (every member's application is withdrawn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.errors import FieldProblem, NotFound, ValidationFailed
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.notifications import service as notifications
from microcredit.origination import repository as repo
from microcredit.origination.errors import ConsentAlreadyGiven, GroupApplicationWrongState
from microcredit.origination.models import (
    STATUSES,
    Application,
    ApplicationGuarantor,
    GroupApplication,
    GroupApplicationMember,
)
from microcredit.origination.schemas import ApplicationCreate, GroupApplicationCreate
from microcredit.origination.service import applications, states
from microcredit.origination.service.review import Assessor
from microcredit.parties import service as parties
from microcredit.platform.crypto import mask_name
from microcredit.platform.paging import PageRequest, PageResult, paginate
from microcredit.platform.todo import Todo
from microcredit.products import service as products

__all__ = ["GroupApplicationView", "cancel", "consent", "create", "get_for_staff", "group_dissolved",
           "list_for_staff", "member_left", "my_group", "refuse", "remove_member"]

OPEN = ("awaiting_consent", "member_refused", "held")  # the officer may still remove a member or cancel
ANSWERABLE = ("awaiting_consent", "member_refused")  # a member may still consent or refuse (held: nothing to answer)


@dataclass(frozen=True)
class GroupApplicationView:
    """A group application, its members' parts, their applications and names."""

    group_application: GroupApplication
    members: list[GroupApplicationMember]
    applications: dict[int, Application]
    names: dict[int, str]


def _problem(field: str, code: str, en: str, zh: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, code, en, zh)])


def _view(session: Session, ga: GroupApplication) -> GroupApplicationView:
    members = repo.group_members(session, ga.id)
    apps = {m.application_id: a for m in members if (a := repo.get(session, m.application_id)) is not None}
    names = parties.borrowers.borrower_names(session=session, borrower_ids=[m.borrower_id for m in members])
    return GroupApplicationView(ga, members, apps, names)


def _staff(session: Session, principal: Principal, group_application_id: int) -> GroupApplication:
    ga = repo.get_group_application(session, group_application_id, for_update=True)
    if ga is None:
        raise NotFound()
    scope.ensure_visible(principal, institution_id=ga.institution_id, branch_id=ga.branch_id)
    return ga


def _audit(session: Session, kit: identity.IdentityKit, principal: Principal, ga: GroupApplication, action: str,
           **after: Any) -> None:
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action=f"group_application.{action}",
                 entity_type="group_application", entity_id=ga.id, institution_id=ga.institution_id,
                 after={"status": ga.status, **after})


def _tell_member(session: Session, kit: identity.IdentityKit, ga: GroupApplication, member: GroupApplicationMember,
                 template: str, language: str) -> None:
    """Tell a member about their part of the group application, in the app and by SMS (`template` names both)."""
    params = {"group": ga.group_name, "amount": str(member.amount)}
    notifications.notify_user(session, clock=kit.clock, institution_id=ga.institution_id, user_id=member.user_id,
                              template=template, params=params, subject_kind="application",
                              subject_id=member.application_id)
    phone = identity.accounts.phone(session=session, kit=kit, user_id=member.user_id)
    notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=kit.clock,
                              institution_id=ga.institution_id, phone=phone, template=template,
                              params={**params, "signature": kit.sender_name(session, ga.institution_id, language)},
                              language=language)


def create(*, session: Session, kit: identity.IdentityKit, principal: Principal, data: GroupApplicationCreate,
           ip: str | None, language: str, notify: bool = True) -> GroupApplicationView:
    """Apply for an active group: every current member once, each amount in the product's range.

    Refused (field errors, nothing changed) for a product that does not allow group lending, for a
    member list that is not the group's, or for a member already in a group application waiting.
    """
    group = parties.groups.group_for_application(session=session, principal=principal, group_id=data.group_id)
    today = parties.organisation.business_date(session=session, institution_id=group.group.institution_id)
    _, version = products.catalogue.offer(session=session, institution_id=group.group.institution_id,
                                          code=data.product_code, on=today)
    if not products.catalogue.terms_of(version).group_lending:
        raise _problem("product_code", "product_not_group_lending", "This product does not allow group lending",
                       "该产品不支持小组联保贷款")
    listed = [m.borrower_id for m in data.members]
    if len(set(listed)) != len(listed) or set(listed) != {b.id for b in group.members}:
        raise _problem("members", "group_members_mismatch", "List every current member of the group, each once",
                       "须列出小组的全部现有成员，每人一次")
    for i, borrower_id in enumerate(listed):
        if repo.open_group_member(session, borrower_id) is not None:
            raise _problem(f"members.{i}.borrower_id", "group_application_open",
                           "This member is in a group application still waiting", "该成员已有尚未完成的联保申请")
    now = kit.clock.now()
    g = group.group
    ga = GroupApplication(institution_id=g.institution_id, branch_id=g.branch_id, group_id=g.id, group_name=g.name,
                          status="awaiting_consent", product_code=data.product_code, product_version_id=version.id,
                          term=data.term, repayment_method=data.repayment_method, purpose=data.purpose,
                          created_by_user_id=principal.user_id, created_at=now, updated_at=now)
    repo.add(session, ga)
    parts = []
    for i, member in enumerate(data.members):
        plan = ApplicationCreate(product_code=data.product_code, amount=member.amount, term=data.term,
                                 repayment_method=data.repayment_method, purpose=data.purpose)
        try:
            application = applications.create_walk_in(session=session, kit=kit, principal=principal,
                                                      borrower_id=member.borrower_id, plan=plan, device_id=None,
                                                      ip=ip)
        except ValidationFailed as refused:
            raise ValidationFailed([FieldProblem(f"members.{i}.{p.field}" if p.field == "amount" else p.field,
                                                 p.code, p.message_en, p.message_zh)
                                    for p in refused.problems]) from None
        applications.hold_for_consent(session=session, kit=kit, principal=principal, application=application,
                                      group_application_id=ga.id)
        part = GroupApplicationMember(group_application_id=ga.id, application_id=application.id,
                                      borrower_id=member.borrower_id, user_id=application.borrower_user_id,
                                      amount=member.amount, leader=member.borrower_id == g.leader_borrower_id,
                                      consent="pending")
        repo.add(session, part)
        parts.append(part)
    _audit(session, kit, principal, ga, "created", group_id=g.id, product=data.product_code,
           amounts={str(m.borrower_id): str(m.amount) for m in data.members})
    if notify:
        for part in parts:
            _tell_member(session, kit, ga, part, "group_consent_requested", language)
    return _view(session, ga)


def get_for_staff(*, session: Session, principal: Principal, group_application_id: int) -> GroupApplicationView:
    """A group application in the caller's scope."""
    ga = repo.get_group_application(session, group_application_id)
    if ga is None:
        raise NotFound()
    scope.ensure_visible(principal, institution_id=ga.institution_id, branch_id=ga.branch_id)
    return _view(session, ga)


def list_for_staff(*, session: Session, principal: Principal, page: PageRequest,
                   status: str | None = None) -> tuple[PageResult[GroupApplication], dict[int, tuple[int, int]]]:
    """Group applications in scope, newest first, with (members, consented) of each."""
    f = scope.filters(principal)
    r = paginate(session, repo.group_applications_query(institution_id=f.institution_id, branch_id=f.branch_id,
                                                        status=status), page)
    return r, repo.consent_counts(session, [ga.id for ga in r.items])


def todos(*, session: Session, principal: Principal) -> list[Todo]:
    """For whoever takes group applications: those held because a member refused or withdrew, waiting
    for the officer to remove that member or cancel."""
    if not principal.can("loan.apply"):
        return []
    f = scope.filters(principal)
    return [Todo("group_applications_member_refused", repo.count_group_applications(
        session, institution_id=f.institution_id, branch_id=f.branch_id, status="member_refused"))]


def _own_part(session: Session, principal: Principal, application_id: int
              ) -> tuple[Application, GroupApplication, GroupApplicationMember]:
    """The caller's application in a group application, both locked: the group application first, as
    everywhere (see `applications.withdraw`), so concurrent answers and the officer's actions queue."""
    application = repo.get(session, application_id)
    if application is None or application.borrower_user_id != principal.user_id \
            or application.group_application_id is None:
        raise NotFound()
    ga = repo.get_group_application(session, application.group_application_id, for_update=True)
    application = repo.get(session, application_id, for_update=True)
    if application is None or application.group_application_id is None:
        raise NotFound()
    part = next((m for m in repo.group_members(session, application.group_application_id)
                 if m.application_id == application.id), None)
    if ga is None or part is None:
        raise NotFound()
    return application, ga, part


def my_group(*, session: Session, principal: Principal, application_id: int) -> GroupApplicationView:
    """The group application the caller's own application belongs to (anyone else's: not found)."""
    application = repo.get(session, application_id)
    if application is None or application.borrower_user_id != principal.user_id \
            or application.group_application_id is None:
        raise NotFound()
    ga = repo.get_group_application(session, application.group_application_id)
    if ga is None:
        raise NotFound()
    return _view(session, ga)


def masked_members(view: GroupApplicationView, application_id: int) -> list[dict[str, Any]]:
    """The members as a co-member sees them: names masked, amounts, consent (removed members left out)."""
    return [{"name_masked": mask_name(view.names.get(m.borrower_id, "")), "leader": m.leader,
             "me": m.application_id == application_id, "amount": m.amount, "consent": m.consent}
            for m in view.members if m.consent != "removed"]


def consent(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
            ip: str | None, device_id: str | None, assess: Assessor, language: str,
            notify: bool = True) -> GroupApplicationView:
    """The member consents (time, IP and device recorded); the last consent submits the whole group
    (`notify` False: the submissions text nobody, as for seeded history)."""
    application, ga, part = _own_part(session, principal, application_id)
    if ga.status not in ANSWERABLE:
        raise GroupApplicationWrongState(params={"status": ga.status})
    if part.consent != "pending":
        raise ConsentAlreadyGiven(params={"consent": part.consent})
    part.consent, part.decided_at = "consented", kit.clock.now()
    part.consent_ip, part.consent_device = ip, device_id
    # The member's own device and address go to the review (velocity), not the officer's.
    application.client_ip, application.device_id = ip, device_id
    session.flush()
    _audit(session, kit, principal, ga, "consented", borrower_id=part.borrower_id, ip=ip, device=device_id)
    _proceed(session, kit, principal, ga, assess, language, notify=notify)
    return _view(session, ga)


def refuse(*, session: Session, kit: identity.IdentityKit, principal: Principal, application_id: int,
           ip: str | None, device_id: str | None) -> GroupApplicationView:
    """The member refuses: the group application is held (`member_refused`) for the officer."""
    _, ga, part = _own_part(session, principal, application_id)
    if ga.status not in ANSWERABLE:
        raise GroupApplicationWrongState(params={"status": ga.status})
    if part.consent != "pending":
        raise ConsentAlreadyGiven(params={"consent": part.consent})
    part.consent, part.decided_at = "refused", kit.clock.now()
    part.consent_ip, part.consent_device = ip, device_id
    ga.status, ga.updated_at = "member_refused", kit.clock.now()
    session.flush()
    _audit(session, kit, principal, ga, "refused", borrower_id=part.borrower_id, ip=ip, device=device_id)
    return _view(session, ga)


def remove_member(*, session: Session, kit: identity.IdentityKit, principal: Principal, group_application_id: int,
                  borrower_id: int, assess: Assessor, language: str) -> GroupApplicationView:
    """The officer removes a member (their application is withdrawn); the rest proceed if all consented.

    Refused when fewer than 3 members would remain.
    """
    ga = _staff(session, principal, group_application_id)
    if ga.status not in OPEN:
        raise GroupApplicationWrongState(params={"status": ga.status})
    members = [m for m in repo.group_members(session, ga.id) if m.consent != "removed"]
    part = next((m for m in members if m.borrower_id == borrower_id), None)
    if part is None:
        raise NotFound()
    least = parties.groups.GROUP_MIN_MEMBERS
    if len(members) - 1 < least:
        raise _problem("borrower_id", "group_too_small",
                       f"At least {least} members must remain: cancel the group application instead",
                       f"至少须保留 {least} 名成员；否则请取消联保申请")
    part.consent, part.decided_at = "removed", kit.clock.now()
    session.flush()
    applications.withdraw(session=session, kit=kit, principal=principal, application_id=part.application_id,
                          note="group_member_removed", own=False)
    ga.status = "member_refused" if any(m.consent == "refused" for m in members if m is not part) \
        else "awaiting_consent"
    ga.updated_at = kit.clock.now()
    session.flush()
    _audit(session, kit, principal, ga, "member_removed", borrower_id=borrower_id)
    _proceed(session, kit, principal, ga, assess, language)
    return _view(session, ga)


def cancel(*, session: Session, kit: identity.IdentityKit, principal: Principal,
           group_application_id: int) -> GroupApplicationView:
    """The officer cancels: every member's waiting application is withdrawn."""
    ga = _staff(session, principal, group_application_id)
    if ga.status not in OPEN:
        raise GroupApplicationWrongState(params={"status": ga.status})
    ga.status, ga.updated_at = "cancelled", kit.clock.now()
    session.flush()
    for m in repo.group_members(session, ga.id):
        application = repo.get(session, m.application_id)
        # Held after its submission, members decided already stay as decided (an approval is servicing's).
        if m.consent != "removed" and application is not None and application.status not in states.FINAL:
            applications.withdraw(session=session, kit=kit, principal=principal, application_id=m.application_id,
                                  note="group_application_cancelled", own=False)
    _audit(session, kit, principal, ga, "cancelled")
    return _view(session, ga)


def member_left(*, session: Session, kit: identity.IdentityKit, principal: Principal, group_id: int,
                borrower_id: int, assess: Assessor, language: str) -> list[GroupApplicationView]:
    """A member left the group (or was removed from it): their part of the group's open application must not
    stay. Their application still undecided is withdrawn (`group_member_left`) and they are told (in-app
    and SMS); their part is removed, so the group application's total is the rest's; their mutual
    guarantee of co-members still undecided is taken off (they no longer answer for them). Fewer than 3
    left: the group application is `held` (the officer cancels it; the group applies again next cycle);
    else, not yet submitted, it goes on as after the officer's removal — submitted at once if the rest
    have all consented. A decided application (approved: servicing's; declined) is left as it is.
    """
    out = []
    for part in repo.group_parts_of(session, group_id, borrower_id):
        ga = repo.get_group_application(session, part.group_application_id, for_update=True)
        application = repo.get(session, part.application_id, for_update=True)
        assert ga is not None
        assert application is not None
        if application.status in states.FINAL:
            continue
        now = kit.clock.now()
        part.consent, part.decided_at = "removed", now
        session.flush()
        applications.withdraw(session=session, kit=kit, principal=principal, application_id=application.id,
                              note=None, own=False, reason="group_member_left")
        repo.remove_guarantees_by(session, group_application_id=ga.id, guarantor_borrower_id=borrower_id,
                                  statuses=set(STATUSES) - states.FINAL)
        members = [m for m in repo.group_members(session, ga.id) if m.consent != "removed"]
        if len(members) < parties.groups.GROUP_MIN_MEMBERS:
            ga.status = "held"
        elif ga.status != "submitted":
            ga.status = "member_refused" if any(m.consent == "refused" for m in members) else "awaiting_consent"
        ga.updated_at = now
        session.flush()
        _audit(session, kit, principal, ga, "member_left", borrower_id=borrower_id,
               application_id=application.id, total=str(total(_view(session, ga))))
        _tell_member(session, kit, ga, part, "group_member_left", language)
        if ga.status == "awaiting_consent":
            _proceed(session, kit, principal, ga, assess, language)
        out.append(_view(session, ga))
    return out


def group_dissolved(*, session: Session, kit: identity.IdentityKit, principal: Principal, group_id: int,
                    language: str) -> list[GroupApplicationView]:
    """The group was dissolved: its applications not yet decided lose the mutual guarantee they were made
    under, so none may go on. Each group application still open (waiting for consent, held, or submitted
    and under review) is cancelled; every member's application still undecided is withdrawn
    (`group_dissolved`), its undecided guarantees taken off, and the member told (in-app and SMS).
    Members already decided stay as decided: an approval is servicing's, and servicing refuses the
    dissolution while a loan for the group is approved or being repaid (`group_member_loan_open`)."""
    out = []
    for ga in repo.group_applications_of_group(session, group_id, (*OPEN, "submitted")):
        withdrawn = []
        for part in repo.group_members(session, ga.id):
            application = repo.get(session, part.application_id, for_update=True)
            if part.consent == "removed" or application is None or application.status in states.FINAL:
                continue
            applications.withdraw(session=session, kit=kit, principal=principal, application_id=application.id,
                                  note=None, own=False, reason="group_dissolved")
            repo.remove_guarantees_by(session, group_application_id=ga.id, guarantor_borrower_id=part.borrower_id,
                                      statuses=set(STATUSES) - states.FINAL)
            _tell_member(session, kit, ga, part, "group_dissolved", language)
            withdrawn.append(application.id)
        before = ga.status
        ga.status, ga.updated_at = "cancelled", kit.clock.now()
        session.flush()
        _audit(session, kit, principal, ga, "cancelled", reason="group_dissolved", before=before,
               withdrawn_application_ids=withdrawn)
        out.append(_view(session, ga))
    return out


def _proceed(session: Session, kit: identity.IdentityKit, principal: Principal, ga: GroupApplication,
             assess: Assessor, language: str, *, notify: bool = True) -> None:
    """When every remaining member has consented: record the guarantees and submit every application."""
    members = [m for m in repo.group_members(session, ga.id) if m.consent != "removed"]
    if ga.status != "awaiting_consent" or any(m.consent != "consented" for m in members):
        return
    today = parties.organisation.business_date(session=session, institution_id=ga.institution_id)
    now = kit.clock.now()
    repo.add_all(session, [
        ApplicationGuarantor(application_id=m.application_id, guarantor_borrower_id=other.borrower_id,
                             group_id=ga.group_id, group_application_id=ga.id, kind="joint_liability",
                             recorded_on=today, recorded_at=now)
        for m in members for other in members if other is not m])
    # Every member assessed before any is decided: a referred member's approval levels are the group's (its
    # total, the worst grade among the members: `applications.levels_needed`), so they read every grade.
    assessed = []
    for m in members:
        application = repo.get(session, m.application_id, for_update=True)
        assert application is not None
        assessed.append(applications.assess_loaded(
            session=session, kit=kit, application=application,
            borrower=parties.groups.borrower(session=session, borrower_id=m.borrower_id), assess=assess,
            action="group_submit"))
    for a in assessed:
        applications.decide_loaded(session=session, kit=kit, principal=principal, assessed=a, language=language,
                                   notify=notify)
    ga.status, ga.submitted_at, ga.updated_at = "submitted", now, now
    session.flush()
    _audit(session, kit, principal, ga, "submitted", members=[m.borrower_id for m in members])


def guarantors(*, session: Session, application_id: int) -> list[tuple[ApplicationGuarantor, str | None]]:
    """The mutual guarantees on an application, with each guarantor's name."""
    rows = repo.guarantors_of(session, application_id)
    names = parties.borrowers.borrower_names(session=session, borrower_ids=[g.guarantor_borrower_id for g in rows])
    return [(g, names.get(g.guarantor_borrower_id)) for g in rows]


def total(view: GroupApplicationView) -> Money:
    """The sum of the amounts of the members not removed."""
    amounts = [m.amount for m in view.members if m.consent != "removed"]
    out = Money(0, amounts[0].currency) if amounts else Money(0, "CNY")
    for a in amounts:
        out = out + a
    return out
