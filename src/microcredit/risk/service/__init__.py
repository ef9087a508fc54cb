"""Risk's use cases: `assess` (the contract origination calls), rule sets, the blacklist, credit reports.

`from microcredit.risk import service; service.assess(session, facts)`.
"""

from __future__ import annotations

from microcredit.risk.service import blacklist, outcomes, rulesets
from microcredit.risk.service.assessing import (
    assess,
    bureau_report,
    register_referral,
    simulated_report,
    store_report,
)
from microcredit.risk.service.kit import RiskKit, configure, current, from_settings

__all__ = ["RiskKit", "assess", "blacklist", "bureau_report", "configure", "current", "from_settings",
           "outcomes", "register_referral", "rulesets", "simulated_report", "store_report"]
