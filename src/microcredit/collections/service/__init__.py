"""Use cases of collections (services flush; the boundary commits).

`cases`: `sync_cases` (open, escalate, close from the loans' days past due; the close of business
calls `sync_cases_set`, the same with the cases that only move read and written per partition),
assignment by load and by a manager, lists and reads; `actions`: logging actions through
the compliance gates, the debtor's contact preferences; `settings`: the institution's rules;
`performance`: collector figures.
"""

from microcredit.collections.service import actions, cases, performance, settings
from microcredit.collections.service.cases import SyncReport, sync_cases, sync_cases_set

__all__ = ["SyncReport", "actions", "cases", "performance", "settings", "sync_cases", "sync_cases_set"]
