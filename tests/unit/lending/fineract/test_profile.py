"""The `fineract` profile against the golden cases: every asserted cell, cent for cent.

For each case the profile supports, the case's `terms` go through `terms_from_fineract`, its
steps through `events_from_fineract`; at each checkpoint the events of the steps applied so
far are folded on the checkpoint's business date and read as Fineract shows a loan
(`fineract_view`), and every asserted field of every asserted row is compared, the way the
Fineract step definitions compare them (docs/fineract-profile.md, "How each kind of
assertion compares"):

- schedule rows by due date: each expected row equals some period with that due date, and
  the periods with a number are as many as asserted;
- totals, summary (outstanding, overpaid), status, the maturity date;
- transactions: a complete table has as many transactions as rows and each row equals a
  different transaction; an incomplete one asks that some transaction of that date equal it;
- charges by due date; reverted flags by type and date.

Which cases are supported is decided by a predicate on what the case is (`supported`): its
features within `SUPPORTED_FEATURES`, its steps within `SUPPORTED_STEPS`, no charge added
before its due date under the in-advance-principal strategy (`IN_ADVANCE_PRINCIPAL`), terms
the profile takes.  Never by a list of case ids.  Test ids name the case, the Fineract file
and the scenario.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest

from microcredit.lending.fineract import (
    FineractHistory,
    FineractInputError,
    FineractView,
    events_from_fineract,
    fineract_view,
    overdue_charge,
    terms_from_fineract,
    transaction_strategies,
)
from microcredit.lending.loan import ChargeAdded, EventRefused, fold
from tests.unit.lending.fineract.cases import Case, Checkpoint, load_all
from tests.unit.lending.fineract.test_progressive_calculator import SUPPORTED as CALCULATOR_SUPPORTED

SUPPORTED_FEATURES = frozenset({
    "cumulative", "disbursement", "repayment", "reversal",
    "equal_installments", "flat", "declining_balance", "zero_interest", "with_interest", "installment_multiples",
    "interest_same_as_repayment_period", "month_actual", "year_actual",
    "strategy:mifos-standard-strategy",
    "strategy:due-penalty-fee-interest-principal-in-advance-principal-penalty-fee-interest-strategy",
    "strategy:due-penalty-interest-principal-fee-in-advance-penalty-interest-principal-fee-strategy",
    "charge", "charge:specified_due_date:flat", "charge:specified_due_date:percent_of_amount_and_interest",
    "charge:overdue_installment:percent_of_amount", "charge:instalment_fee:percent_of_amount_and_interest",
    "charge:disbursement:percent_of_amount",
    "charge:overdue_installment:percent_of_amount_and_interest",
    "goodwill_credit", "payout_refund", "merchant_issued_refund", "cob", "down_payment_auto", "down_payment_manual",
    "multi_disbursement", "grace", "equal_principal", "interest_daily",
    "progressive", "strategy:advanced-payment-allocation-strategy",
    "interest_recalculation", "compounding_none", "compounding_interest", "rest_daily",
    "rest_same_as_repayment_period",
    "month_days_30", "year_days_360", "payoff", "cob_interest_recalculation", "waiver",
})  # fmt: skip
"""The features of a case (its `features` tags) the profile implements.  ``interest_daily``: the
rows' interest on actual days, the level installment Fineract's PMT at a 30-day-month rate (K4,
`LevelInstallment.NOMINAL_PMT`)."""

SUPPORTED_STEPS = frozenset({
    "set_business_date", "submit_application", "approve", "disburse", "transaction", "undo_transaction",
    "add_charge", "inline_cob", "undo_disbursal", "undo_last_disbursal", "payoff", "global_configuration",
    "cob_workflow", "run_job", "waive_charge",
})
"""The steps (event types) the profile replays; ``adjust_transaction`` is translated but not
supported: Fineract lists the replacement with no allocation (LoanRepayment.feature line 2859)."""

IN_ADVANCE_PRINCIPAL = "strategy:due-penalty-fee-interest-principal-in-advance-principal-penalty-fee-interest-strategy"
"""This strategy pays in advance only the charges already due on the payment date
(`AllocationStrategy.in_advance_charges_due_first`); when an undo makes Fineract reprocess
later payments of a loan with a charge added before its due date, its reprocessed transaction
shows a loan balance its own allocation does not give (Loan L1276: 993.00 after 5.00 of
principal on 1,000.00): such a case is not supported (`undo_reprocesses_later_payments`)."""


def undo_reprocesses_later_payments(case: Case) -> bool:
    """Whether a transaction is undone while another one, dated on or after it, still stands."""
    dates = {e.seq: e.date() for e in case.events if e.type == "transaction"}
    undone = {e.data.get("target_seq") for e in case.events if e.type == "undo_transaction"}
    return any(seq in dates and any(other not in undone and other != seq and day >= dates[seq]
                                    for other, day in dates.items())
               for seq in undone)


def charge_added_before_due(case: Case) -> bool:
    """Whether the case adds a charge on a business date before the charge's due date."""
    business = None
    for event in case.events:
        if event.type == "set_business_date":
            business = event.date()
        elif event.type == "add_charge":
            due = event.date("dueDate")
            if business is not None and due is not None and due > business:
                return True
    return False

