"""Contract templates: versions per code and institution; drafts edited, one version published, preview.

A code's versions are numbered 1, 2 …; at most one `draft` at a time (made from the published one),
exactly one `published` once any was (publishing a draft retires the version in force). Published
and retired versions never change: a contract keeps the version it was made from.

Publishing is maker–checker: an editor (`product.manage`) requests it — the draft must render, and is
frozen while the request is pending (a second request is refused) — and a *different* person holding
`contract.template.approve` approves it (the draft is published then, in that person's transaction) or
rejects it with a reason (the draft is editable again). The draft's row is locked for the decision, so of
two people deciding at once one decides and the other finds nothing pending. An institution
without templates gets the default (contracts.defaults) as version 1, published, on first use — the
migration seeds every institution that existed then.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from microcredit.audit import service as audit
from microcredit.clock import Clock
from microcredit.contracts import defaults, rendering
from microcredit.contracts import repository as repo
from microcredit.contracts.errors import (
    TemplateDraftExists,
    TemplateNotEditable,
    TemplatePublicationNotPending,
    TemplatePublicationPending,
    TemplateSelfApproval,
)
from microcredit.contracts.models import ContractTemplate
from microcredit.contracts.service import terms as terms_of
from microcredit.errors import NotFound
from microcredit.identity.principal import Principal
from microcredit.platform.actor import Actor
from microcredit.platform.todo import Todo


def seed_default(*, session: Session, clock: Clock, institution_id: int) -> None:
    """Give an institution the default template, version 1 published, unless it has templates."""
    if repo.templates(session, institution_id=institution_id):
        return
    now = clock.now()
    repo.add(session, ContractTemplate(
        institution_id=institution_id, code=defaults.DEFAULT_CODE, number=1, status="published",
        name=defaults.DEFAULT_NAME, language=defaults.DEFAULT_LANGUAGE, html=defaults.DEFAULT_HTML,
        docx=defaults.default_docx(), created_at=now, updated_at=now, published_at=now))


def list_versions(*, session: Session, clock: Clock, institution_id: int) -> list[ContractTemplate]:
    """Every template version of the institution (the default seeded if it has none)."""
    seed_default(session=session, clock=clock, institution_id=institution_id)
    return repo.templates(session, institution_id=institution_id)


def version(*, session: Session, institution_id: int, code: str, number: int,
            for_update: bool = False, clock: Clock | None = None) -> ContractTemplate:
    """One version (NotFound otherwise); given the clock, the default is seeded first, as when listing.

    The console may open the default's address before it ever lists the templates: the default's
    version 1 is then found, not a 404.
    """
    if clock is not None:
        seed_default(session=session, clock=clock, institution_id=institution_id)
    found = repo.template_version(session, institution_id=institution_id, code=code, number=number,
                                  for_update=for_update)
    if found is None:
        raise NotFound()
    return found


def in_force(*, session: Session, clock: Clock, institution_id: int, code: str = defaults.DEFAULT_CODE
             ) -> ContractTemplate:
    """The published version of a template (the default seeded first if the institution has none)."""
    seed_default(session=session, clock=clock, institution_id=institution_id)
    published = repo.versions_in_status(session, institution_id=institution_id, code=code, status="published")
    if not published:
        raise NotFound(field="template_code")
    return published[0]


def _audit(session: Session, clock: Clock, actor: Actor, row: ContractTemplate, action: str, **after: Any) -> None:
    audit.record(session=session, clock=clock, actor=actor, action=f"contract_template.{action}",
                 entity_type="contract_template", entity_id=row.id, institution_id=row.institution_id,
                 after={"code": row.code, "number": row.number, "status": row.status, **after})


def new_draft(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str) -> ContractTemplate:
    """A draft copied from the published version (one draft at a time)."""
    drafts = repo.versions_in_status(session, institution_id=institution_id, code=code, status="draft")
    if drafts:
        raise TemplateDraftExists(params={"number": drafts[0].number})
    base = in_force(session=session, clock=clock, institution_id=institution_id, code=code)
    now = clock.now()
    row = ContractTemplate(institution_id=institution_id, code=code,
                           number=repo.last_number(session, institution_id=institution_id, code=code) + 1,
                           status="draft", name=base.name, language=base.language, html=base.html, docx=base.docx,
                           note=None, created_at=now, created_by_user_id=actor.user_id, updated_at=now)
    repo.add(session, row)
    _audit(session, clock, actor, row, "drafted", based_on=base.number)
    return row


def update_draft(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str, number: int,
                 changes: dict[str, Any]) -> ContractTemplate:
    """Change a draft's name, HTML or note; the HTML must render against the sample terms."""
    row = _editable_draft(session, institution_id, code, number)
    if changes.get("html") is not None:
        rendering.render_html(changes["html"], sample_context())
    for key in ("name", "html", "note"):
        if changes.get(key) is not None:
            setattr(row, key, changes[key])
    row.updated_at = clock.now()
    session.flush()
    _audit(session, clock, actor, row, "updated", fields=sorted(k for k in changes if changes[k] is not None))
    return row


