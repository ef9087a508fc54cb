"""Turn Apache Fineract's e2e Cucumber features into the golden JSON cases of this folder.

Usage (from the repository root, with a Fineract checkout or an extracted tree)::

    python tests/unit/lending/fineract/tools/extract_e2e.py /path/to/fineract [--report]

It reads the four feature files named in issue 15 (Loan, LoanRepayment,
LoanDownPayment, LoanCharge) and writes ``cases/e2e_<Feature>.json``.

What a step means is taken from the step definitions of the same commit
(``fineract-e2e-tests-core/src/test/java/org/apache/fineract/test/stepdef``);
the loan products the scenarios name come from
``initializer/global/LoanProductGlobalInitializerStep.java`` and
``factory/LoanProductsRequestFactory.java``, the loan requests from
``factory/LoanRequestFactory.java``, the charges from
``initializer/global/ChargeGlobalInitializerStep.java``.  Those files are the
ground truth; the tables below transcribe them (with the line each value
comes from where it matters).

A scenario becomes a case only when every step it takes is understood: an
unknown step, a second loan, a charge-off, a chargeback, a re-age, a
re-amortisation, a reschedule, a credit balance refund or a charge adjustment
makes the scenario skipped (``--report`` lists the skipped ones and why).
Steps that only look at events, journal entries, delinquency or external
owners are dropped: they assert nothing about amounts.

Standard library only.  Nothing here is imported by the tests.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

COMMIT = "4198b0bcf9a94e1c7aa0f386317ba71f40ceb1d9"
REPOSITORY = "apache/fineract"
FEATURE_DIR = "fineract-e2e-tests-runner/src/test/resources/features"
FEATURES = ("Loan", "LoanRepayment", "LoanDownPayment", "LoanCharge")
STEPDEF = "fineract-e2e-tests-core/src/test/java/org/apache/fineract/test/stepdef/loan/LoanStepDef.java"
OUT_DIR = Path(__file__).resolve().parents[1] / "cases"

# ---------------------------------------------------------------------------
# Loan products (LoanProductGlobalInitializerStep + LoanProductsRequestFactory)
# Only the parameters that decide amounts or dates are kept.
# ---------------------------------------------------------------------------
FACTORY = "fineract-e2e-tests-core/src/test/java/org/apache/fineract/test/factory/LoanProductsRequestFactory.java"
INITIALIZER = (
    "fineract-e2e-tests-core/src/test/java/org/apache/fineract/test/initializer/global/"
    "LoanProductGlobalInitializerStep.java"
)

DUE_PFIP_IN_ADVANCE_PPFI = "due-penalty-fee-interest-principal-in-advance-principal-penalty-fee-interest-strategy"
DUE_PIPF_IN_ADVANCE_PIPF = "due-penalty-interest-principal-fee-in-advance-penalty-interest-principal-fee-strategy"

_DEFAULT_ALLOCATION_ORDER = [
    "PAST_DUE_PENALTY",
    "PAST_DUE_FEE",
    "PAST_DUE_PRINCIPAL",
    "PAST_DUE_INTEREST",
    "DUE_PENALTY",
    "DUE_FEE",
    "DUE_PRINCIPAL",
    "DUE_INTEREST",
    "IN_ADVANCE_PENALTY",
    "IN_ADVANCE_FEE",
    "IN_ADVANCE_PRINCIPAL",
    "IN_ADVANCE_INTEREST",
]  # LoanProductGlobalInitializerStep.createPaymentAllocation, lines 553-581


def _allocation(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "transactionType": t,
            "futureInstallmentAllocationRule": r,
            "paymentAllocationOrder": list(_DEFAULT_ALLOCATION_ORDER),
        }
        for t, r in pairs
    ]


_ALLOC_4 = _allocation(
    ("DEFAULT", "NEXT_INSTALLMENT"),
    ("GOODWILL_CREDIT", "LAST_INSTALLMENT"),
    ("MERCHANT_ISSUED_REFUND", "REAMORTIZATION"),
    ("PAYOUT_REFUND", "NEXT_INSTALLMENT"),
)

_COMMON = {
    "currencyCode": "EUR",
    "digitsAfterDecimal": 2,
    "inMultiplesOf": 0,
    "principalThresholdForLastInstallment": 50,
    "allowVariableInstallments": False,
    "isEqualAmortization": False,
    "loanScheduleType": "CUMULATIVE",
    "loanScheduleProcessingType": "HORIZONTAL",
    "repaymentStartDateType": "DISBURSEMENT_DATE",
    "enableDownPayment": False,
    "inArrearsTolerance": None,
    "accountingRule": "ACCRUAL_PERIODIC",
}

# defaultLoanProductsRequestLP1 (factory lines 111-219)
_LP1 = {
    **_COMMON,
    "installmentAmountInMultiplesOf": 1,
    "interestRatePerPeriod": "0",
    "interestRateFrequencyType": "MONTHS",
    "repaymentEvery": 30,
    "repaymentFrequencyType": "DAYS",
    "amortizationType": "EQUAL_INSTALLMENTS",
    "interestType": "DECLINING_BALANCE",
    "interestCalculationPeriodType": "SAME_AS_REPAYMENT_PERIOD",
    "transactionProcessingStrategyCode": "mifos-standard-strategy",
    "daysInYearType": "ACTUAL",
    "daysInMonthType": "ACTUAL",
    "isInterestRecalculationEnabled": False,
    "multiDisburseLoan": True,
    "maxTrancheCount": 10,
    "allowPartialPeriodInterestCalcualtion": True,
    "disallowExpectedDisbursements": True,
    "allowApprovedDisbursedAmountsOverApplied": True,
    "overAppliedCalculationType": "percentage",
    "overAppliedNumber": 50,
}
# defaultLoanProductsRequestLP1InterestFlat (factory lines 221-327)
_LP1_FLAT = {
    **_LP1,
    "interestRatePerPeriod": "12",
    "interestRateFrequencyType": "YEARS",
    "interestType": "FLAT",
    "multiDisburseLoan": False,
    "disallowExpectedDisbursements": False,
    "allowApprovedDisbursedAmountsOverApplied": False,
    "overAppliedCalculationType": None,
    "overAppliedNumber": None,
}
# defaultLoanProductsRequestLP1InterestDeclining (factory lines 329-435)
_LP1_DECLINING = {**_LP1_FLAT, "interestType": "DECLINING_BALANCE"}
# defaultLoanProductsRequestLP1InterestDecliningBalanceDailyRecalculationCompoundingNone (factory lines 550-658)
_LP1_RECALC_NONE = {
    **_LP1_DECLINING,
    "inMultiplesOf": 1,
    "interestCalculationPeriodType": "DAILY",
    "allowPartialPeriodInterestCalcualtion": None,
    "isInterestRecalculationEnabled": True,
    "preClosureInterestCalculationStrategy": "TILL_PRE_CLOSURE_DATE",
    "rescheduleStrategyMethod": "REDUCE_EMI_AMOUNT",
    "interestRecalculationCompoundingMethod": "NONE",
    "recalculationRestFrequencyType": "DAILY",
    "recalculationRestFrequencyInterval": 1,
}
# defaultLoanProductsRequestLP11MonthInterestDecliningBalanceDailyRecalculationCompoundingMonthly
# (factory lines 437-548)
_LP1_RECALC_MONTHLY = {
    **_LP1_RECALC_NONE,
    "repaymentEvery": 1,
    "repaymentFrequencyType": "MONTHS",
    "interestRecalculationCompoundingMethod": "INTEREST",
    "recalculationCompoundingFrequencyType": "MONTHLY",
    "recalculationCompoundingFrequencyInterval": 1,
    "recalculationCompoundingFrequencyOnDayType": 1,
}
# defaultLoanProductsRequestLP2 (factory lines 660-771)
_LP2 = {
    **_LP1,
    "enableDownPayment": True,
    "enableAutoRepaymentForDownPayment": True,
    "disbursedAmountPercentageForDownPayment": "25",
    "repaymentEvery": 15,
    "numberOfRepayments": 3,
}
# defaultLoanProductsRequestLP2NoDown (factory lines 773-881)
_LP2_NO_DOWN = {**_LP1}
# defaultLoanProductsRequestLP2InterestFlat (factory lines 883-992)
_LP2_FLAT = {
    **_LP1_FLAT,
    "enableDownPayment": True,
    "enableAutoRepaymentForDownPayment": True,
    "disbursedAmountPercentageForDownPayment": "25",
    "repaymentEvery": 15,
}
# defaultLoanProductsRequestLP2Emi (factory lines 994-1100)
_LP2_EMI = {
    **_COMMON,
    "installmentAmountInMultiplesOf": None,
    "loanScheduleType": "PROGRESSIVE",
    "interestRatePerPeriod": "12",
    "interestRateFrequencyType": "YEARS",
    "repaymentEvery": 15,
    "repaymentFrequencyType": "DAYS",
    "repaymentStartDateType": "DISBURSEMENT_DATE",
    "amortizationType": "EQUAL_INSTALLMENTS",
    "interestType": "DECLINING_BALANCE",
    "interestCalculationPeriodType": "DAILY",
    "transactionProcessingStrategyCode": "advanced-payment-allocation-strategy",
    "daysInYearType": "ACTUAL",
    "daysInMonthType": "ACTUAL",
    "isInterestRecalculationEnabled": False,
    "multiDisburseLoan": False,
    "allowPartialPeriodInterestCalcualtion": False,
    "disallowExpectedDisbursements": False,
}

_ADV = {
    "transactionProcessingStrategyCode": "advanced-payment-allocation-strategy",
    "loanScheduleType": "PROGRESSIVE",
}

PRODUCTS: dict[str, dict[str, Any]] = {
    "LP1": _LP1,
    "LP1_DUE_DATE": {**_LP1, "dueDaysForRepaymentEvent": 3, "overDueDaysForRepaymentEvent": 3},
    "LP1_INTEREST_FLAT": _LP1_FLAT,
    "LP1_INTEREST_DECLINING_BALANCE_PERIOD_SAME_AS_PAYMENT": _LP1_DECLINING,
    "LP1_INTEREST_DECLINING_BALANCE_PERIOD_DAILY": {
        **_LP1_DECLINING,
        "interestCalculationPeriodType": "DAILY",
        "allowPartialPeriodInterestCalcualtion": False,
    },
    "LP1_1MONTH_INTEREST_DECLINING_BALANCE_DAILY_RECALCULATION_COMPOUNDING_MONTHLY": _LP1_RECALC_MONTHLY,
    "LP1_INTEREST_DECLINING_BALANCE_DAILY_RECALCULATION_COMPOUNDING_NONE": _LP1_RECALC_NONE,
    "LP1_INTEREST_DECLINING_BALANCE_DAILY_RECALCULATION_COMPOUNDING_NONE_RESCHEDULE_REDUCE_NR_INST": {
        **_LP1_RECALC_NONE,
        "rescheduleStrategyMethod": "REDUCE_NUMBER_OF_INSTALLMENTS",
    },
    "LP1_INTEREST_DECLINING_BALANCE_DAILY_RECALCULATION_COMPOUNDING_NONE_RESCHEDULE_RESCH_NEXT_REP": {
        **_LP1_RECALC_NONE,
        "rescheduleStrategyMethod": "RESCHEDULE_NEXT_REPAYMENTS",
    },
    "LP1_INTEREST_DECLINING_BALANCE_DAILY_RECALCULATION_SAME_AS_REPAYMENT_COMPOUNDING_NONE": {
        **_LP1_RECALC_NONE,
        "recalculationRestFrequencyType": "SAME_AS_REPAYMENT_PERIOD",
    },
    "LP1_INTEREST_DECLINING_BALANCE_SAR_RECALCULATION_SAME_AS_REPAYMENT_COMPOUNDING_NONE_MULTIDISB": {
        **_LP1_RECALC_NONE,
        "interestCalculationPeriodType": "SAME_AS_REPAYMENT_PERIOD",
        "recalculationRestFrequencyType": "SAME_AS_REPAYMENT_PERIOD",
        "multiDisburseLoan": True,
        "disallowExpectedDisbursements": True,
        "allowPartialPeriodInterestCalcualtion": True,
        "maxTrancheCount": 10,
    },
    "LP1_PAYMENT_STRATEGY_DUE_IN_ADVANCE": {
        **_LP1,
        "transactionProcessingStrategyCode": DUE_PFIP_IN_ADVANCE_PPFI,
    },
    "LP1_PAYMENT_STRATEGY_DUE_IN_ADVANCE_INTEREST_FLAT": {
        **_LP1_FLAT,
        "transactionProcessingStrategyCode": DUE_PFIP_IN_ADVANCE_PPFI,
    },
    "LP1_PAYMENT_STRATEGY_DUE_IN_ADVANCE_PENALTY_INTEREST_PRINCIPAL_FEE": {
        **_LP1,
        "transactionProcessingStrategyCode": DUE_PIPF_IN_ADVANCE_PIPF,
    },
    "LP1_PAYMENT_STRATEGY_DUE_IN_ADVANCE_PENALTY_INTEREST_PRINCIPAL_FEE_INTEREST_FLAT": {
        **_LP1_FLAT,
        "transactionProcessingStrategyCode": DUE_PIPF_IN_ADVANCE_PIPF,
    },
    "LP1_INTEREST_FLAT_OVERDUE_FROM_AMOUNT": {**_LP1_FLAT, "charges": ["LOAN_PERCENTAGE_LATE_FEE"]},
    "LP1_INTEREST_FLAT_OVERDUE_FROM_AMOUNT_INTEREST": {
        **_LP1_FLAT,
        "charges": ["LOAN_PERCENTAGE_LATE_FEE_AMOUNT_PLUS_INTEREST"],
    },
    "LP2_DOWNPAYMENT": {**_LP2, "enableAutoRepaymentForDownPayment": False},
    "LP2_DOWNPAYMENT_AUTO": _LP2,
    "LP2_DOWNPAYMENT_AUTO_ADVANCED_PAYMENT_ALLOCATION": {**_LP2, **_ADV, "paymentAllocation": _ALLOC_4},
    "LP2_DOWNPAYMENT_ADVANCED_PAYMENT_ALLOCATION": {
        **_LP2,
        **_ADV,
        "enableAutoRepaymentForDownPayment": False,
        "paymentAllocation": _ALLOC_4,
    },
    "LP2_DOWNPAYMENT_INTEREST": {**_LP2_FLAT, "enableAutoRepaymentForDownPayment": False},
    "LP2_DOWNPAYMENT_INTEREST_AUTO": _LP2_FLAT,
    "LP2_DOWNPAYMENT_ADV_PMT_ALLOC_PROGRESSIVE_LOAN_SCHEDULE_HORIZONTAL": {
        **_LP2,
        **_ADV,
        "loanScheduleProcessingType": "HORIZONTAL",
        "enableAutoRepaymentForDownPayment": False,
        "installmentAmountInMultiplesOf": None,
        "paymentAllocation": _ALLOC_4,
    },
    "LP2_DOWNPAYMENT_ADV_PMT_ALLOC_PROGRESSIVE_LOAN_SCHEDULE_VERTICAL": {
        **_LP2,
        **_ADV,
        "loanScheduleProcessingType": "VERTICAL",
        "enableAutoRepaymentForDownPayment": False,
        "installmentAmountInMultiplesOf": None,
        "paymentAllocation": _ALLOC_4,
    },
    "LP2_DOWNPAYMENT_ADV_PMT_ALLOC_PROGRESSIVE_LOAN_SCHEDULE_HORIZONTAL_INSTALLMENT_LEVEL_DELINQUENCY": {
        **_LP2,
        **_ADV,
        "loanScheduleProcessingType": "HORIZONTAL",
        "enableAutoRepaymentForDownPayment": False,
        "installmentAmountInMultiplesOf": None,
        "paymentAllocation": _ALLOC_4,
        "enableInstallmentLevelDelinquency": True,
    },
    "LP2_DOWNPAYMENT_ADV_PMT_ALLOC_PROG_SCHEDULE_HOR_INST_LVL_DELINQUENCY_CREDIT_ALLOCATION": {
        **_LP2,
        **_ADV,
        "loanScheduleProcessingType": "HORIZONTAL",
        "enableAutoRepaymentForDownPayment": False,
        "installmentAmountInMultiplesOf": None,
        "paymentAllocation": _ALLOC_4,
        "enableInstallmentLevelDelinquency": True,
    },
    "LP2_DOWNPAYMENT_ADV_PMT_ALLOC_FIXED_LENGTH": {
        **_LP2,
        **_ADV,
        "loanScheduleProcessingType": "HORIZONTAL",
        "enableAutoRepaymentForDownPayment": False,
        "installmentAmountInMultiplesOf": None,
        "paymentAllocation": _ALLOC_4,
        "enableInstallmentLevelDelinquency": True,
        "fixedLength": 90,
    },
    "LP2_ADV_PYMNT_INTEREST_DAILY_EMI_360_30_INTEREST_RECALCULATION_TILL_PRECLOSE": {
        **_LP2_EMI,
        "daysInYearType": "DAYS_360",
        "daysInMonthType": "DAYS_30",
        "isInterestRecalculationEnabled": True,
        "preClosureInterestCalculationStrategy": "TILL_PRE_CLOSURE_DATE",
        "rescheduleStrategyMethod": "ADJUST_LAST_UNPAID_PERIOD",
        "interestRecalculationCompoundingMethod": "NONE",
        "recalculationRestFrequencyType": "DAILY",
        "recalculationRestFrequencyInterval": 1,
        "paymentAllocation": _allocation(("DEFAULT", "NEXT_INSTALLMENT")),
    },
    "LP2_ADV_PYMNT_INTEREST_DAILY_EMI_360_30_INTEREST_RECALCULATION_TILL_REST_FREQUENCY": {
        **_LP2_EMI,
        "daysInYearType": "DAYS_360",
        "daysInMonthType": "DAYS_30",
        "isInterestRecalculationEnabled": True,
        "preClosureInterestCalculationStrategy": "TILL_REST_FREQUENCY_DATE",
        "rescheduleStrategyMethod": "ADJUST_LAST_UNPAID_PERIOD",
        "interestRecalculationCompoundingMethod": "NONE",
        "recalculationRestFrequencyType": "DAILY",
        "recalculationRestFrequencyInterval": 1,
        "paymentAllocation": _ALLOC_4,
    },
    "LP2_ADV_PMT_ALLOC_PROGRESSIVE_LOAN_SCHEDULE_HORIZONTAL": {
        **_LP2_NO_DOWN,
        **_ADV,
        "loanScheduleProcessingType": "HORIZONTAL",
        "paymentAllocation": _allocation(
            ("DEFAULT", "NEXT_INSTALLMENT"),
            ("GOODWILL_CREDIT", "NEXT_INSTALLMENT"),
            ("MERCHANT_ISSUED_REFUND", "NEXT_INSTALLMENT"),
            ("PAYOUT_REFUND", "NEXT_INSTALLMENT"),
        ),
    },
}

# ---------------------------------------------------------------------------
# Charges (ChargeGlobalInitializerStep, lines 66-140; ids from data/ChargeProductType.java)
# ---------------------------------------------------------------------------
CHARGES: dict[str, dict[str, Any]] = {
    "LOAN_PERCENTAGE_LATE_FEE": {
        "name": "% Late fee",
        "chargeTimeType": "OVERDUE_INSTALLMENT",
        "chargeCalculationType": "PERCENT_OF_AMOUNT",
        "amount": "1.5",
        "penalty": True,
    },
    "LOAN_PERCENTAGE_PROCESSING_FEE": {
        "name": "% Processing fee",
        "chargeTimeType": "SPECIFIED_DUE_DATE",
        "chargeCalculationType": "PERCENT_OF_AMOUNT_AND_INTEREST",
        "amount": "5",
        "penalty": False,
    },
    "LOAN_FIXED_LATE_FEE": {
        "name": "Fixed Late fee",
        "chargeTimeType": "OVERDUE_INSTALLMENT",
        "chargeCalculationType": "FLAT",
        "amount": "25",
        "penalty": True,
    },
    "LOAN_FIXED_RETURNED_PAYMENT_FEE": {
        "name": "Fixed Returned payment fee",
        "chargeTimeType": "SPECIFIED_DUE_DATE",
        "chargeCalculationType": "FLAT",
        "amount": "25",
        "penalty": False,
    },
    "LOAN_SNOOZE_FEE": {
        "name": "Snooze fee",
        "chargeTimeType": "SPECIFIED_DUE_DATE",
        "chargeCalculationType": "FLAT",
        "amount": "25",
        "penalty": False,
    },
    "LOAN_NSF_FEE": {
        "name": "NSF fee",
        "chargeTimeType": "SPECIFIED_DUE_DATE",
        "chargeCalculationType": "FLAT",
        "amount": "25",
        "penalty": True,
    },
    "LOAN_DISBURSEMENT_PERCENTAGE_FEE": {
        "name": "Disbursement percentage fee",
        "chargeTimeType": "DISBURSEMENT",
        "chargeCalculationType": "PERCENT_OF_AMOUNT",
        "amount": "1.5",
        "penalty": False,
    },
    "LOAN_TRANCHE_DISBURSEMENT_PERCENTAGE_FEE": {
        "name": "Tranche Disbursement percentage fee",
        "chargeTimeType": "TRANCHE_DISBURSEMENT",
        "chargeCalculationType": "PERCENT_OF_DISBURSEMENT_AMOUNT",
        "amount": "1.5",
        "penalty": False,
    },
    "LOAN_INSTALLMENT_PERCENTAGE_FEE": {
        "name": "Installment percentage fee",
        "chargeTimeType": "INSTALMENT_FEE",
        "chargeCalculationType": "PERCENT_OF_AMOUNT_AND_INTEREST",
        "amount": "1.5",
        "penalty": False,
    },
    "LOAN_PERCENTAGE_LATE_FEE_AMOUNT_PLUS_INTEREST": {
        "name": "% Late fee amount+interest",
        "chargeTimeType": "OVERDUE_INSTALLMENT",
        "chargeCalculationType": "PERCENT_OF_AMOUNT_AND_INTEREST",
        "amount": "1.5",
        "penalty": True,
    },
}

MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
}


MONATE = {
    m: i
    for i, m in enumerate(
        [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        start=1,
    )
}  # the de_DE locale of one processing-charge step


def iso(text: str) -> str:
    """'1 November 2022' / '01 November 2022' (or a German month name) -> '2022-11-01'."""
    day, month, year = text.strip().split()
    return date(int(year), MONTHS.get(month) or MONATE[month], int(day)).isoformat()


def money(text: str | None) -> str | None:
    """A decimal string as the test writes it, normalised to the currency's 2 places (never more precise)."""
    if text is None:
        return None
    value = Decimal(text.strip())
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -2:
        return str(value)  # more precise than cents: keep exactly what is asserted
    return str(value.quantize(Decimal("0.01")))


