"""Demo data: one institution with two branches, staff in every role, a few borrowers (with their consents),
its holiday calendar, three published loan products (made through the products service), an ID-card photo
and an income proof of the first borrower (through the documents service, into the configured storage;
drawn here with Pillow, so no binary file is kept in the repository), the first entries of its books (a
capital injection, a bank loan, a receipt held in suspense, and an entry posted in error with its reversal)
— posted through the ledger's service, never as rows — and loan applications in the statuses the automated
review leads to, made through the origination service as the borrowers and the loan officer would.

Everything here is invented. ID numbers are generated with valid check
characters for real region codes and birth dates; phone numbers are in the
139 0000 xxxx range. The demo password and the administrator's TOTP secret are
printed by `microcredit demo` and must never be used outside a demo.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from microcredit.clock import local_date
from microcredit.config import DocumentSettings
from microcredit.consent import service as consent
from microcredit.contracts import service as contracts
from microcredit.contracts.signing import SignerFiles
from microcredit.demo import models as demo_models
from microcredit.demo import portfolio
from microcredit.demo.samples import sample_id_card, sample_income_proof, sample_scan
from microcredit.documents import service as documents
from microcredit.identity import service as identity
from microcredit.identity.permissions import ROLE_TEMPLATES, DataScope
from microcredit.identity.principal import Principal
from microcredit.identity.service import IdentityKit
from microcredit.integrations.payments import PaymentProvider
from microcredit.ledger import service as ledger
from microcredit.lending.money import Money
from microcredit.origination import service as origination
from microcredit.origination.schemas import ApplicationCreate, GroupApplicationCreate, GroupMemberPlan
from microcredit.parties import service as parties
from microcredit.parties.schemas import GroupCreate, GroupMeetingWrite
from microcredit.parties.service.borrowers import NewBorrower
from microcredit.platform.actor import Actor, RequestMeta
from microcredit.platform.paging import PageRequest
from microcredit.platform.storage import Storage
from microcredit.platform.validators import id_check_character
from microcredit.products import service as products
from microcredit.products.product_schemas import ProductTerms
from microcredit.risk import samples as risk_samples
from microcredit.risk import service as risk
from microcredit.risk.fraud import service as fraud

INSTITUTION_CODE = "DEMO"
DEMO_PASSWORD = "Demo-Pass-2026"
# Base32 secret of the demo administrator's authenticator (printed by `demo`).
DEMO_ADMIN_TOTP_SECRET = "MICROCREDITDEMOADMINTOTPSECRET22"
# The second administrator's (何婷, who approves contract templates).
DEMO_SECOND_ADMIN_TOTP_SECRET = "MICROCREDITDEMOSECONDADMINTOTP22"


def demo_id_number(region: str, born: date, sequence: int) -> str:
    """A valid 18-digit ID number for invented people."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_character(first17)


@dataclass(frozen=True)
class DemoLogin:
    """A login to print."""

    who: str
    role: str
    phone: str
    note: str = ""


STAFF = (
    # name, employee no, phone, position, branch index (None: head office), roles
    ("王敏", "E0001", "13900000001", "系统管理员", None, ("administrator",)),
    ("李强", "E0002", "13900000002", "城关支行客户经理", 0, ("loan_officer",)),
    ("赵丽", "E0003", "13900000003", "开发区支行客户经理", 1, ("loan_officer",)),
    ("孙伟", "E0004", "13900000004", "风控专员", None, ("risk_officer",)),
    ("周杰", "E0005", "13900000005", "初审员", 0, ("approver_l1",)),
    ("吴芳", "E0006", "13900000006", "复审员", None, ("approver_l2",)),
    ("郑涛", "E0007", "13900000007", "终审员", None, ("approver_l3",)),
    ("钱进", "E0008", "13900000008", "催收员", 0, ("collector",)),
    ("冯琳", "E0009", "13900000009", "财务", None, ("finance",)),
    ("陈刚", "E0010", "13900000010", "城关支行行长", 0, ("branch_manager",)),
    ("褚红", "E0011", "13900000011", "内审", None, ("auditor",)),
    # The second risk officer: approves what 孙伟 proposes for the model registry (maker–checker).
    ("林峰", "E0012", "13900000012", "风控主管", None, ("risk_officer",)),
    # The second administrator: approves the contract templates 王敏 asks to publish (maker–checker).
    ("何婷", "E0013", "13900000013", "合规负责人", None, ("administrator",)),
)
# The demo's contract template version 2: 王敏 drafts it and requests its publication, 何婷 approves it; every
# demo contract is made from it.
TEMPLATE_V2_NOTE = "第八条增加联系方式变更的通知义务"
TEMPLATE_V2_CLAUSE = ("双方以乙方登记的手机号码和本系统站内消息作为通知方式。",
                      "双方以乙方登记的手机号码和本系统站内消息作为通知方式。乙方手机号码或住址变更的，应在变更后五日内"
                      "通知甲方。")

