"""in-app notifications texted as well: the inbox row's SMS state

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04

A domain that tells a borrower of a loan event (money paid out, a repayment received, the loan closed,
called early or cancelled) writes one in-app notification and asks for it to be texted too
(`sms_status` 'pending'). The business transaction has no keys to the borrower's phone; the dispatcher,
which has them, turns each pending row into an encrypted outbox message after the commit and records
which one (`sms_outbox_id`, `sms_status` 'queued'), so a notification is texted once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('sms_outbox_id', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_inbox_sms', ['sms_status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_sms')
        batch_op.drop_column('sms_outbox_id')
        batch_op.drop_column('sms_status')
