"""The feature pipeline is point-in-time: events dated after the decision date never change the row."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from microcredit.integrations.behaviour import SimulatedBehaviourSource
from microcredit.integrations.bureau import BureauAccount, BureauInquiry, BureauPublicRecord, SimulatedBureau
from microcredit.risk import features, samples
from microcredit.risk.features import Instalment, InternalHistory

ON = date(2026, 12, 1)


def sources(facts, on=ON):
    report = SimulatedBureau().report(id_number=facts.id_number, name=facts.name, on=on)
    return report, SimulatedBehaviourSource().data(id_number=facts.id_number, until=on)


def history(extra=()):
    loan = (date(2026, 1, 5), [Instalment(date(2026, m, 5), date(2026, m, 5 + (m == 4) * 20)) for m in range(2, 12)])
    return InternalHistory(loans=[loan, *extra])


def test_every_feature_is_computed_for_a_full_applicant():
    facts = samples.base_facts()
    report, behaviour = sources(facts)
    row = features.features(facts, on=ON, report=report, history=history(), behaviour=behaviour)
    assert list(row) == list(features.FEATURES)
    assert row["age"] == 36
    assert row["monthly_income"] == 12_000
    assert row["amount"] == 20_000
    assert row["has_file"] == 1
    assert row["history_months"] > 24
    assert row["internal_loans"] == 1
    assert row["internal_instalments_due"] == 10
    assert row["internal_on_time_ratio"] == 0.9
    assert row["internal_max_days_late"] == 20
    assert row["ecommerce_orders_6m"] is not None
    assert 0 <= row["payment_on_time_ratio_12m"] <= 1


def test_events_after_the_decision_date_leave_the_row_unchanged():
    facts = samples.base_facts()
    report, behaviour = sources(facts)
    before = features.features(facts, on=ON, report=report, history=history(), behaviour=behaviour)
    later = ON + timedelta(days=3)
    # The bureau learns of a new hard inquiry, a new card and a court judgment after the date …
    card = BureauAccount(kind="credit_card", institution_type="online_bank", opened_on=later, currency="CNY",
                         limit_minor=5_000_000, balance_minor=4_900_000, status="normal", overdue_months=0,
                         overdue_minor=0, monthly_payment_minor=500_000, grid="/" * 23 + "*")
    # (read a month later, every account's grid has moved on a month, the new month 3 months overdue)
    moved = tuple(replace(a, grid=a.grid[1:] + "3") for a in report.accounts)
    newer = replace(report, queried_on=later + timedelta(days=30), accounts=(*moved, card),
                    inquiries=(*report.inquiries, *(BureauInquiry(later, "online_bank", "loan_approval"),) * 5),
                    public_records=(*report.public_records,
                                    BureauPublicRecord("court_judgment", later, "法院", 100_000, "open")),
                    summary=replace(report.summary, monthly_payments_minor=report.summary.monthly_payments_minor
                                    + 500_000, open_accounts=report.summary.open_accounts + 1))
    # … the applicant misses an instalment due after it, and takes another loan; behaviour data runs on.
    late_loan = (later, [Instalment(later + timedelta(days=30), None)])
    extra_instalment = InternalHistory(loans=[(date(2026, 1, 5), [*history().loans[0][1],
                                                                  Instalment(later, None)]), late_loan])
    behaviour_later = SimulatedBehaviourSource().data(id_number=facts.id_number, until=later + timedelta(days=60))
    after = features.features(facts, on=ON, report=newer, history=extra_instalment, behaviour=behaviour_later)
    assert after == before
    # The same events dated on the decision date do count (the test can fail).
    same_day = replace(newer, inquiries=(*report.inquiries, *(BureauInquiry(ON, "online_bank", "loan_approval"),) * 5))
    counted = features.features(facts, on=ON, report=same_day, history=history(), behaviour=behaviour)
    assert counted["inquiries_3m"] == before["inquiries_3m"] + 5


def test_a_later_decision_date_sees_the_later_events():
    facts = samples.base_facts()
    report, _ = sources(facts)
    later = ON + timedelta(days=3)
    newer = replace(report, inquiries=(*report.inquiries, BureauInquiry(later, "online_bank", "loan_approval")))
    assert (features.features(facts, on=later, report=newer)["inquiries_1m"]
            == features.features(facts, on=ON, report=report)["inquiries_1m"] + 1)


def test_behaviour_simulator_is_deterministic_and_history_does_not_change_after_the_fact():
    source = SimulatedBehaviourSource()
    id_number = samples.base_facts().id_number
    a = source.data(id_number=id_number, until=ON)
    b = source.data(id_number=id_number, until=ON)
    assert a == b
    later = source.data(id_number=id_number, until=ON + timedelta(days=62))
    shared = {m.month: m for m in later.months}
    assert all(shared[m.month] == m for m in a.months if m.month in shared)
    other = source.data(id_number=samples.sample_id_number("942"), until=ON)
    assert other.months != a.months


def test_no_report_means_no_credit_features():
    row = features.features(samples.base_facts(), on=ON, report=None)
    assert row["has_file"] is None
    assert row["inquiries_3m"] is None
    assert row["internal_loans"] == 0
    assert row["ecommerce_orders_6m"] is None


def test_the_synthetic_population_s_names_are_served_from_the_same_sources():
    facts = samples.base_facts()
    report, behaviour = sources(facts)
    row = features.features(facts, on=ON, report=report, behaviour=behaviour)
    assert row["income"] == 12_000
    assert row["region"] == "east"  # 11: Beijing
    assert row["loan_to_income"] == 20_000 / (12 * 12_000)
    assert row["payment_regularity"] == row["payment_on_time_ratio_12m"]
    assert row["ecommerce_spend"] == row["ecommerce_spend_6m"] // 6
    assert row["overdue_24m"] == 0  # a clean thick file
    assert row["max_dpd"] == 0
    assert row["social_score"] is None
    assert row["education"] is None
