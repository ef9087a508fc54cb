"""Actions on a case, and the compliance gates that refuse what breaks a collection-conduct rule.

Every contact (SMS, call, visit) passes the gates before it is logged (docs/collections.md):

* **quiet hours** — none between 22:00 and 08:00 (configurable) in the debtor's time zone (recorded on
  the debtor, else the institution's) unless the debtor agreed (`night_contact_consent`);
* **calls** — at most 3 effective calls per debtor per day and 6 attempts per number per day
  (configurable; the debtor's local day): a call is refused once the limit is reached, since whether
  it will connect is not known before it is made; a guarantor's number is counted by its blind index,
  across every case that called it;
* **third parties** — collection is from the debtor; an active guarantor of the case's loan (an
  obligated party, named by their id: `servicing.service.guarantors`, whether added before the decision or
  while the loan runs) as the rules allow; a group
  member only when the rules allow it, the debtor was unreachable on the last call and a reason is
  given; no one else; and no one who refused is called again;
* **SMS** — the text (from a template) is checked against the prohibited phrases;
* **credit bureau** — a `bureau_report` is refused unless the borrower was told first (an earlier
  `negative_report_notice` on the case).

Time comes from the injected clock. A refusal changes nothing and names the field, code and rule.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.collections import repository as repo
from microcredit.collections.errors import (
    AttemptsPerNumberExceeded,
    BadTimeZone,
    CaseClosed,
    EffectiveCallsExceeded,
    NoticeRequired,
    ProhibitedPhrase,
    QuietHours,
    ThirdPartyNotAllowed,
    UnknownTemplate,
)
from microcredit.collections.models import CollectionAction, CollectionCase, CollectionDebtor
from microcredit.collections.schemas import ActionCreate
from microcredit.collections.service import cases, messages, settings
from microcredit.collections.service.messages import in_quiet_hours, time_zone_of
from microcredit.config import DocumentSettings
from microcredit.documents import service as documents
from microcredit.errors import FieldProblem, NotFound, ValidationFailed
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.origination.service.guarantors import Guarantor
from microcredit.parties import service as parties
from microcredit.platform.storage import Storage
from microcredit.servicing.service import guarantors as servicing_guarantors
from microcredit.servicing.service import loans

CONTACTS = ("sms", "call", "visit")
EFFECTIVE = ("reached", "refused")
PARTY_WORDS = {"guarantor": "担保人", "group_member": "联保小组成员", "other": "其他人"}


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _third_party(session: Session, case: CollectionCase, rules: settings.Rules, data: ActionCreate) -> None:
    party = data.contact_party
    if party == "borrower":
        return
    if data.kind == "sms":
        raise ThirdPartyNotAllowed(field="contact_party", party=party, party_zh=PARTY_WORDS[party],
                                   why="collection messages go only to the borrower",
                                   why_zh="催收短信只发给借款人本人")
    if party == "guarantor":
        if not rules.contact_guarantors:
            raise ThirdPartyNotAllowed(field="contact_party", party=party, party_zh=PARTY_WORDS[party],
                                       why="the institution's rules do not allow contacting guarantors",
                                       why_zh="本机构规则不允许联系担保人")
        if guarantor_of(session, case, data.contact_ref) is None:
            raise ThirdPartyNotAllowed(field="contact_ref", party=party, party_zh=PARTY_WORDS[party],
                                       why="not an active guarantor of this loan",
                                       why_zh="不是本笔贷款的有效担保人")
    elif party == "group_member":
        fellows = parties.groups.fellow_members(session=session, borrower_id=case.borrower_id)
        if not rules.contact_group_members:
            why = "the institution's rules do not allow contacting group members"
            why_zh = "本机构规则不允许联系联保小组成员"
        elif data.contact_ref is None or not data.contact_ref.isdigit() or int(data.contact_ref) not in fellows:
            why, why_zh = "not a member of the borrower's group", "不是借款人所在联保小组的成员"
        elif repo.unreached_since_reached(session, case_id=case.id) == 0:
            why, why_zh = "only when the borrower cannot be reached (log the unanswered call first)", \
                "仅在联系不上借款人时（须先登记未接通的电话）"
        elif not data.contact_reason:
            why, why_zh = "a reason must be logged", "须登记联系原因"
        else:
            why = why_zh = ""
        if why:
            raise ThirdPartyNotAllowed(field="contact_party" if why.startswith("the institution") else "contact_ref",
                                       party=party, party_zh=PARTY_WORDS[party], why=why, why_zh=why_zh)
    else:
        raise ThirdPartyNotAllowed(field="contact_party", party=party, party_zh=PARTY_WORDS[party],
                                   why="only the debtor, and guarantors or group members as the rules allow",
                                   why_zh="只能联系债务人本人，以及规则允许的担保人或联保小组成员")
    if repo.refused_by(session, case_id=case.id, contact_party=party, contact_ref=data.contact_ref):
        raise ThirdPartyNotAllowed(field="contact_ref", party=party, party_zh=PARTY_WORDS[party],
                                   why="this contact refused: they are not contacted again",
                                   why_zh="该联系人已拒绝，不得再次联系")


def guarantors_of_case(session: Session, case: CollectionCase) -> list[Guarantor]:
    """The active guarantors of the case's loan: those of its application and those added while it runs."""
    loan = loans.get(session=session, institution_id=case.institution_id, loan_id=case.loan_id)
    return servicing_guarantors.active_of_loan(session, loan)