BORROWERS = (
    # name, phone, region, birth, seq, branch index (None: online), type, occupation, income, with password
    ("张三", "13900001001", "360102", date(1985, 3, 12), 11, 0, "sole_trader", "个体户（小吃店）", "9000.00", True),
    ("李四", "13900001002", "360111", date(1990, 7, 1), 22, 0, "farmer", "种植户（蔬菜）", "4500.00", False),
    ("王芳", "13900001003", "360121", date(1993, 11, 20), 24, 1, "consumer", "教师", "7200.00", True),
    ("刘洋", "13900001004", "360103", date(1988, 5, 5), 35, 1, "small_business", "小微企业主（汽修）", "15000.00",
     True),
    ("陈静", "13900001005", "110105", date(1996, 2, 29), 46, None, "consumer", "护士", "8000.00", True),
    # Two joint-liability groups (小组联保) of farmers at 城关支行.
    ("赵建国", "13900001006", "360102", date(1979, 4, 8), 51, 0, "farmer", "种植户（水稻）", "5200.00", True),
    ("孙秀英", "13900001007", "360102", date(1982, 9, 17), 52, 0, "farmer", "养殖户（生猪）", "4800.00", True),
    ("周明", "13900001008", "360102", date(1986, 1, 23), 53, 0, "farmer", "种植户（柑橘）", "6100.00", True),
    ("吴桂兰", "13900001009", "360102", date(1975, 6, 30), 54, 0, "farmer", "养殖户（水产）", "4300.00", True),
    ("郑强", "13900001010", "360102", date(1991, 12, 2), 55, 0, "farmer", "种植户（茶叶）", "5600.00", True),
    ("冯丽", "13900001011", "360102", date(1989, 3, 14), 56, 0, "sole_trader", "个体户（农资店）", "7000.00", True),
)


def _product_terms(first_day: date, **terms: Any) -> ProductTerms:
    base: dict[str, Any] = {
        "day_count": "ACT/360", "business_day_rule": "following",
        "penalty": {"basis": "uplift", "value_percent": "50", "grace_days": 3},
        "allocation_strategy": "due_date_order", "age_min": 18, "age_max": 65, "active_from": first_day.isoformat(),
    }
    return ProductTerms.model_validate({**base, **terms})


def demo_products(first_day: date) -> list[tuple[str, ProductTerms]]:
    """The demo's products: a farm business loan priced by grade, a consumer loan, a quarterly SME loan."""
    return [
        ("FARM-BIZ", _product_terms(
            first_day, name_zh="助农经营贷", name_en="Farm business loan", amount_min="2000.00",
            amount_max="50000.00", term_min=3, term_max=24,
            repayment_methods=["equal_installment", "equal_principal", "interest_monthly_principal_at_maturity"],
            rate={"kind": "by_grade", "grades": {"A": "7.2", "B": "8.4", "C": "9.6", "D": "10.5", "E": "11.4"}},
            fees=[{"name": "担保费", "kind": "per_installment", "percent": "0.02", "payee": "guarantor"}],
            customer_types=["farmer", "sole_trader"], required_documents=["id_card", "income_proof", "land_contract"],
            approval_policy=[{"up_to_amount": "10000.00", "worst_grade": "C", "levels": 1},
                             {"up_to_amount": "30000.00", "worst_grade": "D", "levels": 2},
                             {"up_to_amount": "50000.00", "worst_grade": "E", "levels": 3}],
            limits={"A": "50000.00", "B": "50000.00", "C": "40000.00", "D": "30000.00", "E": "20000.00"},
            max_dsr_percent="70", group_lending=True, accounts={"loan_principal": "130102"})),
        ("CONSUMER", _product_terms(
            first_day, name_zh="个人消费贷", name_en="Personal consumer loan", amount_min="1000.00",
            amount_max="30000.00", term_min=6, term_max=12, repayment_methods=["equal_installment"],
            rate={"kind": "fixed", "annual_rate": "11.5"}, customer_types=["consumer"],
            penalty={"basis": "uplift", "value_percent": "50", "grace_days": 3,
                     "late_fee": {"amount": "10.00", "after_days": 10}},
            required_documents=["id_card", "bank_statement"],
            approval_policy=[{"up_to_amount": "10000.00", "worst_grade": "B", "levels": 1},
                             {"up_to_amount": "30000.00", "worst_grade": "E", "levels": 2}],
            max_dsr_percent="60")),
        ("SME-QTR", _product_terms(
            first_day, name_zh="小微企业按季付息贷", name_en="Small business loan, quarterly interest",
            amount_min="50000.00", amount_max="300000.00", term_min=6, term_max=12,
            repayment_methods=["interest_quarterly_principal_at_maturity", "bullet"],
            rate={"kind": "fixed", "annual_rate": "9"},
            fees=[{"name": "保证保险费", "kind": "upfront_financed", "percent": "0.3", "payee": "insurer"}],
            customer_types=["small_business", "sole_trader"],
            required_documents=["id_card", "business_licence", "tax_record"],
            approval_policy=[{"up_to_amount": "300000.00", "worst_grade": "E", "levels": 3}])),
    ]


# Sub-accounts the demo adds to the chart (code, parent, type, names): FARM-BIZ's principal on its own
# account under 贷款, as an institution that reports its farm lending apart would keep it.
DEMO_ACCOUNTS = (("130102", "1301", "asset", "贷款—助农经营贷本金", "Loans — farm business principal"),)