DOCX_MAX_BYTES = rendering.DOCX_MAX_BYTES


def replace_docx(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str, number: int,
                 content: bytes) -> ContractTemplate:
    """Put an edited Word template on a draft: a .docx of sane size that renders against the sample terms
    (docxtpl tags such as ``{{ borrower.name }}``, the same names as the HTML's)."""
    row = _editable_draft(session, institution_id, code, number)
    rendering.check_docx(content)
    rendering.render_docx(content, sample_context())
    row.docx, row.updated_at = content, clock.now()
    session.flush()
    _audit(session, clock, actor, row, "updated", fields=["docx"])
    return row


def preview_docx(row: ContractTemplate) -> bytes:
    """A version's Word template filled in with the sample (nothing stored)."""
    return rendering.render_docx(row.docx, sample_context())


def _editable_draft(session: Session, institution_id: int, code: str, number: int) -> ContractTemplate:
    """The draft, locked; not one published or retired, nor one waiting for approval (frozen)."""
    row = version(session=session, institution_id=institution_id, code=code, number=number, for_update=True)
    if row.status != "draft":
        raise TemplateNotEditable()
    if row.review_status == "pending":
        raise TemplatePublicationPending()
    return row


def request_publication(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str,
                        number: int) -> ContractTemplate:
    """Ask for a draft to be put in force: it must render (HTML and Word); it then waits, frozen, for another
    person's approval."""
    row = _editable_draft(session, institution_id, code, number)
    rendering.render_html(row.html, sample_context())
    rendering.render_docx(row.docx, sample_context())
    row.review_status, row.requested_at, row.requested_by_user_id = "pending", clock.now(), actor.user_id
    row.reviewed_at = row.reviewed_by_user_id = row.review_reason = None
    row.updated_at = clock.now()
    session.flush()
    _audit(session, clock, actor, row, "publication_requested")
    return row


def _pending(session: Session, actor: Actor, institution_id: int, code: str, number: int) -> ContractTemplate:
    """The draft whose publication is requested, locked for the decision; never decided by its requester."""
    row = version(session=session, institution_id=institution_id, code=code, number=number, for_update=True)
    if row.status != "draft" or row.review_status != "pending":
        raise TemplatePublicationNotPending()
    if actor.user_id is None or actor.user_id == row.requested_by_user_id:
        raise TemplateSelfApproval()
    return row


def approve_publication(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str,
                        number: int, reason: str | None = None) -> ContractTemplate:
    """A second person puts the requested draft in force; the version in force before it is retired."""
    row = _pending(session, actor, institution_id, code, number)
    rendering.render_html(row.html, sample_context())
    rendering.render_docx(row.docx, sample_context())
    now = clock.now()
    for old in repo.versions_in_status(session, institution_id=institution_id, code=code, status="published"):
        old.status = "retired"
        old.updated_at = now
    row.status, row.published_at, row.published_by_user_id, row.updated_at = "published", now, actor.user_id, now
    row.review_status, row.reviewed_at, row.reviewed_by_user_id, row.review_reason = "approved", now, actor.user_id, \
        reason
    session.flush()
    _audit(session, clock, actor, row, "publication_approved", requested_by=row.requested_by_user_id, reason=reason)
    return row


def reject_publication(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str,
                       number: int, reason: str) -> ContractTemplate:
    """A second person refuses the request with a reason: the draft stays a draft, editable again."""
    row = _pending(session, actor, institution_id, code, number)
    now = clock.now()
    row.review_status, row.reviewed_at, row.reviewed_by_user_id, row.review_reason = "rejected", now, actor.user_id, \
        reason
    row.updated_at = now
    session.flush()
    _audit(session, clock, actor, row, "publication_rejected", requested_by=row.requested_by_user_id, reason=reason)
    return row


def todos(*, session: Session, principal: Principal) -> list[Todo]:
    """Template publications waiting for the caller's approval (requested by someone else), for approvers."""
    if principal.kind != "staff" or not principal.can("contract.template.approve"):
        return []
    return [Todo("contract_templates_pending_approval", repo.pending_publication_count(
        session, institution_id=principal.institution_id, not_by=principal.user_id))]


def sample_context() -> dict[str, Any]:
    """The context a preview renders against: sample parties and terms, no signature."""
    return {"contract": {"number": "HT-SAMPLE-000001", "application_number": "MC-SAMPLE-000001",
                         "date": "2026-12-15"},
            "lender": {"name": "示例小额贷款有限公司", "address": "示例市示例路 1 号"},
            "borrower": {"name": "张三", "id_number_masked": "110101********0011"},
            "terms": terms_of.sample(), "signature": None}


def preview_pdf(row: ContractTemplate) -> bytes:
    """A version rendered against the sample (a PDF; nothing stored)."""
    return rendering.html_to_pdf(rendering.render_html(row.html, sample_context()))
