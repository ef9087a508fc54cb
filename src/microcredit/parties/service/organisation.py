"""Institutions, branches and the business date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.consent import service as consent
from microcredit.errors import NotFound, PermissionDenied
from microcredit.identity import scope
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.ledger import service as ledger
from microcredit.parties import repository as repo
from microcredit.parties.errors import BusinessDateLocked, CodeTaken, NothingToChange
from microcredit.parties.models import Branch, Institution
from microcredit.parties.service import assignment
from microcredit.platform.actor import Actor
from microcredit.platform.paging import PageRequest, PageResult, all_rows, order_by, paginate
from microcredit.platform.refcache import ReferenceCache, cached
from microcredit.platform.validators import ResidentId

INSTITUTION_SORTS = {"code": Institution.code, "name": Institution.name, "created_at": Institution.created_at}
BRANCH_SORTS = {"code": Branch.code, "name": Branch.name, "created_at": Branch.created_at}


def _changes(obj: Any, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    before, after = {}, {}
    for key, value in values.items():
        if value is not None and getattr(obj, key) != value:
            before[key], after[key] = getattr(obj, key), value
            setattr(obj, key, value)
    return before, after


# --- institutions -----------------------------------------------------------

def create_institution(*, session: Session, clock: Clock, actor: Actor, code: str, name: str,
                       business_date: date, name_en: str | None = None, kind: str = "small_loan_company",
                       timezone: str = "Asia/Shanghai", contact_phone: str | None = None,
                       address: str | None = None, platform: bool = False) -> Institution:
    """A new institution with the default roles, the default consent documents and the default chart of accounts."""
    if repo.institution_by_code(session, code) is not None:
        raise CodeTaken(field="code")
    inst = Institution(code=code, name=name, name_en=name_en, kind=kind, timezone=timezone, currency="CNY",
                       business_date=business_date, contact_phone=contact_phone, address=address,
                       status="active", created_at=clock.now())
    session.add(inst)
    session.flush()
    identity.roles.seed_default_roles(session=session, institution_id=inst.id, platform=platform)
    consent.seed_defaults(session=session, clock=clock, institution_id=inst.id)
    ledger.accounts.seed_chart(session=session, clock=clock, institution_id=inst.id, currency=inst.currency)
    audit.record(session=session, clock=clock, actor=actor, action="institution.created",
                 entity_type="institution", entity_id=inst.id, institution_id=inst.id,
                 after={"code": code, "name": name, "business_date": business_date})
    return inst


def get_institution(*, session: Session, principal: Principal, institution_id: int) -> Institution:
    """An institution the caller may see."""
    inst = repo.get_institution(session, institution_id)
    if inst is None:
        raise NotFound()
    scope.ensure_institution_visible(principal, inst.id)
    return inst


def institution_by_code(*, session: Session, code: str) -> Institution:
    """An active institution by code (public: sign-in and registration name one)."""
    inst = repo.institution_by_code(session, code)
    if inst is None or inst.status != "active":
        raise NotFound(field="institution")
    return inst


def institution(*, session: Session, institution_id: int) -> Institution:
    """An institution by id (for internal use after scoping)."""
    inst = repo.get_institution(session, institution_id)
    if inst is None:
        raise NotFound()
    return inst


@dataclass(frozen=True, slots=True)
class InstitutionInfo:
    """An institution as pages show it: a snapshot, safe to keep between requests."""

    id: int
    code: str
    name: str
    name_en: str | None
    timezone: str
    business_date: date
    status: str


def institution_cache(*, clock: Clock, seconds: float) -> ReferenceCache[InstitutionInfo]:
    """The process's institutions as pages show them (platform.refcache: kept `seconds`, forgotten on change)."""
    return ReferenceCache(clock=clock, seconds=seconds, model=Institution, key_of=lambda inst: inst.id)


def info_of(inst: Institution) -> InstitutionInfo:
    """The snapshot of an institution row."""
    return InstitutionInfo(id=inst.id, code=inst.code, name=inst.name, name_en=inst.name_en,
                           timezone=inst.timezone, business_date=inst.business_date, status=inst.status)


def institution_info(*, session: Session, cache: ReferenceCache[InstitutionInfo] | None,
                     institution_id: int) -> InstitutionInfo:
    """An institution as pages show it, from the process's cache when fresh (another process's change shows
    within its bound: never for postings, which read the row). `cache` None: the database's reference
    caches (`platform.refcache.cached`), when the runtime attached them."""

    def load() -> InstitutionInfo:
        return info_of(institution(session=session, institution_id=institution_id))

    if cache is None:
        return cached(session, "parties.institution", institution_id, load, model=Institution,
                      key_of=_institution_key)
    return cache.get(institution_id, load)


def _institution_key(inst: Institution) -> int:
    return inst.id


def _branch_key(branch: Branch) -> int:
    return branch.id


