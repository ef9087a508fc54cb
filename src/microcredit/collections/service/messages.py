"""Collection SMS: the debtor's time zone and the quiet hours, a template's text filled for a case, and the
automatic message of a stage (`stage_message`), queued when a case enters a stage whose rule names a template.

The automatic message passes what the gates ask of an SMS (docs/collections.md): it goes only to the
borrower; its template was checked against the prohibited phrases when the rules were saved and is checked
again as filled; and it is never sent in the debtor's quiet hours without their consent: a case that enters
the stage then has its message queued for the end of the quiet hours (the outbox holds it until then), not
dropped. It is logged on the case like a collector's SMS (no user; `at` the time it is to go out).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.collections import repository as repo
from microcredit.collections.models import CollectionAction, CollectionCase, CollectionDebtor
from microcredit.collections.service import settings
from microcredit.identity import service as identity
from microcredit.lending.money import Money
from microcredit.notifications import service as notifications
from microcredit.parties import service as parties
from microcredit.platform.actor import Actor
from microcredit.servicing.service import loans

LANGUAGE = identity.accounts.SMS_LANGUAGE  # no borrower keeps a language yet: as reminders do


def time_zone_of(session: Session, debtor: CollectionDebtor | None, institution_id: int) -> ZoneInfo:
    """The debtor's time zone (recorded, else the institution's)."""
    name = debtor.time_zone if debtor is not None and debtor.time_zone else \
        parties.organisation.institution(session=session, institution_id=institution_id).timezone
    return ZoneInfo(name)


def in_quiet_hours(local: datetime, rules: settings.Rules) -> bool:
    """Whether a local time falls in the quiet hours [from, until) (across midnight when from > until)."""
    return settings.quiet_at(local.hour * 60 + local.minute, rules.quiet_from_minute, rules.quiet_until_minute)


def next_allowed(local: datetime, rules: settings.Rules) -> datetime:
    """`local` if it is outside the quiet hours, else the end of the quiet hours that follows it (local time)."""
    if not in_quiet_hours(local, rules):
        return local
    until = local.replace(hour=rules.quiet_until_minute // 60, minute=rules.quiet_until_minute % 60, second=0,
                          microsecond=0)
    if until <= local:
        until += timedelta(days=1)  # wall-clock arithmetic in the zone (zoneinfo)
    return until


def template_of(rules: settings.Rules, code: str | None) -> dict[str, str] | None:
    """The institution's template of that code, if any."""
    return next((t for t in rules.sms_templates if t["code"] == code), None)


def fill(session: Session, case: CollectionCase, template: dict[str, str], language: str) -> str:
    """The template's text for the case in `language`: the borrower's name, the loan's number, the days past
    due and the overdue amount filled in (a text whose placeholders do not fill is sent as written)."""
    loan = loans.get(session=session, institution_id=case.institution_id, loan_id=case.loan_id)
    name = parties.borrowers.borrower_names(session=session, borrower_ids=[case.borrower_id]).get(case.borrower_id, "")
    return text_of(template, language, name=name, number=loan.number, dpd=case.dpd, amount=case.overdue_total)


def text_of(template: dict[str, str], language: str, *, name: str, number: str, dpd: int, amount: Money) -> str:
    """`fill`'s text from the figures themselves."""
    text = template["en" if language == "en" else "zh"]
    try:
        return text.format(name=name, loan=number, dpd=dpd, amount=str(amount.amount))
    except (KeyError, IndexError, ValueError):
        return text


def stage_template(rules: settings.Rules, stage_code: str) -> dict[str, str] | None:
    """The template the stage's rule names for its automatic SMS, if any."""
    stage = next((s for s in rules.stages if s["code"] == stage_code), None)
    return template_of(rules, stage.get("sms_template") if stage is not None else None)


def action_row(*, institution_id: int, case_id: int, borrower_id: int, template: str, text: str,
               when: datetime) -> dict[str, Any]:
    """The column values of a stage's automatic SMS as logged on the case (`when`: local time it goes out)."""
    return {"institution_id": institution_id, "case_id": case_id, "borrower_id": borrower_id, "kind": "sms",
            "outcome": None, "effective": False, "contact_party": "borrower", "contact_ref": str(borrower_id),
            "contact_reason": None, "number_index": None, "template": template, "text": text, "notes": None,
            "document_ids": [], "promise_date": None, "promise_amount": None, "promise_status": None,
            "promise_made_on": None, "local_date": when.date(), "at": when.astimezone(UTC), "user_id": None}


def sms_audit(*, institution_id: int, case_id: int, action_id: int, template: str, stage: str,
              when: datetime) -> audit.Entry:
    """The audit record of a stage's automatic SMS."""
    return audit.Entry(action="collection.sms", entity_type="collection_case", entity_id=case_id,
                       institution_id=institution_id,
                       after={"action_id": action_id, "kind": "sms", "template": template, "stage": stage,
                              "contact_party": "borrower", "automatic": True, "at": when.isoformat()})


def send(*, session: Session, clock: Clock, kit: identity.IdentityKit, case: CollectionCase, text: str,
         language: str, not_before: datetime | None = None) -> None:
    """Queue the text to the borrower's phone through the outbox (not before `not_before`, if given)."""
    loan = loans.get(session=session, institution_id=case.institution_id, loan_id=case.loan_id)
    phone = identity.accounts.phone(session=session, kit=kit, user_id=loan.borrower_user_id)
    signature = parties.organisation.display_name(session=session, institution_id=case.institution_id,
                                                  language=language)
    notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=clock, institution_id=case.institution_id,
                              phone=phone, template="collection_message", params={"signature": signature, "text": text},
                              language=language, not_before=not_before)


def stage_message(*, session: Session, clock: Clock, kit: identity.IdentityKit, case: CollectionCase,
                  rules: settings.Rules) -> CollectionAction | None:
    """The automatic SMS of the stage the case has just entered, if the stage names a template: queued to the
    borrower for now, or for the end of the quiet hours when it is now quiet for the debtor without their
    consent, and logged on the case. None when the stage names none, or its text as filled uses a prohibited
    phrase (then nothing is sent)."""
    template = stage_template(rules, case.stage)
    if template is None:
        return None
    text = fill(session, case, template, LANGUAGE)
    if settings.prohibited_in(text, rules.prohibited_phrases) is not None:
        return None
    debtor = repo.debtor(session, case.borrower_id)
    local = clock.now().astimezone(time_zone_of(session, debtor, case.institution_id))
    when = local if debtor is not None and debtor.night_contact_consent else next_allowed(local, rules)
    action = CollectionAction(**action_row(institution_id=case.institution_id, case_id=case.id,
                                           borrower_id=case.borrower_id, template=template["code"], text=text,
                                           when=when))
    repo.add(session, action)
    send(session=session, clock=clock, kit=kit, case=case, text=text, language=LANGUAGE,
         not_before=when.astimezone(UTC) if when != local else None)
    session.flush()
    audit.record_many(session=session, clock=clock, actor=Actor.system(case.institution_id), entries=[sms_audit(
        institution_id=case.institution_id, case_id=case.id, action_id=action.id, template=template["code"],
        stage=case.stage, when=when)])
    return action
