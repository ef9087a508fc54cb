"""The route × role matrix, and data scoping.

Every route under /api/v1 is called by every kind of caller: nobody, a
borrower, and a staff member holding exactly one of the default roles, each in
a full (second-factor-complete) session. Where the caller lacks the permission
the route declares (or is anonymous on a route that is not public), the answer
must be 401/403 (404 for objects outside their scope) as a problem document
carrying nothing but the problem fields, and the database must be exactly as
before: the row count of every table, the sums of the version columns, and
the audit chain's head. Where the caller holds it, the answer must be neither
401/403 nor a server error.

The matrix reads the routes from the app, so it grows with every later route:
a route needs an entry below only when its path names a new kind of object
(PATH_OBJECTS), when a plausible body is more than `{}` (BODIES), or when a
business rule refuses an allowed caller (BUSINESS_REFUSALS).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from sqlalchemy import select

from microcredit.api.app import API_PREFIX, access_of, create_app, iter_routes
from microcredit.cob.models import CobRun
from microcredit.collections.models import CollectionCase
from microcredit.consent import service as consent
from microcredit.db.engine import Database
from microcredit.documents import service as document_service
from microcredit.identity import service as identity
from microcredit.identity.models import Role
from microcredit.identity.permissions import DEFAULT_ROLES, ROLE_TEMPLATES
from microcredit.ledger import service as ledger
from microcredit.lending.money import Money
from microcredit.notifications import service as notifications
from microcredit.origination.models import Application, GroupApplication, Guarantor
from microcredit.parties.models import BorrowerGroup, Institution, ProfileChange
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.products import service as products
from microcredit.products.product_schemas import ProductTerms
from microcredit.risk import samples as risk_samples
from microcredit.risk import service as risk
from microcredit.risk.fraud.models import FraudCase
from microcredit.risk.registry import demo as model_demo
from microcredit.risk.registry import service as model_registry
from microcredit.risk.warnings.models import RiskWarning
from microcredit.runtime import Runtime
from microcredit.servicing import service as servicing
from microcredit.servicing.models import CollectionSheet, LoanChange, Payment, ReconciliationBreak
from tests.conftest import make_settings
from tests.factories import (
    institution_header,
    make_borrower,
    make_branch,
    make_institution,
    make_staff,
    next_id_number,
    next_phone,
)
from tests.integration.helpers import assert_problem, idempotency_key, shared_app, shared_client, signed_in, snapshot
from tests.integration.products.test_products_api import terms as product_terms

ANONYMOUS = "anonymous"
CALLERS = (ANONYMOUS, *(r.code for r in DEFAULT_ROLES))
CARD = "6225881414207430"


@pytest.fixture
def client(runtime, backend):
    """A client of the worker's app for this backend (building an app per test costs ~0.1 s)."""
    yield from shared_client(runtime, backend)


@dataclass
class World:
    """What the matrix's requests point at: real objects of the caller's institution."""

    institution: Institution
    headers: dict[str, str]
    objects: dict[str, Any]


# Path parameters: which arranged object each names. A route with a new kind of path
# parameter fails the matrix until its object is arranged here.
PATH_OBJECTS = ("institution_id", "branch_id", "staff_id", "borrower_id", "change_id", "role_id", "provider",
                "session_id", "year", "day_id", "message_id", "kind", "version", "consent_id", "account_id",
                "entry_id", "product_code", "version_number", "lpr_id", "application_id", "document_id",
                "rule_set_code", "blacklist_id", "report_id", "notification_id", "template_code",
                "group_id", "group_application_id", "loan_id", "loan_change_id", "seq", "payment_id",
                "provider_name", "case_id", "run_id", "break_id", "model_code", "promotion_id", "fraud_case_id",
                "warning_id", "guarantor_id", "ocsp_request", "sheet_id")