def branch_region(*, session: Session, branch_id: int) -> str | None:
    """A branch's region code (reference data: the database's reference caches when attached)."""
    return cached(session, "parties.branch_region", branch_id,
                  lambda: branch(session=session, branch_id=branch_id).region_code, model=Branch, key_of=_branch_key)


def active_institutions(*, session: Session) -> list[InstitutionInfo]:
    """Every active institution (for system work such as the scheduled close of business), by id."""
    rows = session.scalars(repo.institutions_query().where(Institution.status == "active").order_by(Institution.id))
    return [InstitutionInfo(id=i.id, code=i.code, name=i.name, name_en=i.name_en, timezone=i.timezone,
                            business_date=i.business_date, status=i.status) for i in rows]


def display_name(*, session: Session, institution_id: int, language: str) -> str:
    """The institution's name in `language` ("en": its English name, when it has one; reference data:
    from the database's reference caches when attached)."""
    inst = institution_info(session=session, cache=None, institution_id=institution_id)
    if language == "en" and inst.name_en:
        return inst.name_en
    return inst.name


def _institutions(principal: Principal, sort: str | None) -> Any:
    f = scope.filters(principal)
    stmt = repo.institutions_query()
    if f.institution_id is not None:
        stmt = stmt.where(Institution.id == f.institution_id)
    return order_by(stmt, sort, INSTITUTION_SORTS, [Institution.id])


def list_institutions(*, session: Session, principal: Principal, page: PageRequest) -> PageResult[Institution]:
    """Institutions in the caller's scope."""
    return paginate(session, _institutions(principal, page.sort), page)


def export_institutions(*, session: Session, principal: Principal, sort: str | None = None) -> list[Institution]:
    """Every institution in the caller's scope, for exports."""
    return all_rows(session, _institutions(principal, sort))


def update_institution(*, session: Session, clock: Clock, principal: Principal, institution_id: int,
                       **values: Any) -> Institution:
    """Change an institution's name, contact, address, status, default branch or online-branch rule."""
    inst = get_institution(session=session, principal=principal, institution_id=institution_id)
    return update_institution_as(session=session, clock=clock, actor=principal.actor, institution_id=inst.id,
                                 **values)


def update_institution_as(*, session: Session, clock: Clock, actor: Actor, institution_id: int,
                          **values: Any) -> Institution:
    """Change an institution as `actor` (after the caller's scope was checked); audited."""
    inst = institution(session=session, institution_id=institution_id)
    if values.get("default_branch_id") is not None:
        branch_in_institution(session=session, institution_id=inst.id, branch_id=values["default_branch_id"],
                              field="default_branch_id")
    before, after = _changes(inst, values)
    if not after:
        raise NothingToChange()
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="institution.updated",
                 entity_type="institution", entity_id=inst.id, institution_id=inst.id,
                 before=before, after=after)
    return inst


def business_date(*, session: Session, institution_id: int) -> date:
    """The date close of business has reached for the institution."""
    return institution(session=session, institution_id=institution_id).business_date


def business_date_subquery(bound_by: str) -> Any:
    """The business date of the institution whose id is bound as `bound_by` (a name the other statement does not
    use otherwise), as a scalar subquery (built once) for another domain's statement: the date in force read in
    that statement, not in one of its own."""
    return repo.business_date_subquery(bound_by)


def set_business_date(*, session: Session, clock: Clock, principal: Principal, institution_id: int,
                      new_date: date, override_allowed: bool) -> Institution:
    """Move the business date by hand (an administrator): demo and test installations only."""
    get_institution(session=session, principal=principal, institution_id=institution_id)
    return set_business_date_as(session=session, clock=clock, actor=principal.actor, institution_id=institution_id,
                                new_date=new_date, override_allowed=override_allowed)


def set_business_date_as(*, session: Session, clock: Clock, actor: Actor, institution_id: int,
                         new_date: date, override_allowed: bool) -> Institution:
    """Move the business date by hand as `actor` (demo and test only; COB moves it in production).

    `override_allowed` is the installation's setting (`Settings.allows_business_date_override`).
    """
    if not override_allowed:
        raise BusinessDateLocked()
    inst = institution(session=session, institution_id=institution_id)
    before = inst.business_date
    inst.business_date = new_date
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="business_date.set",
                 entity_type="institution", entity_id=inst.id, institution_id=inst.id,
                 before={"business_date": before}, after={"business_date": new_date})
    return inst


def close_business_date(*, session: Session, clock: Clock, actor: Actor, institution_id: int,
                        new_date: date) -> Institution:
    """Move the business date forward to `new_date` (the close of business; never backwards)."""
    inst = institution(session=session, institution_id=institution_id)
    before = inst.business_date
    if new_date <= before:
        return inst
    inst.business_date = new_date
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="business_date.closed",
                 entity_type="institution", entity_id=inst.id, institution_id=inst.id,
                 before={"business_date": before}, after={"business_date": new_date})
    return inst


# --- branches ---------------------------------------------------------------

