"""Loan products and their versions: drafts, publication, retirement, and what is on offer.

A product (code unique per institution) has numbered versions. A version is a
`draft` that administrators edit until it is published; publication runs the
cap check (`service.caps`) on the institution's business date (or the
version's first active day, if later — the earliest day a contract can be made
under it) and

- refuses it above the hard cap (`apr_above_cap`, naming the rate field);
- above the LPR multiple, refuses it (`apr_needs_approval`) until a *second*
  administrator — not the one who last edited the draft — has approved the
  rate with a reason (`approve_rate`; recorded on the version and audited);
  an edit of the draft clears that approval;
- otherwise publishes it: the version becomes immutable, the product's
  previously published version is `superseded`, and the check is recorded.

A published version is what borrowers are offered (while its active dates
hold) and what a loan made under it keeps (`ProductVersion.id`); `retire`
withdraws it from offer. Nothing here deletes a version. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.errors import NotFound
from microcredit.ledger import service as ledger
from microcredit.lending.money import Money
from microcredit.platform.actor import Actor
from microcredit.platform.refcache import cached
from microcredit.products import repository as repo
from microcredit.products.errors import (
    AprAboveCap,
    AprNeedsApproval,
    DraftExists,
    OutsideProductRange,
    ProductCodeTaken,
    RateApprovalNotNeeded,
    SelfApproval,
    VersionNotDraft,
    VersionNotPublished,
)
from microcredit.products.models import Product, ProductVersion
from microcredit.products.product_schemas import ProductQuoteRead, ProductQuoteRequest, ProductTerms
from microcredit.products.service import caps
from microcredit.products.service.quotes import CalendarProvider, quote

__all__ = [
    "ProductView",
    "accounts_in_use",
    "approve_rate",
    "check_on",
    "create_product",
    "get_product",
    "list_products",
    "new_version",
    "offer",
    "offers",
    "publish",
    "quote_product",
    "retire",
    "terms_of",
    "update_draft",
    "version_by_id",
]


@dataclass(frozen=True)
class ProductView:
    """A product and its versions, oldest first."""

    product: Product
    versions: list[ProductVersion]


def terms_of(version: ProductVersion) -> ProductTerms:
    """A version's terms, read back through the schema that validated them."""
    return ProductTerms.model_validate(version.terms)


def _stored(terms: ProductTerms) -> dict[str, Any]:
    return terms.model_dump(mode="json")


def _summary(version: ProductVersion) -> dict[str, Any]:
    return {"number": version.number, "status": version.status, "terms": version.terms}


def check_on(*, business_date: date, terms: ProductTerms) -> date:
    """The day a version's rates are checked on: the business date, or its first active day if later."""
    return max(business_date, terms.active_from)


def _product(session: Session, institution_id: int, code: str) -> Product:
    product = repo.product_by_code(session, institution_id=institution_id, code=code)
    if product is None:
        raise NotFound(field="product_code")
    return product


def _version(session: Session, product: Product, number: int) -> ProductVersion:
    version = repo.version(session, product_id=product.id, number=number)
    if version is None:
        raise NotFound(field="version_number")
    return version


def _draft(session: Session, product: Product, number: int) -> ProductVersion:
    version = _version(session, product, number)
    if version.status != "draft":
        raise VersionNotDraft(version.number, version.status)
    return version


def _check_accounts(session: Session, institution_id: int, terms: ProductTerms, *, publishing: bool = False) -> None:
    """The product's own accounts must be ones its loans can post to (an active, non-header account of
    the role's type in the product's currency), when the version is saved and again when it is published
    (an account may have been closed in between). Publishing holds the chart to the commit, so an account
    being closed at the same moment is either seen closed here or sees this version's mapping."""
    if terms.accounts:
        codes = {str(role): code for role, code in terms.accounts.items()}
        ledger.accounts.check_role_codes(session=session, institution_id=institution_id, codes=codes,
                                         currency=terms.currency, field="terms.accounts", hold=publishing)


def accounts_in_use(session: Session, institution_id: int) -> dict[str, ledger.accounts.AccountUser]:
    """The accounts the institution's published versions map (code -> the first version by product code):
    the ledger refuses to close them (`ledger.accounts.AccountUsers`). A draft maps nothing yet (its
    accounts are checked again when it is published); a superseded or retired version takes no new loans."""
    users: dict[str, ledger.accounts.AccountUser] = {}
    for code, version in repo.all_published(session, institution_id=institution_id):
        for role, account in sorted((version.terms.get("accounts") or {}).items()):
            users.setdefault(str(account), ledger.accounts.AccountUser(product=code, version=version.number,
                                                                       role=str(role)))
    return users


def _new_version(session: Session, clock: Clock, actor: Actor, product: Product, number: int,
                 terms: ProductTerms) -> ProductVersion:
    _check_accounts(session, product.institution_id, terms)
    now = clock.now()
    version = ProductVersion(product_id=product.id, institution_id=product.institution_id, number=number,
                             status="draft", name_zh=terms.name_zh, name_en=terms.name_en,
                             active_from=terms.active_from, active_to=terms.active_to, terms=_stored(terms),
                             created_at=now, created_by_user_id=actor.user_id, updated_at=now,
                             updated_by_user_id=actor.user_id)
    repo.add(session, version)
    return version