def _payment_allocation_rules(case: Case) -> dict[str, str]:
    rules = case.terms.get("paymentAllocation") or []
    return {r["transactionType"]: r["futureInstallmentAllocationRule"] for r in rules}


def charge_added_to_an_overpaid_loan(case: Case) -> bool:
    """Whether, under the advanced payment allocation strategy, a charge is added while the loan
    holds an overpayment: Fineract then allocates the overpaid transactions again
    (``processOverpaidTransactions``), so that their overpayment pays the charge as of their own
    dates and is listed in them, where the fold holds a credit that pays the charge when it falls
    due (LoanRepayment.feature line 3247).  Asked of the fold: the case's events before each
    charge, read on the last of their days."""
    if not _payment_allocation_rules(case) or not any(e.type == "add_charge" for e in case.events):
        return False
    try:
        terms, events = terms_from_fineract(case.terms), history(case).events
    except FineractInputError:
        return False
    for k, event in enumerate(events):
        if isinstance(event, ChargeAdded) and k:
            try:
                before = fold(terms, events[:k], as_of=max(e.on for e in events[:k + 1]))
            except EventRefused:
                continue
            if before.credit_balance.is_positive:
                return True
    return False


MINIMUM_SUPPORTED = 267
"""The number of supported cases reached, loans here and the calculator cases of
`test_progressive_calculator` together; `test_supported_cases_do_not_shrink` holds it."""


def terms_accepted(case: Case) -> bool:
    """Whether `terms_from_fineract` takes the case's terms (it refuses, naming the parameter,
    a value the profile does not reproduce: e.g. ``repaymentStartDateType`` SUBMITTED_ON_DATE on a
    loan with interest)."""
    try:
        terms_from_fineract(case.terms)
    except FineractInputError:
        return False
    return True


def history(case: Case) -> FineractHistory:
    """The case's steps as our events, with the advanced strategy's rules per transaction type."""
    terms = terms_from_fineract(case.terms)
    return events_from_fineract([{"seq": e.seq, "type": e.type, **e.data} for e in case.events], terms.currency,
                                terms=terms, strategies=transaction_strategies(case.terms),
                                overdue=overdue_charge(case.terms))


def events_accepted(case: Case) -> bool:
    """Whether `events_from_fineract` takes the case's steps (it refuses, naming the step, one it
    cannot translate: e.g. the undo of an automatic down payment)."""
    try:
        history(case)
    except FineractInputError:
        return False
    return True


def supported(case: Case) -> bool:
    """The profile's predicate: a loan case whose every feature and step is implemented, that
    does not combine the in-advance-principal strategy with a charge added before its due date
    and an undo that reprocesses later payments,
    that adds no charge to an overpaid loan (advanced strategy), and whose
    terms and steps the profile takes."""
    return (
        case.kind == "loan"
        and set(case.features) <= SUPPORTED_FEATURES
        and {e.type for e in case.events} <= SUPPORTED_STEPS
        and not (IN_ADVANCE_PRINCIPAL in case.features and charge_added_before_due(case)
                 and undo_reprocesses_later_payments(case))
        and not charge_added_to_an_overpaid_loan(case)
        and terms_accepted(case)
        and events_accepted(case)
    )