def seed_accounts(*, session: Session, kit: IdentityKit, institution_id: int) -> None:
    """The demo's sub-accounts, through the ledger's service (idempotent: by code)."""
    chart = {a.code: a.id for a in ledger.accounts.list_accounts(session=session, institution_id=institution_id)}
    for code, parent, kind, name_zh, name_en in DEMO_ACCOUNTS:
        if code not in chart:
            chart[code] = ledger.accounts.create_account(
                session=session, clock=kit.clock, actor=Actor.system(institution_id), institution_id=institution_id,
                code=code, name_zh=name_zh, name_en=name_en, type=kind, parent_id=chart[parent]).id


def seed_products(*, session: Session, kit: IdentityKit, institution_id: int) -> None:
    """Create and publish the demo products through the products service (idempotent: by code)."""
    actor = Actor.system(institution_id)
    seed_accounts(session=session, kit=kit, institution_id=institution_id)
    inst = parties.organisation.institution(session=session, institution_id=institution_id)
    existing = {v.product.code for v in products.catalogue.list_products(session=session,
                                                                           institution_id=institution_id)}
    calendars = products.calendar.calendars_of(session=session, institution_id=institution_id)
    for code, terms in demo_products(date(inst.business_date.year, 1, 1)):
        if code in existing:
            continue
        products.catalogue.create_product(session=session, clock=kit.clock, actor=actor,
                                          institution_id=institution_id, code=code, terms=terms)
        products.catalogue.publish(session=session, clock=kit.clock, actor=actor, institution_id=institution_id,
                                   institution_kind=inst.kind, business_date=inst.business_date, code=code,
                                   number=1, calendars=calendars)


# The document types each demo borrower has on file (the first one's photo and PDF are drawn above;
# the others are sample scans): what their products ask, so that their applications are decided.
DEMO_DOCUMENTS = {
    "13900001001": ("id_card", "income_proof", "land_contract"),
    "13900001002": ("id_card", "income_proof", "land_contract"),
    "13900001003": ("id_card", "bank_statement"),
    "13900001005": ("id_card", "bank_statement"),
}


def seed_documents(*, session: Session, kit: IdentityKit, storage: Storage, policy: DocumentSettings,
                   institution_id: int, borrower_id: int, branch_id: int | None, phone: str) -> None:
    """The borrower's documents of `DEMO_DOCUMENTS`, unless they have documents already."""
    if documents.types_for_party(session, party_id=borrower_id):
        return
    owner = documents.Owner(borrower_id=borrower_id, institution_id=institution_id, branch_id=branch_id)
    for type_ in DEMO_DOCUMENTS.get(phone, ()):
        if phone == BORROWERS[0][1] and type_ in ("id_card", "income_proof"):
            data, filename, mime = ((sample_id_card(), "身份证正面.jpg", "image/jpeg") if type_ == "id_card" else
                                    (sample_income_proof(), "收入证明.pdf", "application/pdf"))
        else:
            data, filename, mime = sample_scan(type_.replace("_", " ").title(), phone[-4:]), f"{type_}.jpg", \
                "image/jpeg"
        documents.upload(session=session, clock=kit.clock, storage=storage, policy=policy,
                         actor=Actor.system(institution_id), owner=owner, type_=type_, data=data, filename=filename,
                         declared_type=mime, channel="branch")


def seed_risk(*, session: Session, kit: IdentityKit, institution_id: int) -> None:
    """The default rules, a second version in force (at most five inquiries in three months) and a
    blacklisted ID number (the preview's `blacklisted` sample), through the service; idempotent."""
    actor = Actor.system(institution_id)
    risk_kit = risk.RiskKit(clock=kit.clock, keys=kit.keys, bureau=risk.current().bureau,
                            id_verifier=risk.current().id_verifier)
    risk.rulesets.seed_defaults(session=session, clock=kit.clock, institution_id=institution_id)
    rule_set = risk.rulesets.rule_set(session=session, institution_id=institution_id, code="default")
    if len(risk.rulesets.versions(session=session, rule_set=rule_set)) == 1:
        draft = risk.rulesets.create_draft(session=session, clock=kit.clock, actor=actor, rule_set=rule_set,
                                           note="演示：三个月内查询不超过 5 次 / demo: at most 5 inquiries in 3 months")
        risk.rulesets.edit_draft(session=session, clock=kit.clock, actor=actor, rule_set=rule_set,
                                 number=draft.number, parameters={**draft.parameters, "max_inquiries_3m": 5},
                                 rules=None, note=None)
        risk.rulesets.publish(session=session, clock=kit.clock, actor=actor, rule_set=rule_set, number=draft.number)
    if not risk.blacklist.entries(session=session, institution_id=institution_id, include_removed=True):
        blacklisted = risk_samples.samples()[risk_samples.BLACKLISTED_SAMPLE].id_number
        risk.blacklist.add(session=session, actor=actor, institution_id=institution_id, kind="id_number",
                           value=blacklisted, reason="演示：冒用他人身份申请 / demo: applied under another's identity",
                           kit=risk_kit)
    seed_fraud_ring(session=session, kit=risk_kit, institution_id=institution_id)


