"""Borrowers: registration (online and at a branch), profiles, reviewed changes, bank cards.

The resident ID number is validated (GB 11643-1999: format, region, birth
date, checksum), stored encrypted, and kept unique per institution through
its blind index — uniqueness is checked without decrypting anything. Only a
masked form (birth date hidden) is stored in clear, for display and search.

A borrower's own edits to credit-relevant fields (customer type, occupation,
employer, income, assets, liabilities) do not take effect at once: they become
one pending change that staff approve or reject with a reason. Contact fields
apply at once. A newer pending change supersedes an older one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.consent import service as consent
from microcredit.consent.errors import SignedConsentRequired
from microcredit.errors import Conflict, DomainError, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.errors import PhoneAlreadyRegistered
from microcredit.identity.principal import Principal
from microcredit.lending.money import Money
from microcredit.notifications import service as notifications
from microcredit.parties import repository as repo
from microcredit.parties.errors import (
    ID_NUMBER_ERRORS,
    BankCardInvalid,
    BorrowerUnderage,
    ChangeNotPending,
    ChangeOutdated,
    IdNumberAlreadyRegistered,
    NothingToChange,
)
from microcredit.parties.models import BankAccount, Borrower, ProfileChange
from microcredit.parties.service import organisation
from microcredit.platform import paging
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.platform.crypto import BlindIndex, FieldCipher, mask_card, mask_id_number, mask_phone
from microcredit.platform.paging import PageRequest, PageResult, all_rows, order_by, paginate
from microcredit.platform.todo import Todo
from microcredit.platform.validators import (
    InvalidIdentifier,
    ResidentId,
    normalise_phone,
    validate_bank_card,
    validate_id_number,
)

ID_CONTEXT = "borrowers.id_number"
CARD_CONTEXT = "bank_accounts.card_number"
CREDIT_FIELDS = ("customer_type", "occupation", "employer", "monthly_income", "total_assets",
                 "total_liabilities")
CONTACT_FIELDS = ("email", "province", "city", "address")
MONEY_FIELDS = ("monthly_income", "total_assets", "total_liabilities")
FIELD_LABELS = {  # field: (zh, en), for messages and exports
    "customer_type": ("客户类型", "customer type"), "occupation": ("职业", "occupation"),
    "employer": ("工作单位", "employer"), "monthly_income": ("月收入", "monthly income"),
    "total_assets": ("总资产", "total assets"), "total_liabilities": ("总负债", "total liabilities"),
}
_LISTED = Borrower.__table__.c  # lists read the table's columns: plain rows, no ORM objects (repo.LISTED_COLUMNS)
BORROWER_SORTS = {"name": _LISTED.real_name, "created_at": _LISTED.created_at,
                  "customer_type": _LISTED.customer_type}
MIN_AGE = 18


def parse_id_number(value: str, *, on: Any, field: str = "id_number") -> ResidentId:
    """Validate an ID number; a failure names the part that is wrong."""
    try:
        return validate_id_number(value, on=on)
    except InvalidIdentifier as exc:
        raise ID_NUMBER_ERRORS[exc.code](field=field) from None


@dataclass(frozen=True)
class NewBorrower:
    """What registration needs to know about a person."""

    real_name: str
    id_number: str
    phone: str
    customer_type: str = "consumer"
    occupation: str | None = None
    employer: str | None = None
    email: str | None = None
    province: str | None = None
    city: str | None = None
    address: str | None = None
    monthly_income: Money | None = None
    total_assets: Money | None = None
    total_liabilities: Money | None = None


def create_profile(session: Session, kit: identity.IdentityKit, *, institution_id: int, data: NewBorrower,
                   user: identity.accounts.Account, channel: str, branch_id: int | None,
                   registered_by: int | None, resident: ResidentId,
                   branch_assignment: str | None = None) -> Borrower:
    """Write the profile of a validated person for an existing user (registration's last step).

    `branch_assignment` says how `branch_id` was chosen (see `assignment`); at a branch, "branch".
    """
    now = kit.clock.now()
    if branch_id is not None and branch_assignment is None:
        branch_assignment = "branch" if channel == "branch" else "staff"
    borrower = Borrower(
        user_id=user.id, institution_id=institution_id, branch_id=branch_id, branch_assignment=branch_assignment,
        real_name=data.real_name,
        id_number_ciphertext=kit.keys.cipher.encrypt(resident.number, context=ID_CONTEXT),
        id_number_index=kit.keys.blind_index(resident.number, domain="id_number"),
        id_number_masked=mask_id_number(resident.number, kit.policy.mask_id_number),
        phone_masked=mask_phone(data.phone), gender="male" if resident.male else "female",
        birth_year=resident.birth_date.year, customer_type=data.customer_type, occupation=data.occupation,
        employer=data.employer, email=data.email, province=data.province, city=data.city,
        address=data.address, monthly_income=data.monthly_income, total_assets=data.total_assets,
        total_liabilities=data.total_liabilities, channel=channel, registered_by_user_id=registered_by,
        created_at=now, updated_at=now,
    )
    session.add(borrower)
    session.flush()
    return borrower


def _check_identity(session: Session, kit: identity.IdentityKit, *, institution_id: int, id_number: str,
                    unique: bool = True) -> ResidentId:
    today = organisation.business_date(session=session, institution_id=institution_id)
    resident = parse_id_number(id_number, on=today)
    if resident.age_on(today) < MIN_AGE:
        raise BorrowerUnderage(field="id_number", params={"min_age": MIN_AGE})
    if unique:
        _ensure_id_free(session, kit, institution_id=institution_id, resident=resident)
    return resident


def _ensure_id_free(session: Session, kit: identity.IdentityKit, *, institution_id: int, resident: ResidentId,
                    refusal: type[IdNumberAlreadyRegistered] = IdNumberAlreadyRegistered) -> None:
    idx = kit.keys.blind_index(resident.number, domain="id_number")
    if repo.borrower_by_id_index(session, institution_id=institution_id, id_index=idx) is not None:
        raise refusal(field="id_number")


def register_online(*, session: Session, kit: identity.IdentityKit, institution_id: int, data: NewBorrower,
                    password: str, sms_code: str | None, oauth_ticket: str | None,
                    meta: RequestMeta, consents: Mapping[str, str | None] | None) -> Borrower | None:
    """Self-registration: SMS-verified phone, validated ID number, password, the three consents;
    the borrower, or None.

    `consents` names the version of each document the person accepted; the consents are
    recorded in the same transaction as the account.  None when the ID number is already a
    borrower's here: nothing is created (no consent recorded), the caller's answer is the same as
    a success (they hold only a code for their own phone, and must not learn whether someone is a
    customer), and the ID number's owner is told by SMS to the phone on file.
    """
    # Everything that can be checked without the code first, so a typo does not burn the code...
    resident = _check_identity(session, kit, institution_id=institution_id, id_number=data.id_number,
                               unique=False)
    identity.accounts.check_new_password(kit=kit, password=password,
                                         context=(data.phone, resident.number, resident.number[-6:]))
    documents = consent.check_acceptance(session=session, clock=kit.clock, institution_id=institution_id,
                                         accepted=consents)
    phone_idx = identity.accounts.phone_index(kit, data.phone)
    proven = None
    if oauth_ticket:
        proven = identity.oauth.proven_phone_index(session=session, kit=kit, ticket=oauth_ticket)
    if proven != phone_idx:
        identity.smscodes.verify_code(session=session, kit=kit, phone_index=phone_idx, purpose="register",
                                      code=sms_code or "")
    # ...and uniqueness only once the phone is proven. The phone's own account may be named (the
    # caller just proved they hold the phone); the ID number's holder may not.
    identity.accounts.ensure_phone_free(session=session, kit=kit, institution_id=institution_id,
                                        kind="borrower", phone=data.phone)
    holder = repo.borrower_by_id_index(session, institution_id=institution_id,
                                       id_index=kit.keys.blind_index(resident.number, domain="id_number"))
    if holder is not None:
        identity.accounts.notify_registration_attempt(session=session, kit=kit, user_id=holder.user_id,
                                                      language=meta.language)
        audit.record(session=session, clock=kit.clock, actor=Actor.anonymous(meta, institution_id),
                     action="borrower.registration_refused", entity_type="borrower", entity_id=holder.id,
                     after={"reason": "id_number_already_registered",
                            "phone": mask_phone(data.phone)})
        return None
    user = identity.accounts.create_user(
        session=session, kit=kit, institution_id=institution_id, kind="borrower", phone=data.phone,
        display_name=data.real_name, password=password, role_codes=("borrower",),
        context_words=(resident.number, resident.number[-6:]))
    branch_id, how = organisation.online_branch(session=session, institution_id=institution_id, resident=resident,
                                                stated_province=data.province)
    borrower = create_profile(session, kit, institution_id=institution_id, data=data, user=user, channel="online",
                              branch_id=branch_id, registered_by=None, resident=resident, branch_assignment=how)
    actor = Actor.anonymous(meta, institution_id).as_user(user.id, "borrower", institution_id)
    audit.record(session=session, clock=kit.clock, actor=actor, action="borrower.registered",
                 entity_type="borrower", entity_id=borrower.id,
                 after={"channel": "online", "id_number": borrower.id_number_masked,
                        "phone": borrower.phone_masked, "branch_id": borrower.branch_id,
                        "branch_assignment": borrower.branch_assignment})
    consent.record_acceptance(session=session, clock=kit.clock, actor=actor, institution_id=institution_id,
                              user_id=user.id, borrower_id=borrower.id, documents=documents, channel="online")
    if oauth_ticket:
        identity.oauth.link_new_user(session=session, kit=kit, ticket=oauth_ticket, user_id=user.id, meta=meta)
    return borrower


def _refuse_duplicate(principal: Principal, holder: Borrower | None, refusal: DomainError,
                      institution_id: int | None = None) -> None:
    """Raise `refusal` if `holder` exists (in the institution), naming them when the caller may see them."""
    if holder is None or (institution_id is not None and holder.institution_id != institution_id):
        return
    try:
        scope.ensure_visible(principal, institution_id=holder.institution_id, branch_id=holder.branch_id)
    except NotFound:
        raise refusal from None
    refusal.extra = {**refusal.extra,
                     "conflict_with": {"entity_type": "borrower", "id": holder.id, "name": holder.real_name}}
    raise refusal


def register_offline(*, session: Session, kit: identity.IdentityKit, principal: Principal, data: NewBorrower,
                     branch_id: int | None, consent_signed: bool) -> Borrower:
    """A loan officer registers a walk-in borrower at the branch (identity checked in person).

    The officer confirms that the borrower signed the three documents in effect
    (`consent_signed`); the consents are recorded with channel `walk_in`. The
    borrower gets an account without a password and signs in later with an
    SMS code; they are told so by SMS.
    """
    institution_id = principal.institution_id
    branch = branch_id if branch_id is not None else principal.branch_id
    organisation.branch_in_institution(session=session, institution_id=institution_id, branch_id=branch)
    if branch is not None:
        scope.ensure_visible(principal, institution_id=institution_id, branch_id=branch)
    if not consent_signed:
        raise SignedConsentRequired(field="consent_signed")
    documents = consent.required_documents(session=session, clock=kit.clock, institution_id=institution_id)
    resident = _check_identity(session, kit, institution_id=institution_id, id_number=data.id_number, unique=False)
    # At the branch a duplicate is no secret: the refusal links the borrower who has it, if the officer sees them.
    idx = kit.keys.blind_index(resident.number, domain="id_number")
    _refuse_duplicate(principal, repo.borrower_by_id_index(session, institution_id=institution_id, id_index=idx),
                      IdNumberAlreadyRegistered(field="id_number"))
    for user_id in identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=data.phone, kind="borrower"):
        _refuse_duplicate(principal, repo.borrower_by_user(session, user_id),
                          PhoneAlreadyRegistered(field="phone"), institution_id=institution_id)
    user = identity.accounts.create_user(session=session, kit=kit, institution_id=institution_id,
                                         kind="borrower", phone=data.phone, display_name=data.real_name,
                                         password=None, role_codes=("borrower",))
    borrower = create_profile(session, kit, institution_id=institution_id, data=data, user=user, channel="branch",
                              branch_id=branch, registered_by=principal.user_id, resident=resident)
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="borrower.registered",
                 entity_type="borrower", entity_id=borrower.id,
                 after={"channel": "branch", "branch_id": branch, "id_number": borrower.id_number_masked,
                        "phone": borrower.phone_masked})
    consent.record_acceptance(session=session, clock=kit.clock, actor=principal.actor, institution_id=institution_id,
                              user_id=user.id, borrower_id=borrower.id,
                              documents=documents, channel="walk_in", recorded_by_user_id=principal.user_id)
    return borrower


def _visible(principal: Principal, borrower: Borrower) -> None:
    scope.ensure_visible(principal, institution_id=borrower.institution_id, branch_id=borrower.branch_id,
                         owner_user_id=borrower.user_id)


def get_borrower(*, session: Session, principal: Principal, borrower_id: int, for_update: bool = False) -> Borrower:
    """A borrower the caller may see (row-locked for the transaction, `for_update`, to change it)."""
    borrower = repo.get_borrower(session, borrower_id, for_update=for_update)
    if borrower is None:
        raise NotFound()
    _visible(principal, borrower)
    return borrower


REVIEW_COLUMNS = ("id", "institution_id", "branch_id", "user_id", "real_name", "customer_type",
                  "id_number_ciphertext")
"""What an automated review reads of a borrower (`borrower_for_review`)."""


def borrower_for_review(*, session: Session, principal: Principal, borrower_id: int) -> Any:
    """The `REVIEW_COLUMNS` of a borrower the caller may see, as a row with those attributes (no ORM object):
    what a submission's automated review reads (`resident_id_of` takes it)."""
    borrower = repo.borrower_columns(session, borrower_id, REVIEW_COLUMNS)
    if borrower is None:
        raise NotFound()
    _visible(principal, borrower)
    return borrower


def own_profile(*, session: Session, principal: Principal) -> Borrower:
    """The caller's own borrower profile."""
    borrower = repo.borrower_by_user(session, principal.user_id)
    if borrower is None:
        raise NotFound()
    return borrower


def own_profile_id(*, session: Session, principal: Principal) -> int | None:
    """The id of the caller's own borrower profile (None: they have none)."""
    return repo.borrower_id_of_user(session, principal.user_id)


def identifier_in(term: str | None) -> tuple[str, str] | None:
    """("id_number", number) or ("phone", number) when a search term is a whole identifier.

    Spaces and hyphens are ignored and a +86 / 0086 prefix is dropped, the same
    way for the URL check and for the search itself.
    """
    compact = re.sub(r"[\s\-()]", "", term or "").upper()
    if len(compact) == 18 and compact[:17].isascii() and compact[:17].isdigit():
        return "id_number", compact
    phone = normalise_phone(compact)
    if len(phone) == 11 and phone.isascii() and phone.isdigit():
        return "phone", phone
    return None


def is_full_identifier(term: str | None) -> bool:
    """Whether a search term is a whole ID number or phone (which must not travel in URLs)."""
    return identifier_in(term) is not None


def search_borrowers(*, session: Session, kit: identity.IdentityKit, principal: Principal, page: PageRequest,
                     q: str | None = None, customer_type: str | None = None, channel: str | None = None,
                     branch_id: int | None = None, unassigned: bool = False, locked: bool = False,
                     export: bool = False) -> PageResult[Any] | list[Any]:
    """Borrowers in scope, searched by name, full ID number, ID tail, or phone (`locked`: locked out now),
    as rows of the columns a list shows (`repository.LISTED_COLUMNS`: masked, no ORM objects).

    A full ID number or phone is looked up by its blind index (exact match);
    a shorter run of characters matches the end of the masked ID number.
    """
    f = scope.filters(principal)
    params: dict[str, Any] = {}  # condition name: its bound value (None: a condition without one)
    if f.institution_id is not None:
        params["institution_id"] = f.institution_id
    if f.branch_id is None:  # staff without a branch see the borrowers no branch holds
        params["scope_no_branch"] = None
    elif f.branch_id is not False:
        params["scope_branch_id"] = f.branch_id
    term = (q or "").strip()
    identifier = identifier_in(term)
    compact = term.replace(" ", "").upper()
    user_ids: list[int] | None = None
    if identifier is not None and identifier[0] == "id_number":
        params["id_index"] = kit.keys.blind_index(identifier[1], domain="id_number")
    elif identifier is not None:
        user_ids = identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=identifier[1], kind="borrower")
    elif term and len(compact) <= 6 and (compact.isdigit() or (compact[:-1].isdigit() and compact.endswith("X"))):
        params["id_tail"] = f"%{compact}"
    elif term:
        params["name"] = f"%{term}%"
    if locked:
        locked_ids = set(identity.accounts.locked_user_ids(session=session, kit=kit,
                                                           institution_id=f.institution_id, kind="borrower"))
        user_ids = [u for u in (locked_ids if user_ids is None else user_ids) if u in locked_ids]
    if user_ids is not None:
        params["user_ids"] = tuple(user_ids)
    for name, value in (("customer_type", customer_type), ("channel", channel)):
        if value:
            params[name] = value
    if branch_id is not None:
        params["branch_filter"] = branch_id
    if unassigned:
        params["unassigned"] = None
    conditions = frozenset(params)
    listing = paging.listing(("parties.borrowers", conditions, page.sort), lambda: order_by(
        repo.listed_borrowers(conditions), page.sort, BORROWER_SORTS, [_LISTED.id.desc()]))
    values = {name: value for name, value in params.items() if value is not None}
    if export:
        return paging.all_listed(session, listing, values)
    return paging.page_of(session, listing, values, page, keep_count=Borrower)


