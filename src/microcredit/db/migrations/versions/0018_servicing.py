"""servicing: loans (terms, status, cached fold, what the books hold), their events, changes by maker-checker

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-03

Two tables (servicing.models): `loans`, one per approved application, with its terms as JSON
(the loan description and servicing conventions), its status, the cached state and what the
ledger holds for it; `loan_events`, append-only, each event with its value date, the business
date it was recorded on and its idempotency key (unique per loan); `loan_changes`, a waiver, deferral,
rescheduling or write-off proposed by one person and decided by another. New permissions
`loan.change.request` (finance, collector) and `loan.change.approve` (branch manager) are granted to
the system roles, as their templates now carry them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))
GRANTS = (("finance", "loan.change.request"), ("collector", "loan.change.request"),
          ("branch_manager", "loan.change.approve"))


def upgrade() -> None:
    op.create_table(
        'loans',
        sa.Column('id', ID, nullable=False),
        sa.Column('institution_id', ID, nullable=False),
        sa.Column('branch_id', ID, nullable=True),
        sa.Column('borrower_id', ID, nullable=False),
        sa.Column('borrower_user_id', ID, nullable=False),
        sa.Column('application_id', ID, nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('product_code', sa.String(length=32), nullable=False),
        sa.Column('product_version_id', ID, nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('principal', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
        sa.Column('terms', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.Column('opened_at', microcredit.db.types.UTCDateTime(), nullable=False),
        sa.Column('opened_by_user_id', ID, nullable=True),
        sa.Column('disbursed_on', sa.Date(), nullable=True),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('events_count', sa.Integer(), nullable=False),
        sa.Column('state', sa.JSON(), nullable=True),
        sa.Column('state_seq', sa.Integer(), nullable=False),
        sa.Column('state_as_of', sa.Date(), nullable=True),
        sa.Column('books', sa.JSON(), nullable=False),
        sa.Column('outstanding_principal', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
        sa.Column('dpd', sa.Integer(), nullable=False),
        sa.Column('next_due_date', sa.Date(), nullable=True),
        sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_loans_application_id_applications')),
        sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_loans_borrower_id_borrowers')),
        sa.ForeignKeyConstraint(['borrower_user_id'], ['users.id'], name=op.f('fk_loans_borrower_user_id_users')),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_loans_branch_id_branches')),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_loans_institution_id_institutions')),
        sa.ForeignKeyConstraint(['opened_by_user_id'], ['users.id'], name=op.f('fk_loans_opened_by_user_id_users')),
        sa.ForeignKeyConstraint(['product_version_id'], ['product_versions.id'],
                                name=op.f('fk_loans_product_version_id_product_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_loans')),
        sa.UniqueConstraint('application_id', name=op.f('uq_loans_application_id')),
        sa.UniqueConstraint('institution_id', 'number', name=op.f('uq_loans_institution_id_number')),
    )
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index('ix_loans_borrower', ['borrower_id', 'id'], unique=False)
        batch_op.create_index('ix_loans_inst_status', ['institution_id', 'status', 'id'], unique=False)
    op.create_table(
        'loan_events',
        sa.Column('id', ID, nullable=False),
        sa.Column('loan_id', ID, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=24), nullable=False),
        sa.Column('value_date', sa.Date(), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=80), nullable=True),
        sa.Column('recorded_at', microcredit.db.types.UTCDateTime(), nullable=False),
        sa.Column('user_id', ID, nullable=True),
        sa.Column('reference', sa.String(length=80), nullable=True),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_loan_events_loan_id_loans')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_loan_events_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_events')),
        sa.UniqueConstraint('loan_id', 'event_id', name=op.f('uq_loan_events_loan_id_event_id')),
        sa.UniqueConstraint('loan_id', 'idempotency_key', name=op.f('uq_loan_events_loan_id_idempotency_key')),
        sa.UniqueConstraint('loan_id', 'seq', name=op.f('uq_loan_events_loan_id_seq')),
    )


    op.create_table(
        'loan_changes',
        sa.Column('id', ID, nullable=False),
        sa.Column('institution_id', ID, nullable=False),
        sa.Column('branch_id', ID, nullable=True),
        sa.Column('loan_id', ID, nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('reason_code', sa.String(length=32), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('requested_by_user_id', ID, nullable=True),
        sa.Column('requested_at', microcredit.db.types.UTCDateTime(), nullable=False),
        sa.Column('decided_by_user_id', ID, nullable=True),
        sa.Column('decided_at', microcredit.db.types.UTCDateTime(), nullable=True),
        sa.Column('decision_note', sa.String(length=500), nullable=True),
        sa.Column('event_seq', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_loan_changes_branch_id_branches')),
        sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'],
                                name=op.f('fk_loan_changes_decided_by_user_id_users')),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_loan_changes_institution_id_institutions')),
        sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_loan_changes_loan_id_loans')),
        sa.ForeignKeyConstraint(['requested_by_user_id'], ['users.id'],
                                name=op.f('fk_loan_changes_requested_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_changes')),
    )
    with op.batch_alter_table('loan_changes', schema=None) as batch_op:
        batch_op.create_index('ix_loan_changes_inst_status', ['institution_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_loan_changes_loan', ['loan_id', 'id'], unique=False)
    # The system roles get what their templates now carry.
    bind = op.get_bind()
    for role_code, permission in GRANTS:
        for (role_id,) in bind.execute(sa.select(roles.c.id).where(roles.c.code == role_code,
                                                                    roles.c.is_system.is_(True))):
            bind.execute(role_permissions.insert().values(role_id=role_id, permission=permission))


def downgrade() -> None:
    op.execute(role_permissions.delete().where(role_permissions.c.permission.in_(
        ('loan.change.request', 'loan.change.approve'))))
    op.drop_table('loan_changes')
    op.drop_table('loan_events')
    op.drop_table('loans')