def rate(text: str) -> str:
    value = Decimal(text.strip())
    return format(value.normalize(), "f")


# ---------------------------------------------------------------------------
# Feature parsing
# ---------------------------------------------------------------------------
class Step:
    def __init__(self, keyword: str, text: str, line: int) -> None:
        self.keyword = keyword
        self.text = text
        self.line = line
        self.table: list[list[str | None]] = []
        self.last_line = line


class Scenario:
    def __init__(self, name: str, line: int, tags: list[str], outline: bool) -> None:
        self.name = name
        self.line = line
        self.end_line = line
        self.tags = tags
        self.outline = outline
        self.steps: list[Step] = []


STEP_RE = re.compile(r"^\s*(Given|When|Then|And|But)\s+(.*?)\s*$")


def parse_feature(text: str) -> list[Scenario]:
    scenarios: list[Scenario] = []
    tags: list[str] = []
    current: Scenario | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            tags.extend(t for t in line.split() if t.startswith("@"))
            continue
        if line.startswith(("Scenario:", "Scenario Outline:")):
            outline = line.startswith("Scenario Outline:")
            current = Scenario(line.split(":", 1)[1].strip(), number, tags, outline)
            scenarios.append(current)
            tags = []
            continue
        if current is None:
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            current.steps[-1].table.append([c if c != "" else None for c in cells])
            current.steps[-1].last_line = number
            current.end_line = number
            continue
        m = STEP_RE.match(raw)
        if m:
            current.steps.append(Step(m.group(1), m.group(2), number))
            current.end_line = number
        elif line.startswith("Examples:"):
            current.end_line = number
    return scenarios


