"""The profile's progressive EMI calculator against Fineract's calculator and generator tests.

`unit_ProgressiveEMICalculatorTest.json` drives ``ProgressiveEMICalculator`` directly (no
loan): a model of repayment periods, then ``addDisbursement``, ``payPrincipal``,
``payInterest``, ``addBalanceCorrection``; `unit_LoanScheduleGeneratorTest.json` generates a
progressive schedule with a broken first period.  This driver replays the same calls on
`lending.fineract.progressive` and compares every asserted value the way the Java test does
(docs/fineract-profile.md §1, "Calculator"): the EMI, the rate factor after
``setScale(12, HALF_EVEN)`` (as a string, as ``toString`` compares it), each interest
period's interest, the repayment period's due interest and principal, the balance after;
payable details on a date; fn values as strings.

Which cases run is decided by a predicate on what they are (`supported`): the kind, the
steps, terms the calculator takes.  Never by case ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from microcredit.lending.daycount import DaysInMonth, DaysInYear
from microcredit.lending.fineract import FineractInputError
from microcredit.lending.fineract.progressive import (
    TWELVE_DIGITS,
    ProgressiveModel,
    ProgressiveTerms,
    add_balance_correction,
    add_disbursement,
    calculator_terms_from_fineract,
    figures,
    fn_value,
    pay_interest,
    pay_principal,
    payable_details,
    progressive_model,
    rate_factor,
)
from microcredit.lending.money import Money
from microcredit.lending.periods import PeriodUnit
from tests.unit.lending.fineract.cases import Case, Checkpoint, load_all
from tests.unit.lending.support import LENDING

KINDS = frozenset({"emi_calculator", "emi_rate_factor", "progressive_schedule"})
CALCULATOR_STEPS = frozenset({"add_disbursement", "pay_principal", "pay_interest", "add_balance_correction"})
"""The calculator calls the driver replays (``ProgressiveEMICalculator``'s public methods)."""

_TWELVE_PLACES = Decimal("1E-12")


def terms_accepted(case: Case) -> bool:
    """Whether `calculator_terms_from_fineract` takes the case's terms."""
    try:
        calculator_terms_from_fineract(_calculator_params(case))
    except FineractInputError:
        return False
    return True


def supported(case: Case) -> bool:
    """A calculator or generator case whose calls are all replayed and whose terms are taken."""
    return (
        case.kind in KINDS
        and {e.type for e in case.events} <= CALCULATOR_STEPS
        and terms_accepted(case)
    )


def _calculator_params(case: Case) -> Mapping[str, Any]:
    params = dict(case.terms)
    if case.kind == "emi_rate_factor":
        params.setdefault("repaymentFrequencyType", "MONTHS")
    return params


CASES = [case for case in load_all() if case.kind in KINDS]
SUPPORTED = [case for case in CASES if supported(case)]


def _periods(case: Case) -> list[tuple[date, date]]:
    if case.kind == "progressive_schedule":
        start = date.fromisoformat(case.terms["scheduleStartDate"])
        unit = case.terms["repaymentFrequencyType"]
        assert unit == "MONTHS", unit
        every = case.terms["repaymentEvery"]
        dues = [_add_months(start, every * k) for k in range(case.terms["numberOfRepayments"] + 1)]
        return list(pairwise(dues))
    return [(date.fromisoformat(p["fromDate"]), date.fromisoformat(p["dueDate"]))
            for p in case.terms["repaymentPeriods"]]


def _add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    year = start.year + month // 12
    return start.replace(year=year, month=month % 12 + 1)


def _minor(terms: ProgressiveTerms, amount: str) -> int:
    return Money.parse(amount, terms.currency).minor


def _amount(terms: ProgressiveTerms, minor: int) -> Decimal:
    return Decimal(minor).scaleb(-terms.places)


def replay(case: Case, terms: ProgressiveTerms, steps: int) -> ProgressiveModel:
    """The model after the first `steps` calls of the case."""
    model = progressive_model(terms, _periods(case))
    if case.kind == "progressive_schedule":
        return add_disbursement(model, date.fromisoformat(case.terms["disbursementDate"]),
                                _minor(terms, case.terms["principal"]))
    for event in case.events[:steps]:
        data = event.data
        if event.type == "add_disbursement":
            model = add_disbursement(model, date.fromisoformat(data["date"]), _minor(terms, data["amount"]))
        elif event.type == "add_balance_correction":
            model = add_balance_correction(model, date.fromisoformat(data["date"]), _minor(terms, data["amount"]))
        else:
            pay = pay_principal if event.type == "pay_principal" else pay_interest
            model = pay(model, date.fromisoformat(data["repaymentPeriodDueDate"]),
                        date.fromisoformat(data["transactionDate"]), _minor(terms, data["amount"]))
    return model


def _twelve(value: Decimal) -> str:
    return str(value.quantize(_TWELVE_PLACES, rounding=ROUND_HALF_EVEN))


def _rate_factor_checks(case: Case, terms: ProgressiveTerms, checkpoint: Checkpoint) -> list[str]:
    problems = []
    periods = _periods(case)
    if "rate_factors" in checkpoint.assertions:
        assert terms.unit is PeriodUnit.MONTH
        actual = [_twelve(rate_factor(terms, p, p[0], p[1])) for p in periods]
        if actual != checkpoint.assertions["rate_factors"]:
            problems.append(f"rate factors: expected {checkpoint.assertions['rate_factors']}, got {actual}")
    if "fn_values" in checkpoint.assertions:
        previous = Decimal(0)
        values = []
        for p in periods:
            plus_one = TWELVE_DIGITS.add(Decimal(_twelve(rate_factor(terms, p, p[0], p[1]))), Decimal(1))
            previous = fn_value(previous, plus_one)
            values.append(str(previous))
        if values != checkpoint.assertions["fn_values"]:
            problems.append(f"fn values: expected {checkpoint.assertions['fn_values']}, got {values}")
    return problems


def check(case: Case, terms: ProgressiveTerms, model: ProgressiveModel, checkpoint: Checkpoint) -> list[str]:
    """Every difference between what the checkpoint asserts and the model."""
    problems: list[str] = []
    numbers = figures(model)
    money = lambda minor: _amount(terms, minor)  # noqa: E731
    for key, value in checkpoint.assertions.items():
        if key in ("rate_factors", "fn_values"):
            continue
        if key == "interest_periods":
            for row in value:
                r, i = row["repayment_index"], row["interest_index"]
                period, figure = model.periods[r], numbers[r]
                actual = {
                    "emi": money(period.emi),
                    # checkPeriod compares doubles: the factor after setScale(12), as a number
                    "rate_factor": Decimal(_twelve(period.interest_periods[i].rate_factor)),
                    "interest_period_due_interest": money(figure.interests[i]),
                    "repayment_period_due_interest": money(figure.due_interest),
                    "principal_due": money(figure.due_principal),
                    "outstanding_balance_after": money(figure.balance_after),
                }
                diff = {k: (row[k], actual[k]) for k in actual if k in row and actual[k] != Decimal(row[k])}
                if diff:
                    problems.append(f"period {r}/{i}: {diff}")
        elif key == "payable_details":
            for row in value:
                details = payable_details(model, date.fromisoformat(row["repaymentPeriodDueDate"]),
                                          date.fromisoformat(row["targetDate"]))
                actual = {"outstandingBalance": money(details.outstanding),
                          "payablePrincipal": money(details.principal),
                          "payableInterest": money(details.interest), "emi": money(details.emi)}
                diff = {k: (row[k], actual[k]) for k in actual if k in row and actual[k] != Decimal(row[k])}
                if diff:
                    problems.append(f"payable {row['repaymentPeriodDueDate']} on {row['targetDate']}: {diff}")
        elif key == "loan_term_in_days":
            if model.loan_term_in_days != value:
                problems.append(f"term: expected {value} days, got {model.loan_term_in_days}")
        elif key == "repayment_period_count":
            if len(model.periods) != value:
                problems.append(f"periods: expected {value}, got {len(model.periods)}")
        elif key == "emi_of_every_period_but_the_last":
            emis = {money(p.emi) for p in model.periods[:-1]}
            if emis != {Decimal(value)}:
                problems.append(f"EMIs: expected {value}, got {emis}")
        elif key == "outstanding_balance_after_last":
            if money(numbers[-1].balance_after) != Decimal(value):
                problems.append(f"last balance: expected {value}, got {money(numbers[-1].balance_after)}")
        elif key == "every_due_principal_and_due_interest_positive":
            positive = all(f.due_principal > 0 and f.due_interest > 0 for f in numbers)
            if positive != value:
                problems.append(f"positive dues: expected {value}, got {positive}")
        elif key == "last_repayment_period":
            ips = model.periods[-1].interest_periods
            actual_ips = [{"index": k, "fromDate": ip.start.isoformat(), "dueDate": ip.end.isoformat()}
                          for k, ip in enumerate(ips)]
            if len(ips) != value["interest_period_count"] or actual_ips != value["interest_periods"]:
                problems.append(f"last period's interest periods: expected {value}, got {actual_ips}")
        elif key == "schedule":
            problems += _schedule(terms, model, value)
        elif key == "period_count_including_disbursement":
            if len(model.periods) + 1 != value:
                problems.append(f"periods with the disbursement: expected {value}, got {len(model.periods) + 1}")
        else:
            problems.append(f"an assertion the driver does not compare: {key}")
    return problems


def _schedule(terms: ProgressiveTerms, model: ProgressiveModel, table: Mapping[str, Any]) -> list[str]:
    problems = []
    numbers = figures(model)
    if table["period_count"] != len(model.periods):
        problems.append(f"periods: expected {table['period_count']}, got {len(model.periods)}")
    for row in table["rows"]:
        k = row["number"] - 1
        period, figure = model.periods[k], numbers[k]
        actual = {
            "from_date": period.start.isoformat(), "due_date": period.due.isoformat(),
            "principal": _amount(terms, figure.due_principal), "interest": _amount(terms, figure.due_interest),
            "total_due": _amount(terms, figure.due_principal + figure.due_interest),
            "balance_after": _amount(terms, figure.balance_after),
        }
        diff = {k: (row[k], v) for k, v in actual.items()
                if k in row and (v != row[k] if isinstance(v, str) else v != Decimal(row[k]))}
        if diff:
            problems.append(f"row {row['number']}: {diff}")
    return problems


def case_id(case: Case) -> str:
    return f"{case.id}[{case.source.path.rsplit('/', 1)[-1]}: {case.source.scenario}]"


@pytest.mark.parametrize("case", SUPPORTED, ids=case_id)
def test_calculator_case(case: Case) -> None:
    terms = calculator_terms_from_fineract(_calculator_params(case))
    failures = []
    for checkpoint in case.expected:
        if case.kind == "emi_rate_factor":
            found = _rate_factor_checks(case, terms, checkpoint)
        else:
            found = check(case, terms, replay(case, terms, checkpoint.after_event), checkpoint)
        failures += [f"after step {checkpoint.after_event} (lines {checkpoint.lines}): {p}" for p in found]
    assert not failures, "\n".join(failures)


def test_payable_details_change_nothing() -> None:
    """``getPayableDetails`` works on a copy: asking leaves the model as it was."""
    case = next(c for c in SUPPORTED if any("payable_details" in cp.assertions for cp in c.expected))
    terms = calculator_terms_from_fineract(_calculator_params(case))
    model = replay(case, terms, 1)
    payable_details(model, model.periods[1].due, model.periods[1].start)
    assert figures(model) == figures(replay(case, terms, 1))


@given(
    principal=st.integers(min_value=100, max_value=10_000_000),
    rate=st.decimals(min_value=0, max_value=Decimal("0.36"), places=4),
    count=st.integers(min_value=1, max_value=36),
    year=st.sampled_from([DaysInYear.D360, DaysInYear.D365, DaysInYear.ACTUAL]),
    disbursed_on=st.integers(min_value=0, max_value=27),
)
@LENDING
def test_the_emi_repays_exactly_what_was_disbursed(
    principal: int, rate: Decimal, count: int, year: DaysInYear, disbursed_on: int
) -> None:
    """P2 + P5: whatever the rate and day count, the periods' principal adds up to the amount
    disbursed, the last balance is 0, every EMI but the last is the same, no interest is negative.
    (At least 1.00 a period: below that the EMI's rounding to a cent repays the loan early and
    Fineract's last EMI goes negative.)"""
    assume(principal >= 100 * count)
    month = DaysInMonth.THIRTY if year is DaysInYear.D360 else DaysInMonth.ACTUAL
    terms = ProgressiveTerms(annual_rate=rate, unit=PeriodUnit.MONTH, every=1, days_in_month=month,
                             days_in_year=year, currency="USD")
    dues = [_add_months(date(2024, 1, 1), k) for k in range(count + 1)]
    model = add_disbursement(progressive_model(terms, list(pairwise(dues))), date(2024, 1, 1 + disbursed_on),
                             principal)
    numbers = figures(model)
    assert sum(f.due_principal for f in numbers) == principal
    assert numbers[-1].balance_after == 0
    assert len({p.emi for p in model.periods[:-1]}) <= 1
    assert all(f.due_interest >= 0 for f in numbers)