def reveal(*, session: Session, kit: identity.IdentityKit, principal: Principal, borrower_id: int) -> dict[str, Any]:
    """The full ID number, phone and card numbers — audited as a sensitive view."""
    borrower = get_borrower(session=session, principal=principal, borrower_id=borrower_id)
    cards = repo.bank_accounts_of(session, borrower.id)
    result = {
        "id_number": kit.keys.cipher.decrypt(borrower.id_number_ciphertext, context=ID_CONTEXT),
        "phone": identity.accounts.phone(session=session, kit=kit, user_id=borrower.user_id),
        "bank_cards": [{"id": c.id, "card_number": kit.keys.cipher.decrypt(c.card_ciphertext, context=CARD_CONTEXT)}
                       for c in cards],
    }
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="borrower.sensitive_viewed",
                 entity_type="borrower", entity_id=borrower.id, institution_id=borrower.institution_id,
                 after={"fields": ["id_number", "phone", "bank_cards"]})
    return result


def resident_id_of(*, kit: identity.IdentityKit, borrower: Borrower) -> ResidentId:
    """The borrower's ID number and what it tells (decrypted: for use inside the system, never shown)."""
    return validate_id_number(kit.keys.cipher.decrypt(borrower.id_number_ciphertext, context=ID_CONTEXT))


