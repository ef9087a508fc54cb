"""payments: money through the payment provider, reconciliation breaks, the provider simulator's side

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-03

`payments` (servicing.models.Payment): a payout, online repayment or auto-debit attempt asked of the
payment provider — requested, then confirmed or failed; unique per institution by idempotency key and
per provider by the provider's reference. `reconciliation_breaks`: the differences a provider's
daily statement showed against our payments. `sim_payment_orders`: the payment provider simulator's
own side (integrations.models.SimulatedPayment), so that the API, the CLI and the tests see one
provider.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0019'
down_revision = '0020'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'payments',
        sa.Column('id', ID, nullable=False),
        sa.Column('institution_id', ID, nullable=False),
        sa.Column('branch_id', ID, nullable=True),
        sa.Column('loan_id', ID, nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('mode', sa.String(length=24), nullable=True),
        sa.Column('amount', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
        sa.Column('bank_card_id', ID, nullable=True),
        sa.Column('card_masked', sa.String(length=32), nullable=True),
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('provider_reference', sa.String(length=64), nullable=True),
        sa.Column('idempotency_key', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('failure_reason', sa.String(length=64), nullable=True),
        sa.Column('due_date', sa.Date(), nullable=True),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('pay_url', sa.String(length=255), nullable=True),
        sa.Column('requested_on', sa.Date(), nullable=False),
        sa.Column('requested_at', microcredit.db.types.UTCDateTime(), nullable=False),
        sa.Column('requested_by_user_id', ID, nullable=True),
        sa.Column('settled_at', microcredit.db.types.UTCDateTime(), nullable=True),
        sa.Column('decided_at', microcredit.db.types.UTCDateTime(), nullable=True),
        sa.Column('decided_by', sa.String(length=12), nullable=True),
        sa.Column('event_seq', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['bank_card_id'], ['bank_accounts.id'],
                                name=op.f('fk_payments_bank_card_id_bank_accounts')),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_payments_branch_id_branches')),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_payments_institution_id_institutions')),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_payments_loan_id_loans')),
        sa.ForeignKeyConstraint(['requested_by_user_id'], ['users.id'],
                                name=op.f('fk_payments_requested_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
        sa.UniqueConstraint('institution_id', 'idempotency_key',
                            name=op.f('uq_payments_institution_id_idempotency_key')),
        sa.UniqueConstraint('provider', 'provider_reference', name=op.f('uq_payments_provider_provider_reference')),
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_inst_status', ['institution_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_payments_loan', ['loan_id', 'id'], unique=False)
    op.create_table(
        'reconciliation_breaks',
        sa.Column('id', ID, nullable=False),
        sa.Column('institution_id', ID, nullable=False),
        sa.Column('statement_date', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('reference', sa.String(length=80), nullable=False),
        sa.Column('provider_reference', sa.String(length=64), nullable=True),
        sa.Column('payment_id', ID, nullable=True),
        sa.Column('ours', sa.JSON(), nullable=True),
        sa.Column('theirs', sa.JSON(), nullable=True),
        sa.Column('found_at', microcredit.db.types.UTCDateTime(), nullable=False),
        sa.Column('resolved', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_reconciliation_breaks_institution_id_institutions')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                                name=op.f('fk_reconciliation_breaks_payment_id_payments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_breaks')),
        sa.UniqueConstraint('institution_id', 'statement_date', 'kind', 'reference',
                            name='uq_recon_breaks_statement_line'),
    )
    with op.batch_alter_table('reconciliation_breaks', schema=None) as batch_op:
        batch_op.create_index('ix_recon_breaks_inst_open', ['institution_id', 'resolved', 'id'], unique=False)
    op.create_table(
        'sim_payment_orders',
        sa.Column('id', ID, nullable=False),
        sa.Column('provider_reference', sa.String(length=40), nullable=False),
        sa.Column('reference', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('amount', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=False),
        sa.Column('account_masked', sa.String(length=32), nullable=False),
        sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('duplicate', sa.Boolean(), nullable=False),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('settle_at', microcredit.db.types.UTCDateTime(), nullable=True),
        sa.Column('settled_at', microcredit.db.types.UTCDateTime(), nullable=True),
        sa.Column('callbacks_sent', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sim_payment_orders')),
        sa.UniqueConstraint('provider_reference', name=op.f('uq_sim_payment_orders_provider_reference')),
        sa.UniqueConstraint('reference', name=op.f('uq_sim_payment_orders_reference')),
    )
    with op.batch_alter_table('sim_payment_orders', schema=None) as batch_op:
        batch_op.create_index('ix_sim_payment_settle', ['settle_at'], unique=False)


def downgrade() -> None:
    op.drop_table('sim_payment_orders')
    op.drop_table('reconciliation_breaks')
    op.drop_table('payments')