# Plausible valid bodies; every other route gets `{}` (a refused request never reads it,
# an allowed one answers 422, which is neither 401 nor 403).
BODIES: dict[tuple[str, str], Callable[[World], Any]] = {
    ("POST", "/institutions"): lambda w: {"code": "MATRIX", "name": "矩阵机构", "business_date": "2026-11-25"},
    ("PATCH", "/institutions/{institution_id}"): lambda w: {"address": "矩阵路 1 号"},
    ("PUT", "/institutions/{institution_id}/business-date"): lambda w: {"business_date": "2026-11-26"},
    ("POST", "/branches"): lambda w: {"code": "MXB", "name": "矩阵支行"},
    ("PATCH", "/branches/{branch_id}"): lambda w: {"address": "矩阵路 2 号"},
    ("POST", "/staff"): lambda w: {"name": "矩阵员工", "employee_number": "MX1", "phone": next_phone(),
                                   "roles": ["collector"]},
    ("PATCH", "/staff/{staff_id}"): lambda w: {"position": "矩阵岗"},
    ("POST", "/borrowers"): lambda w: {"phone": next_phone(), "real_name": "矩阵借款人",
                                       "id_number": next_id_number(), "consent_signed": True},
    ("PATCH", "/borrowers/{borrower_id}"): lambda w: {"address": "矩阵路 3 号"},
    ("POST", "/borrowers/{borrower_id}/bank-cards"): lambda w: {"bank_name": "中国农业银行", "card_number": CARD},
    ("POST", "/profile-changes/{change_id}/reject"): lambda w: {"reason": "材料不全"},
    ("PATCH", "/me/profile"): lambda w: {"address": "矩阵路 4 号"},
    ("POST", "/me/bank-cards"): lambda w: {"bank_name": "中国农业银行", "card_number": CARD},
    ("POST", "/roles"): lambda w: {"code": "matrix_new", "name_zh": "矩阵", "name_en": "Matrix",
                                   "permissions": ["borrower.read"]},
    ("PATCH", "/roles/{role_id}"): lambda w: {"name_en": "Matrix (renamed)"},
    ("POST", "/calendar/days"): lambda w: {"day": "2027-02-08", "kind": "holiday", "name_zh": "春节",
                                           "name_en": "Spring Festival"},
    ("PATCH", "/calendar/days/{day_id}"): lambda w: {"name_en": "Matrix holiday"},
    ("PUT", "/calendar/years/{year}"): lambda w: {"covered": True},
    ("POST", "/consent-documents"): lambda w: {"kind": "privacy_policy", "version": "2.0", "title_zh": "隐私政策",
                                               "title_en": "Privacy policy", "body_zh": "正文", "body_en": "Text"},
    ("POST", "/me/consents"): lambda w: {"kind": "sensitive_info", "version": "1.0"},
    ("POST", "/products"): lambda w: {"code": "MATRIX-NEW", "terms": product_terms()},
    ("POST", "/products/cap-check"): lambda w: {"terms": product_terms()},
    ("POST", "/products/{product_code}/versions"): lambda w: {"terms": product_terms()},
    ("PUT", "/products/{product_code}/versions/{version_number}"): lambda w: {"terms": product_terms()},
    ("POST", "/products/{product_code}/versions/{version_number}/rate-approval"): lambda w: {"reason": "矩阵审批理由"},
    ("POST", "/products/{product_code}/quote"): lambda w: {"amount": "5000.00", "term": 6,
                                                           "repayment_method": "equal_installment"},
    ("POST", "/lpr-rates"): lambda w: {"effective_date": "2026-11-20", "one_year_percent": "3.0", "source": "矩阵"},
    ("PATCH", "/lpr-rates/{lpr_id}"): lambda w: {"source": "矩阵更正"},
    ("POST", "/rate-caps"): lambda w: {"institution_kind": "village_bank", "effective_from": "2027-01-01",
                                       "hard_cap_percent": "24", "approval_lpr_multiple": "4"},
    ("POST", "/ledger/accounts"): lambda w: {"code": "100299", "name_zh": "矩阵银行", "name_en": "Matrix bank",
                                             "type": "asset"},
    ("PATCH", "/ledger/accounts/{account_id}"): lambda w: {"name_en": "Matrix bank deposits"},
    ("POST", "/ledger/entries"): lambda w: {"business_date": "2026-11-25", "description": "矩阵分录",
                                            "lines": [{"account_code": "1002", "debit": "1.00"},
                                                      {"account_code": "4001", "credit": "1.00"}]},
    ("POST", "/ledger/periods/close"): lambda w: {"through": "2026-11-01"},
    ("POST", "/ledger/periods/reopen"): lambda w: {"reason": "矩阵反结账"},
    ("POST", "/me/applications"): lambda w: {**APPLICATION_PLAN},
    ("PATCH", "/me/applications/{application_id}"): lambda w: {"purpose_note": "矩阵用途"},
    ("POST", "/applications"): lambda w: {**APPLICATION_PLAN, "borrower_id": w.objects["borrower_id"]},
    ("PATCH", "/risk/rule-sets/{rule_set_code}/versions/{version_number}"):
        lambda w: {"parameters": {"max_inquiries_3m": 4}},
    ("POST", "/risk/blacklist"): lambda w: {"kind": "phone", "value": next_phone(), "reason": "矩阵"},
    ("POST", "/risk/blacklist/{blacklist_id}/remove"): lambda w: {"reason": "矩阵误报"},
    ("POST", "/risk/simulator/bureau-report"): lambda w: {"id_number": next_id_number()},
    ("POST", "/loans/{loan_id}/repayments"): lambda w: {"amount": "100.00"},
    ("POST", "/loans/{loan_id}/prepayments"): lambda w: {"amount": "100.00", "mode": "shorten_term"},
    ("POST", "/loans/{loan_id}/reversals"): lambda w: {"event_id": "d1", "note": "矩阵冲正"},
    ("POST", "/loans/{loan_id}/recoveries"): lambda w: {"amount": "10.00"},
    ("POST", "/risk/warnings/{warning_id}/lift-freeze"): lambda w: {"note": "矩阵解冻"},
    ("POST", "/loans/{loan_id}/accelerations"): lambda w: {"reason": "arrears", "note": "矩阵提前到期"},
    ("POST", "/loans/{loan_id}/changes"): lambda w: {"kind": "write_off", "reason_code": "uncollectible",
                                                     "note": "矩阵核销"},
    ("POST", "/loan-changes/{loan_change_id}/reject"): lambda w: {"note": "矩阵驳回"},
    ("PUT", "/servicing/settings"): lambda w: {"repayment_approval_above": "5000.00"},
    ("POST", "/groups"): lambda w: {"name": "矩阵组", "member_ids": []},
    ("POST", "/groups/{group_id}/members"): lambda w: {"borrower_id": w.objects["borrower_id"]},
    ("PUT", "/groups/{group_id}/leader"): lambda w: {"borrower_id": w.objects["borrower_id"]},
    ("PUT", "/groups/{group_id}/meeting"): lambda w: {"frequency": "monthly", "first_on": "2026-12-15",
                                                      "time_of_day": "09:30", "place": "矩阵村委会"},
    ("POST", "/groups/{group_id}/collection-sheet"): lambda w: {"date": "2026-11-25",
                                                                "lines": [{"loan_id": w.objects["loan_id"]}]},
    ("POST", "/me/applications/{application_id}/consent"): lambda w: {"agree_joint_liability": True},
    ("POST", "/applications/{application_id}/review"): lambda w: {"action": "approve", "level": 1},
    ("POST", "/applications/{application_id}/notes"): lambda w: {"note": "矩阵备注"},
    ("POST", "/me/loans/{loan_id}/payments"): lambda w: {"amount": "100.00"},
    ("POST", "/reconciliation/statements"): lambda w: {"statement_date": "2026-11-25", "statement": "x"},
    ("POST", "/collections/cases/{case_id}/actions"): lambda w: {"kind": "legal_referral", "notes": "矩阵"},
    ("POST", "/applications/{application_id}/guarantors"): lambda w: {
        "name": "矩阵担保", "id_number": next_id_number(), "phone": next_phone(), "relation": "friend",
        "kind": "general", "consent_signed": True},
    ("POST", "/applications/{application_id}/guarantors/{guarantor_id}/release"): lambda w: {"reason": "矩阵解除"},
    ("POST", "/loans/{loan_id}/guarantors"): lambda w: {
        "name": "矩阵担保", "id_number": next_id_number(), "phone": next_phone(), "relation": "friend",
        "kind": "general", "consent_signed": True},
    ("POST", "/loans/{loan_id}/guarantors/{guarantor_id}/release"): lambda w: {"reason": "矩阵解除"},
    ("POST", "/collection-sheets/{sheet_id}/handover"): lambda w: {"counted": "0.00"},
    ("POST", "/guarantors/search"): lambda w: {"q": "矩阵担保人"},
    ("POST", "/reconciliation/breaks/{break_id}/resolve"): lambda w: {"note": "矩阵处理"},
    ("POST", "/risk/models/{model_code}/versions/{version_number}/promotions"):
        lambda w: {"target": "challenger", "reason": "矩阵提议"},
    ("POST", "/risk/models/{model_code}/versions/{version_number}/retire"): lambda w: {"reason": "矩阵退役"},
    ("POST", "/risk/models/promotions/{promotion_id}/approve"): lambda w: {"reason": "矩阵同意"},
    ("POST", "/contract-templates/{template_code}/versions/{version_number}/publication-request/approve"):
        lambda w: {"reason": "矩阵同意"},
    ("POST", "/contract-templates/{template_code}/versions/{version_number}/publication-request/reject"):
        lambda w: {"reason": "矩阵驳回"},
    ("POST", "/risk/models/promotions/{promotion_id}/reject"): lambda w: {"reason": "矩阵驳回"},
    ("POST", "/risk/fraud/cases/{fraud_case_id}/notes"): lambda w: {"body": "矩阵"},
    ("POST", "/risk/fraud/cases/{fraud_case_id}/verdict"): lambda w: {"verdict": "not_fraud", "reason": "矩阵",
                                                                      "lock_version": 1},
    ("POST", "/risk/warnings/{warning_id}/dismiss"): lambda w: {"note": "矩阵关闭"},
    ("POST", "/risk/fraud/anomaly-model/versions"): lambda w: {"contamination": 0.02, "note": "矩阵训练"},
    ("PUT", "/risk/warning-thresholds"): lambda w: {"score_drop_points": 70},
}
APPLICATION_PLAN = {"product_code": "MATRIX", "amount": "5000.00", "term": 6, "repayment_method": "equal_installment",
                    "purpose": "business"}