# ---------------------------------------------------------------------------
# Step handling
# ---------------------------------------------------------------------------
class Unsupported(Exception):
    pass


class Case:
    """The state of one scenario while its steps are read."""

    def __init__(self, feature: str, scenario: Scenario) -> None:
        self.feature = feature
        self.scenario = scenario
        self.business_date: str | None = None
        self.product_edits: dict[str, dict[str, Any]] = {}
        self.terms: dict[str, Any] | None = None
        self.events: list[dict[str, Any]] = []
        self.expected: list[dict[str, Any]] = []
        self.last_repayment_event: int | None = None
        self.last_due_date_charge_event: int | None = None
        self.last_nsf_charge_event: int | None = None
        self.tags: set[str] = set()

    # events -----------------------------------------------------------------
    def add_event(self, event: dict[str, Any], step: Step) -> int:
        event = {"seq": len(self.events) + 1, **event, "line": step.line}
        self.events.append(event)
        return len(self.events)

    def check(self, kind: str, value: Any, step: Step) -> None:
        after = len(self.events)
        if self.expected and self.expected[-1]["after_event"] == after and kind not in self.expected[-1]:
            cp = self.expected[-1]
            cp["lines"][1] = step.last_line
        else:
            cp = {"after_event": after, "business_date": self.business_date, "lines": [step.line, step.last_line]}
            self.expected.append(cp)
        cp[kind] = value