CASES = load_all()
SUPPORTED = [case for case in CASES if supported(case)]


def case_id(case: Case) -> str:
    return f"{case.id}[{case.source.path.rsplit('/', 1)[-1]}: {case.source.scenario}]"


def _same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual
    if isinstance(expected, int):
        return expected == actual
    if isinstance(expected, str) and hasattr(actual, "amount"):
        return Decimal(expected) == actual.amount
    return str(expected) == str(actual)


def _cells(row: Any, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def _diff(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (v, actual.get(k, "<missing>")) for k, v in expected.items() if not _same(v, actual.get(k))}


def _schedule(view: FineractView, table: Mapping[str, Any]) -> list[str]:
    problems = []
    if "period_count" in table and table["period_count"] != view.period_count:
        problems.append(f"periods: expected {table['period_count']}, got {view.period_count}")
    for expected in table["rows"]:
        names = [k for k in expected if k != "due_date"]
        candidates = [r for r in view.schedule if r.due_date.isoformat() == expected["due_date"]]
        diffs = [_diff({k: expected[k] for k in names}, _cells(r, names)) for r in candidates]
        if not any(not d for d in diffs):
            problems.append(f"schedule row {expected['due_date']}: {diffs or 'no period of that due date'}")
    return problems


def _installments(view: FineractView, table: Mapping[str, Any]) -> list[str]:
    problems = []
    if "period_count_all" in table and table["period_count_all"] != len(view.schedule):
        problems.append(f"periods: expected {table['period_count_all']}, got {len(view.schedule)}")
    for expected in table["rows"]:
        candidates = [r for r in view.schedule if r.due_date.isoformat() == expected["due_date"]
                      and r.number == expected["number"]]
        names = [k for k in expected if k not in ("due_date", "number", "complete")]
        if not candidates:
            problems.append(f"installment {expected['number']} {expected['due_date']}: none")
            continue
        row = candidates[0]
        diff = _diff({k: expected[k] for k in names}, _cells(row, names))
        if expected.get("complete") is not None and expected["complete"] != (row.outstanding == 0 * row.fees):
            diff["complete"] = (expected["complete"], row.outstanding)
        if diff:
            problems.append(f"installment {expected['number']}: {diff}")
    return problems


_COMPONENTS = {"principal": "principal", "interest": "interest", "fees": "fee", "penalties": "penalty"}


def _installment_cells(view: FineractView, due_date: str) -> dict[str, Any] | None:
    """An installment as the integration tests' helpers read it: due, paid and outstanding by
    component, paid in advance and late (``BaseLoanIntegrationTest`` lines 162-231)."""
    rows = [r for r in view.schedule if r.number is not None and r.due_date.isoformat() == due_date]
    states = [i for i in view.state.installments if i.number > 0 and i.due_date.isoformat() == due_date]
    if not rows or not states:
        return None
    row, state = rows[0], states[0]
    cells: dict[str, Any] = {"number": row.number, "paid_in_advance": row.paid_in_advance,
                             "paid_late": row.paid_late}
    for name, field in _COMPONENTS.items():
        cells[name] = getattr(state.due, field)
        cells[f"{name}_paid"] = getattr(state.paid, field)
        cells[f"{name}_outstanding"] = getattr(state.outstanding, field)
    return cells


def _installment_rows(view: FineractView, table: Sequence[Mapping[str, Any]]) -> list[str]:
    problems = []
    for expected in table:
        actual = _installment_cells(view, expected["due_date"])
        if actual is None:
            problems.append(f"installment {expected['number']} {expected['due_date']}: none")
            continue
        diff = _diff({k: v for k, v in expected.items() if k != "due_date"}, actual)
        if diff:
            problems.append(f"installment {expected['number']} {expected['due_date']}: {diff}")
    return problems


TRANSACTION_FIELDS = ("type", "date", "amount", "principal", "interest", "fees", "penalties", "loan_balance",
                      "reverted", "overpayment")


def _transactions(view: FineractView, table: Mapping[str, Any]) -> list[str]:
    problems = []
    actual = [{name: getattr(t, name) for name in TRANSACTION_FIELDS} for t in view.transactions]
    if table.get("complete") and len(actual) != len(table["rows"]):
        problems.append(f"transactions: expected {len(table['rows'])}, got {len(actual)}: {actual}")
    free = list(range(len(actual)))
    for expected in table["rows"]:
        found = next((i for i in free if not _diff(expected, actual[i])), None)
        if found is None:
            same_day = [_diff(expected, actual[i]) for i in free if str(actual[i]["date"]) == expected["date"]]
            problems.append(f"transaction {expected}: {same_day or 'none of that date'}")
        elif table.get("complete"):
            free.remove(found)
    return problems


def _charges(view: FineractView, table: Mapping[str, Any]) -> list[str]:
    problems = []
    for expected in table["rows"]:
        names = [k for k in expected if k not in ("charge_time", "calculation")]
        candidates = [{"name": c.name, "penalty": c.penalty, "due_date": c.due_date, "amount": c.amount,
                       "paid": c.paid, "waived": c.waived, "outstanding": c.outstanding} for c in view.charges]
        diffs = [_diff({k: expected[k] for k in names}, c) for c in candidates]
        if not any(not d for d in diffs):
            problems.append(f"charge {expected}: {diffs}")
    return problems


def check(view: FineractView, checkpoint: Checkpoint) -> list[str]:
    """Every difference between what the checkpoint asserts and the view."""
    problems: list[str] = []
    for key, value in checkpoint.assertions.items():
        if key == "schedule":
            problems += _schedule(view, value)
        elif key == "installments_schedule":
            problems += _installments(view, value)
        elif key == "installments":
            problems += _installment_rows(view, value)
        elif key == "schedule_totals":
            diff = _diff(value, view.totals)
            if diff:
                problems.append(f"totals: {diff}")
        elif key == "transactions":
            problems += _transactions(view, value)
        elif key == "reverted_flags":
            for flag in value:
                if not any(t.type == flag["type"] and t.date.isoformat() == flag["date"]
                           and t.reverted == flag["reverted"] for t in view.transactions):
                    problems.append(f"reverted flag {flag}")
        elif key == "charges":
            problems += _charges(view, value)
        elif key == "summary":
            actual = {"totalOutstanding": view.total_outstanding, "totalOverpaid": view.total_overpaid}
            diff = _diff(value, actual)
            if diff:
                problems.append(f"summary: {diff}")
        elif key == "all_installments_obligations_met":
            met = all(row.outstanding.total.is_zero for row in view.state.installments)
            if value != met:
                problems.append(f"all installments' obligations met: expected {value}, got {met}")
        elif key == "status":
            if value != view.status:
                problems.append(f"status: expected {value}, got {view.status}")
        elif key == "actualMaturityDate":
            last = max(r.due_date for r in view.schedule if r.number is not None)
            if value != last.isoformat():
                problems.append(f"maturity: expected {value}, got {last}")
        else:
            problems.append(f"an assertion the runner does not compare: {key}")
    return problems


@pytest.mark.parametrize("case", SUPPORTED, ids=case_id)
def test_case(case: Case) -> None:
    terms = terms_from_fineract(case.terms)
    steps = history(case)
    failures = []
    for checkpoint in case.expected:
        as_of = checkpoint.business_date or steps.business_dates[checkpoint.after_event - 1]
        assert as_of is not None
        view = fineract_view(terms, steps, steps=checkpoint.after_event, as_of=as_of)
        failures += [f"after step {checkpoint.after_event} (lines {checkpoint.lines}): {p}"
                     for p in check(view, checkpoint)]
    assert not failures, "\n".join(failures)


def test_supported_cases_do_not_shrink() -> None:
    counts = Counter(case.file for case in [*SUPPORTED, *CALCULATOR_SUPPORTED])
    assert len(SUPPORTED) + len(CALCULATOR_SUPPORTED) >= MINIMUM_SUPPORTED, counts