# Allowed by permission, refused by a business rule: (method, path, caller) -> problem code.
BUSINESS_REFUSALS = {
    # An institution's own administrator does not create institutions; the platform's does.
    ("POST", "/institutions", "administrator"): "permission_denied",
    # The second factor is for staff; a borrower's account has none to enrol.
    ("POST", "/auth/totp/enrolment", "borrower"): "permission_denied",
    # The matrix's administrator edited the draft (PUT runs first): a second administrator must approve its rate.
    ("POST", "/products/{product_code}/versions/{version_number}/rate-approval", "administrator"): "self_approval",
    # The matrix's administrator requested the template draft's publication (drafts and the request run first):
    # another person must approve or reject it.
    ("POST", "/contract-templates/{template_code}/versions/{version_number}/publication-request/approve",
     "administrator"): "self_approval",
    ("POST", "/contract-templates/{template_code}/versions/{version_number}/publication-request/reject",
     "administrator"): "self_approval",
}

# Routes that end the caller's own session run last.
LAST = {("POST", "/auth/logout")}


def _api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    out = []
    for path, route in iter_routes(app):
        if not path.startswith(API_PREFIX + "/"):
            continue
        for method in sorted(route.methods or ()):
            out.append((method, path[len(API_PREFIX):], route))
    return sorted(out, key=lambda r: (r[0], r[1]) in LAST)


def _allowed(caller: str, access: tuple[str, str | None]) -> bool:
    kind, permission = access
    if kind == "public":
        return True
    if caller == ANONYMOUS:
        return False
    if kind == "authenticated":
        return True
    # A route open to any of several permissions marks them joined by `|` (deps.require_any).
    return any(p in ROLE_TEMPLATES[caller].permissions for p in (permission or "").split("|"))