def create_product(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str,
                   terms: ProductTerms) -> ProductView:
    """A new product with its first version as a draft (audited)."""
    if repo.product_by_code(session, institution_id=institution_id, code=code) is not None:
        raise ProductCodeTaken(code)
    product = Product(institution_id=institution_id, code=code, created_at=clock.now(),
                      created_by_user_id=actor.user_id)
    try:
        with session.begin_nested():
            repo.add(session, product)
    except IntegrityError:
        raise ProductCodeTaken(code) from None
    version = _new_version(session, clock, actor, product, 1, terms)
    audit.record(session=session, clock=clock, actor=actor, action="product.created", entity_type="product",
                 entity_id=product.id, institution_id=institution_id,
                 after={"code": code, **_summary(version)})
    return ProductView(product, [version])


def list_products(*, session: Session, institution_id: int) -> list[ProductView]:
    """The institution's products with their versions, by code."""
    products = repo.products_of(session, institution_id=institution_id)
    versions = repo.versions_of_products(session, product_ids=[p.id for p in products])
    by_product: dict[int, list[ProductVersion]] = {}
    for v in versions:
        by_product.setdefault(v.product_id, []).append(v)
    return [ProductView(p, by_product.get(p.id, [])) for p in products]


def get_product(*, session: Session, institution_id: int, code: str) -> ProductView:
    """One of the institution's products with its versions."""
    product = _product(session, institution_id, code)
    return ProductView(product, repo.versions_of(session, product_id=product.id))


def new_version(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str,
                terms: ProductTerms) -> ProductVersion:
    """The product's next version, as a draft (one draft at a time; audited)."""
    product = _product(session, institution_id, code)
    versions = repo.versions_of(session, product_id=product.id)
    drafts = [v for v in versions if v.status == "draft"]
    if drafts:
        raise DraftExists(drafts[0].number)
    number = repo.last_version_number(session, product_id=product.id) + 1
    try:
        with session.begin_nested():  # a racing second draft takes the same number: one wins
            version = _new_version(session, clock, actor, product, number, terms)
    except IntegrityError:
        raise DraftExists(number) from None
    audit.record(session=session, clock=clock, actor=actor, action="product_version.created",
                 entity_type="product_version", entity_id=version.id, institution_id=institution_id,
                 after={"code": code, **_summary(version)})
    return version


def update_draft(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str, number: int,
                 terms: ProductTerms) -> ProductVersion:
    """Replace a draft's terms (a published version never changes); clears a rate approval (audited)."""
    product = _product(session, institution_id, code)
    version = _draft(session, product, number)
    _check_accounts(session, institution_id, terms)
    before = _summary(version)
    version.terms = _stored(terms)
    version.name_zh, version.name_en = terms.name_zh, terms.name_en
    version.active_from, version.active_to = terms.active_from, terms.active_to
    version.updated_at, version.updated_by_user_id = clock.now(), actor.user_id
    version.rate_approved_by_user_id = version.rate_approval_reason = version.rate_approved_at = None
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="product_version.updated",
                 entity_type="product_version", entity_id=version.id, institution_id=institution_id,
                 before=before, after=_summary(version))
    return version


def _refuse_above_cap(check: caps.CapCheck) -> None:
    worst = check.worst
    if check.status == "above_cap" and worst is not None:
        raise AprAboveCap(apr=f"{worst.apr_percent:f}", cap=caps.describe(check)["hard_cap_percent"],
                          field=check.rate_field)


