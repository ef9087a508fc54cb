"""A list's total is kept for a few seconds (`platform.paging.page_of`) and is never stale in this process.

A full page's total costs a second statement; the borrower list keeps it in the
reference cache by shape, filters and the caller's scope. Every change to a
borrower row made in this process forgets the kept totals, so the very next
list shows the new total. The first two tests fail when that forgetting is taken
out (the kept total is then the old one for `reference_cache_seconds`); the
third fails when the kept total's key leaves out the filters' values (the
caller's scope among them).
"""

from __future__ import annotations

from sqlalchemy import update

from microcredit.parties.models import Borrower
from tests.factories import make_borrower


def _total(client, headers, **params) -> int:
    answer = client.get("/api/v1/borrowers", headers=headers, params={"page_size": 2, **params})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["items"]) == 2  # a full page: the total is counted (and kept), not inferred
    return answer.json()["total"]


def test_a_new_borrower_counts_at_once(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)
    for name in ("甲一", "甲二", "甲三"):
        make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name=name)
    session.commit()
    assert _total(client, h) == 3
    assert _total(client, h) == 3  # kept: the same answer without counting again

    make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name="甲四")
    session.commit()
    assert _total(client, h) == 4


def test_a_changed_or_moved_borrower_moves_the_filtered_totals(client, session, runtime, staff_as, org):
    _, h = staff_as("loan_officer", branch=org.a)
    people = [make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name=f"乙{i}",
                            customer_type="farmer") for i in range(3)]
    session.commit()
    assert _total(client, h, customer_type="farmer") == 3
    assert _total(client, h) == 3

    people[0].borrower.customer_type = "consumer"  # an ORM change (flush and commit)
    session.commit()
    assert _total(client, h, customer_type="farmer") == 2

    session.execute(update(Borrower).where(Borrower.id == people[1].borrower.id)  # a bulk UPDATE
                    .values(branch_id=org.b.id))
    session.commit()
    assert _total(client, h) == 2


def test_totals_are_kept_per_scope(client, session, runtime, staff_as, org):
    _, in_a = staff_as("loan_officer", branch=org.a)
    _, in_b = staff_as("loan_officer", branch=org.b)
    for i in range(3):
        make_borrower(session, runtime, org.inst, branch=org.a, password=None, real_name=f"丙{i}")
    for i in range(5):
        make_borrower(session, runtime, org.inst, branch=org.b, password=None, real_name=f"丁{i}")
    session.commit()
    assert _total(client, in_a) == 3
    assert _total(client, in_b) == 5  # the same filters in another branch: another total
    assert _total(client, in_a) == 3
