"""What a contract states: its terms snapshot, computed by the lending engine from the application and its
product version (the same quote the borrower saw, at the approved rate, from the business date).

Money and rates are strings (`"12000.00"`, `"12.5"`), so the snapshot is exact JSON and reads the same
in the PDF, the DOCX, the API and the database.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from microcredit.contracts.rendering import amount_in_words
from microcredit.origination import service as origination
from microcredit.parties import service as parties
from microcredit.products import service as products

METHOD_NAMES = {"equal_installment": "等额本息", "equal_principal": "等额本金",
                "interest_monthly_principal_at_maturity": "按月付息、到期还本",
                "interest_quarterly_principal_at_maturity": "按季付息、到期还本",
                "bullet": "到期一次还本付息", "revolving_daily": "按日计息、随借随还"}
UNIT_NAMES = {"day": "天", "week": "周", "month": "个月", "year": "年"}
PAYEE_NAMES = {"lender": "贷款人", "guarantor": "担保机构", "insurer": "保险机构", "platform": "平台"}
PURPOSE_NAMES = {"business": "经营周转", "agriculture": "农业生产", "consumption": "消费", "education": "教育",
                 "medical": "医疗", "renovation": "装修", "vehicle": "购车", "other": "其他"}
DAYS_IN_YEAR = {"ACT/360": 360, "30/360": 360, "ACT/364": 364}


def _percent(value: Decimal, places: str) -> str:
    return f"{value.quantize(Decimal(places), rounding=ROUND_HALF_UP):f}"


def penalty_rate(basis: str, value: Decimal, annual: Decimal) -> Decimal:
    """The penalty interest's annual rate: contract rate × (1 + v %), contract rate + v, or v."""
    if basis == "uplift":
        return annual * (1 + value / 100)
    if basis == "margin":
        return annual + value
    return value


def compute(*, session: Session, application: Any, start: Any) -> dict[str, Any]:
    """The terms snapshot of an approved application's contract, the loan starting on `start`."""
    version = products.catalogue.version_by_id(session=session, version_id=application.product_version_id)
    product_terms = products.catalogue.terms_of(version)
    annual = Decimal(application.annual_rate_percent) if application.annual_rate_percent \
        else product_terms.rate.rate_for(None)
    described = products.caps.description_of(product_terms, amount=application.amount, term=application.term,
                                              method=application.repayment_method, annual_rate=annual, start=start)
    # A group member's loan synced to the group's meetings: the same first due date the loan will have.
    described, _ = origination.handover.synced_description(session=session, application=application,
                                                           description=described)
    quote = products.quote(description=described, language="zh-CN",
                           calendars=products.calendar.calendars_of(session=session,
                                                                    institution_id=application.institution_id))
    data = quote.model_dump(mode="json")
    installments = [{k: row[k] for k in ("number", "due_date", "principal", "interest", "fees", "total",
                                         "balance_after")} for row in data["installments"]]
    days = DAYS_IN_YEAR.get(product_terms.day_count, 365)
    penalty, fee = product_terms.penalty, product_terms.penalty.late_fee
    kind = parties.organisation.institution(session=session, institution_id=application.institution_id).kind
    cap = products.caps.caps_in_force(session=session, institution_kind=kind, on=start).hard_cap_percent
    return {
        "product": {"code": application.product_code, "version": application.product_version_number,
                    "name": product_terms.name_zh},
        "currency": data["currency"],
        "amount": str(application.amount),
        "amount_words": amount_in_words(Decimal(str(application.amount))),
        "annual_rate_percent": f"{annual.normalize():f}",
        "apr_percent": data["apr"]["apr_percent"],
        "monthly_rate_percent": _percent(annual / 12, "0.0001"),
        "daily_rate_percent": _percent(annual / days, "0.00001"),
        "day_count": product_terms.day_count,
        "term": application.term,
        "period_unit": application.period_unit,
        "period_unit_name": UNIT_NAMES.get(application.period_unit, application.period_unit),
        "repayment_method": application.repayment_method,
        "method_name": METHOD_NAMES.get(application.repayment_method, application.repayment_method),
        "purpose": application.purpose,
        "purpose_name": PURPOSE_NAMES.get(application.purpose, application.purpose),
        "purpose_note": application.purpose_note or "",
        "start_date": str(start),
        "maturity_date": installments[-1]["due_date"] if installments else str(start),
        "installments": installments,
        "totals": data["totals"],
        "fees": [{"name": f["name"], "kind": f["kind"], "payee": f["payee"],
                  "payee_name": PAYEE_NAMES.get(f["payee"], f["payee"]), "per_charge": f["per_charge"],
                  "charges": f["charges"], "total": f["total"]} for f in data["fees"]],
        "penalty": {"basis": penalty.basis, "value_percent": f"{penalty.value_percent:f}",
                    "grace_days": penalty.grace_days, "compound": penalty.compound_overdue_interest,
                    "rate_percent": _percent(penalty_rate(penalty.basis, penalty.value_percent, annual), "0.01"),
                    "late_fee": None if fee is None else {"amount": str(fee.amount), "after_days": fee.after_days,
                                                          "percent": f"{fee.percent.normalize():f}"},
                    "cap_percent": f"{cap.normalize():f}"},
    }


def sample() -> dict[str, Any]:
    """A plausible terms snapshot for previewing a template (no database)."""
    balances = ("8336.25", "6662.95", "4980.04", "3287.41", "1585.04", "0.00")
    rows = [{"number": i, "due_date": f"2027-{i:02d}-15", "principal": "1663.75", "interest": "61.25",
             "fees": "5.00", "total": "1730.00", "balance_after": balances[i - 1]} for i in range(1, 7)]
    return {"product": {"code": "SAMPLE", "version": 1, "name": "示例经营贷"}, "currency": "CNY",
            "amount": "10000.00", "amount_words": amount_in_words(Decimal("10000")), "annual_rate_percent": "12",
            "apr_percent": "13.96", "monthly_rate_percent": "1.0000", "daily_rate_percent": "0.03333",
            "day_count": "ACT/360", "term": 6, "period_unit": "month", "period_unit_name": "个月",
            "repayment_method": "equal_installment", "method_name": "等额本息", "purpose": "business",
            "purpose_name": "经营周转", "purpose_note": "示例", "start_date": "2026-12-15",
            "maturity_date": "2027-06-15", "installments": rows,
            "totals": {"principal": "10000.00", "interest": "362.52", "fees": "30.00", "total_payable": "10392.52",
                       "upfront_fees_deducted": "0.00", "paid_at_disbursement": "0.00",
                       "net_cash_received": "10000.00", "total_cost_of_credit": "392.52"},
            "fees": [{"name": "担保费", "kind": "per_installment", "payee": "guarantor", "payee_name": "担保机构",
                      "per_charge": "5.00", "charges": 6, "total": "30.00"}],
            "penalty": {"basis": "uplift", "value_percent": "50", "grace_days": 3, "compound": False,
                        "rate_percent": "18.00", "late_fee": {"amount": "20.00", "after_days": 5, "percent": "0"},
                        "cap_percent": "24"}}