def age_of(*, kit: identity.IdentityKit, borrower: Borrower, on: Any) -> int:
    """The borrower's age in completed years on `on` (decrypts the ID number)."""
    number = kit.keys.cipher.decrypt(borrower.id_number_ciphertext, context=ID_CONTEXT)
    return validate_id_number(number).age_on(on)


def _normalise(field: str, value: Any) -> Any:
    """A field's value as stored: financial amounts as CNY Money (from the API's Money, or the text a
    pending change kept), refused when negative or not an amount -- never rounded."""
    if field in MONEY_FIELDS and value is not None:
        try:
            amount = value if isinstance(value, Money) else Money.parse(value, "CNY")
        except (TypeError, ValueError):
            amount = None
        if amount is None or amount.currency != "CNY" or amount.is_negative:
            raise ValidationFailed([FieldProblem(field, "invalid_amount", "a non-negative amount in yuan, "
                                                 "at most 2 decimals", "请输入不小于0、最多两位小数的金额")])
        return amount
    return value


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _apply(borrower: Borrower, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    before, after = {}, {}
    for field, value in values.items():
        current = getattr(borrower, field)
        if current != value:
            before[field], after[field] = current, value
            setattr(borrower, field, value)
    return before, after


def update_own_profile(*, session: Session, kit: identity.IdentityKit, principal: Principal,
                       values: dict[str, Any]) -> tuple[Borrower, ProfileChange | None]:
    """A borrower edits their profile: contact fields apply now, credit fields wait for review."""
    borrower = own_profile(session=session, principal=principal)
    values = {k: _normalise(k, v) for k, v in values.items() if k in CREDIT_FIELDS + CONTACT_FIELDS}
    contact = {k: v for k, v in values.items() if k in CONTACT_FIELDS}
    credit_sent = {k: v for k, v in values.items() if k in CREDIT_FIELDS}
    before, after = _apply(borrower, contact)
    change = None
    previous = repo.pending_change_of(session, borrower.id)
    # The new request keeps the earlier pending fields it does not mention; a field sent back
    # to its current value is withdrawn from review.
    pending = {k: v["new"] for k, v in (previous.changes if previous else {}).items()}
    wanted = {k: v for k, v in pending.items() if k not in credit_sent}
    wanted.update({k: _as_text(v) for k, v in credit_sent.items()})
    wanted = {k: v for k, v in wanted.items() if _as_text(getattr(borrower, k)) != v}
    review_changed = wanted != pending
    if previous is not None and review_changed:
        previous.status = "superseded" if wanted else "withdrawn"
    if wanted and review_changed:
        # A field carried over keeps the value it was asked against, so that an approval still
        # sees a staff edit made since the first request (change_outdated).
        carried = {k: v["old"] for k, v in (previous.changes if previous else {}).items() if k not in credit_sent}
        change = ProfileChange(
            institution_id=borrower.institution_id, borrower_id=borrower.id, branch_id=borrower.branch_id,
            changes={k: {"old": carried.get(k, _as_text(getattr(borrower, k))), "new": v} for k, v in wanted.items()},
            status="pending", requested_by_user_id=principal.user_id, requested_at=kit.clock.now(),
        )
        session.add(change)
    if not after and not review_changed:
        raise NothingToChange()
    borrower.updated_at = kit.clock.now()
    session.flush()
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="borrower.profile_updated",
                 entity_type="borrower", entity_id=borrower.id, before=before or None,
                 after={**after, **({"pending_change": change.id} if change else {})})
    return borrower, change


