"""The bureau and ID check simulators: deterministic per ID number, the documented scenarios, a realistic mix."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from microcredit.integrations.bureau import SYMBOLS, SimulatedBureau, report_from_json, scenario_of
from microcredit.integrations.id_check import SimulatedIdVerifier
from microcredit.platform.validators import validate_id_number
from microcredit.risk.evaluation import bureau_variables
from microcredit.risk.samples import sample_id_number

ON = date(2026, 12, 1)


def test_the_same_id_number_gives_the_same_report_and_another_a_different_one():
    bureau = SimulatedBureau()
    a = bureau.report(id_number=sample_id_number("123"), name="张三", on=ON)
    assert a == bureau.report(id_number=sample_id_number("123"), name="张三", on=ON)
    others = {bureau.report(id_number=sample_id_number(f"{n:03d}"), name="张三", on=ON).report_number
              for n in range(100, 110)}
    assert len(others) == 10


def test_a_report_survives_its_json_form():
    report = SimulatedBureau().report(id_number=sample_id_number("931"), name="李四", on=ON)
    assert report_from_json(report.to_json()) == report


def test_the_report_hides_the_id_number_and_the_name():
    number = sample_id_number("941")
    report = SimulatedBureau().report(id_number=number, name="王小明", on=ON)
    assert number not in str(report.to_json())
    assert report.identity.name == "王**"


@pytest.mark.parametrize(("sequence", "scenario"), [
    ("900", "no_file"), ("911", "serious_delinquency"), ("925", "many_inquiries"), ("938", "court_judgment"),
    ("940", "clean_thick"), ("951", "thin_file"), ("962", "late_payments")])
def test_the_sequence_code_picks_a_documented_scenario(sequence, scenario):
    number = sample_id_number(sequence)
    validate_id_number(number)  # the check character stays valid
    assert scenario_of(number) == scenario
    report = SimulatedBureau().report(id_number=number, name="张三", on=ON)
    facts = bureau_variables(report)
    assert report.scenario == scenario
    expected = {
        "no_file": lambda: not report.has_file and facts["accounts"] == 0,
        "serious_delinquency": lambda: facts["current_overdue_months"] >= 4,
        "many_inquiries": lambda: facts["inquiries_3m"] >= 9,
        "court_judgment": lambda: facts["court_judgments"] == 1 and facts["open_public_records"] == 2,
        "clean_thick": lambda: facts["worst_status_24m"] == 0 and facts["history_months"] >= 120,
        "thin_file": lambda: facts["accounts"] == 1 and facts["history_months"] < 6,
        "late_payments": lambda: facts["worst_status_24m"] == 2 and facts["current_overdue_months"] == 0,
    }[scenario]
    assert expected()


def test_grids_are_24_months_of_report_symbols_and_overdue_records_match_them():
    for n in range(200):
        report = SimulatedBureau().report(id_number=sample_id_number(f"{n:03d}"), name="张三", on=ON)
        for i, account in enumerate(report.accounts):
            assert len(account.grid) == 24
            assert set(account.grid) <= set(SYMBOLS)
            late = [s for s in account.grid if s.isdigit()]
            assert len([o for o in report.overdue_records if o.account_index == i]) == len(late)
            if account.status == "closed":
                assert account.grid[-1] == "C"
                assert account.balance_minor == 0


def test_the_seeded_mix_is_realistic():
    seen = Counter(SimulatedBureau().report(id_number=sample_id_number(f"{n:03d}", born=date(1980 + n % 20, 1, 1)),
                                            name="张三", on=ON).scenario for n in range(0, 900, 3))
    assert seen["clean"] > seen["late_payments"] > seen["serious_delinquency"] > 0
    assert seen["thin_file"] > 0
    assert seen["many_inquiries"] > 0
    assert seen["no_file"] > 0


@pytest.mark.parametrize(("sequence", "result"), [("941", "match"), ("981", "name_mismatch"),
                                                  ("992", "not_found")])
def test_the_id_check_simulator(sequence, result):
    assert SimulatedIdVerifier().verify(id_number=sample_id_number(sequence), name="张三").result == result


def test_the_id_check_simulator_does_not_find_a_number_with_a_wrong_check_character():
    number = sample_id_number("941")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert SimulatedIdVerifier().verify(id_number=wrong, name="张三").result == "not_found"
