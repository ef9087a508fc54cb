"""outbox not-before: the earliest a held message may go out

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-04

`outbox_messages.not_before`: a message queued to be held (a collection SMS in the debtor's quiet
hours goes at the end of them) keeps the time it may first go out, apart from `next_attempt_at`, which
a retry moves. A retry makes such a message due at that time at the earliest, never before it.
NULL for every message not held.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from microcredit.db.types import UTCDateTime

revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('not_before')
