"""The close of business's pure parts: partitions by loan-id range and the step registry's order."""

from __future__ import annotations

import pytest

from microcredit.cob.service import steps
from microcredit.cob.service.runs import partitions


def test_partitions_cover_every_loan_once_in_ranges_of_at_most_the_size() -> None:
    ids = [3, 4, 7, 9, 10, 15, 21]
    assert partitions(ids, 3) == [(3, 7), (9, 15), (21, 21)]
    assert partitions(ids, 7) == [(3, 21)]
    assert partitions(ids, 1) == [(i, i) for i in ids]
    assert partitions([], 500) == []


def test_the_steps_run_in_order_and_the_collections_position_is_left_for_its_domain(monkeypatch) -> None:
    assert [s.name for s in steps.registered()] == ["advance", "classify", "autodebit", "remind", "features"]
    assert steps.COLLECTIONS_POSITION not in {s.position for s in steps.registered()}
    monkeypatch.setattr(steps, "_REGISTRY", dict(steps._REGISTRY))
    steps.register(steps.Step("collections", steps.COLLECTIONS_POSITION, lambda session, kit, at: {}))
    assert [s.name for s in steps.registered()][-2:] == ["collections", "features"]
    with pytest.raises(ValueError, match="position 40"):
        steps.register(steps.Step("other", 40, lambda session, kit, at: {}))