def seed_fraud_ring(*, session: Session, kit: risk.RiskKit, institution_id: int) -> None:
    """Three people applying from one phone handset and paying to one bank card (application numbers
    DEMO-RING-1…3, reviewed but not on the books): the third is referred and opens a fraud case; idempotent."""
    if fraud.cases.page(session=session, institution_id=institution_id, status=None, source=None, offset=0,
                        limit=1)[1]:
        return
    base = risk_samples.base_facts(institution_id=institution_id)
    for n in (1, 2, 3):
        facts = replace(base, application_number=f"DEMO-RING-{n}", name=("钱多多", "孙有财", "李来福")[n - 1],
                        id_number=risk_samples.sample_id_number("941", born=date(1988, 3, (3, 10, 19)[n - 1])),
                        phone=f"1360000{n:04d}", device_id="demo-ring-handset", bank_card="6222020200112233")
        risk.assess(session, facts, kit=kit)


def seed(*, session: Session, kit: IdentityKit, storage: Storage | None = None,
         document_policy: DocumentSettings | None = None, signer: SignerFiles | None = None,
         payments: PaymentProvider | None = None) -> list[DemoLogin]:
    """Create the demo data unless it exists; return the logins to print (documents only given a storage,
    contracts only given a storage and a signing certificate, the living portfolio of loans
    (`demo.portfolio`) only given those and a payment provider as well)."""
    actor = Actor.system()
    logins: list[DemoLogin] = []
    try:
        inst = parties.organisation.institution_by_code(session=session, code=INSTITUTION_CODE)
        created = False
    except Exception:  # not there yet
        inst = parties.organisation.create_institution(
            session=session, clock=kit.clock, actor=actor, code=INSTITUTION_CODE, name="示范小额贷款有限公司",
            name_en="Demo Microcredit Co., Ltd.", business_date=local_date(kit.clock), platform=True,
            contact_phone="0791-88880000", address="江西省南昌市东湖区示范路 1 号")
        created = True
    # The holidays and make-up working days of every year the chinesecalendar package covers
    # (idempotent: a demo database made before the calendar existed gets it on the next run).
    products.calendar.seed(session=session, clock=kit.clock, actor=actor, institution_id=inst.id)
    seed_products(session=session, kit=kit, institution_id=inst.id)
    seed_risk(session=session, kit=kit, institution_id=inst.id)
    if created:
        branches = []
        for code, name, name_en, region in (("BR01", "城关支行", "Chengguan Branch", "360102"),
                                           ("BR02", "开发区支行", "Development Zone Branch", "360111")):
            branches.append(parties.organisation.add_branch(
                session=session, clock=kit.clock, actor=actor, institution_id=inst.id, code=code, name=name,
                name_en=name_en, region_code=region, address=f"南昌市{name}"))
        parties.organisation.update_institution_as(
            session=session, clock=kit.clock, actor=actor, institution_id=inst.id, online_branch_rule="region",
            default_branch_id=branches[0].id)
        for name, number, phone, position, branch_ix, roles in STAFF:
            branch_id = branches[branch_ix].id if branch_ix is not None else None
            user = identity.accounts.create_user(session=session, kit=kit, institution_id=inst.id, kind="staff",
                                                 phone=phone, display_name=name, password=DEMO_PASSWORD,
                                                 branch_id=branch_id, role_codes=roles)
            parties.staff.add_staff_record(session=session, kit=kit, actor=actor, user=user, name=name,
                                           employee_number=number, position=position)
            if "administrator" in roles:
                identity.accounts.set_totp_secret(
                    session=session, kit=kit, user_id=user.id,
                    secret=DEMO_ADMIN_TOTP_SECRET if phone == STAFF[0][2] else DEMO_SECOND_ADMIN_TOTP_SECRET)
        administrators = [identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=phone, kind="staff")[0]
                          for _, _, phone, _, _, roles in STAFF if roles == ("administrator",)]
        seed_template(session=session, kit=kit, institution_id=inst.id, editor_user_id=administrators[0],
                      checker_user_id=administrators[1])
        applicants = []
        for name, phone, region, born, seq, branch_ix, ctype, occupation, income, with_pw in BORROWERS:
            data = NewBorrower(real_name=name, id_number=demo_id_number(region, born, seq), phone=phone,
                               customer_type=ctype, occupation=occupation, monthly_income=Money.parse(income, "CNY"),
                               province="江西省" if region.startswith("36") else "北京市", city="南昌市")
            user = identity.accounts.create_user(session=session, kit=kit, institution_id=inst.id,
                                                 kind="borrower", phone=phone, display_name=name,
                                                 password=DEMO_PASSWORD if with_pw else None,
                                                 role_codes=("borrower",))
            resident = parties.borrowers.parse_id_number(data.id_number, on=inst.business_date)
            if branch_ix is None:  # registered online: placed by the institution's rule
                branch_id, how = parties.organisation.online_branch(
                    session=session, institution_id=inst.id, resident=resident, stated_province=data.province)
            else:
                branch_id, how = branches[branch_ix].id, "branch"
            borrower = parties.borrowers.create_profile(
                session, kit, institution_id=inst.id, data=data, user=user,
                channel="online" if branch_ix is None else "branch", branch_id=branch_id, registered_by=None,
                resident=resident, branch_assignment=how)
            # The three consents, as registration records them: the borrower's own online, signed on
            # paper and confirmed by the system at the branch.
            consent.record_acceptance(
                session=session, clock=kit.clock,
                actor=Actor.system(inst.id).as_user(user.id, "borrower", inst.id) if branch_ix is None else actor,
                institution_id=inst.id, user_id=user.id, borrower_id=borrower.id,
                documents=consent.required_documents(session=session, clock=kit.clock, institution_id=inst.id),
                channel="online" if branch_ix is None else "walk_in")
            if storage is not None:
                seed_documents(session=session, kit=kit, storage=storage, policy=document_policy or DocumentSettings(),
                               institution_id=inst.id, borrower_id=borrower.id, branch_id=branch_id, phone=phone)
            applicants.append(_as(user.id, "borrower", inst.id, branch_id, name))
        session.flush()
        # A trained scorecard scoring in the shadow of every application from here on (never deciding).
        risk_officers = [identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=phone, kind="staff")[0]
                         for _, _, phone, _, _, roles in STAFF if roles == ("risk_officer",)]
        demo_models.seed_challenger(session=session, clock=kit.clock, institution_id=inst.id,
                                    maker_user_id=risk_officers[0], checker_user_id=risk_officers[1])
        officer = _as(identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=STAFF[1][2], kind="staff")[0],
                      "loan_officer", inst.id, branches[0].id, STAFF[1][0])
        borrower_ids = [parties.borrowers.own_profile_id(session=session, principal=b) or 0 for b in applicants]
        officer_br02 = _as(identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=STAFF[2][2],
                                                               kind="staff")[0],
                           "loan_officer", inst.id, branches[1].id, STAFF[2][0])
        submitted = seed_applications(session=session, kit=kit, borrowers=applicants, officer=officer,
                                      borrower_ids=borrower_ids, officer_br02=officer_br02)
        if storage is not None and signer is not None:
            seed_contracts(session=session, kit=kit, files=contracts.Files(storage=storage, signer=signer),
                           submitted=submitted)
        seed_groups(session=session, kit=kit, members=applicants[5:11], officer=officer,
                    borrower_ids=borrower_ids[5:11])
        approvers = [_as(identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=phone, kind="staff")[0],
                         roles[0], inst.id, branches[ix].id if ix is not None else None, name)
                     for name, _, phone, _, ix, roles in STAFF if roles[0].startswith("approver_")]
        seed_reviews(session=session, kit=kit, borrowers=applicants[:5], approvers=approvers)
    seed_books(session=session, kit=kit, institution_id=inst.id, business_date=inst.business_date)
    if created and storage is not None and signer is not None and payments is not None:
        staff = {roles[0]: _as(identity.accounts.user_ids_by_phone(session=session, kit=kit, phone=phone,
                                                                   kind="staff")[0],
                               roles[0], inst.id, branches[ix].id if ix is not None else None, name)
                 for name, _, phone, _, ix, roles in reversed(STAFF)}  # the first of a role (王敏, not 何婷)
        cast = portfolio.Cast(institution_id=inst.id, finance=staff["finance"], manager=staff["branch_manager"],
                              collector=staff["collector"], officer=officer, administrator=staff["administrator"],
                              approvers=approvers, borrowers={b[1]: a for b, a in zip(BORROWERS, applicants,
                                                                                       strict=True)})
        portfolio.seed_portfolio(session=session, kit=kit, storage=storage,
                                 policy=document_policy or DocumentSettings(),
                                 files=contracts.Files(storage=storage, signer=signer), provider=payments, cast=cast)
    for name, _, phone, position, _, roles in STAFF:
        note = ""
        if "administrator" in roles:
            note = f"TOTP secret {DEMO_ADMIN_TOTP_SECRET} (add it to an authenticator app)"
            if phone != STAFF[0][2]:
                note = (f"TOTP secret {DEMO_SECOND_ADMIN_TOTP_SECRET}; approves the contract templates 王敏 asks "
                        "to publish")
        elif roles[0] == "approver_l3":
            note = "enrols an authenticator app at first sign-in"
        logins.append(DemoLogin(f"{name}（{position}）", roles[0], phone, note))
    for name, phone, *_rest, with_pw in BORROWERS:
        logins.append(DemoLogin(name, "borrower", phone, "" if with_pw else "no password: sign in with an SMS code"))
    return logins


