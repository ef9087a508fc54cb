"""origination: applications, their timeline and rule results, the per-day numbering; application permissions

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Four tables (origination.models): `applications` (the plan, the figures, the channel, the last
automated decision; unique number per institution), `application_events` (the timeline),
`application_rule_results` (every rule result of every submission) and `application_sequences`
(the counter behind the numbers, per institution and business date). The system borrower roles
get `application.apply_own` and `application.read_own`; `loan.apply` and `loan.read`, reserved
until now, are real: the system roles whose templates carry them keep them (granted again where
missing). Custom roles are left to their administrators.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))
GRANTS = (("borrower", "application.apply_own"), ("borrower", "application.read_own"),
          ("loan_officer", "loan.apply"), ("loan_officer", "loan.read"))
OWN_PERMISSIONS = ("application.apply_own", "application.read_own")


def upgrade() -> None:
    op.create_table('application_sequences',
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_application_sequences_institution_id_institutions')),
    sa.PrimaryKeyConstraint('institution_id', 'business_date', name=op.f('pk_application_sequences'))
    )
    op.create_table('applications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('branch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('borrower_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('product_code', sa.String(length=32), nullable=False),
    sa.Column('product_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_version_number', sa.Integer(), nullable=False),
    sa.Column('amount', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
    sa.Column('term', sa.Integer(), nullable=False),
    sa.Column('period_unit', sa.String(length=8), nullable=False),
    sa.Column('repayment_method', sa.String(length=48), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('purpose_note', sa.String(length=500), nullable=True),
    sa.Column('monthly_income', microcredit.db.types.MoneyColumn('CNY'), nullable=True),
    sa.Column('monthly_debt_payments', microcredit.db.types.MoneyColumn('CNY'), nullable=True),
    sa.Column('monthly_spending', microcredit.db.types.MoneyColumn('CNY'), nullable=True),
    sa.Column('employment', sa.String(length=32), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('officer_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=True),
    sa.Column('id_number_index', sa.String(length=64), nullable=False),
    sa.Column('phone_index', sa.String(length=64), nullable=True),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.Column('submitted_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('decided_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('rule_set', sa.String(length=64), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('grade', sa.String(length=2), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=True),
    sa.Column('needed', sa.JSON(), nullable=True),
    sa.Column('max_amount', microcredit.db.types.MoneyColumn('CNY'), nullable=True),
    sa.Column('bureau_report_id', sa.String(length=64), nullable=True),
    sa.Column('annual_rate_percent', sa.String(length=16), nullable=True),
    sa.Column('levels_required', sa.Integer(), nullable=True),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_applications_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['borrower_user_id'], ['users.id'], name=op.f('fk_applications_borrower_user_id_users')),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_applications_branch_id_branches')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_applications_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_applications_institution_id_institutions')),
    sa.ForeignKeyConstraint(['officer_user_id'], ['users.id'], name=op.f('fk_applications_officer_user_id_users')),
    sa.ForeignKeyConstraint(['product_version_id'], ['product_versions.id'], name=op.f('fk_applications_product_version_id_product_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('institution_id', 'number', name=op.f('uq_applications_institution_id_number'))
    )
    op.create_index('ix_applications_borrower', 'applications', ['borrower_id', 'id'], unique=False)
    op.create_index('ix_applications_device', 'applications', ['device_id', 'submitted_at'], unique=False)
    op.create_index('ix_applications_id_index', 'applications', ['id_number_index', 'submitted_at'], unique=False)
    op.create_index('ix_applications_inst_status', 'applications', ['institution_id', 'status', 'id'], unique=False)
    op.create_index('ix_applications_ip', 'applications', ['client_ip', 'submitted_at'], unique=False)
    op.create_index('ix_applications_phone_index', 'applications', ['phone_index', 'submitted_at'], unique=False)

    op.create_table('application_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_events_application_id_applications')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_application_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_events'))
    )
    op.create_index('ix_application_events_app', 'application_events', ['application_id', 'id'], unique=False)

    op.create_table('application_rule_results',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('submission', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('message', sa.String(length=120), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_rule_results_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_rule_results')),
    sa.UniqueConstraint('application_id', 'submission', 'seq', name=op.f('uq_application_rule_results_application_id_submission_seq'))
    )
    for code, permission in GRANTS:
        holders = sa.select(roles.c.id, sa.literal(permission, sa.String)).where(
            roles.c.code == code, roles.c.is_system.is_(True),
            ~sa.exists().where(role_permissions.c.role_id == roles.c.id,
                               role_permissions.c.permission == permission))
        op.execute(role_permissions.insert().from_select(['role_id', 'permission'], holders))


def downgrade() -> None:
    op.execute(role_permissions.delete().where(role_permissions.c.permission.in_(OWN_PERMISSIONS)))
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key uses first).
    op.drop_table('application_rule_results')
    op.drop_table('application_events')
    op.drop_table('applications')
    op.drop_table('application_sequences')