def update_by_staff(*, session: Session, kit: identity.IdentityKit, principal: Principal, borrower_id: int,
                    values: dict[str, Any], branch_id: int | bool | None = False) -> Borrower:
    """Staff edit a borrower (applied at once, audited with before/after)."""
    borrower = get_borrower(session=session, principal=principal, borrower_id=borrower_id, for_update=True)
    values = {k: _normalise(k, v) for k, v in values.items()
              if k in CREDIT_FIELDS + CONTACT_FIELDS + ("real_name",)}
    before, after = _apply(borrower, values)
    if branch_id is not False and branch_id != borrower.branch_id:
        if principal.scope.rank < 2:
            raise PermissionDenied("moving a borrower between branches needs institution scope")
        organisation.branch_in_institution(session=session, institution_id=borrower.institution_id,
                                           branch_id=branch_id if isinstance(branch_id, int) else None)
        before["branch_id"], after["branch_id"] = borrower.branch_id, branch_id
        borrower.branch_id = branch_id if isinstance(branch_id, int) else None
        borrower.branch_assignment = "staff" if borrower.branch_id is not None else None
        pending = repo.pending_change_of(session, borrower.id)
        if pending is not None:  # the change waits in the new branch's queue
            pending.branch_id = borrower.branch_id
    if not after:
        raise NothingToChange()
    borrower.updated_at = kit.clock.now()
    session.flush()
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="borrower.updated",
                 entity_type="borrower", entity_id=borrower.id, institution_id=borrower.institution_id,
                 before=before, after=after)
    return borrower