def seed_template(*, session: Session, kit: IdentityKit, institution_id: int, editor_user_id: int,
                  checker_user_id: int) -> None:
    """Version 2 of the contract template, published by maker–checker: one administrator edits the draft and
    requests publication, the other approves it (nothing when the institution has more than the default)."""
    templates = contracts.templates
    if len(templates.list_versions(session=session, clock=kit.clock, institution_id=institution_id)) > 1:
        return
    system = Actor.system(institution_id)
    editor = system.as_user(editor_user_id, "staff", institution_id)
    checker = system.as_user(checker_user_id, "staff", institution_id)
    draft = templates.new_draft(session=session, clock=kit.clock, actor=editor, institution_id=institution_id,
                                code="loan")
    templates.update_draft(session=session, clock=kit.clock, actor=editor, institution_id=institution_id,
                           code="loan", number=draft.number,
                           changes={"html": draft.html.replace(*TEMPLATE_V2_CLAUSE), "note": TEMPLATE_V2_NOTE})
    templates.request_publication(session=session, clock=kit.clock, actor=editor, institution_id=institution_id,
                                  code="loan", number=draft.number)
    templates.approve_publication(session=session, clock=kit.clock, actor=checker, institution_id=institution_id,
                                  code="loan", number=draft.number, reason="法务复核通过")