def arrange(session: Any, runtime: Runtime, caller: str) -> World:
    """An institution with two branches, the caller, and one object of every kind the routes name."""
    inst = make_institution(session, runtime)
    branch_a, _branch_b = make_branch(session, runtime, inst), make_branch(session, runtime, inst)
    headers: dict[str, str] = {}
    consenting = []
    if caller == "borrower":
        me = make_borrower(session, runtime, inst, branch=branch_a, password=None)
        headers = signed_in(session, runtime, me.user)
        consenting.append(me)
    elif caller != ANONYMOUS:
        me_staff = make_staff(session, runtime, inst, roles=(caller,), branch=branch_a, password=None)
        headers = signed_in(session, runtime, me_staff.user)
    target_staff = make_staff(session, runtime, inst, roles=("collector",), branch=branch_a, password=None)
    target = make_borrower(session, runtime, inst, branch=branch_a, password=None)
    # Consents of the borrowers: the caller's own (a borrower withdraws it) or the target's.
    documents = consent.required_documents(session=session, clock=runtime.clock, institution_id=inst.id)
    consents = [consent.record_acceptance(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                          institution_id=inst.id, user_id=h.user.id, borrower_id=h.borrower.id,
                                          documents=documents, channel="walk_in")
                for h in (*consenting, target)]
    change = ProfileChange(institution_id=inst.id, borrower_id=target.borrower.id, branch_id=branch_a.id,
                           changes={"monthly_income": {"old": None, "new": "9000.00"}}, status="pending",
                           requested_by_user_id=target.user.id, requested_at=runtime.clock.now())
    custom = Role(institution_id=inst.id, code="matrix_custom", name_zh="矩阵自定义", name_en="Matrix custom",
                  data_scope="branch", requires_mfa=False, is_system=False)
    session.add_all([change, custom])
    session.flush()
    # Someone else's session: whoever may end sessions must still not end this one (404).
    other_session = identity.sessions.start_session(session=session, kit=runtime.identity, user=target.user,
                                                    method="test", meta=RequestMeta())
    # A message of the institution waiting in the outbox (retry and cancel act on it).
    message = notifications.enqueue_sms(session=session, cipher=runtime.keys.cipher, clock=runtime.clock,
                                        institution_id=inst.id, phone=next_phone(), template="account_locked",
                                        params={"signature": "矩阵"}, language="zh-CN")
    # Someone else's in-app notification: every signed-in caller may mark their own read, never this one (404).
    notice = notifications.notify_user(session, clock=runtime.clock, institution_id=inst.id, user_id=target.user.id,
                                       template="application_submitted", params={"number": "MC-1"})
    # A product with a published version 1 and a draft version 2 (the matrix's version_number).
    terms = ProductTerms.model_validate(product_terms())
    products.catalogue.create_product(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                      institution_id=inst.id, code="MATRIX", terms=terms)
    products.catalogue.publish(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                               institution_id=inst.id, institution_kind=inst.kind, business_date=inst.business_date,
                               code="MATRIX", number=1, calendars=products.offline_calendars)
    products.catalogue.new_version(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                   institution_id=inst.id, code="MATRIX", terms=terms)
    lpr = products.caps.add_lpr(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                effective_date=date(2026, 10, 20), one_year_percent=Decimal("3.0"), source="矩阵")
    holiday = products.calendar.add_day(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                        institution_id=inst.id, day=date(2027, 2, 6), kind="holiday", name_zh="春节")
    # The books: an account of the default chart and a posted entry (reversed by whoever may post).
    bank = next(a for a in ledger.accounts.list_accounts(session=session, institution_id=inst.id) if a.code == "1002")
    entry = ledger.post(session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                        business_date=date(2026, 11, 20), description="矩阵注资",
                        postings=[ledger.Posting("1002", ledger.Side.DEBIT, Money(100_000, "CNY")),
                                  ledger.Posting("4001", ledger.Side.CREDIT, Money(100_000, "CNY"))])
    # A draft application: the caller's own (a borrower) or the target's, in branch A.
    applicant = consenting[0] if consenting else target
    application = Application(
        institution_id=inst.id, branch_id=branch_a.id, borrower_id=applicant.borrower.id,
        borrower_user_id=applicant.user.id, status="draft", product_code="MATRIX",
        product_version_id=products.catalogue.offer(session=session, institution_id=inst.id, code="MATRIX",
                                                    on=inst.business_date)[1].id,
        product_version_number=1, amount=Money(500_000, "CNY"), term=6, period_unit="month",
        repayment_method="equal_installment", purpose="business", channel="online",
        id_number_index=applicant.borrower.id_number_index, created_at=runtime.clock.now(),
        updated_at=runtime.clock.now())
    session.add(application)
    session.flush()
    # A guarantor of the draft (as `origination.service.guarantors.add` stores one).
    keys, guarantor_number, guarantor_phone = runtime.identity.keys, next_id_number(), next_phone()
    sensitive = next(d for d in consent.current_documents(session=session, clock=runtime.clock,
                                                           institution_id=inst.id) if d.kind == "sensitive_info")
    guarantor = Guarantor(
        institution_id=inst.id, application_id=application.id, name="矩阵担保人",
        id_number_ciphertext=keys.cipher.encrypt(guarantor_number, context="guarantors.id_number"),
        id_number_index=keys.blind_index(guarantor_number, domain="id_number"), id_number_masked="3601**********0000",
        phone_ciphertext=keys.cipher.encrypt(guarantor_phone, context="guarantors.phone"),
        phone_index=keys.blind_index(guarantor_phone, domain="phone"), phone_masked="137****0000",
        relation="friend", kind="general", status="active", consent_document_id=sensitive.id,
        consent_content_hash=sensitive.content_hash, consented_at=runtime.clock.now(), created_at=runtime.clock.now())
    session.add(guarantor)
    session.flush()
    # A loan opened (not disbursed) from an approved application of the same borrower.
    approved = Application(**{c: getattr(application, c) for c in (
        "institution_id", "branch_id", "borrower_id", "borrower_user_id", "product_code", "product_version_id",
        "product_version_number", "amount", "term", "period_unit", "repayment_method", "purpose", "channel",
        "id_number_index", "created_at", "updated_at")}, status="approved", number="MX-20261125-000001",
        annual_rate_percent="8")
    session.add(approved)
    session.flush()
    loan = servicing.loans.open_loan(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                     institution_id=inst.id, application_id=approved.id)
    change = LoanChange(institution_id=inst.id, branch_id=loan.branch_id, loan_id=loan.id, kind="write_off",
                        details={}, reason_code="uncollectible", note="矩阵", status="pending",
                        requested_by_user_id=None, requested_at=runtime.clock.now())
    session.add(change)
    # A payout of the loan asked of the provider (no answer yet: a poll asks nothing).
    payment = Payment(institution_id=inst.id, branch_id=loan.branch_id, loan_id=loan.id, direction="out",
                      purpose="disbursement", channel="payout", amount=loan.principal, provider="simulator",
                      idempotency_key="matrix-payout", status="requested", attempt=1,
                      requested_on=inst.business_date, requested_at=runtime.clock.now())
    session.add(payment)
    # A collection case of the loan (as the sync opens one), unassigned.
    case = CollectionCase(institution_id=inst.id, branch_id=loan.branch_id, loan_id=loan.id,
                          borrower_id=loan.borrower_id, status="open", stage="reminder", dpd=3,
                          overdue={"principal": 100, "interest": 0, "fee": 0, "penalty": 0},
                          overdue_total=Money(100, "CNY"), priority=3, recovered=Money.zero("CNY"),
                          opened_on=inst.business_date, synced_on=inst.business_date,
                          created_at=runtime.clock.now(), updated_at=runtime.clock.now())
    session.add(case)
    recon_break = ReconciliationBreak(institution_id=inst.id, statement_date=inst.business_date, kind="missing_ours",
                                      reference="MX-STRANGER", found_at=runtime.clock.now(), resolved=False)
    session.add(recon_break)
    # A joint-liability group in branch A (no members yet) and a group application of it waiting.
    group = BorrowerGroup(institution_id=inst.id, branch_id=branch_a.id, name="矩阵组", status="forming",
                          created_at=runtime.clock.now(), updated_at=runtime.clock.now())
    session.add(group)
    session.flush()
    group_application = GroupApplication(
        institution_id=inst.id, branch_id=branch_a.id, group_id=group.id, group_name=group.name,
        status="awaiting_consent", product_code="MATRIX", product_version_id=application.product_version_id, term=6,
        repayment_method="equal_installment", purpose="business", created_at=runtime.clock.now(),
        updated_at=runtime.clock.now())
    session.add(group_application)
    # A saved collection sheet of the group waiting for its cash's handover (saved by nobody the matrix signs in
    # as; its lines recorded nothing, so counting nothing hands it over).
    sheet = CollectionSheet(institution_id=inst.id, branch_id=branch_a.id, group_id=group.id,
                            meeting_date=inst.business_date, idempotency_key="matrix-sheet", lines=[],
                            due=Money(100, "CNY"), collected=Money(100, "CNY"), recorded_by_user_id=None,
                            recorded_at=runtime.clock.now())
    session.add(sheet)
    session.flush()
    # A document of the target borrower (an ID-card photo a loan officer took at the branch).
    photo = io.BytesIO()
    PILImage.new("RGB", (24, 16), (120, 30, 30)).save(photo, format="JPEG")
    document = document_service.upload(session=session, clock=runtime.clock, storage=runtime.files,
                                policy=runtime.settings.documents, actor=Actor.system(inst.id),
                                owner=document_service.Owner(borrower_id=target.borrower.id, institution_id=inst.id,
                                                      branch_id=branch_a.id),
                                type_="id_card", data=photo.getvalue(), filename="id.jpg", declared_type="image/jpeg",
                                channel="branch")
    # Risk: the default rules with a draft version 2, a blacklist entry and a stored credit report.
    risk.rulesets.seed_defaults(session=session, clock=runtime.clock, institution_id=inst.id)
    rule_set = risk.rulesets.rule_set(session=session, institution_id=inst.id, code="default")
    risk.rulesets.create_draft(session=session, clock=runtime.clock, actor=Actor.system(inst.id), rule_set=rule_set)
    listed = risk.blacklist.add(session=session, actor=Actor.system(inst.id), institution_id=inst.id,
                                kind="phone", value=next_phone(), reason="矩阵")
    assessed = risk.assess(session, risk_samples.base_facts(institution_id=inst.id))
    # Two registered versions of a model (the matrix's version_number is 2) and a proposal waiting.
    for variant in (1, 2):
        model_version = model_registry.lifecycle.register(
            session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
            code="matrix_model", blob=model_demo.blob(variant), report=None)
    promotion = model_registry.lifecycle.propose(
        session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
        code="matrix_model", number=model_version.number - 1, target="champion", reason="矩阵")
    # An open fraud case (one the review opened for a night-time application from a new device).
    fraud_case = FraudCase(institution_id=inst.id, source="review", status="open", application_number="MATRIX-F1",
                           members=["MATRIX-F1"], persons=1, signals={"codes": ["fraud_odd_hour_new_device"]},
                           opened_at=runtime.clock.now())
    session.add(fraud_case)
    # A finished close-of-business run of the business date.
    cob_run = CobRun(institution_id=inst.id, business_date=inst.business_date,
                     previous_date=inst.business_date - timedelta(days=1), status="done", runner="in_process",
                     partition_size=500, loans=0, failures=0, started_at=runtime.clock.now(),
                     heartbeat_at=runtime.clock.now())
    session.add(cob_run)
    # An early warning on the loan, its action proposed by someone else (approving it is not self-approval).
    warning = RiskWarning(institution_id=inst.id, branch_id=loan.branch_id, loan_id=loan.id,
                          borrower_id=loan.borrower_id, subject=f"loan:{loan.id}", rule="score_drop",
                          severity="medium", raised_on=inst.business_date, details={"drop": 70}, score=560,
                          suggested_action="freeze_limit", status="proposed", proposed_action="freeze_limit",
                          proposed_by_user_id=target_staff.user.id, proposed_at=runtime.clock.now(),
                          created_at=runtime.clock.now())
    session.add(warning)
    session.flush()
    objects = {"institution_id": inst.id, "branch_id": branch_a.id, "staff_id": target_staff.staff_id,
               "borrower_id": target.borrower.id, "change_id": change.id, "role_id": custom.id,
               "provider": "wechat", "session_id": other_session.session_id, "year": 2027, "day_id": holiday.id,
               "message_id": message.id, "kind": "sensitive_info", "version": "1.0",
               "consent_id": consents[0][2].id, "account_id": bank.id, "entry_id": entry.id, "product_code": "MATRIX",
               "version_number": 2, "lpr_id": lpr.id, "application_id": application.id, "document_id": document.id,
               "rule_set_code": "default", "blacklist_id": listed.id, "report_id": int(assessed.bureau_report_id or 0),
               "notification_id": notice.id, "template_code": "loan", "group_id": group.id,
               "group_application_id": group_application.id, "loan_id": loan.id, "loan_change_id": change.id,
               "seq": 1, "payment_id": payment.id, "provider_name": "simulator", "case_id": case.id,
               "run_id": cob_run.id, "break_id": recon_break.id, "model_code": "matrix_model",
               "promotion_id": promotion.id, "fraud_case_id": fraud_case.id, "warning_id": warning.id,
               "guarantor_id": guarantor.id, "ocsp_request": "MA", "sheet_id": sheet.id}
    assert set(objects) == set(PATH_OBJECTS)
    session.commit()
    return World(institution=inst, headers=headers, objects=objects)