COLS_SCHEDULE = {
    "Nr": "number",
    "Days": "days",
    "Date": "due_date",
    "Paid date": "paid_date",
    "Balance of loan": "balance_after",
    "Principal due": "principal",
    "Interest": "interest",
    "Fees": "fees",
    "Penalties": "penalties",
    "Due": "total_due",
    "Paid": "paid",
    "In advance": "paid_in_advance",
    "Late": "paid_late",
    "Waived": "waived",
    "Outstanding": "outstanding",
}
COLS_TOTALS = {
    "Principal due": "principal",
    "Interest": "interest",
    "Fees": "fees",
    "Penalties": "penalties",
    "Due": "total_due",
    "Paid": "paid",
    "In advance": "paid_in_advance",
    "Late": "paid_late",
    "Waived": "waived",
    "Outstanding": "outstanding",
}
COLS_TXN = {
    "Transaction date": "date",
    "Transaction Type": "type",
    "Amount": "amount",
    "Principal": "principal",
    "Interest": "interest",
    "Fees": "fees",
    "Penalties": "penalties",
    "Loan Balance": "loan_balance",
    "Overpayment": "overpayment",
    "Reverted": "reverted",
}
COLS_CHARGE = {
    "Name": "name",
    "isPenalty": "penalty",
    "Payment due at": "charge_time",
    "Due as of": "due_date",
    "Calculation type": "calculation",
    "Due": "amount",
    "Paid": "paid",
    "Waived": "waived",
    "Outstanding": "outstanding",
}
DATE_KEYS = {"due_date", "paid_date", "date"}
INT_KEYS = {"number", "days"}
TEXT_KEYS = {"type", "name", "charge_time", "calculation"}
BOOL_KEYS = {"reverted", "penalty"}


def table_rows(table: list[list[str | None]], columns: dict[str, str]) -> list[dict[str, Any]]:
    header = table[0]
    rows = []
    for raw in table[1:]:
        row: dict[str, Any] = {}
        for head, cell in zip(header, raw, strict=True):
            assert head is not None
            key = columns[head]
            if cell is None:
                row[key] = None
            elif key in DATE_KEYS:
                row[key] = iso(cell)
            elif key in INT_KEYS:
                row[key] = int(cell)
            elif key in TEXT_KEYS:
                row[key] = cell
            elif key in BOOL_KEYS:
                row[key] = {"true": True, "false": False}[cell]
            else:
                row[key] = money(cell)
        rows.append(row)
    return rows


Q = r'"([^"]*)"'
NUM = r"(-?[0-9]+(?:\.[0-9]+)?)"


def new_terms(case: Case, product: str) -> dict[str, Any]:
    if product not in PRODUCTS:
        raise Unsupported(f"product {product} is not defined by the initializer")
    terms = copy.deepcopy(PRODUCTS[product])
    terms.update(copy.deepcopy(case.product_edits.get(product, {})))
    terms = {"product": product, **terms}
    charges = terms.pop("charges", [])
    if charges:
        terms["productCharges"] = [{"charge": c, **CHARGES[c]} for c in charges]
    terms["roundingMode"] = "HALF_EVEN"  # c_configuration 'rounding-mode' = 6, untouched by the e2e set-up
    terms["globalConfiguration"] = {  # GlobalConfigurationGlobalInitializerStep, lines 40-46
        "interest-charged-from-date-same-as-disbursal-date": True,
        "enable-business-date": True,
        "enable-automatic-cob-date-adjustment": True,
    }
    return terms


def default_loan_request(case: Case, submitted: str) -> dict[str, Any]:
    """LoanRequestFactory.defaultLoansRequest (lines 81-102)."""
    terms = new_terms(case, "LP1")
    terms.update(
        {
            "submittedOnDate": submitted,
            "expectedDisbursementDate": submitted,
            "principal": "1000.00",
            "loanTermFrequency": 30,
            "loanTermFrequencyType": "DAYS",
            "numberOfRepayments": 1,
            "repaymentEvery": 30,
            "repaymentFrequencyType": "DAYS",
            "interestRatePerPeriod": "0",
            "interestType": "FLAT",
            "interestCalculationPeriodType": "SAME_AS_REPAYMENT_PERIOD",
            "amortizationType": "EQUAL_INSTALLMENTS",
            "transactionProcessingStrategyCode": "mifos-standard-strategy",
            "graceOnArrearsAgeing": 3,
            "maxOutstandingLoanBalance": "10000.00",
        }
    )
    return terms


STRATEGY = {
    "PENALTIES_FEES_INTEREST_PRINCIPAL_ORDER": "mifos-standard-strategy",
    "HEAVENSFAMILY_UNIQUE": "heavensfamily-strategy",
    "CREOCORE_UNIQUE": "creocore-strategy",
    "OVERDUE_DUE_FEE_INT_PRINCIPAL": "rbi-india-strategy",
    "PRINCIPAL_INTEREST_PENALTIES_FEES_ORDER": "principal-interest-penalties-fees-order-strategy",
    "INTEREST_PRINCIPAL_PENALTIES_FEES_ORDER": "interest-principal-penalties-fees-order-strategy",
    "EARLY_REPAYMENT_STRATEGY": "early-repayment-strategy",
    "DUE_PENALTY_FEE_INTEREST_PRINCIPAL_IN_ADVANCE_PRINCIPAL_PENALTY_FEE_INTEREST": DUE_PFIP_IN_ADVANCE_PPFI,
    "DUE_PENALTY_INTEREST_PRINCIPAL_FEE_IN_ADVANCE_PENALTY_INTEREST_PRINCIPAL_FEE": DUE_PIPF_IN_ADVANCE_PIPF,
    "ADVANCED_PAYMENT_ALLOCATION": "advanced-payment-allocation-strategy",
}


