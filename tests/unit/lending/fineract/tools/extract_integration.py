"""Turn Fineract's LoanInterestRecalculationCOBTest and LoanInstallmentMultiplesOfTest into golden JSON cases.

Usage::

    python tests/unit/lending/fineract/tools/extract_integration.py /path/to/fineract

Writes ``cases/it_LoanInterestRecalculationCOBTest.json`` and
``cases/it_LoanInstallmentMultiplesOfTest.json``.

The COB test is read statement by statement: ``runAt(date, ...)`` blocks set the
business date; inside them the test disburses, runs the inline COB or the
"Recalculate Interest For Loans" job, posts repayments and validates
installments with the helpers of BaseLoanIntegrationTest (lines 162-231), whose
assertions are spelled out per row here.  The products of each test are
transcribed below from BaseLoanIntegrationTest.create4IProgressive (lines
253-355) and createOnePeriod30DaysPeriodicAccrualProduct (lines 357-440) plus
the builder calls the test chains on them.

Standard library only.  Nothing here is imported by the tests.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract_e2e import COMMIT, DUE_PIPF_IN_ADVANCE_PIPF, MONTHS, OUT_DIR, REPOSITORY, dump

IT = "integration-tests/src/test/java/org/apache/fineract/integrationtests/"
COB_TEST = IT + "LoanInterestRecalculationCOBTest.java"
MULT_TEST = IT + "LoanInstallmentMultiplesOfTest.java"
BASE = IT + "BaseLoanIntegrationTest.java"

_ALLOCATION = [
    {
        "transactionType": "DEFAULT",
        "futureInstallmentAllocationRule": "NEXT_INSTALLMENT",
        "paymentAllocationOrder": [
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
        ],
    }
]  # BaseLoanIntegrationTest.createDefaultPaymentAllocation, lines 478-491

# create4IProgressive (BaseLoanIntegrationTest lines 253-355) + applyPin4ProgressiveLoanRequest (lines 871-886)
PROGRESSIVE_4I: dict[str, Any] = {
    "product": "create4IProgressive",
    "currencyCode": "EUR",
    "digitsAfterDecimal": 2,
    "installmentAmountInMultiplesOf": None,
    "loanScheduleType": "PROGRESSIVE",
    "loanScheduleProcessingType": "HORIZONTAL",
    "transactionProcessingStrategyCode": "advanced-payment-allocation-strategy",
    "paymentAllocation": _ALLOCATION,
    "amortizationType": "EQUAL_INSTALLMENTS",
    "interestType": "DECLINING_BALANCE",
    "interestCalculationPeriodType": "DAILY",
    "allowPartialPeriodInterestCalcualtion": False,
    "interestRateFrequencyType": "YEARS",
    "daysInMonthType": "DAYS_30",
    "daysInYearType": "DAYS_360",
    "isInterestRecalculationEnabled": True,
    "interestRecalculationCompoundingMethod": "NONE",
    "rescheduleStrategyMethod": "ADJUST_LAST_UNPAID_PERIOD",
    "recalculationRestFrequencyType": "SAME_AS_REPAYMENT_PERIOD",
    "recalculationRestFrequencyInterval": 0,
    "isArrearsBasedOnOriginalSchedule": False,
    "isCompoundingToBePostedAsTransaction": False,
    "preClosureInterestCalculationStrategy": "TILL_PRE_CLOSURE_DATE",
    "allowCompoundingOnEod": False,
    "repaymentStartDateType": "DISBURSEMENT_DATE",
    "multiDisburseLoan": True,
    "maxTrancheCount": 10,
    "disallowExpectedDisbursements": True,
    "allowApprovedDisbursedAmountsOverApplied": True,
    "overAppliedCalculationType": "percentage",
    "overAppliedNumber": 50,
    "principalThresholdForLastInstallment": 50,
    "enableDownPayment": False,
    "isEqualAmortization": False,
    "repaymentEvery": 1,
    "repaymentFrequencyType": "MONTHS",
    "loanTermFrequencyType": "MONTHS",
    "roundingMode": "HALF_EVEN",
}

# createOnePeriod30DaysPeriodicAccrualProduct(10.0) (BaseLoanIntegrationTest lines 357-440) + applyLoanRequest (850-869)
CUMULATIVE_BASE: dict[str, Any] = {
    "product": "createOnePeriod30DaysPeriodicAccrualProduct(10.0)",
    "currencyCode": "USD",
    "digitsAfterDecimal": 2,
    "inMultiplesOf": 0,
    "installmentAmountInMultiplesOf": 1,
    "loanScheduleType": "CUMULATIVE",
    "interestRatePerPeriod": "10",
    "interestRateFrequencyType": "MONTHS",
    "amortizationType": "EQUAL_INSTALLMENTS",
    "interestType": "DECLINING_BALANCE",
    "daysInYearType": "ACTUAL",
    "daysInMonthType": "ACTUAL",
    "transactionProcessingStrategyCode": DUE_PIPF_IN_ADVANCE_PIPF,
    "allowPartialPeriodInterestCalcualtion": True,
    "multiDisburseLoan": True,
    "principalThresholdForLastInstallment": 50,
    "isEqualAmortization": False,
    "isInterestRecalculationEnabled": True,
    "repaymentEvery": 1,
    "repaymentFrequencyType": "MONTHS",
    "loanTermFrequencyType": "MONTHS",
    "interestCalculationPeriodType": "DAILY",
    "principal": "8000.00",
    "roundingMode": "HALF_EVEN",
}
# verifyLoanInstallmentRecalculatedIfThereIsOverdueInstallmentOnCumulativeLoan{COBStep,Job} (lines 786-799, 911-925)
CUMULATIVE_DAILY_REST = {
    **CUMULATIVE_BASE,
    "rescheduleStrategyMethod": "RESCHEDULE_NEXT_REPAYMENTS",
    "recalculationRestFrequencyType": "DAILY",
    "recalculationRestFrequencyInterval": 1,
    "recalculationCompoundingFrequencyType": "DAILY",
    "recalculationCompoundingFrequencyInterval": 30,
    "interestRecalculationCompoundingMethod": "INTEREST",
    "preClosureInterestCalculationStrategy": "TILL_PRE_CLOSURE_DATE",
    "numberOfRepayments": 2,
    "loanTermFrequency": 2,
    "_note": (
        "The test calls recalculationRestFrequencyType(MONTHS) and recalculationCompoundingFrequencyType(MONTHS) "
        "with BaseLoanIntegrationTest.RepaymentFrequencyType.MONTHS = 2, which Fineract reads as 2 = DAILY for "
        "both; interestCalculationPeriodType(DAYS) is 0 = DAILY. The product keeps interestRateFrequencyType 2 = "
        "MONTHS from createOnePeriod30DaysPeriodicAccrualProduct, so interestRatePerPeriod 10 is 10 % a month."
    ),
}
# ...OnCumulativeLoan{JobSameAsRepaymentPeriod,COBSameAsRepaymentPeriod} (lines 998-1027, 1052-1081)
CUMULATIVE_SAR_REST = {
    **CUMULATIVE_BASE,
    "daysInYearType": "DAYS_360",
    "daysInMonthType": "DAYS_30",
    "rescheduleStrategyMethod": "RESCHEDULE_NEXT_REPAYMENTS",
    "recalculationRestFrequencyType": "SAME_AS_REPAYMENT_PERIOD",
    "recalculationRestFrequencyInterval": 1,
    "interestRecalculationCompoundingMethod": "NONE",
    "preClosureInterestCalculationStrategy": "TILL_PRE_CLOSURE_DATE",
    "numberOfRepayments": 4,
    "loanTermFrequency": 4,
    "_note": (
        "interestRatePerPeriod 10 with the product's interestRateFrequencyType 2 = MONTHS: 10 % a month "
        "(the first month's interest on 8000 is 800.00). The test also sends recalculationCompoundingFrequencyType 1 "
        "and interval 1, which Fineract drops because the compounding method is NONE "
        "(LoanProductInterestRecalculationDetails.createFrom, lines 133-154); preClosureInterestCalculationStrategy is "
        "not sent and defaults to TILL_PRE_CLOSURE_DATE (lines 156-160)."
    ),
}

DATE = r"LocalDate\.of\((\d+),\s*(\d+),\s*(\d+)\)"
Q = r'"([^"]*)"'


def iso(text: str) -> str:
    day, month, year = text.split()
    return date(int(year), MONTHS[month], int(day)).isoformat()


def cents(text: str) -> str:
    return str(Decimal(text.rstrip("fFdD")).quantize(Decimal("0.01")))


def java_methods(text: str) -> list[tuple[str, int, int, list[str]]]:
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip() == "@Test":
            j = i + 1
            name = re.search(r"void (\w+)\(", lines[j])
            assert name
            depth, k = 0, j
            while True:
                depth += lines[k].count("{") - lines[k].count("}")
                if depth == 0 and k > j:
                    break
                k += 1
            out.append((name.group(1), j + 1, k + 1, lines[j : k + 1]))
    return out


def java_statements(lines: list[str], first: int) -> list[tuple[str, int]]:
    out, buf, start = [], [], 0
    for n, line in enumerate(lines, start=first):
        code = line.split("//", 1)[0].strip()
        if not code:
            continue
        if not buf:
            start = n
        buf.append(code)
        if code.endswith((";", "{", "}")) or code.endswith("-> {"):
            out.append((" ".join(buf), start))
            buf = []
    return out


def row_unpaid(n: int, due: str, p: str, f: str, pen: str, i: str) -> dict[str, Any]:
    """validateFullyUnpaidRepaymentPeriod (BaseLoanIntegrationTest line 185)."""
    return {
        "number": n,
        "due_date": due,
        "principal": cents(p),
        "principal_paid": "0.00",
        "principal_outstanding": cents(p),
        "fees": cents(f),
        "fees_paid": "0.00",
        "fees_outstanding": cents(f),
        "penalties": cents(pen),
        "penalties_paid": "0.00",
        "penalties_outstanding": cents(pen),
        "interest": cents(i),
        "interest_paid": "0.00",
        "interest_outstanding": cents(i),
        "paid_in_advance": "0.00",
        "paid_late": "0.00",
    }


def row_paid(n: int, due: str, p: str, f: str, pen: str, i: str, late: str = "0", advance: str = "0") -> dict[str, Any]:
    """validateFullyPaidRepaymentPeriod (BaseLoanIntegrationTest lines 191-208)."""
    return {
        "number": n,
        "due_date": due,
        "principal": cents(p),
        "principal_paid": cents(p),
        "principal_outstanding": "0.00",
        "fees": cents(f),
        "fees_paid": cents(f),
        "fees_outstanding": "0.00",
        "penalties": cents(pen),
        "penalties_paid": cents(pen),
        "penalties_outstanding": "0.00",
        "interest": cents(i),
        "interest_paid": cents(i),
        "interest_outstanding": "0.00",
        "paid_in_advance": cents(advance),
        "paid_late": cents(late),
    }


def row_full(n: int, due: str, v: list[str]) -> dict[str, Any]:
    """validateRepaymentPeriod with 17 arguments (BaseLoanIntegrationTest line 216)."""
    keys = [
        "principal",
        "principal_paid",
        "principal_outstanding",
        "fees",
        "fees_paid",
        "fees_outstanding",
        "penalties",
        "penalties_paid",
        "penalties_outstanding",
        "interest",
        "interest_paid",
        "interest_outstanding",
        "paid_in_advance",
        "paid_late",
    ]
    return {"number": n, "due_date": due, **{k: cents(x) for k, x in zip(keys, v, strict=True)}}


def terms_for(name: str, body: str) -> dict[str, Any]:
    if "CumulativeLoan" in name:
        terms = copy.deepcopy(CUMULATIVE_SAR_REST if "SameAsRepaymentPeriod" in name else CUMULATIVE_DAILY_REST)
        terms["loanTermFrequency"] = terms.pop("loanTermFrequency")
        return terms
    terms = copy.deepcopy(PROGRESSIVE_4I)
    if "RecalculationRestFrequencyType.DAILY" in body:
        terms["recalculationRestFrequencyType"] = "DAILY"
    m = re.search(
        r'applyAndApproveProgressiveLoan\(client\.getClientId\(\),\s*loanProduct\.getResourceId\(\),\s*"([^"]+)",\s*'
        r"([0-9.]+),\s*([0-9.]+),\s*(\d+),\s*null\)",
        body,
    )
    assert m, name
    terms.update(
        {
            "submittedOnDate": iso(m.group(1)),
            "expectedDisbursementDate": iso(m.group(1)),
            "principal": cents(m.group(2)),
            "interestRatePerPeriod": format(Decimal(m.group(3)).normalize(), "f"),
            "numberOfRepayments": int(m.group(4)),
            "loanTermFrequency": int(m.group(4)),
        }
    )
    return terms


def cob_case(name: str, start: int, end: int, lines: list[str]) -> dict[str, Any]:
    body = "\n".join(lines)
    terms = terms_for(name, body)
    events: list[dict[str, Any]] = []
    expected: list[dict[str, Any]] = []
    business: str | None = None

    def ev(e: dict[str, Any], line: int) -> None:
        events.append({"seq": len(events) + 1, **e, "line": line})

    def rows_cp(line: int) -> list[dict[str, Any]]:
        if expected and expected[-1]["after_event"] == len(events):
            expected[-1]["lines"][1] = line
            return expected[-1]["installments"]
        cp = {"after_event": len(events), "business_date": business, "lines": [line, line], "installments": []}
        expected.append(cp)
        return cp["installments"]

    for stmt, line in java_statements(lines[1:], start + 1):
        if m := re.match(rf"runAt\({Q}", stmt):
            business = iso(m.group(1))
            ev({"type": "set_business_date", "date": business}, line)
            continue
        if m := re.match(
            rf"Long loanId = applyAndApprove(?:Progressive)?Loan\(client\.getClientId\(\), loanProduct\."
            rf"getResourceId\(\), {Q}",
            stmt,
        ):
            day = iso(m.group(1))
            terms.setdefault("submittedOnDate", day)
            terms.setdefault("expectedDisbursementDate", day)
            ev({"type": "submit_application", "date": day, "expectedDisbursementDate": day}, line)
            ev(
                {
                    "type": "approve",
                    "date": day,
                    "approvedLoanAmount": terms["principal"],
                    "expectedDisbursementDate": day,
                },
                line,
            )
            continue
        if m := re.match(rf"disburseLoan\(loanId, BigDecimal\.valueOf\((\d+)\), {Q}\);", stmt):
            ev({"type": "disburse", "date": iso(m.group(2)), "amount": cents(m.group(1))}, line)
            continue
        if "inlineLoanCOBHelper.executeInlineCOB" in stmt:
            ev({"type": "inline_cob", "business_date": business}, line)
            continue
        if m := re.match(rf"schedulerJobHelper\.executeAndAwaitJob\({Q}\);", stmt):
            ev({"type": "run_job", "job": m.group(1), "business_date": business}, line)
            continue
        if m := re.match(
            rf"loanTransactionHelper\.makeLoanRepayment\({Q}, ([0-9.]+)[fF], loanId\.intValue\(\)\);", stmt
        ):
            ev(
                {
                    "type": "transaction",
                    "transactionType": "REPAYMENT",
                    "date": iso(m.group(1)),
                    "amount": cents(m.group(2)),
                },
                line,
            )
            continue
        if m := re.match(rf"payoffOnDateAndVerifyStatus\({Q}, loanIdRef\.get\(\)\);", stmt):
            day = iso(m.group(1))
            business = day
            ev({"type": "set_business_date", "date": day}, line)
            ev(
                {
                    "type": "payoff",
                    "date": day,
                    "note": "amount = the prepayLoan template amount for the date "
                    "(payoffOnDateAndVerifyStatus, line 183)",
                },
                line,
            )
            expected.append(
                {
                    "after_event": len(events),
                    "business_date": day,
                    "lines": [line, line],  # the status is asserted in the helper, lines 180-197
                    "status": "CLOSED_OBLIGATIONS_MET",
                }
            )
            continue
        if m := re.match(rf"validateFullyUnpaidRepaymentPeriod\(loanDetails, (\d+), {Q}, (.*)\);", stmt):
            v = [x.strip() for x in m.group(3).split(",")]
            rows_cp(line).append(row_unpaid(int(m.group(1)), iso(m.group(2)), *v))
            continue
        if m := re.match(rf"validateFullyPaidRepaymentPeriod\(loanDetails, (\d+), {Q}, (.*)\);", stmt):
            v = [x.strip() for x in m.group(3).split(",")]
            rows_cp(line).append(row_paid(int(m.group(1)), iso(m.group(2)), *v))
            continue
        if m := re.match(rf"validateRepaymentPeriod\(loanDetails, (\d+), {DATE}, (.*)\);", stmt):
            v = [x.strip() for x in m.group(5).split(",")]
            due = date(int(m.group(2)), int(m.group(3)), int(m.group(4))).isoformat()
            rows_cp(line).append(row_full(int(m.group(1)), due, v))
            continue
        if re.match(
            r"(Long loanId = loanIdRef|loanIdRef\.set|GetLoansLoanIdResponse loanDetails|loanDetails = |logLoanDetails|"
            r"AtomicReference|PostLoanProductsResponse loanProduct|\.createLoanProduct|\}\);|\}|[.)\w]*\)\s*;|"
            r"4, null\);|postLoansRequest|\.)",
            stmt,
        ):
            continue
        raise ValueError(f"{name}:{line}: statement not understood: {stmt}")
    features = [
        "interest_recalculation",
        "cob",
        terms["loanScheduleType"].lower(),
        "declining_balance",
        "interest_daily",
        "year_" + terms["daysInYearType"].lower(),
        "month_" + terms["daysInMonthType"].lower(),
        "rest_" + terms["recalculationRestFrequencyType"].lower(),
        "compounding_" + terms["interestRecalculationCompoundingMethod"].lower(),
        "strategy:" + terms["transactionProcessingStrategyCode"],
        "payoff",
    ]
    if any(e["type"] == "transaction" for e in events):
        features.append("repayment")
    if terms.get("installmentAmountInMultiplesOf"):
        features.append("installment_multiples")
    return {
        "id": f"it-LoanInterestRecalculationCOBTest-{name}",
        "source": {
            "repository": REPOSITORY,
            "commit": COMMIT,
            "path": COB_TEST,
            "test": name,
            "scenario": name,
            "lines": [start, end],
            "helpers": BASE,
        },
        "kind": "loan",
        "description": describe(name),
        "features": sorted(features),
        "terms": terms,
        "events": events,
        "expected": expected,
    }


def describe(name: str) -> str:
    text = name.removeprefix("verify")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text).replace("4 I", "4I").lower()


def multiples_cases() -> list[dict[str, Any]]:
    """LoanInstallmentMultiplesOfTest (lines 44-224), transcribed."""
    base = {
        "product": "create1InstallmentAmountInMultiplesOf4Period1MonthLongWithInterestAndAmortizationProduct",
        "currencyCode": "USD",
        "digitsAfterDecimal": 2,
        "inMultiplesOf": 0,
        "installmentAmountInMultiplesOf": 1,
        "loanScheduleType": "CUMULATIVE",
        "amortizationType": "EQUAL_INSTALLMENTS",
        "daysInYearType": "ACTUAL",
        "daysInMonthType": "ACTUAL",
        "interestCalculationPeriodType": "SAME_AS_REPAYMENT_PERIOD",
        "interestRatePerPeriod": "0",
        "interestRateFrequencyType": "MONTHS",
        "transactionProcessingStrategyCode": DUE_PIPF_IN_ADVANCE_PIPF,
        "allowPartialPeriodInterestCalcualtion": True,
        "principalThresholdForLastInstallment": 50,
        "isInterestRecalculationEnabled": False,
        "multiDisburseLoan": False,
        "principal": "1250.00",
        "repaymentEvery": 1,
        "repaymentFrequencyType": "MONTHS",
        "loanTermFrequencyType": "MONTHS",
        "submittedOnDate": "2023-01-01",
        "expectedDisbursementDate": "2023-01-01",
        "roundingMode": "HALF_EVEN",
    }

    def inst(n: int, due: str, p: str, i: str | None = None, total: str | None = None) -> dict[str, Any]:
        r: dict[str, Any] = {"number": n, "due_date": due, "principal": cents(p), "complete": False}
        if i is not None:
            r["interest"] = cents(i)
        if total is not None:
            r["outstanding"] = cents(total)
        return r

    def disb_row() -> dict[str, Any]:
        return {"number": None, "due_date": "2023-01-01", "balance_after": "1250.00", "complete": None}

    def case(
        test: str,
        lines: list[int],
        terms: dict[str, Any],
        rows: list[dict[str, Any]],
        desc: str,
        cp_lines: tuple[list[int], list[int]],
        suffix: str = "",
    ) -> dict[str, Any]:
        events = [
            {"seq": 1, "type": "set_business_date", "date": "2023-01-01", "line": lines[0] + 1},
            {
                "seq": 2,
                "type": "submit_application",
                "date": "2023-01-01",
                "expectedDisbursementDate": "2023-01-01",
                "line": lines[0] + 24,
            },
            {"seq": 3, "type": "approve", "date": "2023-01-01", "approvedLoanAmount": "1250.00", "line": lines[0] + 26},
            {"seq": 4, "type": "disburse", "date": "2023-01-01", "amount": "1250.00", "line": cp_lines[1][0] - 3},
        ]
        sched = {"period_count_all": len(rows) + 1, "rows": [disb_row(), *rows]}
        return {
            "id": f"it-LoanInstallmentMultiplesOfTest-{test}{suffix}",
            "source": {
                "repository": REPOSITORY,
                "commit": COMMIT,
                "path": MULT_TEST,
                "test": test + suffix,
                "scenario": test + suffix,
                "lines": lines,
                "helpers": BASE + " (verifyRepaymentSchedule, line 718)",
            },
            "kind": "loan",
            "description": desc,
            "features": sorted(
                {
                    "cumulative",
                    "equal_installments",
                    "installment_multiples",
                    terms["interestType"].lower(),
                    "interest_same_as_repayment_period",
                    "zero_interest" if terms["interestRatePerPeriod"] == "0" else "with_interest",
                }
            ),
            "terms": terms,
            "events": events,
            "expected": [
                {"after_event": 3, "business_date": "2023-01-01", "lines": cp_lines[0], "installments_schedule": sched},
                {"after_event": 4, "business_date": "2023-01-01", "lines": cp_lines[1], "installments_schedule": sched},
            ],
        }

    out = []
    zero_rows = [
        inst(1, "2023-02-01", "312.0"),
        inst(2, "2023-03-01", "312.0"),
        inst(3, "2023-04-01", "312.0"),
        inst(4, "2023-05-01", "314.0"),
    ]
    for itype in ("DECLINING_BALANCE", "FLAT"):
        t = {**base, "interestType": itype, "numberOfRepayments": 4, "loanTermFrequency": 4}
        out.append(
            case(
                "test_LoanRepaymentScheduleIsEquallyDistributed_WhenNoInterest_ButInterestTypeIs",
                [44, 99],
                t,
                zero_rows,
                f"1250 over 4 monthly installments, no interest, interestType {itype}, multiples of 1: "
                "312, 312, 312, 314",
                ([79, 85], [91, 97]),
                suffix=f"[{itype}]",
            )
        )
    t = {
        **base,
        "interestType": "FLAT",
        "numberOfRepayments": 3,
        "loanTermFrequency": 3,
        "interestRatePerPeriod": "12",
        "interestRateFrequencyType": "YEARS",
    }
    out.append(
        case(
            "test_LoanRepaymentScheduleIsEquallyDistributed_WhenInterestIsPresent_AndInterestTypeIsFlat",
            [101, 161],
            t,
            [
                inst(1, "2023-02-01", "416.5", "12.5", "429.0"),
                inst(2, "2023-03-01", "416.5", "12.5", "429.0"),
                inst(3, "2023-04-01", "417.0", "12.5", "429.5"),
            ],
            "1250 flat 12 % a year over 3 months, multiples of 1: installment 429 = 416.50 + 12.50; the last "
            "takes the residue",
            ([143, 148], [154, 159]),
        )
    )
    t = {**t, "installmentAmountInMultiplesOf": 20}
    out.append(
        case(
            "test_LoanRepaymentScheduleIsEquallyDistributed_WhenInterestIsPresent_AndInterestTypeIsFlat_AndMultiplesOfIs20",
            [163, 224],
            t,
            [
                inst(1, "2023-02-01", "427.5", "12.5", "440.0"),
                inst(2, "2023-03-01", "427.5", "12.5", "440.0"),
                inst(3, "2023-04-01", "395.0", "12.5", "407.5"),
            ],
            "1250 flat 12 % a year over 3 months, multiples of 20: installment 440 = 427.50 + 12.50; the last "
            "principal 395.00",
            ([206, 211], [217, 222]),
        )
    )
    return out


NOTES_COB = [
    "installments rows: the fields the BaseLoanIntegrationTest validate* helpers assert for that installment number "
    "(principal/fee/penalty/interest due, paid and outstanding, totalPaidInAdvance, totalPaidLate); other installments "
    "of the loan are not asserted.",
    "runAt(date) sets the business date (and switches business dates on) around each block; inline_cob runs LOAN_COB "
    "for the loan with the test's business steps (LOAN_INTEREST_RECALCULATION among them, setup line 82-84).",
    "The final pay-off repays the prepayLoan template amount for that date; only the resulting status is asserted.",
]
NOTES_MULT = [
    "installments_schedule: verifyRepaymentSchedule (BaseLoanIntegrationTest line 718) asserts the number of periods "
    "(disbursement row included: period_count_all), each row's due date and 'complete' flag, the disbursement row's "
    "principalLoanBalanceOutstanding (balance_after), each installment's principalDue and, when given, interestDue and "
    "totalOutstandingForPeriod (outstanding), and that installments are numbered 1, 2, ...",
]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fineract", type=Path)
    args = parser.parse_args(argv)
    text = (args.fineract / COB_TEST).read_text(encoding="utf-8")
    cases = [cob_case(name, s, e, lines) for name, s, e, lines in java_methods(text)]
    doc = {
        "schema": 1,
        "source": {"repository": REPOSITORY, "commit": COMMIT, "path": COB_TEST},
        "generated_by": "tests/unit/lending/fineract/tools/extract_integration.py",
        "notes": NOTES_COB,
        "cases": cases,
    }
    (OUT_DIR / "it_LoanInterestRecalculationCOBTest.json").write_text(dump(doc) + "\n", encoding="utf-8")
    print(f"it_LoanInterestRecalculationCOBTest.json: {len(cases)} cases")
    mult = multiples_cases()
    doc = {
        "schema": 1,
        "source": {"repository": REPOSITORY, "commit": COMMIT, "path": MULT_TEST},
        "generated_by": "tests/unit/lending/fineract/tools/extract_integration.py (transcribed)",
        "notes": NOTES_MULT,
        "cases": mult,
    }
    (OUT_DIR / "it_LoanInstallmentMultiplesOfTest.json").write_text(dump(doc) + "\n", encoding="utf-8")
    print(f"it_LoanInstallmentMultiplesOfTest.json: {len(mult)} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
