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


def test_the_steps_run_in_order_and_collections_takes_the_position_left_for_it(monkeypatch) -> None:
    import microcredit.runtime  # noqa: F401  (the composition root registers collections' step)

    assert [s.name for s in steps.registered()] == ["advance", "classify", "autodebit", "remind", "collections",
                                                    "features", "warnings", "warning_concentration", "archive"]
    assert steps.step("warnings").run is not None
    assert steps.step("warning_concentration").whole is not None
    assert steps.step("collections").position == steps.COLLECTIONS_POSITION
    assert steps.step("collections").whole is not None  # once over the institution, not per loan
    monkeypatch.setattr(steps, "_REGISTRY", dict(steps._REGISTRY))
    with pytest.raises(ValueError, match="position 40"):
        steps.register(steps.Step("other", 40, lambda session, kit, at: {}))
    with pytest.raises(ValueError, match="either on each loan or on the whole institution"):
        steps.Step("both", 99, lambda session, kit, at: {}, lambda session, kit, institution_id, on: {})