def _request(client: TestClient, world: World, method: str, path: str) -> Any:
    names = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
    unknown = [n for n in names if n not in world.objects]
    assert not unknown, f"{method} {path}: arrange an object for {unknown} in PATH_OBJECTS"
    url = API_PREFIX + path.format(**world.objects)
    headers = {**world.headers, **institution_header(world.institution), **idempotency_key()}
    body = None
    if method in ("POST", "PUT", "PATCH"):
        make = BODIES.get((method, path))
        body = make(world) if make else {}
    return client.request(method, url, json=body, headers=headers, follow_redirects=False)


def test_every_api_route_declares_its_access(worker_tmp):
    app = create_app(make_settings(worker_tmp))
    routes = _api_routes(app)
    assert len(routes) > 50
    undeclared = [f"{m} {p}" for m, p, route in routes if access_of(route) is None]
    assert undeclared == []
    kinds = {access_of(route)[0] for _, _, route in routes}  # type: ignore[index]
    assert kinds == {"public", "authenticated", "permission"}


@pytest.mark.parametrize("caller", CALLERS)
def test_route_role_matrix(caller, backend, runtime, session, database: Database):
    world = arrange(session, runtime, caller)
    app = shared_app(runtime, backend)
    with TestClient(app) as client:
        _walk(client, app, world, caller, database)