def customized_loan(case: Case, step: Step, *, emi: bool = False, fixed_length: int | None = None) -> None:
    """LoanStepDef.createCustomizedLoan (lines 1960-2020) / createFullyCustomizedLoanFixedLength (lines 385-455)."""
    row = step.table[1]
    (
        product,
        submit,
        principal,
        annual,
        itype,
        icalc,
        amort,
        term,
        term_type,
        every,
        freq,
        n,
        grace_p,
        grace_i,
        grace_charged,
        strategy,
    ) = row[:16]
    cells = (product, submit, principal, annual, itype, icalc, amort, term, term_type, every, freq, n, grace_p, grace_i)
    if not all(cells) or grace_charged is None or strategy is None:
        raise Unsupported("a loan table with an empty cell")
    terms = default_loan_request(case, iso(submit))
    terms.update(new_terms(case, product))
    terms.update(
        {
            "submittedOnDate": iso(submit),
            "expectedDisbursementDate": iso(submit),
            "principal": money(principal),
            "interestRatePerPeriod": rate(annual),
            "interestType": itype,
            "interestCalculationPeriodType": icalc,
            # the e2e enum's EQUAL_PRINCIPAL_PAYMENTS is Fineract's AmortizationMethod.EQUAL_PRINCIPAL (value 0)
            "amortizationType": {"EQUAL_PRINCIPAL_PAYMENTS": "EQUAL_PRINCIPAL"}.get(amort, amort),
            "loanTermFrequency": int(term),
            "loanTermFrequencyType": term_type,
            "repaymentEvery": int(every),
            "repaymentFrequencyType": freq,
            "numberOfRepayments": int(n),
            "graceOnPrincipalPayment": int(grace_p),
            # The step sets graceOnInterestPayment twice: the second call, with the
            # "interest free period" column, wins; graceOnInterestCharged is never sent.
            "graceOnInterestPayment": int(grace_charged),
            "transactionProcessingStrategyCode": STRATEGY[strategy],
        }
    )
    if int(grace_i) != int(grace_charged):
        terms["_note_graceOnInterestPayment_column"] = int(grace_i)
    if emi:
        terms["fixedEmiAmount"] = "555.00"
    if fixed_length is not None:
        terms["fixedLength"] = fixed_length
    submit_application(case, terms, step)


def submit_application(case: Case, terms: dict[str, Any], step: Step) -> None:
    """The loan application: its terms, and an event that marks when it was made."""
    case.terms = terms
    case.add_event(
        {
            "type": "submit_application",
            "date": terms["submittedOnDate"],
            "expectedDisbursementDate": terms["expectedDisbursementDate"],
        },
        step,
    )


