"""The early default table: which loans count, which defaulted, by grade and month paid out."""

from __future__ import annotations

from datetime import date

from microcredit.risk.service.outcomes import LoanOutcome, add_months, table


def loan(grade, paid_out, worst3, worst6, observed=date(2026, 7, 31)):
    return LoanOutcome(application_number=None, grade=grade, score=None, disbursed_on=paid_out, observed_on=observed,
                       worst_dpd_3m=worst3, worst_dpd_6m=worst6)


def test_add_months_keeps_the_day_or_the_months_last():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)


def test_counted_once_observed_or_defaulted_and_rates_per_band_and_vintage():
    rows = [
        loan("A", date(2026, 1, 10), 0, 0),     # both windows over: counted, good
        loan("A", date(2026, 1, 20), 31, 95),   # both defaults
        loan("B", date(2026, 2, 5), 29, 89),    # just under both thresholds: good
        loan("B", date(2026, 5, 1), 0, 0),      # 2 months on book: counted in neither
        loan("B", date(2026, 5, 2), 30, 30),    # young but already 30+: counted as an early default
        loan(None, date(2026, 2, 1), 0, 0),     # no grade
    ]
    t = table(rows)
    assert (t.bands, t.vintages) == (("A", "B", "-"), ("2026-01", "2026-02", "2026-05"))
    assert t.as_of == date(2026, 7, 31)
    a = t.by_band[0]
    assert (a.loans, a.early.counted, a.early.defaults, a.early.rate) == (2, 2, 1, 0.5)
    assert (a.late.counted, a.late.defaults) == (2, 1)
    b = t.by_band[1]
    assert (b.loans, b.early.counted, b.early.defaults) == (3, 2, 1)
    assert (b.late.counted, b.late.defaults, b.late.rate) == (0, 0, None)  # nobody 6 months on book
    may = next(c for c in t.cells if (c.band, c.vintage) == ("B", "2026-05"))
    assert (may.loans, may.early.counted, may.early.defaults) == (2, 1, 1)
    assert (t.total.loans, t.total.early.counted, t.total.early.defaults) == (6, 5, 2)
    assert sum(c.loans for c in t.cells) == t.total.loans == sum(v.loans for v in t.by_vintage)


def test_no_loans_no_rates():
    t = table([])
    assert (t.cells, t.bands, t.total.loans, t.total.early.rate, t.as_of) == ((), (), 0, None, None)