def _changes(principal: Principal, status: str | None, sort: str | None) -> Any:
    f = scope.filters(principal)
    stmt = repo.changes_query(institution_id=f.institution_id, branch_id=f.branch_id, status=status)
    return order_by(stmt, sort, {"requested_at": ProfileChange.requested_at}, [ProfileChange.id.desc()])


def list_changes(*, session: Session, principal: Principal, page: PageRequest,
                 status: str | None = "pending") -> PageResult[ProfileChange]:
    """Profile changes in scope, newest first."""
    return paginate(session, _changes(principal, status, page.sort), page)


def export_changes(*, session: Session, principal: Principal, status: str | None = "pending",
                   sort: str | None = None) -> list[ProfileChange]:
    """Every profile change in scope with the status, for exports."""
    return all_rows(session, _changes(principal, status, sort))


def borrower_names(*, session: Session, borrower_ids: list[int]) -> dict[int, str]:
    """Real names by borrower id (for lists of changes)."""
    return repo.borrower_names(session, borrower_ids)


def birth_dates(*, session: Session, cipher: FieldCipher, borrower_ids: list[int]) -> dict[int, date]:
    """Each borrower's date of birth, read from the ID number (decrypted: for use inside the system, never
    shown)."""
    return {b.id: validate_id_number(cipher.decrypt(b.id_number_ciphertext, context=ID_CONTEXT)).birth_date
            for b in repo.borrowers_by_ids(session, sorted(set(borrower_ids)))}