# The demo's first entries: (source ref, days before the business date, description, debit, credit, amount).
BOOKS = (
    ("capital", 180, "股东注资 / Capital injection by the shareholders", "1002", "4001", "5000000.00"),
    ("bank-loan", 160, "工商银行流动资金借款 / Working-capital loan from ICBC", "1002", "2001", "1000000.00"),
    ("suspense", 3, "来源不明的入账，待查 / Unidentified receipt, held in suspense", "1002", "2299", "1200.00"),
    ("error", 2, "误记：支付渠道划转（已冲销）/ Posted in error: channel transfer (reversed)", "1012", "1002",
     "300.00"),
)


def seed_books(*, session: Session, kit: IdentityKit, institution_id: int, business_date: date) -> None:
    """Post the demo's entries that are not in the books yet (each under its own source, so once)."""
    actor = Actor.system(institution_id)
    for ref, days, text, debit, credit, amount in BOOKS:
        source = ledger.Source("demo", ref)
        if ledger.posting.find_by_source(session=session, institution_id=institution_id, source=source):
            continue
        money = Money.parse(amount, "CNY")
        entry = ledger.post(session=session, clock=kit.clock, actor=actor, institution_id=institution_id,
                            business_date=business_date - timedelta(days=days), description=text, source=source,
                            postings=[ledger.Posting(debit, ledger.Side.DEBIT, money),
                                      ledger.Posting(credit, ledger.Side.CREDIT, money)])
        if ref == "error":
            ledger.reverse(session=session, clock=kit.clock, actor=actor, institution_id=institution_id,
                           entry_id=entry.id, business_date=business_date - timedelta(days=1),
                           description="冲销误记分录 / Reversal of the entry posted in error")


def _as(user_id: int, role: str, institution_id: int, branch_id: int | None, name: str) -> Principal:
    """The demo's user acting with their role's default permissions (no session: seeding, not signing in)."""
    template = ROLE_TEMPLATES[role]
    return Principal(user_id=user_id, kind="borrower" if role == "borrower" else "staff",
                     institution_id=institution_id, branch_id=branch_id, display_name=name, session_id=0,
                     permissions=frozenset(template.permissions), roles=(role,),
                     scope=DataScope.OWN if role == "borrower" else template.scope, stage="full",
                     reauthenticated_at=None)


def _plan(code: str, amount: str, term: int, method: str, purpose: str, note: str) -> ApplicationCreate:
    return ApplicationCreate(product_code=code, amount=Money.parse(amount, "CNY"), term=term,
                             repayment_method=method, purpose=purpose, purpose_note=note,
                             monthly_debt_payments=Money.parse("500.00", "CNY"),
                             monthly_spending=Money.parse("2500.00", "CNY"))


# 王芳's husband, the guarantor of her 8,000 loan (joint liability, the whole debt).
DEMO_GUARANTOR = origination.guarantors.NewGuarantor(
    name="刘建华", id_number=demo_id_number("360121", date(1991, 8, 8), 61), phone="13900001031",
    relation="spouse", kind="joint_liability")


