"""servicing lives: a reconciliation break resolved by finance with a note

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

`reconciliation_breaks` gains who resolved a break, when, and the note saying how (the `resolved`
flag was there already). `payments` gains `event_amount`: a payout whose down payment is kept back
pays the net amount and records the gross disbursement. Tranches and down payments need no column: they live in the product
version's terms and the loan's `terms` JSON.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_amount', microcredit.db.types.MoneyColumn('CNY'), nullable=True))
    with op.batch_alter_table('reconciliation_breaks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_at', microcredit.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by_user_id', ID, nullable=True))
        batch_op.add_column(sa.Column('resolution_note', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_foreign_key(batch_op.f('fk_reconciliation_breaks_resolved_by_user_id_users'), 'users',
                                    ['resolved_by_user_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('reconciliation_breaks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reconciliation_breaks_resolved_by_user_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('version')
        batch_op.drop_column('resolution_note')
        batch_op.drop_column('resolved_by_user_id')
        batch_op.drop_column('resolved_at')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('event_amount')
