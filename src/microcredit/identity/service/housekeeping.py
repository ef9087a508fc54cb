"""Forgetting what identity no longer needs: used or expired codes, flows and sessions.

Login attempts are the security audit trail and are not deleted here; their
retention is a policy decision (Cybersecurity Law Art. 21: at least 6 months).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.identity import repository as repo

# Sessions record sign-outs and revocations: keep them beyond the Cybersecurity Law's six months
# of network logs (Art. 21).
KEEP_ENDED_SESSIONS = timedelta(days=200)
KEEP_SHORT_LIVED = timedelta(days=1)


def purge(*, session: Session, clock: Clock) -> dict[str, int]:
    """Delete expired SMS codes, OAuth flows, pending second-factor logins and long-ended sessions."""
    now = clock.now()
    return repo.purge_expired(session, short_lived_before=now - KEEP_SHORT_LIVED,
                              sessions_ended_before=now - KEEP_ENDED_SESSIONS)