def _walk(client: TestClient, app: FastAPI, world: World, caller: str, database: Database) -> None:
    routes = _api_routes(app)
    forbidden = [(m, p) for m, p, route in routes if not _allowed(caller, access_of(route))]  # type: ignore[arg-type]
    allowed = [(m, p) for m, p, route in routes if _allowed(caller, access_of(route))]  # type: ignore[arg-type]
    assert forbidden or caller == "administrator"  # every caller is refused somewhere...
    assert allowed  # ...and allowed somewhere (the public routes at least)

    expected = (401,) if caller == ANONYMOUS else (403, 404)
    before = snapshot(database)
    for method, path in forbidden:
        body = assert_problem(_request(client, world, method, path), *expected)
        assert (body["errors"], body["field"]) == ([], None), (method, path, body)
    if before.diff(snapshot(database)):
        # Something changed: find which refused request did it (a change it makes once, it makes again).
        culprits = []
        for method, path in forbidden:
            start = snapshot(database)
            _request(client, world, method, path)
            if start.diff(changed := snapshot(database)):
                culprits.append((method, path, start.diff(changed)))
        pytest.fail(f"refused requests of {caller} changed the database: {culprits or before.diff(snapshot(database))}")

    for method, path in allowed:
        r = _request(client, world, method, path)
        refusal = BUSINESS_REFUSALS.get((method, path, caller))
        if refusal is not None:
            assert assert_problem(r, 403)["code"] == refusal
            continue
        assert r.status_code not in (401, 403), (caller, method, path, r.text)
        assert r.status_code < 500, (caller, method, path, r.text)


# --- data scoping --------------------------------------------------------------------


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


@pytest.fixture
def two_branches(session, runtime):
    """An institution with branches A and B, a borrower in each plus one online, and a change in each branch."""
    inst = make_institution(session, runtime)
    a, b = make_branch(session, runtime, inst), make_branch(session, runtime, inst)
    in_a = make_borrower(session, runtime, inst, branch=a, password=None, real_name="甲支行客户")
    in_b = make_borrower(session, runtime, inst, branch=b, password=None, real_name="乙支行客户")
    online = make_borrower(session, runtime, inst, password=None, real_name="线上客户")
    changes = {}
    for handle, branch in ((in_a, a), (in_b, b)):
        change = ProfileChange(institution_id=inst.id, borrower_id=handle.borrower.id, branch_id=branch.id,
                               changes={"occupation": {"old": None, "new": "教师"}}, status="pending",
                               requested_by_user_id=handle.user.id, requested_at=runtime.clock.now())
        session.add(change)
        session.flush()
        changes[branch.id] = change.id
    return {"inst": inst, "a": a, "b": b, "in_a": in_a, "in_b": in_b, "online": online, "changes": changes}


