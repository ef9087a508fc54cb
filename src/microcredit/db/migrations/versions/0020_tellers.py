"""tellers: repayments above a threshold by maker-checker, refunds of credit

Revision ID: 0020
Revises: 0021
Create Date: 2026-12-03

`servicing_settings` (one row per institution): the amount above which a repayment keyed in
at a branch waits for a second person. `loan_changes` gains `idempotency_key` (unique per loan):
the maker's key, under which the approved repayment is recorded. The new change kinds
(`repayment`, `refund`) fit the existing `kind` column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0020'
down_revision = '0021'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'servicing_settings',
        sa.Column('institution_id', ID, nullable=False),
        sa.Column('repayment_approval_above', microcredit.db.types.MoneyColumn('CNY'), nullable=True),
        sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
        sa.Column('updated_by_user_id', ID, nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_servicing_settings_institution_id_institutions')),
        sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'],
                                name=op.f('fk_servicing_settings_updated_by_user_id_users')),
        sa.PrimaryKeyConstraint('institution_id', name=op.f('pk_servicing_settings')),
    )
    with op.batch_alter_table('loan_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_loan_changes_loan_id_idempotency_key'),
                                          ['loan_id', 'idempotency_key'])


def downgrade() -> None:
    with op.batch_alter_table('loan_changes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_loan_changes_loan_id_idempotency_key'), type_='unique')
        batch_op.drop_column('idempotency_key')
    op.drop_table('servicing_settings')