def seed_applications(*, session: Session, kit: IdentityKit, borrowers: list[Principal], officer: Principal,
                      borrower_ids: list[int], officer_br02: Principal | None = None
                      ) -> list[tuple[Principal, int, bool]]:
    """Applications through the origination service: a draft, submissions decided by the automated
    review in force (approved, referred to people, declined, returned for documents), a withdrawal and
    a walk-in taken by the loan officer. Seeded history texts nobody. The submitted ones: (who, id, own)."""
    zhang, _li, wang, liu, chen = borrowers[:5]
    submitted: list[tuple[Principal, int, bool]] = []
    assess = origination.review.default_assessor()
    create = origination.applications.create_own
    # 张三: a draft, not yet submitted.
    create(session=session, kit=kit, principal=zhang, device_id="demo-device-zhang", ip="203.0.113.11",
           plan=_plan("FARM-BIZ", "20000.00", 12, "equal_installment", "business", "小吃店进货"))
    # 王芳 and 陈静: submitted online and decided at once.
    for who, plan, device in ((wang, _plan("CONSUMER", "8000.00", 12, "equal_installment", "education", "进修学费"),
                               "demo-device-wang"),
                              (chen, _plan("CONSUMER", "25000.00", 12, "equal_installment", "renovation", "房屋装修"),
                               "demo-device-chen")):
        draft = create(session=session, kit=kit, principal=who, plan=plan, device_id=device, ip="203.0.113.12")
        if who is wang and officer_br02 is not None:
            # Her husband guarantees it: added by 赵丽 (开发区支行) before the decision, his consent signed.
            origination.guarantors.add(session=session, kit=kit, principal=officer_br02, application_id=draft.id,
                                       data=DEMO_GUARANTOR, consent_signed=True)
        origination.applications.submit(session=session, kit=kit, principal=who, application_id=draft.id, own=True,
                                         assess=assess, language="zh-CN", notify=False)
        submitted.append((who, draft.id, True))
    # 王芳 again, a second small loan, approved too (its contract waits for her signature).
    draft = create(session=session, kit=kit, principal=wang, device_id="demo-device-wang", ip="203.0.113.12",
                   plan=_plan("CONSUMER", "3000.00", 6, "equal_installment", "consumption", "家电"))
    origination.applications.submit(session=session, kit=kit, principal=wang, application_id=draft.id, own=True,
                                     assess=assess, language="zh-CN", notify=False)
    submitted.append((wang, draft.id, True))
    # 刘洋: applied, then changed his mind.
    draft = create(session=session, kit=kit, principal=liu, device_id="demo-device-liu", ip="203.0.113.13",
                   plan=_plan("SME-QTR", "100000.00", 12, "interest_quarterly_principal_at_maturity", "business",
                              "汽修设备"))
    origination.applications.withdraw(session=session, kit=kit, principal=liu, application_id=draft.id,
                                      note="资金已另行解决", own=True)
    # 刘洋 again, a smaller loan, submitted before his licence and tax records are on file: returned.
    draft = create(session=session, kit=kit, principal=liu, device_id="demo-device-liu", ip="203.0.113.13",
                   plan=_plan("SME-QTR", "60000.00", 6, "interest_quarterly_principal_at_maturity", "business",
                              "汽修配件周转"))
    origination.applications.submit(session=session, kit=kit, principal=liu, application_id=draft.id, own=True,
                                    assess=assess, language="zh-CN", notify=False)
    # 李四 (no password): a walk-in application taken at the branch by the loan officer, submitted. He states
    # ¥3,000 a month of other loans on ¥4,500 of income: FARM-BIZ's 70 % bound leaves less than its smallest
    # loan needs, so it is declined (debt service ratio) -- and he asks for a person to review it below.
    walk_in = origination.applications.create_walk_in(
        session=session, kit=kit, principal=officer, borrower_id=borrower_ids[1], device_id=None, ip=None,
        plan=_plan("FARM-BIZ", "15000.00", 12, "equal_principal", "agriculture", "大棚蔬菜种苗").model_copy(
            update={"monthly_debt_payments": Money.parse("3000.00", "CNY")}))
    origination.applications.submit(session=session, kit=kit, principal=officer, application_id=walk_in.id,
                                    own=False, assess=assess, language="zh-CN", notify=False)
    submitted.append((officer, walk_in.id, False))
    return submitted


def seed_contracts(*, session: Session, kit: IdentityKit, files: contracts.Files,
                   submitted: list[tuple[Principal, int, bool]]) -> None:
    """The contracts of the approved applications, through the contracts service: the first signed by its
    borrower (with an SMS code of the signing purpose, saved as a sent one is) and by the institution, the
    others made and waiting for the signature."""
    approved = [(who, app_id, own) for who, app_id, own in submitted
                if (origination.applications.get_own(session=session, principal=who, application_id=app_id) if own
                    else origination.applications.get_for_staff(session=session, principal=who,
                                                                application_id=app_id)).application.status
                == "approved"]
    for i, (who, app_id, own) in enumerate(approved):
        contract = contracts.contracts.open_contract(session=session, kit=kit, files=files, principal=who,
                                                     application_id=app_id, own=own)
        if i or not own:
            continue
        phone = identity.accounts.phone(session=session, kit=kit, user_id=who.user_id)
        index = identity.accounts.phone_index(kit, phone)
        code = "246810"
        kit.codes.save(session=session, phone_index=index, purpose=contracts.contracts.SIGN_PURPOSE,
                       code_hash=identity.smscodes.code_hash(kit, index, contracts.contracts.SIGN_PURPOSE, code))
        contracts.contracts.sign(session=session, kit=kit, files=files, principal=who, application_id=app_id,
                                 sms_code=code, document_sha256=contract.pdf_sha256, device_id="demo-device-wang",
                                 meta=RequestMeta(ip="203.0.113.12", user_agent="Demo/1.0 (seed)"), notify=False)