def publish(*, session: Session, clock: Clock, actor: Actor, institution_id: int, institution_kind: str,
            business_date: date, code: str, number: int, calendars: CalendarProvider) -> ProductVersion:
    """Publish a draft after the cap check; the previously published version is superseded (audited)."""
    product = _product(session, institution_id, code)
    version = _draft(session, product, number)
    terms = terms_of(version)
    _check_accounts(session, institution_id, terms, publishing=True)
    check = caps.check_terms(session=session, terms=terms, on=check_on(business_date=business_date, terms=terms),
                             institution_kind=institution_kind, calendars=calendars)
    _refuse_above_cap(check)
    worst = check.worst
    if check.status == "needs_approval" and version.rate_approved_by_user_id is None and worst is not None:
        limit = check.lpr_limit_percent
        raise AprNeedsApproval(apr=f"{worst.apr_percent:f}", limit=None if limit is None else f"{limit.normalize():f}",
                               field=check.rate_field)
    now = clock.now()
    for other in repo.versions_of(session, product_id=product.id):
        if other.status == "published":
            other.status = "superseded"
            audit.record(session=session, clock=clock, actor=actor, action="product_version.superseded",
                         entity_type="product_version", entity_id=other.id, institution_id=institution_id,
                         after={"code": code, "number": other.number, "by": number})
    version.status, version.published_at, version.published_by_user_id = "published", now, actor.user_id
    version.cap_check = _jsonable(caps.describe(check))
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="product_version.published",
                 entity_type="product_version", entity_id=version.id, institution_id=institution_id,
                 after={"code": code, "number": number, "cap_check": version.cap_check})
    return version


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | Money | Decimal):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def approve_rate(*, session: Session, clock: Clock, actor: Actor, institution_id: int, institution_kind: str,
                 business_date: date, code: str, number: int, reason: str,
                 calendars: CalendarProvider) -> ProductVersion:
    """A second administrator approves a draft's rate above the LPR multiple, with a reason (audited)."""
    product = _product(session, institution_id, code)
    version = _draft(session, product, number)
    if actor.user_id is not None and actor.user_id == version.updated_by_user_id:
        raise SelfApproval()
    terms = terms_of(version)
    check = caps.check_terms(session=session, terms=terms, on=check_on(business_date=business_date, terms=terms),
                             institution_kind=institution_kind, calendars=calendars)
    _refuse_above_cap(check)
    if check.status != "needs_approval":
        raise RateApprovalNotNeeded()
    now = clock.now()
    version.rate_approved_by_user_id, version.rate_approval_reason, version.rate_approved_at = \
        actor.user_id, reason, now
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="product_version.rate_approved",
                 entity_type="product_version", entity_id=version.id, institution_id=institution_id,
                 after={"code": code, "number": number, "reason": reason,
                        "check": _jsonable(caps.describe(check))})
    return version


def retire(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str,
           number: int) -> ProductVersion:
    """Withdraw the published version from offer (loans made under it keep it; audited)."""
    product = _product(session, institution_id, code)
    version = _version(session, product, number)
    if version.status != "published":
        raise VersionNotPublished()
    version.status, version.retired_at, version.retired_by_user_id = "retired", clock.now(), actor.user_id
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="product_version.retired",
                 entity_type="product_version", entity_id=version.id, institution_id=institution_id,
                 after={"code": code, "number": number})
    return version


# --- what borrowers are offered ------------------------------------------------------------------

def offers(*, session: Session, institution_id: int, on: date) -> list[tuple[Product, ProductVersion]]:
    """The institution's published versions active on `on`, by product code."""
    return repo.published_versions(session, institution_id=institution_id, on=on)


def offer(*, session: Session, institution_id: int, code: str, on: date) -> tuple[Product, ProductVersion]:
    """The product's version on offer on `on` (not found: no such product, or nothing on offer)."""
    for product, version in offers(session=session, institution_id=institution_id, on=on):
        if product.code == code:
            return product, version
    raise NotFound(field="product_code")


def _version_key(version: ProductVersion) -> int:
    return version.id


def terms_by_version_id(*, session: Session, version_id: int) -> ProductTerms:
    """A version's terms by the version's id, validated once and kept as reference data (the database's
    reference caches, `platform.refcache`: a change to the version's row is seen by the next reader in
    this process). Readers must not change the object they get."""
    return cached(session, "products.terms", version_id,
                  lambda: terms_of(version_by_id(session=session, version_id=version_id)),
                  model=ProductVersion, key_of=_version_key)


def version_by_id(*, session: Session, version_id: int) -> ProductVersion:
    """A product version by id (what an application or a loan keeps)."""
    version = repo.get_version(session, version_id)
    if version is None:
        raise NotFound(field="product_version_id")
    return version


def _within(terms: ProductTerms, request: ProductQuoteRequest) -> None:
    if not terms.amount_min <= request.amount <= terms.amount_max:
        raise OutsideProductRange(field="amount", allowed=f"{terms.amount_min} – {terms.amount_max}")
    if not terms.term_min <= request.term <= terms.term_max:
        raise OutsideProductRange(field="term", allowed=f"{terms.term_min} – {terms.term_max}")
    if request.repayment_method not in terms.repayment_methods:
        raise OutsideProductRange(field="repayment_method", allowed=", ".join(terms.repayment_methods))


def quote_product(*, session: Session, institution_id: int, institution_kind: str, business_date: date, code: str,
                  request: ProductQuoteRequest, calendars: CalendarProvider,
                  language: str = "en") -> ProductQuoteRead:
    """The schedule, total cost and APR of a loan within a product on offer; refused above the hard cap."""
    start = request.start_date or business_date
    product, version = offer(session=session, institution_id=institution_id, code=code, on=business_date)
    terms = terms_of(version)
    _within(terms, request)
    rate = terms.rate.rate_for(request.risk_grade)
    described = caps.description_of(terms, amount=request.amount, term=request.term,
                                    method=request.repayment_method, annual_rate=rate, start=start)
    priced = quote(description=described, calendars=calendars, language=language)
    limits = caps.caps_in_force(session=session, institution_kind=institution_kind, on=start)
    caps.ensure_within_cap(priced, caps=limits, field="amount")
    return ProductQuoteRead(**priced.model_dump(), product_code=product.code, product_version=version.number,
                            annual_rate_percent=f"{rate.normalize():f}")
