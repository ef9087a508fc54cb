"""Contract templates: versions per code and institution; drafts edited, one version published, preview.

A code's versions are numbered 1, 2 …; at most one `draft` at a time (made from the published one),
exactly one `published` once any was (publishing a draft retires the version in force). Published
and retired versions never change: a contract keeps the version it was made from. An institution
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
from microcredit.contracts.errors import TemplateDraftExists, TemplateNotEditable
from microcredit.contracts.models import ContractTemplate
from microcredit.contracts.service import terms as terms_of
from microcredit.errors import NotFound
from microcredit.platform.actor import Actor


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
    row = version(session=session, institution_id=institution_id, code=code, number=number, for_update=True)
    if row.status != "draft":
        raise TemplateNotEditable()
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
    row = version(session=session, institution_id=institution_id, code=code, number=number, for_update=True)
    if row.status != "draft":
        raise TemplateNotEditable()
    rendering.check_docx(content)
    rendering.render_docx(content, sample_context())
    row.docx, row.updated_at = content, clock.now()
    session.flush()
    _audit(session, clock, actor, row, "updated", fields=["docx"])
    return row


def preview_docx(row: ContractTemplate) -> bytes:
    """A version's Word template filled in with the sample (nothing stored)."""
    return rendering.render_docx(row.docx, sample_context())


def publish(*, session: Session, clock: Clock, actor: Actor, institution_id: int, code: str,
            number: int) -> ContractTemplate:
    """Put a draft in force; the version in force before it is retired."""
    row = version(session=session, institution_id=institution_id, code=code, number=number, for_update=True)
    if row.status != "draft":
        raise TemplateNotEditable()
    rendering.render_html(row.html, sample_context())
    rendering.render_docx(row.docx, sample_context())
    now = clock.now()
    for old in repo.versions_in_status(session, institution_id=institution_id, code=code, status="published"):
        old.status = "retired"
        old.updated_at = now
    row.status, row.published_at, row.published_by_user_id, row.updated_at = "published", now, actor.user_id, now
    session.flush()
    _audit(session, clock, actor, row, "published")
    return row


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
