"""Housekeeping: delete what has expired — idempotency keys, rate-limit windows, used codes.

Run hourly by the API process's background poller and on demand by
`microcredit housekeeping`. Each domain deletes its own rows; this module only
calls them, in one unit of work.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.identity import service as identity
from microcredit.notifications import service as notifications
from microcredit.platform import idempotency
from microcredit.platform.ratelimit import DatabaseRateLimiter


def run(*, session: Session, clock: Clock) -> dict[str, int]:
    """Purge everything that has expired; returns counts per table."""
    counts = dict(identity.housekeeping.purge(session=session, clock=clock))
    counts["idempotency_keys"] = idempotency.purge(session=session, clock=clock)
    counts["rate_limit_counters"] = DatabaseRateLimiter(clock).purge_expired(session=session)
    counts["outbox_messages"] = notifications.purge_finished(session=session, clock=clock)
    return counts