def guarantor_of(session: Session, case: CollectionCase, ref: str | None) -> Guarantor | None:
    """The active guarantor of the case's loan that `ref` (a guarantor's id) names, if it names one."""
    if ref is None or not ref.isdigit():
        return None
    return next((g for g in guarantors_of_case(session, case) if g.id == int(ref)), None)


def _number_index(session: Session, case: CollectionCase, data: ActionCreate) -> str | None:
    """The blind index of the number a contact reaches, where it is kept per number (a guarantor's)."""
    if data.contact_party != "guarantor":
        return None
    guarantor = guarantor_of(session, case, data.contact_ref)
    return guarantor.phone_index if guarantor is not None else None


def _sms_text(session: Session, case: CollectionCase, rules: settings.Rules, data: ActionCreate,
              language: str) -> str:
    template = messages.template_of(rules, data.template)
    if template is None:
        raise UnknownTemplate(field="template")
    return messages.fill(session, case, template, language)


def check(*, session: Session, clock: Clock, case: CollectionCase, data: ActionCreate,
          rules: settings.Rules) -> tuple[date, str | None]:
    """Run the gates for an action on a case; the debtor's local day and the SMS text (for an SMS)."""
    if case.status == "closed":
        raise CaseClosed(field="case_id")
    debtor = repo.debtor(session, case.borrower_id)
    local = clock.now().astimezone(time_zone_of(session, debtor, case.institution_id))
    text = None
    if data.kind in CONTACTS:
        _third_party(session, case, rules, data)
        consent = debtor is not None and debtor.night_contact_consent
        if in_quiet_hours(local, rules) and not consent:
            raise QuietHours(field="kind", local_time=local.strftime("%H:%M"), time_zone=str(local.tzinfo),
                             quiet_from=_hhmm(rules.quiet_from_minute), quiet_until=_hhmm(rules.quiet_until_minute))
    if data.kind == "call":
        effective = repo.calls_on(session, borrower_id=case.borrower_id, local_date=local.date(), effective=True)
        if effective >= rules.max_effective_calls_per_day:
            raise EffectiveCallsExceeded(field="kind", count=effective, limit=rules.max_effective_calls_per_day)
        number = _number_index(session, case, data)
        if number is not None:  # a guarantor's number: every call to it that day, whichever case it was about
            attempts = repo.calls_to_number(session, institution_id=case.institution_id, number_index=number,
                                            local_date=local.date())
        else:
            attempts = repo.calls_on(session, borrower_id=case.borrower_id, local_date=local.date(),
                                     contact_party=data.contact_party, contact_ref=_ref(case, data))
        if attempts >= rules.max_attempts_per_number_per_day:
            raise AttemptsPerNumberExceeded(field="contact_ref", count=attempts,
                                            limit=rules.max_attempts_per_number_per_day)
    if data.kind == "sms":
        text = _sms_text(session, case, rules, data, data.language)
        phrase = settings.prohibited_in(text, rules.prohibited_phrases)
        if phrase is not None:
            raise ProhibitedPhrase(field="template", phrase=phrase)
    if data.kind == "bureau_report" and not repo.has_action(session, case_id=case.id, kind="negative_report_notice"):
        raise NoticeRequired(field="kind")
    return local.date(), text


def _ref(case: CollectionCase, data: ActionCreate) -> str | None:
    """Whom the action reached: the borrower's id for the borrower, else the id the collector named (a group
    member's borrower id, a guarantor's id)."""
    return str(case.borrower_id) if data.contact_party == "borrower" else data.contact_ref


