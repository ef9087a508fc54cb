"""collections: settings, cases, actions, debtors' contact preferences; collection permissions

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

Four tables of the collections domain (docs/collections.md). The system branch-manager roles of
existing institutions get `collection.manage`, as new institutions' do.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

GRANTS = (("branch_manager", "collection.manage"),)
roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))


def upgrade() -> None:
    op.create_table('collection_settings',
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stages', sa.JSON(), nullable=False),
    sa.Column('quiet_from_minute', sa.Integer(), nullable=False),
    sa.Column('quiet_until_minute', sa.Integer(), nullable=False),
    sa.Column('max_effective_calls_per_day', sa.Integer(), nullable=False),
    sa.Column('max_attempts_per_number_per_day', sa.Integer(), nullable=False),
    sa.Column('contact_guarantors', sa.Boolean(), nullable=False),
    sa.Column('contact_group_members', sa.Boolean(), nullable=False),
    sa.Column('prohibited_phrases', sa.JSON(), nullable=False),
    sa.Column('sms_templates', sa.JSON(), nullable=False),
    sa.Column('agencies', sa.JSON(), nullable=False),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_collection_settings_institution_id_institutions')),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_collection_settings_updated_by_user_id_users')),
    sa.PrimaryKeyConstraint('institution_id', name=op.f('pk_collection_settings'))
    )
    op.create_table('collection_debtors',
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('night_contact_consent', sa.Boolean(), nullable=False),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_collection_debtors_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_collection_debtors_institution_id_institutions')),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_collection_debtors_updated_by_user_id_users')),
    sa.PrimaryKeyConstraint('borrower_id', name=op.f('pk_collection_debtors'))
    )
    op.create_table('collection_cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('branch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('close_reason', sa.String(length=16), nullable=True),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('dpd', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.JSON(), nullable=False),
    sa.Column('overdue_total', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
    sa.Column('priority', sa.BigInteger(), nullable=False),
    sa.Column('recovered', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
    sa.Column('assigned_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('agency', sa.String(length=100), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('synced_on', sa.Date(), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_user_id'], ['users.id'], name=op.f('fk_collection_cases_assigned_user_id_users')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_collection_cases_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_collection_cases_branch_id_branches')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_collection_cases_institution_id_institutions')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_collection_cases_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_cases'))
    )
    with op.batch_alter_table('collection_cases', schema=None) as batch_op:
        batch_op.create_index('ix_collection_cases_assignee', ['assigned_user_id', 'status'], unique=False)
        batch_op.create_index('ix_collection_cases_borrower', ['borrower_id', 'id'], unique=False)
        batch_op.create_index('ix_collection_cases_inst_status', ['institution_id', 'status', 'priority'], unique=False)
        batch_op.create_index('ix_collection_cases_loan', ['loan_id', 'status'], unique=False)

    op.create_table('collection_actions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('effective', sa.Boolean(), nullable=False),
    sa.Column('contact_party', sa.String(length=16), nullable=True),
    sa.Column('contact_ref', sa.String(length=100), nullable=True),
    sa.Column('contact_reason', sa.String(length=200), nullable=True),
    sa.Column('template', sa.String(length=32), nullable=True),
    sa.Column('text', sa.String(length=1000), nullable=True),
    sa.Column('notes', sa.String(length=2000), nullable=True),
    sa.Column('document_ids', sa.JSON(), nullable=False),
    sa.Column('promise_date', sa.Date(), nullable=True),
    sa.Column('promise_amount', microcredit.db.types.MoneyColumn('CNY'), nullable=True),
    sa.Column('promise_status', sa.String(length=8), nullable=True),
    sa.Column('promise_made_on', sa.Date(), nullable=True),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_collection_actions_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['case_id'], ['collection_cases.id'], name=op.f('fk_collection_actions_case_id_collection_cases')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_collection_actions_institution_id_institutions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_collection_actions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_actions'))
    )
    with op.batch_alter_table('collection_actions', schema=None) as batch_op:
        batch_op.create_index('ix_collection_actions_case', ['case_id', 'id'], unique=False)
        batch_op.create_index('ix_collection_actions_debtor_day', ['borrower_id', 'local_date'], unique=False)
        batch_op.create_index('ix_collection_actions_promise', ['institution_id', 'promise_status', 'promise_date'], unique=False)

    for code, permission in GRANTS:
        holders = sa.select(roles.c.id, sa.literal(permission, sa.String)).where(
            roles.c.code == code, roles.c.is_system.is_(True),
            ~sa.exists().where(role_permissions.c.role_id == roles.c.id,
                               role_permissions.c.permission == permission))
        op.execute(role_permissions.insert().from_select(['role_id', 'permission'], holders))


def downgrade() -> None:
    op.execute(role_permissions.delete().where(role_permissions.c.permission == 'collection.manage'))
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key uses).
    for table in ('collection_actions', 'collection_cases', 'collection_debtors', 'collection_settings'):
        op.drop_table(table)
