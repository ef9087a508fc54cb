"""audit records written unsealed with their action, numbered and hashed after the commit

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-05

Every audited write took the chain's one head row (`audit_head`, SELECT … FOR UPDATE) at its commit: on
PostgreSQL and MariaDB all the institution's decisions and repayments passed one at a time (docs/performance.md,
issues 16 and 17). A record is now written in its action's transaction without a number or hash (`seq`,
`prev_hash`, `hash` NULL: "unsealed") and sealed after the commit by `audit.service.seal`. `seq` stays unique;
the unique index on it is also the index that finds the unsealed records (`seq IS NULL`) on every backend.

Downgrading needs every record sealed first (`microcredit audit verify` seals): a NULL cannot be made NOT NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0044'
down_revision = '0043'
branch_labels = None
depends_on = None

_COLUMNS = (('seq', sa.BigInteger()), ('prev_hash', sa.String(length=64)), ('hash', sa.String(length=64)))


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        for name, type_ in _COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        for name, type_ in _COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