def seed_groups(*, session: Session, kit: IdentityKit, members: list[Principal], officer: Principal,
                borrower_ids: list[int]) -> None:
    """Two joint-liability groups formed by the loan officer, each with a group application under FARM-BIZ:
    the first consented by every member (so submitted and decided), the second waiting for one member."""
    assess = origination.review.default_assessor()
    for g, (name, amounts) in enumerate((("城关联保一组", ("12000.00", "8000.00", "10000.00")),
                                         ("城关联保二组", ("6000.00", "9000.00", "5000.00")))):
        who, ids = members[3 * g:3 * g + 3], borrower_ids[3 * g:3 * g + 3]
        group = parties.groups.create_group(session=session, clock=kit.clock, principal=officer,
                                            data=GroupCreate(name=name, member_ids=ids, leader_id=ids[0]))
        if g == 0:  # the first group meets monthly on the 15th: its members' loans fall due at the meetings
            today = parties.organisation.business_date(session=session, institution_id=officer.institution_id)
            first = (today - timedelta(days=90)).replace(day=15)
            parties.meetings.set_meeting(
                session=session, clock=kit.clock, principal=officer, group_id=group.group.id,
                data=GroupMeetingWrite.model_validate({"frequency": "monthly", "first_on": first.isoformat(),
                                                       "time_of_day": "09:30", "place": "城关村委会二楼会议室"}))
        ga = origination.group_applications.create(
            session=session, kit=kit, principal=officer, ip=None, language="zh-CN", notify=False,
            data=GroupApplicationCreate(
                group_id=group.group.id, product_code="FARM-BIZ", term=12, repayment_method="equal_installment",
                purpose="agriculture",
                members=[GroupMemberPlan(borrower_id=i, amount=Money.parse(a, "CNY")) for i, a in zip(ids, amounts,
                                                                                                   strict=True)]))
        consenting = who if g == 0 else who[:2]  # the second group's third member has not answered yet
        for n, principal in enumerate(consenting):
            part = next(m for m in ga.members if m.user_id == principal.user_id)
            origination.group_applications.consent(
                session=session, kit=kit, principal=principal, application_id=part.application_id,
                ip=f"203.0.113.{30 + 3 * g + n}", device_id=f"demo-device-group-{g}-{n}", assess=assess,
                language="zh-CN", notify=False)


def seed_reviews(*, session: Session, kit: IdentityKit, borrowers: list[Principal], approvers: list[Principal]) -> None:
    """The review in levels, through the origination service: an application approved through 初审,
    复审 and 终审 by three people, one waiting at 复审, one counter-offered to the borrower, and an
    automatic decline whose borrower asked for a human review. Seeded history texts nobody."""
    zhang, li, _wang, _liu, chen = borrowers
    l1, l2, l3 = approvers
    assess = origination.review.default_assessor()
    approvals = origination.approvals

    def referred(who: Principal, plan: ApplicationCreate, device: str) -> Any:
        draft = origination.applications.create_own(session=session, kit=kit, principal=who, plan=plan,
                                                    device_id=device, ip="203.0.113.21")
        return origination.applications.submit(session=session, kit=kit, principal=who, application_id=draft.id,
                                                own=True, assess=assess, language="zh-CN", notify=False).application

    # 张三: a larger farm loan, three levels by the policy, approved by 周杰, 吴芳 and 郑涛 in turn.
    big = referred(zhang, _plan("FARM-BIZ", "40000.00", 24, "equal_installment", "business", "扩大门面、添置设备"),
                   "demo-device-zhang")
    if big.status == "referred":
        for level, who, note in ((1, l1, "经营流水与收入证明相符"), (2, l2, "同意"), (3, l3, "同意放款")):
            approvals.act(session=session, kit=kit, principal=who, application_id=big.id, action="approve",
                          level=level, note=note, override_reason=_override(session, big, "approve"), notify=False)
    # 陈静's referred application (grade D, two levels): 初审 approves it (an override), it waits at 复审.
    waiting = next((a for a in _referred_of(session, chen) if a.review_level == 1), None)
    if waiting is not None:
        approvals.act(session=session, kit=kit, principal=l1, application_id=waiting.id, action="approve", level=1,
                      override_reason=_override(session, waiting, "approve"), note="收入核实，可进入复审", notify=False)
    # 陈静 again: 初审 offers less, over the same term; the offer waits for her.
    offer = referred(chen, _plan("CONSUMER", "20000.00", 12, "equal_installment", "consumption", "家电购置"),
                     "demo-device-chen")
    if offer.status == "referred":
        approvals.act(session=session, kit=kit, principal=l1, application_id=offer.id, action="counter_offer",
                      level=1, amount=Money.parse("12000.00", "CNY"),
                      override_reason=_override(session, offer, "counter_offer", Money.parse("12000.00", "CNY")),
                      note="按收入水平调低额度",
                      notify=False)
    # 李四's walk-in, declined automatically (what his other loans leave of his income): he asks for a person
    # to review it (those loans were paid off last month).
    declined = next((a for a in _declined_of(session, li) if approvals.human_review_available(a)), None)
    if declined is not None:
        approvals.request_human_review(session=session, kit=kit, principal=li, application_id=declined.id,
                                       note="其他贷款已于上月还清，请复核", language="zh-CN", notify=False)


def _override(session: Session, application: Any, action: str, amount: Money | None = None) -> str | None:
    """The demo reviewer's override reason where the act goes against the model (a counter-offer of `amount`
    above the product's offer does too), else none."""
    approvals = origination.approvals
    against = action in approvals.override_needed(session, application) or (
        amount is not None and approvals.counter_above_offer(session, application, amount))
    return "verified_income" if against else None


def _referred_of(session: Session, who: Principal) -> list[Any]:
    return [a for a in origination.applications.list_own(session=session, principal=who,
                                                         page=PageRequest(1, 50)).items if a.status == "referred"]


def _declined_of(session: Session, who: Principal) -> list[Any]:
    return [a for a in origination.applications.list_own(session=session, principal=who,
                                                         page=PageRequest(1, 50)).items if a.status == "declined"]