def handle(case: Case, step: Step) -> None:
    t = step.text
    m: re.Match[str] | None

    def ev(event: dict[str, Any]) -> int:
        if case.terms is None and event["type"] not in ("set_business_date", "global_configuration"):
            raise Unsupported(f"event before the loan exists: {t}")
        return case.add_event(event, step)

    # --- business date, configuration, COB ---------------------------------------------------
    if m := re.fullmatch(rf"Admin sets the business date to {Q}", t):
        case.business_date = iso(m.group(1))
        case.add_event({"type": "set_business_date", "date": case.business_date}, step)
        return
    if t == "Admin runs inline COB job for Loan":
        ev({"type": "inline_cob", "business_date": case.business_date})
        case.tags.add("cob")
        return
    if t == "Admin runs COB job":
        ev({"type": "cob_job", "business_date": case.business_date})
        case.tags.add("cob")
        return
    if t == "Admin runs the Increase Business Date by 1 day job":
        assert case.business_date
        case.business_date = (date.fromisoformat(case.business_date) + timedelta(days=1)).isoformat()
        ev({"type": "set_business_date", "date": case.business_date, "by_job": "Increase Business Date by 1 day"})
        return
    if t in (
        "Admin runs the Add Accrual Transactions job",
        "Admin runs the Add Periodic Accrual Transactions job",
        "Admin runs the Loan Delinquency Classification job",
    ):
        ev({"type": "run_job", "job": t.removeprefix("Admin runs the ").removesuffix(" job")})
        return
    if m := re.fullmatch(rf"Global configuration {Q} is (enabled|disabled)", t):
        case.add_event({"type": "global_configuration", "name": m.group(1), "enabled": m.group(2) == "enabled"}, step)
        return
    if m := re.fullmatch(rf"Global config {Q} value set to {Q}", t):
        case.add_event({"type": "global_configuration", "name": m.group(1), "value": m.group(2)}, step)
        return
    if t == "Admin creates a client with random data":
        return
    if m := re.fullmatch(rf"Admin (puts|removes) {Q} business step into LOAN_CLOSE_OF_BUSINESS workflow", t):
        case.add_event(
            {"type": "cob_workflow", "action": "add" if m.group(1) == "puts" else "remove", "step": m.group(2)}, step
        )
        if m.group(2) == "LOAN_INTEREST_RECALCULATION":
            case.tags.add("cob_interest_recalculation")
        return

    # --- product edits ---------------------------------------------------------------------------
    if m := re.fullmatch(
        rf"Admin set {Q} loan product {Q} transaction type to {Q} future installment allocation rule", t
    ):
        product, ttype, rule = m.groups()
        if case.terms is not None:
            # A loan copies the product's payment allocation rules when it is created
            # (LoanPaymentAllocationRule rows of the loan), so a later edit of the product
            # does not reach it; the scenarios make it to leave the product as they found it.
            return
        alloc = copy.deepcopy(
            case.product_edits.get(product, {}).get("paymentAllocation")
            or PRODUCTS[product].get("paymentAllocation")
            or []
        )
        for a in alloc:
            if a["transactionType"] == ttype:
                a["futureInstallmentAllocationRule"] = rule
        case.product_edits.setdefault(product, {})["paymentAllocation"] = alloc
        return
    if m := re.fullmatch(rf"Admin sets repaymentStartDateType for {Q} loan product to {Q}", t):
        if case.terms is None:
            case.product_edits.setdefault(m.group(1), {})["repaymentStartDateType"] = m.group(2)
            return
        if m.group(2) == "DISBURSEMENT_DATE" and case.terms.get("repaymentStartDateType") != "DISBURSEMENT_DATE":
            return  # restores the product after the last assertion (the loan reads it from the product)
        if m.group(2) == "DISBURSEMENT_DATE":
            return
        raise Unsupported("product edited after the loan was created")

    # --- loan creation -----------------------------------------------------------------------------
    if m := re.fullmatch(rf"Admin creates a new default Loan with date: {Q}", t):
        submit_application(case, default_loan_request(case, iso(m.group(1))), step)
        return
    if m := re.fullmatch(
        rf"Admin successfully creates a new customised Loan submitted on date: {Q}, with Principal: {Q}, "
        r"a loanTermFrequency: (\d+) months, and numberOfRepayments: (\d+)",
        t,
    ):
        submit, principal, term, n = m.groups()
        terms = default_loan_request(case, iso(submit))
        terms.update(
            {
                "principal": money(principal),
                "loanTermFrequency": int(term),
                "loanTermFrequencyType": "MONTHS",
                "numberOfRepayments": int(n),
                "repaymentEvery": int(term) // int(n),
                "repaymentFrequencyType": "MONTHS",
            }
        )
        submit_application(case, terms, step)
        return
    if t == "Admin creates a fully customized loan with the following data:":
        customized_loan(case, step)
        return
    if t == "Admin creates a fully customized loan with emi and the following data:":
        customized_loan(case, step, emi=True)
        return
    if m := re.fullmatch(
        r"Admin creates a fully customized loan with fixed length (\d+) and with the following data:", t
    ):
        customized_loan(case, step, fixed_length=int(m.group(1)))
        return

    # --- approval, disbursement --------------------------------------------------------------------
    if m := re.fullmatch(
        rf"Admin successfully approves the loan on {Q} with {Q} amount and expected disbursement date on {Q}", t
    ):
        ev(
            {
                "type": "approve",
                "date": iso(m.group(1)),
                "approvedLoanAmount": money(m.group(2)),
                "expectedDisbursementDate": iso(m.group(3)),
            }
        )
        return
    if m := re.fullmatch(
        rf"Admin fails to approve the loan on {Q} with {Q} amount and expected disbursement date on {Q} "
        r"because of wrong (date|amount)",
        t,
    ):
        ev(
            {
                "type": "approve",
                "date": iso(m.group(1)),
                "approvedLoanAmount": money(m.group(2)),
                "expectedDisbursementDate": iso(m.group(3)),
                "expect_rejected": f"wrong {m.group(4)}",
            }
        )
        return
    if m := re.fullmatch(rf"Admin successfully disburse the loan on {Q} with {Q} EUR transaction amount", t):
        ev({"type": "disburse", "date": iso(m.group(1)), "amount": money(m.group(2))})
        case.tags.add("disbursement")
        return
    if m := re.fullmatch(
        rf"Admin successfully disburse the loan on {Q} with {Q} EUR transaction amount and {Q} fixed emi amount", t
    ):
        ev(
            {
                "type": "disburse",
                "date": iso(m.group(1)),
                "amount": money(m.group(2)),
                "fixedEmiAmount": money(m.group(3)),
            }
        )
        return
    if m := re.fullmatch(
        rf"Admin successfully disburse the loan on {Q} with {Q} EUR transaction amount, {Q} EUR fixed emi "
        rf"amount and adjust repayment date on {Q}",
        t,
    ):
        ev(
            {
                "type": "disburse",
                "date": iso(m.group(1)),
                "amount": money(m.group(2)),
                "fixedEmiAmount": money(m.group(3)),
                "adjustRepaymentDate": iso(m.group(4)),
            }
        )
        return
    if m := re.fullmatch(
        rf"Admin fails to disburse the loan on {Q} with {Q} EUR transaction amount because of wrong "
        r"(date|amount)",
        t,
    ):
        ev(
            {
                "type": "disburse",
                "date": iso(m.group(1)),
                "amount": money(m.group(2)),
                "expect_rejected": f"wrong {m.group(3)}",
            }
        )
        return
    if m := re.fullmatch(
        rf"Admin fails to disburse the loan on {Q} with {Q} EUR transaction amount because disbursement "
        rf"date is earlier than {Q}",
        t,
    ):
        ev(
            {
                "type": "disburse",
                "date": iso(m.group(1)),
                "amount": money(m.group(2)),
                "expect_rejected": f"disbursement date is earlier than {iso(m.group(3))}",
            }
        )
        return
    if t in ("Admin successfully undo disbursal", "Admin can successfully undone the loan disbursal"):
        ev({"type": "undo_disbursal"})
        case.tags.add("reversal")
        return
    if t == "Admin successfully undo last disbursal":
        ev({"type": "undo_last_disbursal"})
        case.tags.add("reversal")
        return
    if t == "Admin can successfully undone the loan approval":
        ev({"type": "undo_approval"})
        return

    # --- money in ---------------------------------------------------------------------------------
    if m := re.fullmatch(rf"Customer makes {Q} repayment on {Q} with {NUM} EUR transaction amount", t):
        idx = ev(
            {
                "type": "transaction",
                "transactionType": "REPAYMENT",
                "paymentType": m.group(1),
                "date": iso(m.group(2)),
                "amount": money(m.group(3)),
            }
        )
        case.last_repayment_event = idx
        case.tags.add("repayment")
        return
    if m := re.fullmatch(
        rf"Customer makes {Q} repayment on {Q} with {NUM} EUR transaction amount \(and transaction fails "
        r"because of wrong date\)",
        t,
    ):
        ev(
            {
                "type": "transaction",
                "transactionType": "REPAYMENT",
                "paymentType": m.group(1),
                "date": iso(m.group(2)),
                "amount": money(m.group(3)),
                "expect_rejected": "transaction date after the business date",
            }
        )
        return
    if m := re.fullmatch(
        rf"(?:Customer|Admin) makes {Q} transaction with {Q} payment type on {Q} with {NUM} EUR transaction "
        r"amount(?: and (?:self|system)-generated Idempotency key)?",
        t,
    ):
        ttype, ptype, day, amount = m.groups()
        if ttype not in ("REPAYMENT", "GOODWILL_CREDIT", "PAYOUT_REFUND", "MERCHANT_ISSUED_REFUND", "DOWN_PAYMENT"):
            raise Unsupported(f"transaction type {ttype}")
        idx = ev(
            {
                "type": "transaction",
                "transactionType": ttype,
                "paymentType": ptype,
                "date": iso(day),
                "amount": money(amount),
            }
        )
        if "system-generated" in t:  # sets LOAN_REPAYMENT_RESPONSE too (LoanStepDef line 318)
            case.last_repayment_event = idx
        case.tags.add("repayment" if ttype == "REPAYMENT" else ttype.lower())
        return
    if m := re.fullmatch(
        rf"Customer makes {Q} transaction with {Q} payment type on {Q} with {NUM} EUR transaction amount with "
        r"the same Idempotency key as previous transaction",
        t,
    ):
        ev(
            {
                "type": "transaction_retry_same_idempotency_key",
                "transactionType": m.group(1),
                "paymentType": m.group(2),
                "date": iso(m.group(3)),
                "amount": money(m.group(4)),
                "note": "a repeat: Fineract returns the first result",
            }
        )
        return
    if m := re.fullmatch(rf"Refund happens on {Q} with {NUM} EUR transaction amount", t):
        ev(
            {
                "type": "transaction",
                "transactionType": "PAYOUT_REFUND",
                "paymentType": "AUTOPAY",
                "date": iso(m.group(1)),
                "amount": money(m.group(2)),
            }
        )
        return
    if m := re.fullmatch(rf"Loan Pay-off is made on {Q}", t):
        ev(
            {
                "type": "payoff",
                "date": iso(m.group(1)),
                "paymentType": "AUTOPAY",
                "note": "amount = GET /transactions/template?command=prepayLoan for the date "
                "(LoanRepaymentStepDef line 568)",
            }
        )
        case.tags.add("payoff")
        return

    # --- reversals ------------------------------------------------------------------------------------
    if m := re.fullmatch(rf"Customer makes a repayment undo on {Q}", t):
        if case.last_repayment_event is None:
            raise Unsupported("undo without a repayment")
        ev({"type": "undo_transaction", "target_seq": case.last_repayment_event, "date": iso(m.group(1))})
        case.tags.add("reversal")
        return
    if m := re.fullmatch(rf"Customer undo {Q}th repayment on {Q}", t):
        ev(
            {
                "type": "undo_transaction",
                "select": {"nth": int(m.group(1)), "of": "REPAYMENT"},
                "date": iso(m.group(2)),
                "target_seq": resolve_nth(case, int(m.group(1)), of="REPAYMENT"),
            }
        )
        case.tags.add("reversal")
        return
    if m := re.fullmatch(rf"Customer undo {Q}th transaction made on {Q}", t):
        n, day = int(m.group(1)), iso(m.group(2))
        target = resolve_nth_of_date(case, n, day)
        ev({"type": "undo_transaction", "select": {"nth": n, "date": day}, "date": day, **target})
        case.tags.add("reversal")
        return
    if m := re.fullmatch(rf"Customer undo {Q}th {Q} transaction made on {Q}", t):
        n, ttype, day = int(m.group(1)), m.group(2), iso(m.group(3))
        names = {
            "Repayment": "REPAYMENT",
            "Goodwill Credit": "GOODWILL_CREDIT",
            "Payout Refund": "PAYOUT_REFUND",
            "Merchant Issued Refund": "MERCHANT_ISSUED_REFUND",
        }
        if ttype not in names:
            raise Unsupported(f"undo of a {ttype}")
        ev(
            {
                "type": "undo_transaction",
                "select": {"nth": n, "of": names[ttype], "date": day},
                "date": day,
                "target_seq": resolve_nth(case, n, of=names[ttype], day=day),
            }
        )
        case.tags.add("reversal")
        return
    if m := re.fullmatch(rf"Customer adjust {Q}th repayment on {Q} with amount {Q}", t):
        ev(
            {
                "type": "adjust_transaction",
                "select": {"nth": int(m.group(1)), "of": "REPAYMENT"},
                "date": iso(m.group(2)),
                "amount": money(m.group(3)),
                "target_seq": resolve_nth(case, int(m.group(1)), of="REPAYMENT"),
            }
        )
        case.tags.add("reversal")
        return

    # --- charges -------------------------------------------------------------------------------------
    if m := re.fullmatch(rf"Admin adds {Q} due date charge with {Q} due date and {NUM} EUR transaction amount", t):
        key = m.group(1)
        idx = ev(
            {
                "type": "add_charge",
                "charge": key,
                **CHARGES[key],
                "amount": money(m.group(3)),
                "dueDate": iso(m.group(2)),
            }
        )
        case.last_due_date_charge_event = idx
        case.tags.add("charge")
        return
    if m := re.fullmatch(rf"Admin adds {Q} charge with {NUM} % of transaction amount", t):
        key = m.group(1)
        idx = ev({"type": "add_charge", "charge": key, **CHARGES[key], "amount": rate(m.group(2))})
        case.last_due_date_charge_event = idx  # LoanChargeStepDef line 118 stores ADD_DUE_DATE_CHARGE_RESPONSE
        case.tags.add("charge")
        return
    if m := re.fullmatch(rf"Admin adds a {NUM} % Processing charge to the loan with {Q} locale on date: {Q}", t):
        ev(
            {
                "type": "add_charge",
                "charge": "LOAN_PERCENTAGE_PROCESSING_FEE",
                **CHARGES["LOAN_PERCENTAGE_PROCESSING_FEE"],
                "amount": rate(m.group(1)),
                "dueDate": iso(m.group(3)),
                "locale": m.group(2),
            }
        )
        case.tags.add("charge")
        return
    if m := re.fullmatch(rf"Admin adds an NSF fee because of payment bounce with {Q} transaction date", t):
        idx = ev(
            {
                "type": "add_charge",
                "charge": "LOAN_NSF_FEE",
                **CHARGES["LOAN_NSF_FEE"],
                "amount": "10.00",
                "dueDate": iso(m.group(1)),
            }
        )  # DEFAULT_CHARGE_FEE_FLAT = 10 (LoanChargeStepDef line 65)
        case.last_nsf_charge_event = idx
        case.tags.add("charge")
        return
    if t == "Admin waives charge":
        ev({"type": "waive_charge", "target_seq": case.last_nsf_charge_event})
        case.tags.add("waiver")
        return
    if t == "Admin waives due date charge":
        ev({"type": "waive_charge", "target_seq": case.last_due_date_charge_event})
        case.tags.add("waiver")
        return
    if t == "Admin makes waive undone for charge":
        ev({"type": "undo_waive_charge", "select": "the last 'waiveCharges' transaction of the loan"})
        case.tags.add("reversal")
        return

    # --- assertions ----------------------------------------------------------------------------------------
    if m := re.fullmatch(r"Loan Repayment schedule has (\d+) periods, with the following data for periods:", t):
        case.check("schedule", {"period_count": int(m.group(1)), "rows": table_rows(step.table, COLS_SCHEDULE)}, step)
        return
    if t == "Loan Repayment schedule has the following data in Total row:":
        case.check("schedule_totals", table_rows(step.table, COLS_TOTALS)[0], step)
        return
    if t == "Loan Transactions tab has the following data:":
        case.check("transactions", {"complete": True, "rows": table_rows(step.table, COLS_TXN)}, step)
        return
    if m := re.fullmatch(rf"Loan Transactions tab has a transaction with date: {Q}, and with the following data:", t):
        rows = table_rows(step.table, COLS_TXN)
        for r in rows:
            r.setdefault("date", iso(m.group(1)))
        case.check("transactions", {"complete": False, "rows": rows}, step)
        return
    if t in (
        "Loan Charges tab has the following data:",
        "Loan Charges tab has a given charge with the following data:",
    ):
        case.check("charges", {"rows": table_rows(step.table, COLS_CHARGE)}, step)
        return
    if m := re.fullmatch(rf"Loan has {NUM} outstanding amount", t):
        case.check("summary", {"totalOutstanding": money(m.group(1))}, step)
        return
    if m := re.fullmatch(rf"Loan has {NUM} overpaid amount", t):
        case.check("summary", {"totalOutstanding": "0.00", "totalOverpaid": money(m.group(1))}, step)
        return
    if m := re.fullmatch(rf"Loan has {NUM} total overdue amount", t):
        case.check("summary", {"totalOverdue": money(m.group(1))}, step)
        return
    if m := re.fullmatch(rf"Loan status will be {Q}", t):
        case.check("status", m.group(1), step)
        return
    if t == "Loan's all installments have obligations met":
        case.check("all_installments_obligations_met", True, step)
        return
    if m := re.fullmatch(rf"Loan's actualMaturityDate is {Q}", t):
        case.check("actualMaturityDate", iso(m.group(1)), step)
        return
    if m := re.fullmatch(rf"Loan has {NUM} last payment amount", t):
        case.check("lastPaymentAmount", money(m.group(1)), step)
        return
    if m := re.fullmatch(rf"On Loan Transactions tab the {Q} Transaction with date {Q} is (NOT )?reverted", t):
        flags = (
            case.expected[-1].get("reverted_flags", [])
            if case.expected and case.expected[-1]["after_event"] == len(case.events)
            else []
        )
        flags.append({"type": m.group(1), "date": iso(m.group(2)), "reverted": m.group(3) is None})
        if flags and len(flags) == 1:
            case.check("reverted_flags", flags, step)
        return
    if m := re.fullmatch(rf"Loan has (\d+) {Q} transactions on Transactions tab", t):
        case.check("transaction_count", {"type": m.group(2), "count": int(m.group(1))}, step)
        return
    if m := re.fullmatch(rf"Repayment transaction is created with {NUM} amount and {Q} type", t):
        return  # checks the API response of the last repayment only
    if t == "Amounts are distributed equally in loan repayment schedule in case of total amount " or t.startswith(
        "Amounts are distributed equally in loan repayment schedule"
    ):
        raise Unsupported("computed assertion (LoanRepaymentStepDef line 480), not a table")

    # --- steps that assert nothing about amounts -------------------------------------------------------
    ignored = (
        "Loan Repayment Due Business Event is created",
        "Loan Repayment Overdue Business Event is created",
        "Admin can successfully set Fraud flag to the loan",
        "Admin can successfully unset Fraud flag to the loan",
        "Fraud flag modification fails",
        "Transaction response has the correct clientId and the loanId of the first transaction",
        "Charge is successfully added to the loan",
        "Repayment failed because the repayment date is after the business date",
    )
    if t in ignored or re.match(
        r"(Loan Transactions tab has a .* transaction with date .* which has the following Journal entries:|"
        r"In Loan transactions the replayed|No new event with type|.* event has been raised for the loan|"
        r"Loan status has changed to|Admin checks that delinquency range is|Transaction response has|"
        r"Loan details has the following last payment related data|Loan details and event has the following last|"
        r"LoanAccrualTransactionCreatedBusinessEvent|"
        r"Loan details has the downpayment amount|Loan closedon_date|"
        r"In Loan Transactions the|Admin checks that last closed business date|"
        r"Charge is successfully added to the loan with|"
        r"Loan has the following maturity data|LoanDetails has fixedLength|Loan emi amount variations|"
        r"Loan term variations|Admin checks that the business date is correctly set|"
        r"Loan .* transaction adjust amount .* must return .* code)",
        t,
    ):
        return

    raise Unsupported(f"step not understood: {t}")


