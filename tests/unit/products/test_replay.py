"""`microcredit loan replay`: a loan's terms and events (JSON) folded into its state, and its errors."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from microcredit.cli import app
from microcredit.lending import fineract
from microcredit.lending.daycount import DaysInYear
from microcredit.lending.loan import ChargesAfterMaturity, PreClosure, ProgressiveInterest, RestFrequency, fold
from microcredit.lending.loan.cumulative import (
    CompoundingUnit,
    CumulativeRecalculation,
    EarlyPayment,
    InterestCompounding,
)
from microcredit.lending.loan.terms import DownPayment
from microcredit.lending.money import Money, RoundingMode
from microcredit.lending.schedule import FlatInterest, MultipleRounding
from microcredit.lending.schedule.model import LevelInstallment
from microcredit.products.errors import LoanEventRefused
from microcredit.products.fineract_schemas import FineractLoanReplay
from microcredit.products.schemas import LoanReplay, loan_replay_schema, parse_loan_replay
from microcredit.products.service import offline_calendars
from microcredit.products.service.replay import event_of, replay, state_read, terms_of
from tests.unit.lending.fineract.cases import Case
from tests.unit.lending.fineract.test_profile import CASES, SUPPORTED

DOCS = Path(__file__).resolve().parents[3] / "docs"
EXAMPLE = DOCS / "examples" / "replay" / "equal_installment.json"
FINERACT_EXAMPLE = DOCS / "examples" / "replay" / "fineract_flat.json"
SCHEMA = DOCS / "schemas" / "loan-replay.schema.json"
runner = CliRunner()


def _document(**changes: Any) -> dict[str, Any]:
    return {**json.loads(EXAMPLE.read_text(encoding="utf-8")), **changes}


def test_the_documented_example_replays_to_its_documented_state() -> None:
    # docs/lending-engine.md walks through these figures: the docs/domain.md §4.1 loan, installment 2
    # paid late in two parts with a penalty waived, 2,000 prepaid on 2025-04-15 keeping the term
    # (655.01 a month), a mistaken payment reversed.
    state = replay(LoanReplay.model_validate(_document()), calendars=offline_calendars)
    assert state.status == "active"
    assert [str(row.due.total) for row in state.installments[:4]] == ["888.49", "890.71", "888.49", "655.01"]
    assert str(state.installments[1].waived.penalty) == "2.22"
    assert str(state.principal_prepaid) == "2000.00"
    assert str(state.accrued_interest) == "28.05"  # 15 days on 5,610.80 at 12 % ACT/360
    assert state.payoff is not None
    assert str(state.payoff.total) == "5638.85"
    assert state.reversed == ["typo"]
    assert [p.event_id for p in state.payments] == ["r1", "r2", "r3", "p1"]
    assert str(state.totals.outstanding.principal) == "5610.80"


def test_the_cli_prints_the_state_as_json_from_a_file_or_stdin() -> None:
    from_file = runner.invoke(app, ["loan", "replay", str(EXAMPLE)])
    assert from_file.exit_code == 0, from_file.output
    from_stdin = runner.invoke(app, ["loan", "replay", "-"], input=EXAMPLE.read_text(encoding="utf-8"))
    assert from_stdin.exit_code == 0
    assert json.loads(from_file.stdout) == json.loads(from_stdin.stdout)
    assert json.loads(from_file.stdout)["payoff"]["after_credit"] == "5638.85"


def test_a_refused_event_is_named_by_its_place_in_events() -> None:
    document = _document(events=[*_document()["events"][:4],
                                 {"type": "waiver", "id": "w9", "on": "2025-03-23", "installment": 2,
                                  "component": "penalty", "amount": "9.99"}])
    with pytest.raises(LoanEventRefused) as refused:
        replay(LoanReplay.model_validate(document), calendars=offline_calendars)
    assert refused.value.field == "events.4"
    assert refused.value.extra == {"reason": "above_outstanding"}
    result = runner.invoke(app, ["loan", "replay", "-"], input=json.dumps(document))
    assert result.exit_code == 2
    assert "events.4" in result.output


@pytest.mark.parametrize(
    ("event", "where"),
    [
        ({"type": "repayment", "id": "r", "on": "2025-02-01", "amount": 888.49}, "amount"),
        ({"type": "repayment", "id": "r", "on": "2025-02-01", "amount": "1e3"}, "amount"),
        ({"type": "repayment", "id": "r", "on": "2025-02-01", "amount": "-1.00"}, "amount"),
        ({"type": "loan_sold", "id": "r", "on": "2025-02-01"}, "events.0"),
        ({"type": "prepayment", "id": "r", "on": "2025-02-01", "amount": "1.00"}, "mode"),
        ({"type": "waiver", "id": "w", "on": "2025-02-01", "installment": 1, "component": "principal",
          "amount": "1.00"}, "component"),
        ({"type": "repayment", "id": "a b", "on": "2025-02-01", "amount": "1.00"}, "id"),
    ],
)
def test_malformed_events_are_refused_naming_the_field(event: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as refused:
        LoanReplay.model_validate(_document(events=[event]))
    fields = [".".join(str(p) for p in error["loc"]) for error in refused.value.errors()]
    assert any(where in field for field in fields), fields


def test_a_revolving_line_is_not_replayed_here() -> None:
    terms = {**_document()["terms"], "repayment_method": "revolving_daily",
             "movements": [{"on": "2025-01-15", "kind": "draw", "amount": "100.00"}]}
    with pytest.raises(ValidationError) as refused:
        LoanReplay.model_validate(_document(terms=terms))
    assert refused.value.errors()[0]["type"] == "replay_revolving"


def test_the_published_json_schema_is_the_one_the_code_validates_with() -> None:
    # Regenerate with: microcredit loan schema > docs/schemas/loan-replay.schema.json
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == loan_replay_schema()
    printed = runner.invoke(app, ["loan", "schema"])
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == loan_replay_schema()
    # Both forms are in it: ours unchanged, and the fineract profile's.
    assert {ref["$ref"].rsplit("/", 1)[-1] for ref in loan_replay_schema()["oneOf"]} == {
        "LoanReplay", "FineractLoanReplay"}
    ours = LoanReplay.model_json_schema()
    assert loan_replay_schema()["$defs"]["LoanReplay"]["properties"] == ours["properties"]


def test_our_form_reads_as_before() -> None:
    assert isinstance(parse_loan_replay(EXAMPLE.read_text(encoding="utf-8")), LoanReplay)


def _fineract_document(**changes: Any) -> dict[str, Any]:
    return {**json.loads(FINERACT_EXAMPLE.read_text(encoding="utf-8")), **changes}


def test_the_fineract_example_prints_the_schedule_fineract_asserts() -> None:
    # docs/examples/replay/fineract_flat.json is the golden case of LoanRepayment.feature lines 1423-1445
    # (3,000.00 EUR at 12 % a year flat over 3 months, 500.00 repaid on the first due date); Fineract asserts
    # 1,000.00 + 30.00 per installment, the 500.00 paying 30.00 interest and 470.00 principal.
    result = runner.invoke(app, ["loan", "replay", str(FINERACT_EXAMPLE)])
    assert result.exit_code == 0, result.output
    state = json.loads(result.stdout)
    assert state["currency"] == "EUR"
    assert state["status"] == "active"
    rows = [(r["number"], r["due_date"], r["due"]["principal"], r["due"]["interest"], r["paid"]["total"],
             r["outstanding"]["total"], r["balance_after"]) for r in state["installments"]]
    assert rows == [
        (1, "2023-02-01", "1000.00", "30.00", "500.00", "530.00", "2000.00"),
        (2, "2023-03-01", "1000.00", "30.00", "0.00", "1030.00", "1000.00"),
        (3, "2023-04-01", "1000.00", "30.00", "0.00", "1030.00", "0.00"),
    ]
    assert [(line["component"], line["amount"]) for line in state["payments"][0]["lines"]] == [
        ("interest", "30.00"), ("principal", "470.00")]
    assert state["totals"]["outstanding"]["total"] == "2590.00"


def test_a_fineract_parameter_the_profile_does_not_know_is_refused_by_name() -> None:
    document = _fineract_document(terms={**_fineract_document()["terms"], "fixedLength": 3})
    result = runner.invoke(app, ["loan", "replay", "-"], input=json.dumps(document))
    assert result.exit_code == 2
    assert "terms.fixedLength" in result.output


def test_a_fineract_value_the_profile_does_not_reproduce_is_refused_by_name() -> None:
    # interest recalculated on a flat loan: the schema takes Fineract's parameter, the profile refuses it
    document = _fineract_document(terms={**_fineract_document()["terms"], "isInterestRecalculationEnabled": True,
                                         "rescheduleStrategyMethod": "REDUCE_EMI_AMOUNT",
                                         "recalculationRestFrequencyType": "DAILY"})
    result = runner.invoke(app, ["loan", "replay", "-"], input=json.dumps(document))
    assert result.exit_code == 2
    assert "terms.interestType" in result.output


def test_a_fineract_step_the_profile_does_not_replay_is_refused_by_name() -> None:
    steps = [*_fineract_document()["events"], {"seq": 7, "type": "waive_charge", "target_seq": 6}]
    result = runner.invoke(app, ["loan", "replay", "-"], input=json.dumps(_fineract_document(events=steps)))
    assert result.exit_code == 2
    assert "events.6" in result.output


def test_a_fineract_step_the_loan_cannot_take_is_named_by_its_place() -> None:
    steps = [*_fineract_document()["events"],
             {"seq": 7, "type": "transaction", "transactionType": "REPAYMENT", "date": "2022-12-01",
              "amount": "10.00"}]
    with pytest.raises(LoanEventRefused) as refused:
        replay(parse_loan_replay(json.dumps(_fineract_document(events=steps))), calendars=offline_calendars)
    assert refused.value.field == "events.6"
    assert refused.value.extra == {"reason": "not_disbursed"}


def test_the_fineract_terms_map_to_the_profile_conventions() -> None:
    document = parse_loan_replay(FINERACT_EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(document, FineractLoanReplay)
    terms = fineract.terms_from_fineract(document.terms.model_dump(mode="json", exclude_none=True))
    assert terms.contract.rounding.mode is RoundingMode.HALF_EVEN
    assert terms.contract.annual_rate == Decimal("0.12")
    assert terms.contract.flat_interest is FlatInterest.TOTAL_SPREAD
    assert terms.contract.multiple_rounding is MultipleRounding.SHARES
    assert terms.contract.installment_multiple == Money.parse("1.00", "EUR")


def test_the_recalculation_example_charges_the_late_principal_interest_to_the_next_installment() -> None:
    # docs/examples/replay/recalculation.json: installment 1 (788.49 principal) paid 14 days
    # late; under a daily rest it earned 788.49 x 12 % x 14/360 = 3.68 more, with installment 2.
    document = json.loads((DOCS / "examples" / "replay" / "recalculation.json").read_text(encoding="utf-8"))
    state = replay(LoanReplay.model_validate(document), calendars=offline_calendars)
    plain = json.loads(json.dumps(document))
    plain["servicing"].pop("recalculation")
    without = replay(LoanReplay.model_validate(plain), calendars=offline_calendars)
    assert str(state.installments[0].due.interest) == str(without.installments[0].due.interest) == "100.00"
    assert str(without.installments[1].due.interest) == "92.12"
    assert str(state.installments[1].due.interest) == "95.80"
    # Installment 2 was paid 888.49 on its due date: interest first, 3.68 of its principal is owed.
    assert str(state.installments[1].outstanding.interest) == "0.00"
    assert str(state.installments[1].outstanding.principal) == "3.68"
    assert str(state.interest_refunded) == "0.00"


PLANNED_EXAMPLE = DOCS / "examples" / "replay" / "planned_tranches.json"


def test_the_planned_tranches_example_shows_the_plan_met_so_far_and_projects_the_rest() -> None:
    # docs/examples/replay/planned_tranches.json: 6,000 of a planned 6,000 + 4,000 disbursed, three
    # installments of 533.09 paid; the 4,000 planned for 2025-04-25 is not made yet on 2025-04-20.
    document = json.loads(PLANNED_EXAMPLE.read_text(encoding="utf-8"))
    state = replay(LoanReplay.model_validate(document), calendars=offline_calendars)
    first, second = state.planned_disbursements
    assert first.made is not None
    assert first.made.event_id == "d1"
    assert second.made is None
    assert str(second.expected_amount) == "4000.00"
    assert str(state.totals.due.principal) == "6000.00"
    assert state.projected_schedule is not None
    projected = state.projected_schedule
    # Installment 4 earns 10 days on 4,566.49 and 20 on 8,566.49 (72.33); the level after it is 996.75.
    assert [str(row.total) for row in projected[2:6]] == ["533.09", "1011.97", "996.75", "996.75"]
    assert str(sum((row.principal for row in projected), Money.zero("CNY"))) == "10000.00"
    # Made as planned, the tranche gives the projected schedule as the loan's own.
    document["events"].append({"type": "disbursement", "id": "d2", "on": "2025-04-25", "amount": "4000.00"})
    document["as_of"] = "2025-04-25"
    made = replay(LoanReplay.model_validate(document), calendars=offline_calendars)
    assert made.projected_schedule is None
    assert [str(row.due.total) for row in made.installments[3:6]] == ["1011.97", "996.75", "996.75"]


@pytest.mark.parametrize(
    ("servicing", "code"),
    [
        ({"tranches": True, "expected_disbursements": [{"on": "2025-01-15", "amount": "6000.00"},
                                                       {"on": "2025-04-25", "amount": "4000.01"}]},
         "planned_above_amount"),
        ({"tranches": False, "expected_disbursements": [{"on": "2025-01-15", "amount": "6000.00"},
                                                        {"on": "2025-04-25", "amount": "4000.00"}]},
         "planned_tranches_not_allowed"),
        ({"tranches": True, "expected_disbursements": [{"on": "2025-04-25", "amount": "6000.00"},
                                                       {"on": "2025-01-15", "amount": "4000.00"}]},
         "planned_days_out_of_order"),
    ],
)
def test_a_plan_that_cannot_be_kept_is_refused_naming_the_field(servicing: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        LoanReplay.model_validate(_document(servicing=servicing))
    error = refused.value.errors()[0]
    assert error["type"] == code
    assert error["loc"][0] == "servicing"


def _case_document(case: Case, until: int) -> dict[str, Any]:
    """A golden case as a replay document: its terms (without the cases' own notes) and its steps up
    to its checkpoint, read on that checkpoint's business date."""
    return {"profile": "fineract", "source": f"{case.source.path} {case.source.scenario}",
            "terms": {k: v for k, v in case.terms.items() if not k.startswith("_note")},
            "events": [{"seq": e.seq, "type": e.type, **e.data} for e in case.events[:until]],
            "as_of": _read_on(case, until).isoformat()}


def _read_on(case: Case, until: int) -> date:
    """The business date of the checkpoint after `until` steps (the last date set when it names none)."""
    named = [cp.business_date for cp in case.expected if cp.after_event == until and cp.business_date]
    return named[0] if named else max(d for e in case.events[:until] if (d := e.date()) is not None)


def _by_feature(*features: str) -> Case:
    return next(c for c in SUPPORTED if set(features) <= set(c.features))


@pytest.mark.parametrize("features", [
    ("progressive", "interest_recalculation"),  # Terms.progressive with P8
    ("cumulative", "interest_recalculation", "rest_same_as_repayment_period"),  # cumulative_recalculation
    ("compounding_interest",),  # cumulative_recalculation with interest compounded (R3)
    ("multi_disbursement", "cumulative"),  # tranches
    ("down_payment_auto",),  # a down payment collected at disbursement
    ("strategy:advanced-payment-allocation-strategy",),  # paymentAllocation
    ("payoff",),  # the payoff step
    ("charge:disbursement:percent_of_amount",),  # a charge taken at the disbursement
    ("charge:instalment_fee:percent_of_amount_and_interest",),  # a fee on every installment
    ("charge:overdue_installment:percent_of_amount",),  # the product's overdue charge, by each close of business
], ids=lambda f: "+".join(f))
def test_a_golden_case_replayed_through_the_cli_gives_the_fold_s_figures(tmp_path: Path,
                                                                         features: tuple[str, ...]) -> None:
    _assert_replayed_as_folded(_by_feature(*features), tmp_path)


def test_a_golden_case_whose_periods_start_on_the_submission_date_replays_through_the_cli(tmp_path: Path) -> None:
    case = next(c for c in SUPPORTED if c.terms.get("repaymentStartDateType") == "SUBMITTED_ON_DATE")
    _assert_replayed_as_folded(case, tmp_path)


def _assert_replayed_as_folded(case: Case, tmp_path: Path) -> None:
    """The CLI's state for the case up to its last checkpoint is the fold's for the same events."""
    checkpoint = case.expected[-1]
    document = _case_document(case, checkpoint.after_event)
    path = tmp_path / "loan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(app, ["loan", "replay", str(path)])
    assert result.exit_code == 0, result.output
    terms = fineract.terms_from_fineract(document["terms"])
    history = fineract.events_from_fineract(document["events"], terms.currency, terms=terms,
                                            strategies=fineract.transaction_strategies(document["terms"]),
                                            overdue=fineract.overdue_charge(document["terms"]))
    folded = fold(terms, history.events, as_of=date.fromisoformat(document["as_of"]))
    assert json.loads(result.stdout) == json.loads(state_read(folded).model_dump_json())


def test_rp01_replayed_through_the_cli_compounds_the_overdue_interest() -> None:
    # docs/examples/replay/fineract_compounding.json is RP01 (LoanRepayment.feature lines 582-603):
    # Fineract asserts these rows, the January 2023 one 833.57 + 28.43.
    case = next(c for c in CASES if c.source.scenario.startswith("RP01 "))
    example = DOCS / "examples" / "replay" / "fineract_compounding.json"
    assert json.loads(example.read_text(encoding="utf-8"))["events"] == _case_document(case, len(case.events))["events"]
    result = runner.invoke(app, ["loan", "replay", str(example)])
    assert result.exit_code == 0, result.output
    rows = [(r["due_date"], r["due"]["principal"], r["due"]["interest"])
            for r in json.loads(result.stdout)["installments"]]
    assert rows == [("2022-10-01", "812.68", "49.32"), ("2022-11-01", "819.32", "42.68"),
                    ("2022-12-01", "828.78", "33.22"), ("2023-01-01", "833.57", "28.43"),
                    ("2023-02-01", "844.62", "17.38"), ("2023-03-01", "861.03", "7.93")]


# Our form: each convention of `Terms` through `servicing` (the schema servicing stores loans with).
OURS: dict[str, Any] = {
    "terms": {"amount": "10000.00", "annual_rate": "12", "repayment_method": "equal_installment", "term": 6,
              "start_date": "2025-01-15", "interest_calculation": "daily", "day_count": "ACT/365F",
              "rounding": "half_even", "installment_multiple": "1.00"},
    "servicing": {"overpayment": "pay_next_installments"},
    "events": [{"type": "disbursement", "id": "d", "on": "2025-01-15", "amount": "10000.00"},
               {"type": "repayment", "id": "r1", "on": "2025-02-10", "amount": "1800.00"},
               {"type": "repayment", "id": "r2", "on": "2025-04-02", "amount": "900.00"}],
    "as_of": "2025-04-20",
}


def _ours(**servicing: Any) -> dict[str, Any]:
    return {**OURS, "servicing": {**OURS["servicing"], **servicing}}


@pytest.mark.parametrize(("servicing", "option"), [
    ({"progressive": {"days_in_year": "actual", "overdue_rest": "daily"}},
     {"progressive": ProgressiveInterest(days_in_year=DaysInYear.ACTUAL, overdue_rest=RestFrequency.DAILY)}),
    ({"progressive": {"days_in_year": "360", "overdue_rest": "same_as_repayment", "pre_closure": "till_rest_date"}},
     {"progressive": ProgressiveInterest(days_in_year=DaysInYear.D360, overdue_rest=RestFrequency.SAME_AS_REPAYMENT,
                                         pre_closure=PreClosure.TILL_REST_DATE)}),
    ({"cumulative_recalculation": {"rest": "daily", "early_payment": "reduce_installment"}},
     {"cumulative_recalculation": CumulativeRecalculation(rest=RestFrequency.DAILY,
                                                          early_payment=EarlyPayment.REDUCE_INSTALLMENT)}),
    ({"cumulative_recalculation": {"rest": "same_as_repayment", "early_payment": "next_principal",
                                   "compounding": {"unit": "months", "day_of_month": 1}}},
     {"cumulative_recalculation": CumulativeRecalculation(
         rest=RestFrequency.SAME_AS_REPAYMENT, early_payment=EarlyPayment.NEXT_PRINCIPAL,
         compounding=InterestCompounding(unit=CompoundingUnit.MONTHS, day_of_month=1))}),
    ({"cumulative_recalculation": {"rest": "daily", "early_payment": "shorten_term",
                                   "compounding": {"unit": "days", "every": 30}}},
     {"cumulative_recalculation": CumulativeRecalculation(
         rest=RestFrequency.DAILY, early_payment=EarlyPayment.SHORTEN_TERM,
         compounding=InterestCompounding(unit=CompoundingUnit.DAYS, every=30))}),
    ({"charges_after_maturity": "extra_installment", "charges_with_down_payment": False},
     {"charges_after_maturity": ChargesAfterMaturity.EXTRA_INSTALLMENT, "charges_with_down_payment": False}),
    ({"tranches": True, "tranche_replays_payments": True, "most_outstanding": "12000.00"},
     {"tranches": True, "tranche_replays_payments": True, "most_outstanding": Money.parse("12000.00", "CNY")}),
    ({"down_payment_percent": "10", "down_payment_collected": True, "down_payment_rounded_to_multiple": True,
      "down_payment_by_strategy": True},
     {"down_payment": DownPayment(percent=Decimal("10"), collected_at_disbursement=True,
                                  rounded_to_installment_multiple=True, collected_by_strategy=True)}),
], ids=["progressive", "progressive-360", "cumulative", "cumulative-compounding-monthly",
        "cumulative-compounding-30-days", "charges", "tranches", "down-payment"])
def test_each_convention_of_our_form_replays_to_the_fold_of_those_terms(tmp_path: Path, servicing: dict[str, Any],
                                                                        option: dict[str, Any]) -> None:
    document = _ours(**servicing)
    path = tmp_path / "loan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(app, ["loan", "replay", str(path)])
    assert result.exit_code == 0, result.output
    base = terms_of(LoanReplay.model_validate(OURS), offline_calendars)
    if "cumulative_recalculation" in option:  # Fineract's level installment comes with it (K4)
        base = replace(base, contract=replace(base.contract, level_installment=LevelInstallment.NOMINAL_PMT))
    expected = fold(replace(base, **option), [event_of(e) for e in LoanReplay.model_validate(document).events],
                    as_of=date(2025, 4, 20))
    assert json.loads(result.stdout) == json.loads(state_read(expected).model_dump_json())
    plain = json.loads(runner.invoke(app, ["loan", "replay", "-"], input=json.dumps(OURS)).stdout)
    if "cumulative_recalculation" in option or "progressive" in option:  # the option changes the figures
        assert json.loads(result.stdout)["installments"] != plain["installments"]


@pytest.mark.parametrize(("servicing", "terms", "where", "code"), [
    ({"recalculation": {"rest": "daily", "compounding": "none", "pre_closure": "till_pre_closure_date"},
      "cumulative_recalculation": {"rest": "daily", "early_payment": "reduce_installment"}}, {},
     "servicing.cumulative_recalculation", "one_recalculation"),
    ({"progressive": {"days_in_year": "actual"}, "overpayment": "prepay_principal"}, {},
     "servicing.progressive", "progressive_prepay_principal"),
    ({"cumulative_recalculation": {"rest": "daily", "early_payment": "reduce_installment"},
      "down_payment_percent": "10"}, {}, "servicing.cumulative_recalculation", "cumulative_recalculation_down_payment"),
    ({"cumulative_recalculation": {"rest": "daily", "early_payment": "reduce_installment"}},
     {"repayment_method": "equal_principal"}, "servicing", "recalculated_schedule_terms"),
    ({"cumulative_recalculation": {"rest": "daily", "early_payment": "reduce_installment",
                                   "compounding": {"unit": "days", "day_of_month": 3}}}, {},
     "servicing.cumulative_recalculation.compounding", "compounding_day_of_month"),
    ({"cumulative_recalculation": {"rest": "weekly", "early_payment": "reduce_installment"}}, {},
     "servicing.cumulative_recalculation.rest", "literal_error"),
    ({"tranches": True, "most_outstanding": "9000.00"}, {}, "servicing", "most_outstanding_below_amount"),
    ({"cumulative_recalculation": {"rest": "daily", "early_payment": "reduce_installment",
                                   "compounding": {"unit": "same_as_repayment"}}},
     {"interest_calculation": "same_as_repayment"}, "servicing", "compounding_needs_daily_interest"),
])
def test_a_convention_the_engine_cannot_take_is_refused_naming_the_field_and_code(
        servicing: dict[str, Any], terms: dict[str, Any], where: str, code: str) -> None:
    document = {**_ours(**servicing), "terms": {**OURS["terms"], **terms}}
    with pytest.raises(ValidationError) as refused:
        LoanReplay.model_validate(document)
    errors = refused.value.errors()
    assert any(".".join(map(str, e["loc"])).startswith(where) and e["type"] == code for e in errors), errors
    result = runner.invoke(app, ["loan", "replay", "-"], input=json.dumps(document))
    assert result.exit_code == 2
    assert where in result.output
    assert code in result.output
