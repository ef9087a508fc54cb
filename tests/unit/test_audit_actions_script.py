"""scripts/audit_actions.py finds the actions the back end records, however a domain builds them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("audit_actions", ROOT / "scripts" / "audit_actions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_way_of_building_an_action_is_read():
    found, problems = _script().actions()
    assert problems == []
    assert {
        "borrower.registered",           # a string
        "user.enabled", "user.disabled",  # both branches of a conditional
        "document.viewed",               # a module constant
        "group.created",                 # a domain's helper building f"group.{action}"
        "application.review.approve",    # another module's helper, called through its alias
        "outbox.retried",                # a helper passing the action through as it is
        "application.declined",          # built at run time, listed in DYNAMIC
        "loan.repayment",
    } <= found
    # Each helper's prefix stays its own: no group.* from the applications' helper.
    assert not any(a.startswith("group.review") or a == "group.submitted" for a in found)