def log(*, session: Session, clock: Clock, kit: identity.IdentityKit, principal: Principal, case_id: int,
        data: ActionCreate) -> CollectionAction:
    """Log an action on a case the caller may see, once the gates let it through (an SMS is queued)."""
    case = cases.visible(session=session, principal=principal, case_id=case_id, for_update=True)
    rules = settings.rules(session=session, institution_id=case.institution_id)
    local_day, text = check(session=session, clock=clock, case=case, data=data, rules=rules)
    business_date = parties.organisation.business_date(session=session, institution_id=case.institution_id)
    if data.kind == "promise":
        assert data.promise_date is not None
        assert data.promise_amount is not None
        if data.promise_date < business_date:
            raise ValidationFailed([FieldProblem("promise_date", "promise_date_past",
                                                 "the promised date cannot be before the business date",
                                                 "承诺还款日不能早于营业日")])
    for document_id in data.document_ids:  # photos taken on this case's visits (`add_photo`)
        doc = documents.get(session=session, document_id=document_id)
        if (doc.borrower_id, doc.type, doc.subject_kind, doc.subject_id) != (case.borrower_id, "visit_photo",
                                                                           "collection_case", case.id):
            raise NotFound(field="document_ids")
    action = CollectionAction(
        institution_id=case.institution_id, case_id=case.id, borrower_id=case.borrower_id, kind=data.kind,
        outcome=data.outcome if data.kind == "call" else None,
        effective=data.kind == "call" and data.outcome in EFFECTIVE,
        contact_party=data.contact_party if data.kind in CONTACTS else None,
        contact_ref=_ref(case, data) if data.kind in CONTACTS else None, contact_reason=data.contact_reason,
        number_index=_number_index(session, case, data) if data.kind in CONTACTS else None,
        template=data.template if data.kind == "sms" else None, text=text, notes=data.notes,
        document_ids=list(data.document_ids), local_date=local_day, at=clock.now(), user_id=principal.user_id)
    if data.kind == "promise":
        action.promise_date, action.promise_amount = data.promise_date, data.promise_amount
        action.promise_status, action.promise_made_on = "pending", business_date
        case.status = "promised"
    repo.add(session, action)
    case.updated_at = clock.now()
    if text is not None:
        messages.send(session=session, clock=clock, kit=kit, case=case, text=text, language=data.language)
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action=f"collection.{data.kind}",
                 entity_type="collection_case", entity_id=case.id, institution_id=case.institution_id,
                 after=_audited(action))
    return action


def _audited(action: CollectionAction) -> dict[str, Any]:
    return {"action_id": action.id, "kind": action.kind, "outcome": action.outcome,
            "contact_party": action.contact_party, "template": action.template,
            "promise_date": action.promise_date.isoformat() if action.promise_date else None,
            "promise_amount": str(action.promise_amount) if action.promise_amount else None,
            "documents": action.document_ids}


def set_debtor(*, session: Session, clock: Clock, principal: Principal, borrower_id: int, time_zone: str | None,
               night_contact_consent: bool) -> CollectionDebtor:
    """Record a debtor's time zone and consent to contact in the quiet hours (audited)."""
    borrower = parties.borrowers.get_borrower(session=session, principal=principal, borrower_id=borrower_id)
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadTimeZone(field="time_zone") from None
    row = repo.debtor(session, borrower.id)
    before = None if row is None else {"time_zone": row.time_zone, "night_contact_consent": row.night_contact_consent}
    if row is None:
        row = CollectionDebtor(borrower_id=borrower.id, institution_id=borrower.institution_id, updated_at=clock.now())
        repo.add(session, row)
    row.time_zone, row.night_contact_consent = time_zone, night_contact_consent
    row.updated_at, row.updated_by_user_id = clock.now(), principal.user_id
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="collection.debtor_updated",
                 entity_type="borrower", entity_id=borrower.id, institution_id=borrower.institution_id,
                 before=before, after={"time_zone": time_zone, "night_contact_consent": night_contact_consent})
    return row


def debtor(*, session: Session, borrower_id: int) -> CollectionDebtor | None:
    """A debtor's recorded contact preferences, if any."""
    return repo.debtor(session, borrower_id)



def add_photo(*, session: Session, clock: Clock, storage: Storage, policy: DocumentSettings, principal: Principal,
              case_id: int, data: bytes, filename: str | None, declared_type: str | None) -> documents.Document:
    """A photo taken on a field visit of a case the caller may see: stored as the borrower's document
    (`visit_photo`, tied to the case; checked and re-encoded like every upload, kept beside the others),
    to be named by the visit's action (`document_ids`)."""
    case = cases.visible(session=session, principal=principal, case_id=case_id)
    owner = documents.Owner(borrower_id=case.borrower_id, institution_id=case.institution_id,
                            branch_id=case.branch_id)
    return documents.upload(session=session, clock=clock, storage=storage, policy=policy, actor=principal.actor,
                            owner=owner, type_="visit_photo", data=data, filename=filename,
                            declared_type=declared_type, channel="app", subject_kind="collection_case",
                            subject_id=case.id)