def create_branch(*, session: Session, clock: Clock, principal: Principal, institution_id: int | None,
                  code: str, name: str, name_en: str | None = None, region_code: str | None = None,
                  address: str | None = None) -> Branch:
    """A new branch in the caller's institution (or any, for the platform)."""
    inst_id = scope.institution_for_write(principal, institution_id)
    return add_branch(session=session, clock=clock, actor=principal.actor, institution_id=inst_id, code=code,
                      name=name, name_en=name_en, region_code=region_code, address=address)


def add_branch(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str, name: str,
               name_en: str | None = None, region_code: str | None = None, address: str | None = None) -> Branch:
    """A new branch of an institution, opened by `actor` (after the caller's scope was checked)."""
    institution(session=session, institution_id=institution_id)
    if repo.branch_by_code(session, institution_id=institution_id, code=code) is not None:
        raise CodeTaken(field="code")
    branch = Branch(institution_id=institution_id, code=code, name=name, name_en=name_en, region_code=region_code,
                    address=address, status="active", created_at=clock.now())
    session.add(branch)
    session.flush()
    audit.record(session=session, clock=clock, actor=actor, action="branch.created",
                 entity_type="branch", entity_id=branch.id, institution_id=institution_id,
                 after={"code": code, "name": name, "name_en": name_en, "region_code": region_code})
    return branch


def branch(*, session: Session, branch_id: int) -> Branch:
    """A branch by id (for internal use after scoping)."""
    found = repo.get_branch(session, branch_id)
    if found is None:
        raise NotFound()
    return found


def get_branch(*, session: Session, principal: Principal, branch_id: int) -> Branch:
    """A branch the caller may see."""
    branch = repo.get_branch(session, branch_id)
    if branch is None:
        raise NotFound()
    scope.ensure_visible(principal, institution_id=branch.institution_id, branch_id=branch.id)
    return branch


def branch_in_institution(*, session: Session, institution_id: int, branch_id: int | None,
                          field: str = "branch_id") -> Branch | None:
    """An open branch of the institution, or a field error naming `field`."""
    if branch_id is None:
        return None
    branch = repo.get_branch(session, branch_id)
    if branch is None or branch.institution_id != institution_id or branch.status != "active":
        raise NotFound(field=field)
    return branch


def online_branch(*, session: Session, institution_id: int, resident: ResidentId,
                  stated_province: str | None) -> tuple[int | None, str | None]:
    """The branch an online registrant belongs to, by the institution's rule, and how it was chosen."""
    inst = institution(session=session, institution_id=institution_id)
    places = [assignment.BranchPlace(b.id, b.code, b.region_code)
              for b in repo.active_branches(session, institution_id)]
    return assignment.choose_branch(rule=inst.online_branch_rule, branches=places,
                                    default_branch_id=inst.default_branch_id, resident=resident,
                                    stated_province=stated_province)


def _branches(principal: Principal, q: str | None, institution_id: int | None, sort: str | None) -> Any:
    f = scope.filters(principal)
    inst = f.institution_id if f.institution_id is not None else institution_id
    stmt = repo.branches_query(institution_id=inst, branch_id=f.branch_id, q=q)
    return order_by(stmt, sort, BRANCH_SORTS, [Branch.id])


def list_branches(*, session: Session, principal: Principal, page: PageRequest, q: str | None = None,
                  institution_id: int | None = None) -> PageResult[Branch]:
    """Branches in the caller's scope."""
    return paginate(session, _branches(principal, q, institution_id, page.sort), page)


def export_branches(*, session: Session, principal: Principal, q: str | None = None,
                    institution_id: int | None = None, sort: str | None = None) -> list[Branch]:
    """Every branch in the caller's scope matching the filters (not one page), for exports."""
    return all_rows(session, _branches(principal, q, institution_id, sort))


def update_branch(*, session: Session, clock: Clock, principal: Principal, branch_id: int,
                  **values: Any) -> Branch:
    """Change a branch's name, region, address or status."""
    branch = get_branch(session=session, principal=principal, branch_id=branch_id)
    if principal.scope.rank < 2:  # branch-scoped staff may not edit the organisation
        raise PermissionDenied()
    before, after = _changes(branch, values)
    if not after:
        raise NothingToChange()
    session.flush()
    audit.record(session=session, clock=clock, actor=principal.actor, action="branch.updated",
                 entity_type="branch", entity_id=branch.id, institution_id=branch.institution_id,
                 before=before, after=after)
    return branch


NAMED_ENTITIES = ("institution", "branch", "staff", "borrower")


def display_names(*, session: Session, entity_type: str, ids: list[int], language: str) -> dict[int, str]:
    """Names of parties' records by id, in `language` where they have an English name (for audit trails)."""
    if entity_type not in NAMED_ENTITIES:
        return {}
    names = repo.names_by_id(session, entity_type, ids)
    return {i: (en if language == "en" and en else zh) for i, (zh, en) in names.items()}
