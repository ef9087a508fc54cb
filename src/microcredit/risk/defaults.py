"""The default rule set every institution starts with (code "default", version 1, published).

Its text never changes once released (migration 0013 seeds the same into
existing institutions): a new default needs a new version. Thresholds are the
version's named parameters, which an institution's risk officer edits in a
draft and publishes.
"""

from __future__ import annotations

from typing import Any

from microcredit.risk.assessment import Outcome, Stage
from microcredit.risk.rules import Rule

DEFAULT_CODE = "default"
DEFAULT_NAME = "默认规则 / Default rules"

DEFAULT_PARAMETERS: dict[str, Any] = {
    "require_income": True,
    "served_provinces": [],  # two-digit province codes; empty: everywhere
    "max_dti_pct": 55,
    "max_inquiries_3m": 6,
    "serious_overdue_months": 3,
    "max_apps_id_24h": 2,
    "max_apps_id_30d": 5,
    "max_apps_phone_24h": 2,
    "max_apps_device_24h": 3,
    "max_apps_ip_24h": 5,
    "max_apps_card_24h": 2,
    "max_spending_income_pct": 150,
    "approve_grades": ["A", "B"],
    "approve_max_amount": 5_000_000,  # fen: ¥50,000
    "decline_grades": ["E"],
}

C, E, ID, B, K, F, D = (Stage.COMPLETENESS, Stage.ELIGIBILITY, Stage.IDENTITY, Stage.BUREAU, Stage.KNOCKOUT,
                       Stage.FRAUD, Stage.DECISION)
FAIL, FLAG, MISSING = Outcome.FAIL, Outcome.FLAG, Outcome.MISSING

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(C, "documents_missing", "size(facts.missing_documents) > 0", MISSING,
         params={"count": "size(facts.missing_documents)"}, needed="facts.missing_documents"),
    Rule(C, "income_missing", "params.require_income && facts.monthly_income == null", MISSING,
         needed='["monthly_income"]'),
    Rule(E, "age_out_of_range", "facts.age < facts.age_min || facts.age > facts.age_max", FAIL,
         params={"age": "facts.age", "min": "facts.age_min", "max": "facts.age_max"}),
    Rule(E, "customer_type_not_eligible",
         "size(facts.customer_types) > 0 && !(facts.customer_type in facts.customer_types)", FAIL,
         params={"type": "facts.customer_type"}),
    Rule(E, "region_not_served",
         "size(params.served_provinces) > 0 && !(facts.province in params.served_provinces)", FAIL,
         params={"province": "facts.province"}),
    Rule(ID, "identity_name_mismatch", 'identity.result == "name_mismatch"', MISSING, needed='["name"]'),
    Rule(ID, "identity_not_found", 'identity.result == "not_found"', FAIL),
    Rule(B, "public_record_open", "bureau.open_public_records > 0", FLAG,
         params={"count": "bureau.open_public_records"}),
    Rule(K, "blacklist_hit", "blacklist.hit", FAIL),
    Rule(K, "serious_delinquency", "bureau.current_overdue_months >= params.serious_overdue_months", FAIL,
         params={"months": "bureau.current_overdue_months"}),
    Rule(K, "too_many_inquiries", "bureau.inquiries_3m > params.max_inquiries_3m", FAIL,
         params={"count": "bureau.inquiries_3m", "max": "params.max_inquiries_3m"}),
    Rule(K, "dti_above_limit", "!facts.income_bound && dti_pct > params.max_dti_pct", FAIL,
         params={"dti": "dti_pct", "max": "params.max_dti_pct"}),
    Rule(F, "velocity_id_number",
         "velocity.id_number_24h > params.max_apps_id_24h || velocity.id_number_30d > params.max_apps_id_30d",
         FLAG, params={"day": "velocity.id_number_24h", "month": "velocity.id_number_30d"}),
    Rule(F, "velocity_phone", "velocity.phone_24h > params.max_apps_phone_24h", FLAG,
         params={"count": "velocity.phone_24h"}),
    Rule(F, "velocity_device", "velocity.device_24h > params.max_apps_device_24h", FLAG,
         params={"count": "velocity.device_24h"}),
    Rule(F, "velocity_ip", "velocity.ip_24h > params.max_apps_ip_24h", FLAG, params={"count": "velocity.ip_24h"}),
    Rule(F, "velocity_bank_card", "velocity.bank_card_24h > params.max_apps_card_24h", FLAG,
         params={"count": "velocity.bank_card_24h"}),
    Rule(F, "income_below_spending",
         "facts.monthly_income != null && facts.monthly_spending != null && "
         "facts.monthly_spending * 100 > facts.monthly_income * params.max_spending_income_pct", FLAG),
    Rule(D, "grade_declined", "grade in params.decline_grades", FAIL, params={"grade": "grade"}),
    Rule(D, "outside_approval_envelope",
         "!(grade in params.approve_grades) || facts.amount > params.approve_max_amount", FLAG,
         params={"grade": "grade", "amount": "facts.amount"}),
)
