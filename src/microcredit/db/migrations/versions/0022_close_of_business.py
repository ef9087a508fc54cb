"""close of business: runs, their tasks (step x partition) and failures; what a run keeps per loan

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-03

`cob_runs` (one per institution and business date), `cob_tasks` (a step over a partition of loans
by id range, with its state), `cob_failures` (a loan that failed a step); `cob_loan_standing` (the
delinquency bucket, five-category class and provision held per loan), `cob_loan_features` (the
behaviour features early warning reads), `cob_reminders` (each reminder queued, never twice).
Administrators' roles get `cob.run`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0022'
down_revision = '0019'
branch_labels = None
depends_on = None

roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))


def upgrade() -> None:
    op.create_table('cob_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('previous_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('runner', sa.String(length=16), nullable=False),
    sa.Column('partition_size', sa.Integer(), nullable=False),
    sa.Column('loans', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('started_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('heartbeat_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('started_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_cob_runs_institution_id_institutions')),
    sa.ForeignKeyConstraint(['started_by_user_id'], ['users.id'], name=op.f('fk_cob_runs_started_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cob_runs')),
    sa.UniqueConstraint('institution_id', 'business_date', name=op.f('uq_cob_runs_institution_id_business_date'))
    )
    with op.batch_alter_table('cob_runs', schema=None) as batch_op:
        batch_op.create_index('ix_cob_runs_inst', ['institution_id', 'id'], unique=False)

    op.create_table('cob_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('first_loan_id', sa.BigInteger(), nullable=False),
    sa.Column('last_loan_id', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('loans', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('finished_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['cob_runs.id'], name=op.f('fk_cob_tasks_run_id_cob_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cob_tasks')),
    sa.UniqueConstraint('run_id', 'step', 'partition', name=op.f('uq_cob_tasks_run_id_step_partition'))
    )
    with op.batch_alter_table('cob_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_cob_tasks_run', ['run_id', 'position', 'partition'], unique=False)

    op.create_table('cob_failures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('retried', sa.Boolean(), nullable=False),
    sa.Column('retry_result', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_cob_failures_loan_id_loans')),
    sa.ForeignKeyConstraint(['run_id'], ['cob_runs.id'], name=op.f('fk_cob_failures_run_id_cob_runs')),
    sa.ForeignKeyConstraint(['task_id'], ['cob_tasks.id'], name=op.f('fk_cob_failures_task_id_cob_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cob_failures'))
    )
    with op.batch_alter_table('cob_failures', schema=None) as batch_op:
        batch_op.create_index('ix_cob_failures_run', ['run_id', 'id'], unique=False)

    op.create_table('cob_loan_features',
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('late_payments', sa.Integer(), nullable=False),
    sa.Column('partial_payments', sa.Integer(), nullable=False),
    sa.Column('days_since_last_payment', sa.Integer(), nullable=True),
    sa.Column('max_dpd', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_cob_loan_features_institution_id_institutions')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_cob_loan_features_loan_id_loans')),
    sa.PrimaryKeyConstraint('loan_id', name=op.f('pk_cob_loan_features'))
    )
    op.create_table('cob_loan_standing',
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('dpd', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=16), nullable=False),
    sa.Column('category', sa.Integer(), nullable=False),
    sa.Column('provision', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_cob_loan_standing_institution_id_institutions')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_cob_loan_standing_loan_id_loans')),
    sa.PrimaryKeyConstraint('loan_id', name=op.f('pk_cob_loan_standing'))
    )
    op.create_table('cob_reminders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.Column('outbox_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_cob_reminders_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cob_reminders')),
    sa.UniqueConstraint('loan_id', 'kind', 'due_date', name=op.f('uq_cob_reminders_loan_id_kind_due_date'))
    )
    holders = sa.select(roles.c.id, sa.literal('cob.run', sa.String)).where(
        roles.c.code == 'administrator', roles.c.is_system.is_(True),
        ~sa.exists().where(role_permissions.c.role_id == roles.c.id, role_permissions.c.permission == 'cob.run'))
    op.execute(role_permissions.insert().from_select(['role_id', 'permission'], holders))


def downgrade() -> None:
    op.execute(role_permissions.delete().where(role_permissions.c.permission == 'cob.run'))
    op.drop_table('cob_reminders')
    op.drop_table('cob_loan_standing')
    op.drop_table('cob_loan_features')
    # Dropping a table drops its indexes; MariaDB refuses to drop an index a foreign key still needs.
    op.drop_table('cob_failures')
    op.drop_table('cob_tasks')
    op.drop_table('cob_runs')