def resolve_nth(case: Case, n: int, *, of: str, day: str | None = None) -> int | None:
    """The event an 'undo nth ...' step reaches: Fineract lists transactions by date, then creation (id).

    LoanReadPlatformServiceImpl line 283: '... order by tr.transaction_date, tr.created_on_utc, tr.id';
    manually reversed ones stay in the list, replay artifacts do not.
    """
    candidates = [
        e
        for e in case.events
        if e["type"] == "transaction"
        and e["transactionType"] == of
        and not e.get("expect_rejected")
        and (day is None or e["date"] == day)
    ]
    candidates.sort(key=lambda e: (e["date"], e["seq"]))
    if len(candidates) < n:
        raise Unsupported("undo target not found among the scenario's own transactions")
    return int(candidates[n - 1]["seq"])


def resolve_nth_of_date(case: Case, n: int, day: str) -> dict[str, Any]:
    """'Customer undo nth transaction made on D' (LoanRepaymentStepDef line 392) picks the nth of all listed ones
    of that date, system ones included, in the API order (date, creation, id).  Resolved here only when the
    transactions of that date are known: disbursements, their automatic down payments and the user's own
    transactions; a close of business (accruals) or a charge paid at disbursement makes it unsupported."""
    if any(e["type"] in ("inline_cob", "cob_job") for e in case.events):
        raise Unsupported("undo of the nth transaction of a date after a close of business")
    listed: list[tuple[float, dict[str, Any]]] = []
    for e in case.events:
        if e.get("expect_rejected") or e.get("date") != day:
            continue
        if e["type"] == "disburse":
            listed.append((e["seq"], {"target": "Disbursement", "target_seq": e["seq"]}))
            assert case.terms is not None
            if case.terms.get("enableDownPayment") and case.terms.get("enableAutoRepaymentForDownPayment"):
                listed.append((e["seq"] + 0.5, {"target": "Down Payment (automatic)", "disbursement_seq": e["seq"]}))
        elif e["type"] == "transaction":
            listed.append((e["seq"], {"target": e["transactionType"], "target_seq": e["seq"]}))
        elif e["type"] == "add_charge" and e["chargeTimeType"] == "DISBURSEMENT":
            raise Unsupported("undo of the nth transaction of a date with a charge paid at disbursement")
        elif e["type"] in ("undo_disbursal", "undo_last_disbursal", "payoff"):
            raise Unsupported("undo of the nth transaction of a date with an undone disbursement or a pay-off")
    listed.sort(key=lambda x: x[0])
    if len(listed) < n:
        raise Unsupported("undo target not found")
    return listed[n - 1][1]


