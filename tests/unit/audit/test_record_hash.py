"""The audit record's hash: stable for equal content, different for any changed field (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcredit.audit.models import AuditRecord
from microcredit.audit.service import GENESIS, canonical, record_hash

AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def record(**change) -> AuditRecord:
    values = dict(seq=7, at=AT, institution_id=1, actor_user_id=3, actor_kind="staff", action="branch.updated",
                  entity_type="branch", entity_id="5", ip="203.0.113.7", user_agent="ua", request_id="r1",
                  before={"name": "城关支行"}, after={"name": "城东支行"}, prev_hash=GENESIS)
    values.update(change)
    return AuditRecord(**values)


def test_the_same_content_gives_the_same_hash_whatever_the_key_order():
    a = record(after={"name": "x", "address": "y"})
    b = record(after={"address": "y", "name": "x"})
    assert record_hash(a) == record_hash(b)
    assert len(record_hash(a)) == 64


CHANGES = {
    "seq": st.integers(min_value=8, max_value=10**9),
    "action": st.sampled_from(["branch.created", "user.locked", "x"]),
    "entity_id": st.text(min_size=1, max_size=5).filter(lambda s: s != "5"),
    "ip": st.sampled_from(["198.51.100.1", None]),
    "after": st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=3),
    "prev_hash": st.binary(min_size=32, max_size=32).map(bytes.hex).filter(lambda h: h != GENESIS),
    "actor_user_id": st.integers(min_value=4, max_value=100),
}


# Drawing text is slow on a busy machine; what is tested is the hash, not how fast examples come.
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(sorted(CHANGES)).flatmap(lambda field: st.tuples(st.just(field), CHANGES[field])))
def test_changing_any_field_changes_the_hash(change):
    field, value = change
    assert record_hash(record(**{field: value})) != record_hash(record())


def test_canonical_values_are_json_safe_and_exact():
    assert canonical({"amount": Decimal("888.49"), "on": date(2026, 11, 25), 3: [Decimal("0.10"), None, True]}) \
        == {"amount": "888.49", "on": "2026-11-25", "3": ["0.10", None, True]}