def withdraw_own_change(*, session: Session, kit: identity.IdentityKit, principal: Principal,
                        change_id: int) -> ProfileChange:
    """A borrower takes back their pending change."""
    borrower = own_profile(session=session, principal=principal)
    change = repo.get_change(session, change_id)
    if change is None or change.borrower_id != borrower.id:
        raise NotFound()
    if change.status != "pending":
        raise ChangeNotPending()
    change.status = "withdrawn"
    session.flush()
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="profile_change.withdrawn",
                 entity_type="borrower", entity_id=borrower.id, after={"change_id": change.id})
    return change


def changes_of(*, session: Session, borrower_id: int) -> list[ProfileChange]:
    """A borrower's recent changes (caller checked visibility)."""
    return repo.changes_of(session, borrower_id)


def pending_change(*, session: Session, borrower_id: int) -> ProfileChange | None:
    """The change waiting for review, if any."""
    return repo.pending_change_of(session, borrower_id)


def review_change(*, session: Session, kit: identity.IdentityKit, principal: Principal, change_id: int, approve: bool,
                  reason: str | None) -> ProfileChange:
    """Approve (apply) or reject (with a reason) a pending change."""
    change = repo.get_change(session, change_id)
    if change is None:
        raise NotFound()
    scope.ensure_visible(principal, institution_id=change.institution_id, branch_id=change.branch_id)
    if change.status != "pending":
        raise ChangeNotPending()
    if not approve and not (reason and reason.strip()):
        raise ValidationFailed([FieldProblem("reason", "reason_required", "give a reason for the rejection",
                                             "驳回时请填写原因")])
    if change.requested_by_user_id == principal.user_id:
        raise PermissionDenied("you cannot review your own change")
    borrower = repo.get_borrower(session, change.borrower_id)
    assert borrower is not None
    if approve:
        moved = sorted(k for k, v in change.changes.items() if _as_text(getattr(borrower, k)) != v["old"])
        if moved:  # staff edited these fields since the request: approving would overwrite that
            raise ChangeOutdated(params={"fields_zh": "、".join(FIELD_LABELS[k][0] for k in moved),
                                         "fields_en": ", ".join(FIELD_LABELS[k][1] for k in moved)},
                                 extra={"fields": moved})
        values = {k: _normalise(k, v["new"]) for k, v in change.changes.items()}
        _apply(borrower, values)
        borrower.updated_at = kit.clock.now()
    change.status = "approved" if approve else "rejected"
    change.reviewed_by_user_id = principal.user_id
    change.reviewed_at = kit.clock.now()
    change.review_reason = reason
    session.flush()
    audit.record(session=session, clock=kit.clock, actor=principal.actor,
                 action="profile_change.approved" if approve else "profile_change.rejected",
                 entity_type="borrower", entity_id=borrower.id, institution_id=borrower.institution_id,
                 before={k: v["old"] for k, v in change.changes.items()},
                 after={**({k: v["new"] for k, v in change.changes.items()} if approve else {}),
                        "change_id": change.id, "reason": reason})
    return change