UNSUPPORTED_PREFIXES = (
    ("Admin does charge-off", "charge-off"),
    ("Admin does a charge-off undo", "charge-off"),
    ("Charge-off", "charge-off"),
    ("Second Charge-off", "charge-off"),
    ("Admin makes", "chargeback/CBR/adjustment"),
    ("When Admin creates a Loan re-amortization", "re-amortisation"),
    ("Admin creates and approves Loan reschedule", "reschedule"),
    ("Batch API", "batch API"),
    ("Admin crates a second", "second loan"),
    ("Admin creates a second client", "second loan"),
    ("Admin successfully approves the second loan", "second loan"),
    ("Admin successfully disburse the second loan", "second loan"),
)


def describe(case: Case) -> str:
    sc = case.scenario
    return f"{case.feature}.feature, scenario '{sc.name}'"


def scenario_to_case(feature: str, sc: Scenario) -> dict[str, Any]:
    case = Case(feature, sc)
    if sc.outline:
        raise Unsupported("scenario outline")
    if "@Skip" in sc.tags:
        raise Unsupported("tagged @Skip")
    for step in sc.steps:
        for prefix, why in UNSUPPORTED_PREFIXES:
            if step.text.startswith(prefix):
                raise Unsupported(why)
        handle(case, step)
    if case.terms is None:
        raise Unsupported("no loan")
    if not any(
        k in cp for cp in case.expected for k in ("schedule", "schedule_totals", "transactions", "charges", "summary")
    ):
        raise Unsupported("asserts no amounts")
    terms = case.terms
    tags = sorted(case.tags | derive_tags(terms, case.events))
    slug = re.sub(r"[^a-z0-9]+", "-", sc.name.lower()).strip("-")[:80]
    return {
        "id": f"e2e-{feature}-L{sc.line}-{slug}",
        "source": {
            "repository": REPOSITORY,
            "commit": COMMIT,
            "path": f"{FEATURE_DIR}/{feature}.feature",
            "scenario": sc.name,
            "lines": [sc.line, sc.end_line],
            "tags": sc.tags,
            "step_definitions": STEPDEF,
        },
        "kind": "loan",
        "description": sc.name,
        "features": tags,
        "terms": {k: v for k, v in terms.items() if v is not None or k == "installmentAmountInMultiplesOf"},
        "events": case.events,
        "expected": case.expected,
    }


def derive_tags(terms: dict[str, Any], events: list[dict[str, Any]]) -> set[str]:
    tags = {
        terms["loanScheduleType"].lower(),
        terms["interestType"].lower(),
        terms["amortizationType"].lower(),
        "interest_" + terms["interestCalculationPeriodType"].lower(),
        "year_" + terms["daysInYearType"].lower(),
        "month_" + terms["daysInMonthType"].lower(),
        "strategy:" + terms["transactionProcessingStrategyCode"],
    }
    if Decimal(terms["interestRatePerPeriod"]) == 0:
        tags.add("zero_interest")
    if terms.get("installmentAmountInMultiplesOf"):
        tags.add("installment_multiples")
    if terms.get("enableDownPayment"):
        tags.add("down_payment_auto" if terms.get("enableAutoRepaymentForDownPayment") else "down_payment_manual")
    if terms.get("isInterestRecalculationEnabled"):
        tags.add("interest_recalculation")
    if terms.get("graceOnPrincipalPayment") or terms.get("graceOnInterestPayment"):
        tags.add("grace")
    disb = [e for e in events if e["type"] == "disburse" and not e.get("expect_rejected")]
    if len(disb) > 1:
        tags.add("multi_disbursement")
    for e in events:
        if e["type"] == "add_charge":
            tags.add("charge:" + e["chargeTimeType"].lower() + ":" + e["chargeCalculationType"].lower())
    if terms.get("productCharges"):
        for c in terms["productCharges"]:
            tags.add("charge:" + c["chargeTimeType"].lower() + ":" + c["chargeCalculationType"].lower())
    return tags


def dump(value: Any, indent: int = 0) -> str:
    """JSON with one line per flat object (a schedule row, an event) and nesting indented by one space."""
    pad = " " * indent
    if isinstance(value, dict) and value and any(isinstance(v, (dict, list)) and v for v in value.values()):
        items = [f"{pad} {json.dumps(k, ensure_ascii=False)}: {dump(v, indent + 1).lstrip()}" for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        items = [dump(v, indent + 1) for v in value]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return pad + json.dumps(value, ensure_ascii=False)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fineract", type=Path, help="a Fineract source tree at commit " + COMMIT)
    parser.add_argument("--report", action="store_true", help="list skipped scenarios and why")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(exist_ok=True)
    skipped: Counter[str] = Counter()
    total = 0
    for feature in FEATURES:
        text = (args.fineract / FEATURE_DIR / f"{feature}.feature").read_text(encoding="utf-8")
        cases = []
        for sc in parse_feature(text):
            try:
                cases.append(scenario_to_case(feature, sc))
            except Unsupported as why:
                skipped[str(why).split(":")[0]] += 1
                if args.report:
                    print(f"skip {feature}:{sc.line} {sc.name[:70]!r}: {why}", file=sys.stderr)
        doc = {
            "schema": 1,
            "source": {"repository": REPOSITORY, "commit": COMMIT, "path": f"{FEATURE_DIR}/{feature}.feature"},
            "generated_by": "tests/unit/lending/fineract/tools/extract_e2e.py",
            "notes": NOTES,
            "cases": cases,
        }
        out = OUT_DIR / f"e2e_{feature}.json"
        out.write_text(dump(doc) + "\n", encoding="utf-8")
        total += len(cases)
        print(f"{out.name}: {len(cases)} cases")
    print(f"total {total}; skipped: {dict(skipped)}")
    return 0


NOTES = [
    "Every 'Loan Repayment schedule has N periods' table is checked by LoanStepDef.loanRepaymentSchedulePeriodsCheck "
    "(line 1068): each expected row must equal, column by column as String.valueOf(Double), some period of the same "
    "due date; period_count counts the periods that have a number (disbursement rows have none). A null cell is "
    "asserted null (the API leaves that field out).",
    "Total rows: LoanStepDef.validateRepaymentScheduleTotal (line 2183); 'paid' there is the sum of every period's "
    "totalPaidForPeriod, rounded HALF_DOWN to 2 places.",
    "Transactions tables with complete=true also assert the number of transactions (line 1152), reversed ones "
    "included (they stay listed, 'Reverted' true); complete=false means 'some transaction of that date has these "
    "values'.",
    "Charges tables: each row must equal some charge with that due date (or, with no due date, that charge time).",
    "Schedule balance_after is principalLoanBalanceOutstanding; total_due is totalDueForPeriod; outstanding is "
    "totalOutstandingForPeriod; paid_date is obligationsMetOnDate.",
    "after_event is the number of events applied when the assertion runs; business_date is the business date then.",
    "inline_cob runs the LOAN_COB job for the loan; Fineract's close of business covers the day before the business "
    "date.",
]


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
