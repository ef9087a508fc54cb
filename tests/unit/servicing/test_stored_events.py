"""A recorded event's engine event is the one its stored payload parses to (`loans.record` keeps it for the next
request on the loan instead of parsing the payload again)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from microcredit.products.service.replay import event_of
from microcredit.servicing.service import loans

ITEMS = [
    {"type": "disbursement", "amount": "10000.00", "channel": "bank_transfer"},
    {"type": "disbursement", "amount": "2500.50"},
    {"type": "repayment", "amount": "5.00", "channel": "cash"},
    {"type": "prepayment", "amount": "1200.00", "mode": "shorten_term", "channel": "mobile_payment"},
    {"type": "prepayment", "amount": "0.01", "mode": "reduce_installment"},
    {"type": "charge", "amount": "30.00", "name": "手续费"},
    {"type": "penalty", "installment": 3, "amount": "12.34"},
    {"type": "waiver", "installment": 2, "component": "penalty", "amount": "1.00"},
    {"type": "deferral", "from_installment": 4, "periods": 2, "interest": "payable", "restructuring": False},
    {"type": "deferral", "from_installment": 1, "periods": 1, "interest": "waived", "restructuring": True},
    {"type": "rescheduling", "installments": 18, "annual_rate": "12.5", "method": "equal_principal",
     "capitalise_overdue_principal": True},
    {"type": "rescheduling", "installments": 6, "restructuring": False},
    {"type": "acceleration", "reason": "arrears"},
    {"type": "acceleration"},
    {"type": "write_off"},
    {"type": "recovery", "amount": "100.00", "channel": "cash"},
    {"type": "refund", "amount": "3.21"},
    {"type": "reversal", "target": "r7"},
    {"type": "as_of"},
]


@pytest.mark.parametrize("fields", ITEMS, ids=lambda f: f["type"])
def test_event_of_a_stored_payload_is_the_event_of_the_item_recorded(fields):
    """`record` folds `event_of(item)` and stores `item`'s JSON; read back (through JSON, as the database gives
    it) and parsed, the payload gives the same engine event."""
    item = loans.event_item(id="e9", on=date(2026, 3, 31), **fields)
    payload = item.model_dump(mode="json", exclude_none=True)
    stored = json.loads(json.dumps(payload))
    assert event_of(loans._EVENT.validate_python(stored)) == event_of(item)


def test_a_kept_event_answers_only_for_the_payload_it_was_kept_under():
    """`Parsed.keep`: the value kept answers the same payload; another payload under the key is parsed again."""
    parsed = loans.Parsed(max_entries=4)
    parsed.keep(("loan", 1), {"a": 1}, "kept")
    assert parsed.get(("loan", 1), {"a": 1}, lambda: "made") == "kept"
    assert parsed.get(("loan", 1), {"a": 2}, lambda: "made") == "made"


def test_a_kept_value_does_not_answer_its_source_changed_after_it_was_kept():
    """`Parsed.keep` keeps a copy of the source: a change made to the caller's object afterwards is a different
    source, parsed again (not the value kept for the source as it was)."""
    parsed = loans.Parsed(max_entries=4)
    source = {"terms": {"annual_rate": "12.0"}, "calendar": {"holidays": ["2026-10-01"]}}
    parsed.keep(("loan", 1), source, "kept")
    source["calendar"]["holidays"].append("2026-10-02")
    assert parsed.get(("loan", 1), source, lambda: "made") == "made"
    assert parsed.get(("loan", 1), {"terms": {"annual_rate": "12.0"}, "calendar": {"holidays": ["2026-10-01"]}},
                      lambda: "made again") == "made again"  # the second get kept the changed one


def test_loans_pinned_to_the_same_holidays_have_equal_calendars_whatever_their_numbers():
    """A loan's pinned calendar is named by the terms' calendar, not the loan: equal for equal holidays (so the
    periods' plans, memoised on the calendar, are made once for both), different for different holidays."""
    from types import SimpleNamespace

    def pinned(number: str, holidays: list[str]):
        loan = SimpleNamespace(number=number, terms={"calendar": {"holidays": holidays, "working_days": ["2026-09-27"],
                                                                  "covered_years": [2026]}})
        return loans._pinned(loan)("cn", date(2026, 1, 1), date(2026, 12, 31))

    first, second = pinned("L-1", ["2026-10-01", "2026-10-02"]), pinned("L-2", ["2026-10-01", "2026-10-02"])
    assert first == second
    assert hash(first) == hash(second)
    assert first.name == "cn"
    assert first.holidays == frozenset({date(2026, 10, 1), date(2026, 10, 2)})
    assert first.working_days == frozenset({date(2026, 9, 27)})
    assert pinned("L-3", ["2026-10-01"]) != first