def add_bank_card(*, session: Session, kit: identity.IdentityKit, principal: Principal, borrower: Borrower,
                  bank_name: str, card_number: str, primary: bool) -> BankAccount:
    """Add a bank card (encrypted; unique per borrower by blind index)."""
    try:
        digits, luhn_ok = validate_bank_card(card_number)
    except InvalidIdentifier:
        raise BankCardInvalid(field="card_number") from None
    idx = kit.keys.blind_index(digits, domain="bank_card")
    if any(c.card_index == idx for c in repo.bank_accounts_of(session, borrower.id)):
        raise Conflict("this card is already on the profile", field="card_number")
    cards = repo.bank_accounts_of(session, borrower.id)
    if primary or not cards:
        for c in cards:
            c.is_primary = False
    account = BankAccount(borrower_id=borrower.id, bank_name=bank_name,
                          card_ciphertext=kit.keys.cipher.encrypt(digits, context=CARD_CONTEXT), card_index=idx,
                          card_masked=mask_card(digits, kit.policy.mask_card), luhn_valid=luhn_ok,
                          is_primary=primary or not cards, created_at=kit.clock.now())
    session.add(account)
    session.flush()
    audit.record(session=session, clock=kit.clock, actor=principal.actor, action="borrower.bank_card_added",
                 entity_type="borrower", entity_id=borrower.id, institution_id=borrower.institution_id,
                 after={"card": account.card_masked, "bank": bank_name, "luhn_valid": luhn_ok})
    return account


