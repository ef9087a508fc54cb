"""early warning: behaviour scores, bureau refreshes, thresholds, warnings, borrower freezes

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03

`risk_behaviour_scores` keeps each running loan's behaviour score per business date (close of business,
step 90); `risk_bureau_refreshes` what each periodic re-read of a borrower's credit report said;
`risk_warning_settings` an institution's thresholds; `risk_warnings` the warnings and the action decided
on each; `risk_borrower_freezes` a borrower frozen by a warning's action. `collection_cases` gains
`stage_floor`: a case stepped up from a warning keeps that stage while it is open.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('risk_warning_settings',
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('thresholds', sa.JSON(), nullable=False),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_warning_settings_institution_id_institutions')),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_risk_warning_settings_updated_by_user_id_users')),
    sa.PrimaryKeyConstraint('institution_id', name=op.f('pk_risk_warning_settings'))
    )
    op.create_table('risk_bureau_refreshes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('refreshed_on', sa.Date(), nullable=False),
    sa.Column('report_number', sa.String(length=64), nullable=False),
    sa.Column('overdue_accounts', sa.Integer(), nullable=False),
    sa.Column('overdue_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_risk_bureau_refreshes_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_bureau_refreshes_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_bureau_refreshes')),
    sa.UniqueConstraint('borrower_id', 'refreshed_on', name=op.f('uq_risk_bureau_refreshes_borrower_id_refreshed_on'))
    )
    op.create_table('risk_behaviour_scores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('scored_on', sa.Date(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=2), nullable=False),
    sa.Column('dpd', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_behaviour_scores_institution_id_institutions')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_risk_behaviour_scores_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_behaviour_scores')),
    sa.UniqueConstraint('loan_id', 'scored_on', name=op.f('uq_risk_behaviour_scores_loan_id_scored_on'))
    )
    with op.batch_alter_table('risk_behaviour_scores', schema=None) as batch_op:
        batch_op.create_index('ix_risk_behaviour_scores_inst_day', ['institution_id', 'scored_on'], unique=False)
    op.create_table('risk_warnings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('branch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('loan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('suggested_action', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('assigned_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('proposed_action', sa.String(length=24), nullable=True),
    sa.Column('proposal_note', sa.String(length=500), nullable=True),
    sa.Column('proposed_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('proposed_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('decided_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_user_id'], ['users.id'], name=op.f('fk_risk_warnings_assigned_user_id_users')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_risk_warnings_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_risk_warnings_branch_id_branches')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_risk_warnings_decided_by_user_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_warnings_institution_id_institutions')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_risk_warnings_loan_id_loans')),
    sa.ForeignKeyConstraint(['proposed_by_user_id'], ['users.id'], name=op.f('fk_risk_warnings_proposed_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_warnings')),
    sa.UniqueConstraint('institution_id', 'rule', 'subject', 'raised_on', name=op.f('uq_risk_warnings_institution_id_rule_subject_raised_on'))
    )
    with op.batch_alter_table('risk_warnings', schema=None) as batch_op:
        batch_op.create_index('ix_risk_warnings_inst_status', ['institution_id', 'status', 'raised_on'], unique=False)
        batch_op.create_index('ix_risk_warnings_loan', ['loan_id', 'raised_on'], unique=False)
    op.create_table('risk_borrower_freezes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id_number_index', sa.String(length=64), nullable=False),
    sa.Column('warning_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('frozen_on', sa.Date(), nullable=False),
    sa.Column('lifted_on', sa.Date(), nullable=True),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_risk_borrower_freezes_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_borrower_freezes_institution_id_institutions')),
    sa.ForeignKeyConstraint(['warning_id'], ['risk_warnings.id'], name=op.f('fk_risk_borrower_freezes_warning_id_risk_warnings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_borrower_freezes'))
    )
    with op.batch_alter_table('risk_borrower_freezes', schema=None) as batch_op:
        batch_op.create_index('ix_risk_borrower_freezes_borrower', ['borrower_id', 'lifted_on'], unique=False)
        batch_op.create_index('ix_risk_borrower_freezes_id_index', ['institution_id', 'id_number_index'],
                              unique=False)
    with op.batch_alter_table('collection_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_floor', sa.String(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('collection_cases', schema=None) as batch_op:
        batch_op.drop_column('stage_floor')
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key uses).
    for table in ('risk_borrower_freezes', 'risk_warnings', 'risk_behaviour_scores', 'risk_bureau_refreshes',
                  'risk_warning_settings'):
        op.drop_table(table)