def test_branch_officer_sees_only_their_branch(client, session, runtime, two_branches):
    w = two_branches
    officer = make_staff(session, runtime, w["inst"], roles=("loan_officer",), branch=w["a"], password=None)
    h = signed_in(session, runtime, officer.user)
    session.commit()
    own, other = w["in_a"].borrower.id, w["in_b"].borrower.id

    assert _ids(client.get("/api/v1/borrowers", headers=h)) == {own}
    assert _ids(client.get("/api/v1/borrowers", headers=h, params={"branch_id": w["b"].id})) == set()
    assert _ids(client.get("/api/v1/branches", headers=h)) == {w["a"].id}
    assert _ids(client.get("/api/v1/profile-changes", headers=h)) == {w["changes"][w["a"].id]}
    assert client.get(f"/api/v1/borrowers/{own}", headers=h).status_code == 200

    before = snapshot(runtime.db)
    for method, url, body in (
        ("GET", f"/api/v1/borrowers/{other}", None),
        ("PATCH", f"/api/v1/borrowers/{other}", {"address": "越权修改"}),
        ("POST", f"/api/v1/borrowers/{other}/reveal", None),
        ("POST", f"/api/v1/borrowers/{other}/bank-cards", {"bank_name": "中国银行", "card_number": CARD}),
        ("GET", f"/api/v1/borrowers/{w['online'].borrower.id}", None),
        ("GET", f"/api/v1/branches/{w['b'].id}", None),
        ("POST", f"/api/v1/profile-changes/{w['changes'][w['b'].id]}/approve", {}),
        ("POST", "/api/v1/borrowers", {"phone": next_phone(), "real_name": "越权登记", "id_number": next_id_number(),
                                       "branch_id": w["b"].id}),
    ):
        r = client.request(method, url, json=body, headers={**h, **idempotency_key()})
        assert_problem(r, 404)
        assert before.diff(snapshot(runtime.db)) == {}, (method, url)


def test_institution_wide_roles_see_every_branch(client, session, runtime, two_branches):
    w = two_branches
    manager = make_staff(session, runtime, w["inst"], roles=("branch_manager",), branch=w["a"], password=None)
    h = signed_in(session, runtime, manager.user)
    session.commit()
    everyone = {w["in_a"].borrower.id, w["in_b"].borrower.id, w["online"].borrower.id}
    assert _ids(client.get("/api/v1/borrowers", headers=h)) == everyone
    assert _ids(client.get("/api/v1/branches", headers=h)) == {w["a"].id, w["b"].id}
    assert _ids(client.get("/api/v1/profile-changes", headers=h)) == set(w["changes"].values())
    for handle in (w["in_b"], w["online"]):
        assert client.get(f"/api/v1/borrowers/{handle.borrower.id}", headers=h).status_code == 200
    r = client.post(f"/api/v1/borrowers/{w['in_b'].borrower.id}/reveal", headers=h)
    assert r.status_code == 200
    assert r.json()["id_number"] == w["in_b"].id_number