def bank_cards(*, session: Session, borrower_id: int) -> list[BankAccount]:
    """A borrower's cards."""
    return repo.bank_accounts_of(session, borrower_id)


def notify_offline_registration(*, session: Session, kit: identity.IdentityKit, borrower: Borrower, phone: str,
                                language: str) -> None:
    """Tell a walk-in borrower by SMS that they can sign in with an SMS code."""
    notifications.enqueue_sms(session=session, cipher=kit.keys.cipher, clock=kit.clock,
                              institution_id=borrower.institution_id, phone=phone, template="registered_at_branch",
                              params={"signature": kit.sender_name(session, borrower.institution_id, language),
                                                                       "name": borrower.real_name},
                              language=language)


def todos(*, session: Session, principal: Principal) -> list[Todo]:
    """Profile changes the caller may review; borrowers without a branch the caller may place."""
    f = scope.filters(principal)
    out = []
    if principal.can("borrower.review_change"):
        out.append(Todo("profile_changes_pending", repo.count_pending_changes(
            session, institution_id=f.institution_id, branch_id=f.branch_id)))
    if principal.can("borrower.update") and f.branch_id is False:  # moving borrowers needs institution scope
        out.append(Todo("borrowers_unassigned", repo.count_unassigned(session, f.institution_id)))
    return out


def id_number_index(blind_index: BlindIndex, id_number: str) -> str:
    """The blind index borrowers are found by for an ID number."""
    return blind_index(id_number.strip().upper(), domain="id_number")


def borrower_id_by_id_number_subquery() -> Any:
    """The id of the institution's borrower with an ID number (none: NULL), as a scalar subquery (built once) for
    another domain's query to filter by in the same statement: bound by `institution_id` and `id_index`
    (`id_number_index`)."""
    return repo.BORROWER_ID_BY_INDEX_SUBQUERY
