"""Every golden case taken from Fineract's tests is well formed.

These tests check the data only (keys, dates, amounts, numbering, sources);
they do not run the engine: that comes with the `fineract` profile.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest

from tests.unit.lending.fineract.cases import (
    CASES_DIR,
    COMMIT,
    KINDS,
    REPOSITORY,
    Case,
    case_files,
    load_all,
    load_file,
    read_json,
)

FILES = case_files()
CASES = load_all()
CASE_KEYS = {"id", "source", "kind", "description", "features", "terms", "events", "expected"}
SOURCE_KEYS = {"repository", "commit", "path", "scenario", "lines"}
EVENT_TYPES = {
    "set_business_date", "global_configuration", "cob_workflow", "submit_application", "approve", "undo_approval",
    "disburse", "undo_disbursal", "undo_last_disbursal", "transaction", "transaction_retry_same_idempotency_key",
    "payoff", "undo_transaction", "adjust_transaction", "add_charge", "waive_charge", "undo_waive_charge",
    "inline_cob", "cob_job", "run_job",
    "add_disbursement", "pay_principal", "pay_interest", "add_balance_correction",
}  # fmt: skip
CHECKPOINT_KEYS = {
    "schedule", "schedule_totals", "transactions", "charges", "summary", "status", "reverted_flags",
    "transaction_count", "all_installments_obligations_met", "actualMaturityDate", "lastPaymentAmount",
    "installments", "installments_schedule", "interest_periods", "payable_details", "loan_term_in_days",
    "last_repayment_period", "rate_factors", "fn_values", "period_count_including_disbursement",
    "repayment_period_count", "emi_of_every_period_but_the_last", "outstanding_balance_after_last",
    "every_due_principal_and_due_interest_positive",
}  # fmt: skip

# Money: at most the currency's 2 places.  Everything the tests assert in cents is named here.
MONEY_KEYS = {
    "amount", "principal", "interest", "fees", "penalties", "total_due", "paid", "paid_in_advance", "paid_late",
    "waived", "outstanding", "balance_after", "loan_balance", "overpayment", "emi", "principal_due",
    "interest_period_due_interest", "repayment_period_due_interest", "outstanding_balance_after",
    "outstandingBalance", "payablePrincipal", "payableInterest", "principal_paid", "principal_outstanding",
    "fees_paid", "fees_outstanding", "penalties_paid", "penalties_outstanding", "interest_paid",
    "interest_outstanding", "totalOutstanding", "totalOverpaid", "totalOverdue", "lastPaymentAmount",
    "approvedLoanAmount", "fixedEmiAmount", "maxOutstandingLoanBalance", "emi_of_every_period_but_the_last",
    "outstanding_balance_after_last",
}  # fmt: skip
# Rates and factors: exact decimal strings, as precise as the source asserts them (rate factors: 12 places).
RATE_KEYS = {
    "interestRatePerPeriod", "annualNominalInterestRate", "interestRateFraction", "rate_factor",
    "disbursedAmountPercentageForDownPayment",
}  # fmt: skip
MONEY_RE = re.compile(r"^-?\d+(\.\d{1,2})?$")
DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) for every key of every mapping, recursively."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield path, k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")


def is_date_key(key: str) -> bool:
    return key in ("date", "business_date") or key.endswith(("Date", "_date"))


def ids(cases: list[Any]) -> list[str]:
    return [c.id for c in cases]


def test_there_are_case_files_and_enough_cases():
    assert CASES_DIR.is_dir()
    assert len(FILES) >= 6
    assert len(CASES) >= 40
    kinds = Counter(c.kind for c in CASES)
    assert set(kinds) <= set(KINDS)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_file_names_its_source_and_holds_cases(path: Path):
    doc = read_json(path)  # refuses any JSON number with a fraction
    assert doc["schema"] == 1
    assert doc["source"]["repository"] == REPOSITORY
    assert doc["source"]["commit"] == COMMIT
    assert doc["source"]["path"].endswith((".feature", ".java"))
    assert doc["cases"], "a case file with no case"
    for raw in doc["cases"]:
        assert set(raw) == CASE_KEYS, raw.get("id")
        assert raw["source"]["path"] == doc["source"]["path"]
        assert set(raw["source"]) >= SOURCE_KEYS, raw["id"]
    assert load_file(path).cases


def test_case_ids_are_unique():
    counts = Counter(c.id for c in CASES)
    assert [i for i, n in counts.items() if n > 1] == []


def check_the_source_is_cited(case: Case) -> None:
    s = case.source
    assert s.repository == REPOSITORY
    assert re.fullmatch(r"[0-9a-f]{40}", s.commit)
    assert s.commit == COMMIT
    assert s.path.endswith((".feature", ".java"))
    assert "/" in s.path
    assert s.scenario.strip()
    first, last = s.lines
    assert 1 <= first <= last
    assert case.kind in KINDS
    assert case.description.strip()
    assert case.features
    assert all(isinstance(f, str) and f for f in case.features)


def check_dates_are_iso(case: Case) -> None:
    for where, value in (
        ("terms", case.terms),
        ("events", [dict(e.data) for e in case.events]),
        ("expected", [dict(cp.assertions) for cp in case.expected]),
    ):
        for path, key, v in walk(value, where):
            if is_date_key(key) and v is not None:
                assert isinstance(v, str), f"{path}.{key}"
                assert ISO_RE.match(v), f"{path}.{key}: {v!r}"
                date.fromisoformat(v)
    for cp in case.expected:
        if cp.business_date is not None:
            assert isinstance(cp.business_date, date)


def check_amounts_are_decimal_strings(case: Case) -> None:
    everything = {
        "terms": case.terms,
        "events": [dict(e.data) for e in case.events],
        "expected": [dict(cp.assertions) for cp in case.expected],
    }
    for path, key, v in walk(everything):
        if isinstance(v, float):
            raise AssertionError(f"{path}.{key} is a float")
        if key in MONEY_KEYS and v is not None and not isinstance(v, (dict, list)):
            assert isinstance(v, str), f"{path}.{key}: {v!r} is not a string"
            assert MONEY_RE.match(v), f"{path}.{key}: {v!r} has more than 2 places"
        if key in RATE_KEYS and v is not None:
            assert isinstance(v, str), f"{path}.{key}: {v!r} is not a string"
            assert DECIMAL_RE.match(v), f"{path}.{key}: {v!r}"
    for cp in case.expected:
        for key in ("rate_factors", "fn_values"):
            for v in cp.assertions.get(key, []):
                assert DECIMAL_RE.match(v), v
                try:
                    Decimal(v)
                except InvalidOperation as exc:  # pragma: no cover - the regex already refused it
                    raise AssertionError(v) from exc


def check_events_are_numbered_and_known(case: Case) -> None:
    assert [e.seq for e in case.events] == list(range(1, len(case.events) + 1))
    for e in case.events:
        assert e.type in EVENT_TYPES, e.type
        for key in ("target_seq", "disbursement_seq"):
            target = e.data.get(key)
            if target is not None:
                assert 1 <= target < e.seq, f"event {e.seq} points at {target}"
        if e.type == "waive_charge":
            assert case.events[e.data["target_seq"] - 1].type == "add_charge"
    if case.kind == "loan":
        kinds = [e.type for e in case.events]
        assert "submit_application" in kinds
        submit = kinds.index("submit_application")
        assert all(k in ("set_business_date", "global_configuration", "cob_workflow") for k in kinds[:submit])


def check_checkpoints_follow_the_events(case: Case) -> None:
    assert case.expected
    previous = -1
    for cp in case.expected:
        assert 0 <= cp.after_event <= len(case.events)
        assert cp.after_event >= previous
        previous = cp.after_event
        assert cp.assertions, "a checkpoint that asserts nothing"
        assert set(cp.assertions) <= CHECKPOINT_KEYS, set(cp.assertions) - CHECKPOINT_KEYS
        first, last = cp.lines
        assert case.source.lines[0] <= first <= last


def numbered(rows: list[Mapping[str, Any]]) -> list[int]:
    return [r["number"] for r in rows if r.get("number") is not None]


def check_expected_rows_are_numbered_consecutively(case: Case) -> None:
    for cp in case.expected:
        a = cp.assertions
        for key in ("schedule", "installments_schedule"):
            if key in a:
                nums = numbered(a[key]["rows"])
                assert nums == list(range(1, len(nums) + 1)), f"{key} after event {cp.after_event}: {nums}"
                if "period_count" in a[key]:
                    assert a[key]["period_count"] >= len(nums)
                for row in a[key]["rows"]:
                    assert ISO_RE.match(row["due_date"])
        if "installments" in a:
            nums = [r["number"] for r in a["installments"]]
            assert nums == list(range(nums[0], nums[0] + len(nums))), nums
        if "interest_periods" in a:
            keys = [(r["repayment_index"], r["interest_index"]) for r in a["interest_periods"]]
            assert keys == sorted(set(keys)), keys
        if "transactions" in a:
            assert a["transactions"]["rows"]
            assert isinstance(a["transactions"]["complete"], bool)
        if "schedule_totals" in a:
            assert set(a["schedule_totals"]) <= MONEY_KEYS


def check_a_loan_states_the_terms_that_decide_its_amounts(case: Case) -> None:
    if case.kind != "loan":
        return
    t = case.terms
    for key in (
        "principal",
        "numberOfRepayments",
        "repaymentEvery",
        "repaymentFrequencyType",
        "interestRatePerPeriod",
        "interestRateFrequencyType",
        "interestType",
        "amortizationType",
        "interestCalculationPeriodType",
        "daysInYearType",
        "daysInMonthType",
        "transactionProcessingStrategyCode",
        "loanScheduleType",
        "installmentAmountInMultiplesOf",
        "roundingMode",
        "submittedOnDate",
        "expectedDisbursementDate",
    ):
        assert key in t, key
    assert t["interestType"] in ("DECLINING_BALANCE", "FLAT")
    assert t["amortizationType"] in ("EQUAL_INSTALLMENTS", "EQUAL_PRINCIPAL")
    assert t["interestCalculationPeriodType"] in ("DAILY", "SAME_AS_REPAYMENT_PERIOD")
    assert t["daysInYearType"] in ("ACTUAL", "DAYS_360", "DAYS_364", "DAYS_365")
    assert t["daysInMonthType"] in ("ACTUAL", "DAYS_30")
    assert t["loanScheduleType"] in ("CUMULATIVE", "PROGRESSIVE")
    assert t["roundingMode"] == "HALF_EVEN"
    if t.get("isInterestRecalculationEnabled"):
        for key in (
            "rescheduleStrategyMethod",
            "interestRecalculationCompoundingMethod",
            "recalculationRestFrequencyType",
            "preClosureInterestCalculationStrategy",
        ):
            assert key in t, key


CHECKS = (
    check_the_source_is_cited,
    check_dates_are_iso,
    check_amounts_are_decimal_strings,
    check_events_are_numbered_and_known,
    check_checkpoints_follow_the_events,
    check_expected_rows_are_numbered_consecutively,
    check_a_loan_states_the_terms_that_decide_its_amounts,
)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_the_case_is_well_formed(case: Case):
    """Its source is cited; dates are ISO; amounts are decimal strings of at most 2 places (rates and factors as
    precise as asserted); events are numbered and known; checkpoints follow them; asserted rows are numbered
    1, 2, ...; a loan states the terms that decide its amounts."""
    for check in CHECKS:
        check(case)


def test_a_broken_case_is_refused():
    """The checks do find what they look for: a float amount, a bad date, a gap in the numbering."""
    good = next(c for c in CASES if c.kind == "loan" and any("schedule" in cp.assertions for cp in c.expected))
    for check in CHECKS:
        check(good)
    cp = next(cp for cp in good.expected if "schedule" in cp.assertions)
    rows = [dict(r) for r in cp.assertions["schedule"]["rows"]]
    numbered_rows = [r for r in rows if r.get("number") is not None]
    numbered_rows[-1]["number"] += 1
    gap = replace(good, expected=(replace(cp, assertions={"schedule": {"period_count": 99, "rows": rows}}),))
    with pytest.raises(AssertionError):
        check_expected_rows_are_numbered_consecutively(gap)
    bad_date = replace(good, terms={**good.terms, "submittedOnDate": "01 November 2022"})
    with pytest.raises(AssertionError):
        check_dates_are_iso(bad_date)
    bad_amount = replace(good, terms={**good.terms, "principal": "5000.001"})
    with pytest.raises(AssertionError):
        check_amounts_are_decimal_strings(bad_amount)
    float_amount = replace(good, terms={**good.terms, "principal": 5000.5})
    with pytest.raises(AssertionError):
        check_amounts_are_decimal_strings(float_amount)