def test_other_institutions_objects_are_not_found(client, session, runtime, two_branches):
    w = two_branches
    admin = make_staff(session, runtime, w["inst"], roles=("administrator",), password=None)
    manager = make_staff(session, runtime, w["inst"], roles=("branch_manager",), password=None)
    other = make_institution(session, runtime)
    other_branch = make_branch(session, runtime, other)
    other_borrower = make_borrower(session, runtime, other, branch=other_branch, password=None)
    other_staff = make_staff(session, runtime, other, roles=("collector",), branch=other_branch, password=None)
    other_change = ProfileChange(institution_id=other.id, borrower_id=other_borrower.borrower.id,
                                 branch_id=other_branch.id, changes={"occupation": {"old": None, "new": "厨师"}},
                                 status="pending", requested_by_user_id=other_borrower.user.id,
                                 requested_at=runtime.clock.now())
    session.add(other_change)
    session.flush()
    other_role = session.scalars(select(Role).where(Role.institution_id == other.id, Role.code == "collector")).one()
    ha, hm = signed_in(session, runtime, admin.user), signed_in(session, runtime, manager.user)
    session.commit()

    before = snapshot(runtime.db)
    probes = [
        (ha, "GET", f"/api/v1/institutions/{other.id}", None),
        (ha, "PATCH", f"/api/v1/institutions/{other.id}", {"address": "越权"}),
        (ha, "PUT", f"/api/v1/institutions/{other.id}/business-date", {"business_date": "2027-01-01"}),
        (ha, "GET", f"/api/v1/branches/{other_branch.id}", None),
        (ha, "PATCH", f"/api/v1/branches/{other_branch.id}", {"address": "越权"}),
        (ha, "GET", f"/api/v1/staff/{other_staff.staff_id}", None),
        (ha, "PATCH", f"/api/v1/staff/{other_staff.staff_id}", {"position": "越权"}),
        (ha, "POST", f"/api/v1/staff/{other_staff.staff_id}/disable", None),
        (ha, "POST", f"/api/v1/staff/{other_staff.staff_id}/reset-second-factor", None),
        (ha, "PATCH", f"/api/v1/roles/{other_role.id}", {"permissions": ["audit.read"]}),
        (ha, "POST", "/api/v1/branches", {"code": "X1", "name": "越权支行", "institution_id": other.id}),
        (ha, "POST", "/api/v1/staff", {"name": "越权员工", "employee_number": "X1", "phone": next_phone(),
                                       "roles": ["collector"], "institution_id": other.id}),
        (hm, "GET", f"/api/v1/borrowers/{other_borrower.borrower.id}", None),
        (hm, "PATCH", f"/api/v1/borrowers/{other_borrower.borrower.id}", {"address": "越权"}),
        (hm, "POST", f"/api/v1/borrowers/{other_borrower.borrower.id}/reveal", None),
        (hm, "POST", f"/api/v1/borrowers/{other_borrower.borrower.id}/unlock", None),
        (hm, "POST", f"/api/v1/profile-changes/{other_change.id}/approve", {}),
        (hm, "POST", f"/api/v1/staff/{other_staff.staff_id}/unlock", None),
    ]
    for h, method, url, body in probes:
        r = client.request(method, url, json=body, headers=h)
        assert_problem(r, 404)
        assert before.diff(snapshot(runtime.db)) == {}, (method, url)

    assert other.id not in _ids(client.get("/api/v1/institutions", headers=ha))
    assert other_branch.id not in _ids(client.get("/api/v1/branches", headers=ha))
    assert other_staff.staff_id not in _ids(client.get("/api/v1/staff", headers=ha))
    assert other_borrower.borrower.id not in _ids(client.get("/api/v1/borrowers", headers=hm))
    assert other_change.id not in _ids(client.get("/api/v1/profile-changes", headers=hm))
    search = client.post("/api/v1/borrowers/search", headers=hm, json={"q": other_borrower.id_number})
    assert _ids(search) == set()
    by_phone = client.post("/api/v1/borrowers/search", headers=hm, json={"q": other_borrower.phone})
    assert _ids(by_phone) == set()
    audit = client.get("/api/v1/audit-log", headers=ha, params={"page_size": 100}).json()["items"]
    assert audit
    assert all(rec["institution_id"] == w["inst"].id for rec in audit)


def test_a_borrower_sees_only_their_own_profile(client, session, runtime, two_branches):
    w = two_branches
    me = w["in_a"]
    h = signed_in(session, runtime, me.user)
    session.commit()
    r = client.get("/api/v1/me/profile", headers=h)
    assert r.status_code == 200
    assert r.json()["id"] == me.borrower.id
    others = w["in_b"].borrower.id
    for url in ("/api/v1/borrowers", f"/api/v1/borrowers/{me.borrower.id}", f"/api/v1/borrowers/{others}",
                "/api/v1/branches", "/api/v1/profile-changes", "/api/v1/staff", "/api/v1/audit-log"):
        assert_problem(client.get(url, headers=h), 403)
    assert_problem(client.post(f"/api/v1/borrowers/{me.borrower.id}/reveal", headers=h), 403)


def test_a_staff_session_of_the_second_factor_stage_is_refused(client, session, runtime, two_branches):
    """A session that still has to enrol a second factor holds no permission at all."""
    from microcredit.identity import service as identity
    from microcredit.platform.actor import RequestMeta

    admin = make_staff(session, runtime, two_branches["inst"], roles=("administrator",), password=None)
    issued = identity.sessions.start_session(session=session, kit=runtime.identity, user=admin.user, method="test",
                                             meta=RequestMeta(), stage="mfa_enrolment")
    session.commit()
    h = {"Authorization": f"Bearer {issued.token}"}
    before = snapshot(runtime.db)
    body = assert_problem(client.post("/api/v1/branches", headers=h, json={"code": "Z", "name": "某支行"}), 403)
    assert body["code"] == "second_factor_enrolment_required"
    assert before.diff(snapshot(runtime.db)) == {}
    assert client.get("/api/v1/auth/me", headers=h).json()["permissions"] == []


def test_an_expired_session_is_refused(client, session, runtime, clock, two_branches):
    officer = make_staff(session, runtime, two_branches["inst"], roles=("loan_officer",),
                         branch=two_branches["a"], password=None)
    h = signed_in(session, runtime, officer.user)
    session.commit()
    assert client.get("/api/v1/borrowers", headers=h).status_code == 200
    clock.advance(timedelta(minutes=runtime.settings.security.session_idle_minutes + 1))
    assert assert_problem(client.get("/api/v1/borrowers", headers=h), 401)["code"] == "session_expired"


def test_branch_scoped_staff_without_a_branch_see_the_borrowers_without_one(client, session, runtime, two_branches):
    """A head-office officer works the borrowers no branch holds (online sign-ups, their own walk-ins)."""
    w = two_branches
    officer = make_staff(session, runtime, w["inst"], roles=("loan_officer",), password=None)
    h = signed_in(session, runtime, officer.user)
    session.commit()
    r = client.post("/api/v1/borrowers", headers={**h, **idempotency_key()},
                    json={"phone": next_phone(), "real_name": "总部客户", "id_number": next_id_number(),
                          "consent_signed": True})
    assert r.status_code == 201, r.text
    assert r.json()["branch_id"] is None
    listed = _ids(client.get("/api/v1/borrowers", headers=h))
    assert listed == {w["online"].borrower.id, r.json()["id"]}
    for borrower_id in listed:
        assert client.get(f"/api/v1/borrowers/{borrower_id}", headers=h).status_code == 200
    assert_problem(client.get(f"/api/v1/borrowers/{w['in_a'].borrower.id}", headers=h), 404)
