"""The `fineract` profile's translation: Fineract's parameters and steps in, our terms and events out.

What the golden cases cannot show: every parameter or step outside the profile is refused by
name, and each convention lands on the option that carries it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from microcredit.lending.allocation import Component, Sweep
from microcredit.lending.daycount import DaysInYear
from microcredit.lending.fineract import (
    FineractInputError,
    events_from_fineract,
    fineract_view,
    overdue_charge,
    terms_from_fineract,
    transaction_strategies,
)
from microcredit.lending.loan import ChargeAdded, ChargesAfterMaturity, Repayment, Reversal
from microcredit.lending.loan.cumulative import (
    CompoundingUnit,
    CumulativeRecalculation,
    EarlyPayment,
    InterestCompounding,
)
from microcredit.lending.loan.recalculation import PreClosure, RestFrequency
from microcredit.lending.loan.terms import ProgressiveInterest
from microcredit.lending.money import Money, RoundingMode
from microcredit.lending.schedule import FlatInterest, MultipleRounding, TranchePrincipal, build_schedule

# LoanInstallmentMultiplesOfTest, test_..._WhenInterestIsPresent_AndInterestTypeIsFlat: 1,250.00 at
# 1 % a month flat over 3 months, installments in multiples of 1.
TERMS: dict[str, Any] = {
    "currencyCode": "USD", "digitsAfterDecimal": 2, "principal": "1250.00",
    "expectedDisbursementDate": "2023-01-01", "numberOfRepayments": 3, "repaymentEvery": 1,
    "repaymentFrequencyType": "MONTHS", "interestRatePerPeriod": "1", "interestRateFrequencyType": "MONTHS",
    "interestType": "FLAT", "amortizationType": "EQUAL_INSTALLMENTS",
    "interestCalculationPeriodType": "SAME_AS_REPAYMENT_PERIOD", "installmentAmountInMultiplesOf": 1,
    "transactionProcessingStrategyCode": "mifos-standard-strategy", "roundingMode": "HALF_EVEN",
}  # fmt: skip


def test_the_conventions_are_the_profiles() -> None:
    terms = terms_from_fineract(TERMS)
    contract = terms.contract
    assert contract.rounding.mode is RoundingMode.HALF_EVEN
    assert contract.annual_rate == Decimal("0.12")
    assert (contract.flat_interest, contract.multiple_rounding, contract.tranche_principal) == (
        FlatInterest.TOTAL_SPREAD, MultipleRounding.SHARES, TranchePrincipal.TERM_SHARE)
    assert terms.charges_after_maturity is ChargesAfterMaturity.EXTRA_INSTALLMENT
    assert terms.contract.day_count.basis == 365  # ACTUAL is a fixed 365-day year (K1)


def test_flat_multiples_round_the_principal_and_interest_shares_separately() -> None:
    # K8: 416.67 -> 417 and 12.50 -> 12 (HALF_EVEN), so 416.50 principal + 12.50 interest = 429.00;
    # the last installment takes the rest, 417.00 + 12.50.
    terms = terms_from_fineract(TERMS)
    rows = build_schedule(terms.contract, calendar=terms.calendar).installments
    assert [(str(r.principal), str(r.interest)) for r in rows] == [
        ("416.50", "12.50"), ("416.50", "12.50"), ("417.00", "12.50")]


def test_our_defaults_are_untouched_by_the_options() -> None:
    # The same loan under our own conventions rounds the flat installment once: (1250 + 37.50) / 3.
    contract = terms_from_fineract(TERMS).contract
    ours = replace(contract, flat_interest=FlatInterest.PER_PERIOD, multiple_rounding=MultipleRounding.INSTALLMENT)
    rows = build_schedule(ours, calendar=terms_from_fineract(TERMS).calendar).installments
    assert [str(r.total) for r in rows] == ["429.00", "429.00", "429.50"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fixedLength": 3}, "fixedLength"),
        ({"loanScheduleType": "PROGRESSIVE"}, "transactionProcessingStrategyCode"),
        ({"loanScheduleType": "PROGRESSIVE", "interestRatePerPeriod": "0"}, "transactionProcessingStrategyCode"),
        ({"loanScheduleProcessingType": "VERTICAL"}, "loanScheduleProcessingType"),
        # a cumulative flat loan: the regenerated schedule is a declining loan's (R1-R2)
        ({"isInterestRecalculationEnabled": True}, "interestType"),
        ({"roundingMode": "HALF_UP"}, "roundingMode"),
        ({"transactionProcessingStrategyCode": "advanced-payment-allocation-strategy"},
         "transactionProcessingStrategyCode"),
        ({"currencyCode": "XBT"}, "currencyCode"),
        ({"digitsAfterDecimal": 3}, "digitsAfterDecimal"),
        ({"principal": 1250.0}, "principal"),
        ({"interestRateFrequencyType": "DAYS"}, "interestRateFrequencyType"),
        ({"loanTermFrequency": 4}, "loanTermFrequency"),
    ],
)
def test_a_parameter_or_value_outside_the_profile_is_refused_by_name(change: dict[str, Any], field: str) -> None:
    with pytest.raises(FineractInputError) as refused:
        terms_from_fineract({**TERMS, **change})
    assert refused.value.field == field


ALLOCATION = ["PAST_DUE_PENALTY", "PAST_DUE_FEE", "PAST_DUE_PRINCIPAL", "PAST_DUE_INTEREST", "DUE_PENALTY", "DUE_FEE",
              "DUE_PRINCIPAL", "DUE_INTEREST", "IN_ADVANCE_PENALTY", "IN_ADVANCE_FEE", "IN_ADVANCE_PRINCIPAL",
              "IN_ADVANCE_INTEREST"]
PROGRESSIVE: dict[str, Any] = {
    **TERMS, "interestRatePerPeriod": "0", "loanScheduleType": "PROGRESSIVE",
    "transactionProcessingStrategyCode": "advanced-payment-allocation-strategy",
    "paymentAllocation": [{"transactionType": "DEFAULT", "futureInstallmentAllocationRule": "NEXT_INSTALLMENT",
                           "paymentAllocationOrder": ALLOCATION}],
}


@pytest.mark.parametrize(("processing", "sweep"), [("HORIZONTAL", Sweep.BY_INSTALLMENT),
                                                   ("VERTICAL", Sweep.BY_COMPONENT_PER_BUCKET)])
def test_the_advanced_strategy_keeps_its_order_and_sweep(processing: str, sweep: Sweep) -> None:
    strategy = terms_from_fineract({**PROGRESSIVE, "loanScheduleProcessingType": processing}).strategy
    assert strategy.order == (Component.PENALTY, Component.FEE, Component.PRINCIPAL, Component.INTEREST)
    assert strategy.sweep is sweep


@pytest.mark.parametrize("rules", [
    [{"transactionType": "DEFAULT", "futureInstallmentAllocationRule": "SOME_OTHER_RULE",
      "paymentAllocationOrder": ALLOCATION}],
    [{"transactionType": "DEFAULT", "futureInstallmentAllocationRule": "NEXT_INSTALLMENT",
      "paymentAllocationOrder": [*ALLOCATION[4:], *ALLOCATION[:4]]}],
    [{"transactionType": "GOODWILL_CREDIT", "futureInstallmentAllocationRule": "NEXT_INSTALLMENT",
      "paymentAllocationOrder": ALLOCATION}],
])
def test_advanced_rules_the_profile_does_not_reproduce_are_refused(rules: list[dict[str, Any]]) -> None:
    with pytest.raises(FineractInputError) as refused:
        terms_from_fineract({**PROGRESSIVE, "paymentAllocation": rules})
    assert refused.value.field == "paymentAllocation"


PROGRESSIVE_WITH_INTEREST: dict[str, Any] = {
    **PROGRESSIVE, "interestRatePerPeriod": "7", "interestRateFrequencyType": "YEARS", "daysInYearType": "ACTUAL",
    "isInterestRecalculationEnabled": True, "rescheduleStrategyMethod": "ADJUST_LAST_UNPAID_PERIOD",
    "interestRecalculationCompoundingMethod": "NONE", "recalculationRestFrequencyType": "DAILY",
}


def test_a_progressive_loan_with_interest_takes_the_calculator_and_its_rest() -> None:
    terms = terms_from_fineract(PROGRESSIVE_WITH_INTEREST)
    assert terms.progressive == ProgressiveInterest(days_in_year=DaysInYear.ACTUAL,
                                                    overdue_rest=RestFrequency.DAILY)
    assert terms.recalculation is None
    assert terms.contract.day_count.days_in_year is DaysInYear.D365  # K1 stays the cumulative generator's
    without = terms_from_fineract({**PROGRESSIVE_WITH_INTEREST, "isInterestRecalculationEnabled": False})
    assert without.progressive == ProgressiveInterest(days_in_year=DaysInYear.ACTUAL)
    assert terms_from_fineract(PROGRESSIVE).progressive is None  # without interest: the cumulative schedule
    rest_date = terms_from_fineract({**PROGRESSIVE_WITH_INTEREST,
                                     "preClosureInterestCalculationStrategy": "TILL_REST_FREQUENCY_DATE"})
    assert rest_date.progressive is not None
    assert rest_date.progressive.pre_closure is PreClosure.TILL_REST_DATE


@pytest.mark.parametrize(("change", "field"), [
    ({"rescheduleStrategyMethod": "REDUCE_EMI_AMOUNT"}, "rescheduleStrategyMethod"),
    ({"interestRecalculationCompoundingMethod": "INTEREST"}, "interestRecalculationCompoundingMethod"),
    ({"recalculationRestFrequencyType": "WEEKLY"}, "recalculationRestFrequencyType"),
    ({"preClosureInterestCalculationStrategy": "NONE"}, "preClosureInterestCalculationStrategy"),
    ({"interestRatePerPeriod": "0"}, "isInterestRecalculationEnabled"),
])
def test_a_progressive_recalculation_the_profile_does_not_reproduce_is_refused(change: dict[str, Any],
                                                                                field: str) -> None:
    with pytest.raises(FineractInputError) as refused:
        terms_from_fineract({**PROGRESSIVE_WITH_INTEREST, **change})
    assert refused.value.field == field


CUMULATIVE_RECALCULATION: dict[str, Any] = {
    **TERMS, "interestType": "DECLINING_BALANCE", "interestCalculationPeriodType": "DAILY",
    "daysInYearType": "ACTUAL", "daysInMonthType": "ACTUAL",
    "isInterestRecalculationEnabled": True, "rescheduleStrategyMethod": "REDUCE_EMI_AMOUNT",
    "interestRecalculationCompoundingMethod": "NONE", "recalculationRestFrequencyType": "DAILY",
    "preClosureInterestCalculationStrategy": "TILL_PRE_CLOSURE_DATE",
}


@pytest.mark.parametrize(("method", "early"), [("REDUCE_EMI_AMOUNT", EarlyPayment.REDUCE_INSTALLMENT),
                                               ("REDUCE_NUMBER_OF_INSTALLMENTS", EarlyPayment.SHORTEN_TERM),
                                               ("RESCHEDULE_NEXT_REPAYMENTS", EarlyPayment.NEXT_PRINCIPAL)])
def test_a_cumulative_loan_with_recalculation_takes_the_regenerated_schedule(method: str,
                                                                             early: EarlyPayment) -> None:
    terms = terms_from_fineract({**CUMULATIVE_RECALCULATION, "rescheduleStrategyMethod": method,
                                 "recalculationRestFrequencyType": "SAME_AS_REPAYMENT_PERIOD"})
    assert terms.cumulative_recalculation == CumulativeRecalculation(rest=RestFrequency.SAME_AS_REPAYMENT,
                                                                     early_payment=early)
    assert terms.recalculation is None
    assert terms.progressive is None
    assert not terms.tranche_replays_payments
    without = terms_from_fineract({**CUMULATIVE_RECALCULATION, "isInterestRecalculationEnabled": False})
    assert without.cumulative_recalculation is None


@pytest.mark.parametrize(("given", "compounding"), [
    ({"recalculationCompoundingFrequencyType": "MONTHLY", "recalculationCompoundingFrequencyInterval": 1,
      "recalculationCompoundingFrequencyOnDayType": 1},
     InterestCompounding(unit=CompoundingUnit.MONTHS, day_of_month=1)),
    ({"recalculationCompoundingFrequencyType": "DAILY", "recalculationCompoundingFrequencyInterval": 30},
     InterestCompounding(unit=CompoundingUnit.DAYS, every=30)),
    ({"recalculationCompoundingFrequencyType": "SAME_AS_REPAYMENT_PERIOD",
      "recalculationCompoundingFrequencyInterval": 3},
     InterestCompounding(unit=CompoundingUnit.SAME_AS_REPAYMENT)),
])
def test_interest_compounding_is_an_option_of_the_cumulative_recalculation(given: dict[str, Any],
                                                                           compounding: InterestCompounding) -> None:
    terms = terms_from_fineract({**CUMULATIVE_RECALCULATION, "interestRecalculationCompoundingMethod": "INTEREST",
                                 **given})
    assert terms.cumulative_recalculation is not None
    assert terms.cumulative_recalculation.compounding == compounding
    # NONE ignores the compounding frequency (docs/fineract-profile.md §4)
    none = terms_from_fineract({**CUMULATIVE_RECALCULATION, **given})
    assert none.cumulative_recalculation is not None
    assert none.cumulative_recalculation.compounding is None


@pytest.mark.parametrize(("change", "field"), [
    ({"rescheduleStrategyMethod": "ADJUST_LAST_UNPAID_PERIOD"}, "rescheduleStrategyMethod"),
    ({"interestRecalculationCompoundingMethod": "FEE"}, "interestRecalculationCompoundingMethod"),
    ({"interestRecalculationCompoundingMethod": "INTEREST", "recalculationCompoundingFrequencyType": "WEEKLY"},
     "recalculationCompoundingFrequencyType"),
    ({"interestRecalculationCompoundingMethod": "INTEREST", "recalculationCompoundingFrequencyType": "DAILY",
      "recalculationCompoundingFrequencyInterval": 0}, "recalculationCompoundingFrequencyInterval"),
    ({"interestRecalculationCompoundingMethod": "INTEREST", "recalculationCompoundingFrequencyType": "MONTHLY",
      "recalculationCompoundingFrequencyOnDayType": 31}, "recalculationCompoundingFrequencyOnDayType"),
    ({"recalculationRestFrequencyType": "WEEKLY"}, "recalculationRestFrequencyType"),
    ({"preClosureInterestCalculationStrategy": "TILL_REST_FREQUENCY_DATE"}, "preClosureInterestCalculationStrategy"),
    ({"amortizationType": "EQUAL_PRINCIPAL"}, "amortizationType"),
    ({"graceOnPrincipalPayment": 1}, "graceOnPrincipalPayment"),
    ({"enableDownPayment": True}, "enableDownPayment"),
    ({"interestRatePerPeriod": "0"}, "isInterestRecalculationEnabled"),
])
def test_a_cumulative_recalculation_the_profile_does_not_reproduce_is_refused(change: dict[str, Any],
                                                                               field: str) -> None:
    with pytest.raises(FineractInputError) as refused:
        terms_from_fineract({**CUMULATIVE_RECALCULATION, **change})
    assert refused.value.field == field


def test_each_transaction_type_is_allocated_by_its_own_future_installment_rule() -> None:
    rules = [{"transactionType": "DEFAULT", "futureInstallmentAllocationRule": "NEXT_INSTALLMENT",
              "paymentAllocationOrder": ALLOCATION},
             {"transactionType": "GOODWILL_CREDIT", "futureInstallmentAllocationRule": "LAST_INSTALLMENT",
              "paymentAllocationOrder": ALLOCATION},
             {"transactionType": "MERCHANT_ISSUED_REFUND", "futureInstallmentAllocationRule": "REAMORTIZATION",
              "paymentAllocationOrder": ALLOCATION}]
    params = {**PROGRESSIVE, "paymentAllocation": rules}
    terms = terms_from_fineract(params)
    strategies = transaction_strategies(params)
    steps = [{"seq": 1, "type": "disburse", "date": "2023-01-01", "amount": "1250.00"},
             {"seq": 2, "type": "transaction", "transactionType": "GOODWILL_CREDIT", "date": "2023-01-10",
              "amount": "100.00"},
             {"seq": 3, "type": "transaction", "transactionType": "REPAYMENT", "date": "2023-01-10",
              "amount": "100.00"}]
    history = events_from_fineract(steps, terms.currency, terms=terms, strategies=strategies)
    goodwill, repayment = history.events[1], history.events[2]
    assert isinstance(goodwill, Repayment)
    assert isinstance(repayment, Repayment)
    assert goodwill.strategy is not None
    assert goodwill.strategy.in_advance_last_first
    assert repayment.strategy is None  # the loan's own (NEXT_INSTALLMENT)
    view = fineract_view(terms, history, steps=3, as_of=date(2023, 1, 10))
    paid = {row.number: row.paid for row in view.schedule if row.number is not None}
    assert paid[3] == Money(10000, terms.currency)
    assert paid[1] == Money(10000, terms.currency)
    refund = [*steps[:1], {"seq": 2, "type": "transaction", "transactionType": "MERCHANT_ISSUED_REFUND",
                           "date": "2023-01-10", "amount": "100.00"}]
    spread = events_from_fineract(refund, terms.currency, terms=terms, strategies=strategies)
    view = fineract_view(terms, spread, steps=2, as_of=date(2023, 1, 10))
    paid = {row.number: row.paid for row in view.schedule if row.number is not None}
    # REAMORTIZATION: evenly over the three installments, the last taking the residue
    assert [paid[k].minor for k in (1, 2, 3)] == [3333, 3333, 3334]
    unknown = [{**rules[0]}, {**rules[2], "futureInstallmentAllocationRule": "SOME_OTHER_RULE"}]
    other = transaction_strategies({**params, "paymentAllocation": unknown})
    with pytest.raises(FineractInputError) as refused:
        events_from_fineract(refund, terms.currency, terms=terms, strategies=other)
    assert refused.value.field == "events.1.transactionType"


def test_steps_become_our_events() -> None:
    steps = [
        {"seq": 1, "type": "set_business_date", "date": "2023-01-01"},
        {"seq": 2, "type": "disburse", "date": "2023-01-01", "amount": "1250.00"},
        {"seq": 3, "type": "set_business_date", "date": "2023-01-10"},
        {"seq": 4, "type": "transaction", "transactionType": "GOODWILL_CREDIT", "date": "2023-01-10",
         "amount": "100.00"},
        {"seq": 5, "type": "add_charge", "name": "NSF fee", "chargeTimeType": "SPECIFIED_DUE_DATE",
         "chargeCalculationType": "FLAT", "amount": "10.00", "penalty": True, "dueDate": "2023-01-20"},
        {"seq": 6, "type": "undo_transaction", "target_seq": 4},
    ]
    history = events_from_fineract(steps, "USD")
    disbursement, credit, charge, undo = history.events
    assert isinstance(credit, Repayment)
    assert credit.amount == Money.parse("100.00", "USD")
    assert history.kinds["e4"] == "Goodwill Credit"
    # A charge due later is owed from the day it is recorded, with the installment of its due date.
    assert isinstance(charge, ChargeAdded)
    assert charge.penalty
    assert (charge.on, charge.due_on) == (date(2023, 1, 10), date(2023, 1, 20))
    assert isinstance(undo, Reversal)
    assert (undo.target, undo.on) == ("e4", date(2023, 1, 10))
    assert history.upto(4) == (disbursement, credit)


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"seq": 2, "type": "waive_charge", "target_seq": 1}, "events.1.target_seq"),  # names no charge
        ({"seq": 2, "type": "charge_adjustment", "target_seq": 1}, "events.1.type"),
        ({"seq": 2, "type": "transaction", "transactionType": "CHARGEBACK", "date": "2023-01-02",
          "amount": "1.00"}, "events.1.transactionType"),
        ({"seq": 2, "type": "undo_transaction", "target_seq": 1}, "events.1.target_seq"),
        ({"seq": 2, "type": "add_charge", "name": "fee", "chargeTimeType": "INSTALMENT_FEE",
          "chargeCalculationType": "FLAT", "amount": "1.00", "dueDate": "2023-01-02"}, "events.1.chargeTimeType"),
        ({"seq": 2, "type": "disburse", "date": "2023-01-02", "amount": "1.001"}, "events.1.amount"),
    ],
)
def test_a_step_outside_the_profile_is_refused_by_name(step: dict[str, Any], field: str) -> None:
    steps = [{"seq": 1, "type": "disburse", "date": "2023-01-01", "amount": "1250.00"}, step]
    with pytest.raises(FineractInputError) as refused:
        events_from_fineract(steps, "USD")
    assert refused.value.field == field


def test_the_undo_of_an_automatic_down_payment_needs_one() -> None:
    # Loan.feature line 1635 undoes the "Down Payment" the disbursement collected; a loan that
    # collects none at disbursement has none to undo.
    steps = [{"seq": 1, "type": "disburse", "date": "2023-01-01", "amount": "1250.00"},
             {"seq": 2, "type": "undo_transaction", "date": "2023-01-01", "disbursement_seq": 1}]
    with pytest.raises(FineractInputError) as refused:
        events_from_fineract(steps, "USD", terms=terms_from_fineract(TERMS))
    assert refused.value.field == "events.1.disbursement_seq"


@pytest.mark.parametrize(("value", "accrued_on"), [("submitted-date", date(2023, 1, 11)), ("due-date", None)])
def test_the_tenants_charge_accrual_date_decides_when_a_charge_accrues(value: str, accrued_on: date | None) -> None:
    # LoanRepayment.feature line 3172 sets charge-accrual-date to submitted-date: the charge added
    # on 10 January (due 20 February) accrues at the first close of business after, dated on that
    # close of business (11 January when it runs on the 12th); by default it accrues on its due date.
    terms = terms_from_fineract(TERMS)
    steps = [
        {"seq": 1, "type": "global_configuration", "name": "charge-accrual-date", "value": value},
        {"seq": 2, "type": "set_business_date", "date": "2023-01-01"},
        {"seq": 3, "type": "disburse", "date": "2023-01-01", "amount": "1250.00"},
        {"seq": 4, "type": "set_business_date", "date": "2023-01-10"},
        {"seq": 5, "type": "add_charge", "name": "NSF fee", "chargeTimeType": "SPECIFIED_DUE_DATE",
         "chargeCalculationType": "FLAT", "amount": "20.00", "penalty": True, "dueDate": "2023-02-20"},
        {"seq": 6, "type": "set_business_date", "date": "2023-01-12"},
        {"seq": 7, "type": "inline_cob", "business_date": "2023-01-12"},
    ]
    history = events_from_fineract(steps, terms.currency, terms=terms)
    view = fineract_view(terms, history, steps=7, as_of=date(2023, 1, 12))
    accruals = [(t.date, t.penalties) for t in view.transactions if t.type == "Accrual"]
    assert accruals == ([] if accrued_on is None else [(accrued_on, Money.parse("20.00", "USD"))])


@pytest.mark.parametrize("step", [{"name": "charge-accrual-date", "value": "disbursement-date"},
                                  {"name": "enable-auto-generated-external-id", "enabled": True}])
def test_a_tenant_switch_outside_the_profile_is_refused_by_name(step: dict[str, Any]) -> None:
    with pytest.raises(FineractInputError) as refused:
        events_from_fineract([{"seq": 1, "type": "global_configuration", **step}], "USD")
    assert refused.value.field.startswith("events.0.")


@pytest.mark.parametrize(
    ("calculation", "percent", "amount"),
    [
        ("PERCENT_OF_AMOUNT", "1.5", "18.75"),  # 1.5 % of the 1,250.00 disbursed
        ("PERCENT_OF_AMOUNT_AND_INTEREST", "10", "128.75"),  # 10 % of 1,250.00 + 37.50 flat interest (K12)
    ],
)
def test_a_percentage_charge_is_taken_of_the_amount_disbursed(calculation: str, percent: str, amount: str) -> None:
    terms = terms_from_fineract(TERMS)
    steps = [
        {"seq": 1, "type": "disburse", "date": "2023-01-01", "amount": "1250.00"},
        {"seq": 2, "type": "add_charge", "name": "% fee", "chargeTimeType": "SPECIFIED_DUE_DATE",
         "chargeCalculationType": calculation, "amount": percent, "dueDate": "2023-01-15"},
    ]
    charge = events_from_fineract(steps, "USD", terms=terms).events[1]
    assert isinstance(charge, ChargeAdded)
    assert str(charge.amount) == amount
    with pytest.raises(FineractInputError) as refused:
        events_from_fineract(steps, "USD")  # a percentage needs the loan's terms
    assert refused.value.field == "events.1.chargeCalculationType"


@pytest.mark.parametrize(
    ("calculation", "amounts"),
    [
        # Installment 1 (416.50 + 12.50) owes 229.00 of principal after 200.00 paid on its due
        # date (12.50 interest, 187.50 principal); installment 2 owes 416.50 + 12.50; 3: 417.00 + 12.50.
        ("PERCENT_OF_AMOUNT_AND_INTEREST", ("4.58", "8.58", "8.59")),  # 2 % of 229.00, 429.00, 429.50
        ("PERCENT_OF_AMOUNT", ("4.58", "8.33", "8.34")),  # 2 % of 229.00, 416.50, 417.00
        ("PERCENT_OF_INTEREST", ("0.25", "0.25")),  # installment 1 owes no interest: no charge
        ("FLAT", ("2.00", "2.00", "2.00")),
    ],
)
def test_the_products_overdue_charge_is_applied_once_per_installment_two_days_after_its_due_date(
        calculation: str, amounts: tuple[str, ...]) -> None:
    params = {**TERMS, "productCharges": [{"name": "late", "chargeTimeType": "OVERDUE_INSTALLMENT",
                                           "chargeCalculationType": calculation, "amount": "2", "penalty": True}]}
    terms = terms_from_fineract(params)
    steps = [
        {"seq": 1, "type": "disburse", "date": "2023-01-01", "amount": "1250.00"},
        {"seq": 2, "type": "transaction", "transactionType": "REPAYMENT", "date": "2023-02-01", "amount": "200.00"},
        {"seq": 3, "type": "inline_cob", "business_date": "2023-03-15"},  # closes 14 March: 1 and 2
        {"seq": 4, "type": "inline_cob", "business_date": "2023-04-03"},  # closes 2 April: 3 not yet
        {"seq": 5, "type": "inline_cob", "business_date": "2023-04-04"},  # closes 3 April: 3
    ]
    history = events_from_fineract(steps, "USD", terms=terms, overdue=overdue_charge(params))
    charges = [(e.due_on, str(e.amount), e.penalty) for e in history.events if isinstance(e, ChargeAdded)]
    due = [d for d in (date(2023, 2, 1), date(2023, 3, 1), date(2023, 4, 1))
           if calculation != "PERCENT_OF_INTEREST" or d != date(2023, 2, 1)]
    assert charges == [(d, a, True) for d, a in zip(due, amounts, strict=True)]
    assert [n for e, n in zip(history.events, history.after, strict=True) if isinstance(e, ChargeAdded)] == \
        [3] * (len(amounts) - 1) + [5]


@pytest.mark.parametrize(
    ("charges", "field"),
    [
        ([{"name": "f", "chargeTimeType": "DISBURSEMENT", "chargeCalculationType": "FLAT", "amount": "1"}],
         "productCharges.0.chargeTimeType"),
        ([{"name": "f", "chargeTimeType": "OVERDUE_INSTALLMENT", "chargeCalculationType": "FLAT", "amount": "1",
           "penalty": True}] * 2, "productCharges.1"),
        ([{"name": "f", "chargeTimeType": "OVERDUE_INSTALLMENT", "chargeCalculationType": "FLAT", "amount": "1",
           "penalty": True, "feeFrequency": 1}], "productCharges.0.feeFrequency"),
        ([{"name": "f", "chargeTimeType": "OVERDUE_INSTALLMENT", "chargeCalculationType": "PERCENT_OF_DISBURSEMENT",
           "amount": "1", "penalty": True}], "productCharges.0.chargeCalculationType"),
        ([{"name": "f", "chargeTimeType": "OVERDUE_INSTALLMENT", "chargeCalculationType": "FLAT", "amount": "0",
           "penalty": True}], "productCharges.0.amount"),
    ],
)
def test_a_product_charge_outside_the_profile_is_refused_by_name(charges: list[dict[str, Any]], field: str) -> None:
    with pytest.raises(FineractInputError) as refused:
        terms_from_fineract({**TERMS, "productCharges": charges})
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("calculation", "amount", "parts"),
    [
        # The schedule: 416.50 + 12.50, 416.50 + 12.50, 417.00 + 12.50 (flat, multiples of 1).
        ("PERCENT_OF_AMOUNT_AND_INTEREST", "1.5", ("6.44", "6.44", "6.44")),  # 1.5 % of 429.00, 429.00, 429.50
        ("PERCENT_OF_AMOUNT", "1.5", ("6.25", "6.25", "6.26")),  # 6.2475 -> 6.25; 6.255 -> 6.26 (HALF_EVEN)
        ("PERCENT_OF_INTEREST", "10", ("1.25", "1.25", "1.25")),
        ("FLAT", "3.00", ("3.00", "3.00", "3.00")),
    ],
)
def test_an_installment_fee_is_one_part_per_installment_listed_as_one_charge(calculation: str, amount: str,
                                                                              parts: tuple[str, ...]) -> None:
    terms = terms_from_fineract(TERMS)
    steps = [
        {"seq": 1, "type": "set_business_date", "date": "2023-01-05"},
        {"seq": 2, "type": "disburse", "date": "2023-01-01", "amount": "1250.00"},
        {"seq": 3, "type": "add_charge", "name": "monthly fee", "chargeTimeType": "INSTALMENT_FEE",
         "chargeCalculationType": calculation, "amount": amount, "penalty": False},
    ]
    history = events_from_fineract(steps, "USD", terms=terms)
    added = [e for e in history.events if isinstance(e, ChargeAdded)]
    assert [(e.on, e.due_on, str(e.amount)) for e in added] == [
        (date(2023, 1, 5), d, p) for d, p in zip((date(2023, 2, 1), date(2023, 3, 1), date(2023, 4, 1)), parts,
                                                 strict=True)]
    view = fineract_view(terms, history, steps=3, as_of=date(2023, 1, 5))
    total = sum(Decimal(p) for p in parts)
    assert [(c.name, c.due_date, c.amount.amount, c.outstanding.amount) for c in view.charges] == [
        ("monthly fee", None, total, total)]
    assert [str(r.fees) for r in view.schedule if r.number is not None] == list(parts)


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"seq": 4, "type": "waive_charge", "target_seq": 3}, "events.3.target_seq"),
        ({"seq": 4, "type": "disburse", "date": "2023-01-20", "amount": "100.00"}, "events.3.type"),
    ],
)
def test_what_follows_an_installment_fee_that_the_profile_does_not_reproduce_is_refused(step: dict[str, Any],
                                                                                          field: str) -> None:
    terms = replace(terms_from_fineract(TERMS), tranches=True)
    steps = [
        {"seq": 1, "type": "set_business_date", "date": "2023-01-05"},
        {"seq": 2, "type": "disburse", "date": "2023-01-01", "amount": "1000.00"},
        {"seq": 3, "type": "add_charge", "name": "fee", "chargeTimeType": "INSTALMENT_FEE",
         "chargeCalculationType": "FLAT", "amount": "3.00", "penalty": False},
        step,
    ]
    with pytest.raises(FineractInputError) as refused:
        events_from_fineract(steps, "USD", terms=terms)
    assert refused.value.field == field


def test_a_disbursement_charge_is_collected_with_each_disbursement_and_listed_on_its_row() -> None:
    terms = terms_from_fineract(TERMS)
    steps = [
        {"seq": 1, "type": "set_business_date", "date": "2023-01-01"},
        {"seq": 2, "type": "add_charge", "name": "processing", "chargeTimeType": "DISBURSEMENT",
         "chargeCalculationType": "PERCENT_OF_AMOUNT", "amount": "2", "penalty": False},
        {"seq": 3, "type": "disburse", "date": "2023-01-01", "amount": "1250.00"},
    ]
    history = events_from_fineract(steps, "USD", terms=terms)
    assert [type(e).__name__ for e in history.events] == ["Disbursement", "ChargeAdded", "Repayment"]
    assert history.kinds["e2:e3:paid"] == "Repayment (at time of disbursement)"
    view = fineract_view(terms, history, steps=3, as_of=date(2023, 1, 1))
    first = view.schedule[0]
    assert (first.number, str(first.fees), str(first.paid)) == (None, "25.00", "25.00")  # 2 % of 1,250.00
    assert all(r.fees.is_zero for r in view.schedule[1:])
    assert [(c.due_date, str(c.amount), str(c.paid)) for c in view.charges] == [(None, "25.00", "25.00")]
    added_late = [steps[0], steps[2], {**steps[1], "seq": 4}]
    with pytest.raises(FineractInputError) as refused:
        events_from_fineract(added_late, "USD", terms=terms)
    assert refused.value.field == "events.2.chargeTimeType"


def test_periods_from_the_submission_date_are_taken_on_a_loan_without_interest() -> None:
    # LoanDownPayment L1977: submitted on 1 January, disbursed on the 5th, due 1 February, 1 March, 1 April.
    params = {**TERMS, "interestRatePerPeriod": "0", "repaymentStartDateType": "SUBMITTED_ON_DATE",
              "submittedOnDate": "2023-01-01", "expectedDisbursementDate": "2023-01-05"}
    terms = terms_from_fineract(params)
    assert terms.periods_from_contract_start
    assert terms.contract.periods.start == date(2023, 1, 1)
    history = events_from_fineract([{"seq": 1, "type": "disburse", "date": "2023-01-05", "amount": "1250.00"}],
                                   "USD", terms=terms)
    view = fineract_view(terms, history, steps=1, as_of=date(2023, 1, 5))
    assert [(r.due_date, r.days) for r in view.schedule if r.number is not None] == [
        (date(2023, 2, 1), 31), (date(2023, 3, 1), 28), (date(2023, 4, 1), 31)]
    assert not terms_from_fineract(TERMS).periods_from_contract_start
    with pytest.raises(FineractInputError) as refused:
        terms_from_fineract({**params, "interestRatePerPeriod": "1"})
    assert refused.value.field == "repaymentStartDateType"


def test_a_progressive_loans_tranche_is_added_to_the_later_installments_and_its_down_payment_fixed() -> None:
    # P7 at a zero rate; LoanDownPayment.feature line 2537 (UC5): the tranche's "Down Payment"
    # keeps the 50.00 it collected on a loan overpaid by 100.00 once the overpaying repayment is undone.
    params = {**PROGRESSIVE, "principal": "1000.00", "multiDisburseLoan": True, "enableDownPayment": True,
              "disbursedAmountPercentageForDownPayment": "25", "enableAutoRepaymentForDownPayment": True}
    terms = terms_from_fineract(params)
    assert terms.contract.tranche_principal is TranchePrincipal.LATER_INSTALLMENTS
    assert not terms.tranche_replays_payments
    steps = [{"seq": 1, "type": "disburse", "date": "2023-01-01", "amount": "500.00"},
             {"seq": 2, "type": "transaction", "transactionType": "REPAYMENT", "date": "2023-01-10",
              "amount": "475.00"},
             {"seq": 3, "type": "disburse", "date": "2023-01-20", "amount": "600.00"},
             {"seq": 4, "type": "undo_transaction", "target_seq": 2, "date": "2023-01-20"}]
    history = events_from_fineract(steps, terms.currency, terms=terms)
    first, _, tranche, _ = history.events
    assert getattr(first, "down_payment_collected", "?") is None  # the first disbursement's: the fold's
    assert getattr(tranche, "down_payment_collected", None) == Money.parse("50.00", "USD")
    view = fineract_view(terms, history, steps=4, as_of=date(2023, 1, 20))
    down = [t for t in view.transactions if t.type == "Down Payment"]
    assert [t.amount for t in down] == [Money.parse("125.00", "USD"), Money.parse("50.00", "USD")]
