"""notifications: in-app notifications (inbox_messages); parties and origination: group lending

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-03

`inbox_messages` (notifications.models.InboxMessage): one in-app notification
per row for one user — a template key and its parameters (the app renders the
text in the reader's language), the subject it is about (kind + id, no foreign
key) and when it was read.

Group lending (小组联保): `borrower_groups` and `borrower_group_members`
(parties: joint-liability groups of 3–10 borrowers with a leader);
`group_applications` (origination: an officer's application for a group),
`group_consents` (each member's part: their application, amount and consent
with time, IP and device), `loan_guarantees` (the mutual guarantee recorded on
each member's application: which co-member stands for it), and
`applications.group_application_id`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types


revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('subject_kind', sa.String(length=32), nullable=True),
    sa.Column('subject_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('read_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                            name=op.f('fk_inbox_messages_institution_id_institutions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inbox_messages_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_messages'))
    )
    with op.batch_alter_table('inbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_user', ['user_id', 'read_at', 'id'], unique=False)

    op.create_table('borrower_groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('branch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('leader_borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('formed_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('activated_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('dissolved_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_borrower_groups_branch_id_branches')),
    sa.ForeignKeyConstraint(['formed_by_user_id'], ['users.id'], name=op.f('fk_borrower_groups_formed_by_user_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_borrower_groups_institution_id_institutions')),
    sa.ForeignKeyConstraint(['leader_borrower_id'], ['borrowers.id'], name=op.f('fk_borrower_groups_leader_borrower_id_borrowers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_borrower_groups'))
    )
    with op.batch_alter_table('borrower_groups', schema=None) as batch_op:
        batch_op.create_index('ix_borrower_groups_inst', ['institution_id', 'branch_id', 'status'], unique=False)
    op.create_table('borrower_group_members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('joined_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('left_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('added_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['added_by_user_id'], ['users.id'], name=op.f('fk_borrower_group_members_added_by_user_id_users')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_borrower_group_members_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['group_id'], ['borrower_groups.id'], name=op.f('fk_borrower_group_members_group_id_borrower_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_borrower_group_members'))
    )
    with op.batch_alter_table('borrower_group_members', schema=None) as batch_op:
        batch_op.create_index('ix_group_members_borrower', ['borrower_id', 'left_at'], unique=False)
        batch_op.create_index('ix_group_members_group', ['group_id', 'left_at'], unique=False)
    op.create_table('group_applications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('branch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('product_code', sa.String(length=32), nullable=False),
    sa.Column('product_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('term', sa.Integer(), nullable=False),
    sa.Column('repayment_method', sa.String(length=48), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_group_applications_branch_id_branches')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_group_applications_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['group_id'], ['borrower_groups.id'], name=op.f('fk_group_applications_group_id_borrower_groups')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_group_applications_institution_id_institutions')),
    sa.ForeignKeyConstraint(['product_version_id'], ['product_versions.id'], name=op.f('fk_group_applications_product_version_id_product_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_applications'))
    )
    with op.batch_alter_table('group_applications', schema=None) as batch_op:
        batch_op.create_index('ix_group_applications_inst', ['institution_id', 'status', 'id'], unique=False)
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_applications_group_application_id_group_applications'), 'group_applications', ['group_application_id'], ['id'])
    op.create_table('group_consents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
    sa.Column('leader', sa.Boolean(), nullable=False),
    sa.Column('consent', sa.String(length=16), nullable=False),
    sa.Column('decided_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('consent_ip', sa.String(length=64), nullable=True),
    sa.Column('consent_device', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_group_consents_application_id_applications')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_group_consents_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['group_application_id'], ['group_applications.id'], name=op.f('fk_group_consents_group_application_id_group_applications')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_consents_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_consents')),
    sa.UniqueConstraint('group_application_id', 'borrower_id', name=op.f('uq_group_consents_group_application_id_borrower_id'))
    )
    op.create_table('loan_guarantees',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('guarantor_borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_loan_guarantees_application_id_applications')),
    sa.ForeignKeyConstraint(['group_application_id'], ['group_applications.id'], name=op.f('fk_loan_guarantees_group_application_id_group_applications')),
    sa.ForeignKeyConstraint(['group_id'], ['borrower_groups.id'], name=op.f('fk_loan_guarantees_group_id_borrower_groups')),
    sa.ForeignKeyConstraint(['guarantor_borrower_id'], ['borrowers.id'], name=op.f('fk_loan_guarantees_guarantor_borrower_id_borrowers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_guarantees')),
    sa.UniqueConstraint('application_id', 'guarantor_borrower_id', name=op.f('uq_loan_guarantees_application_id_guarantor_borrower_id'))
    )
    with op.batch_alter_table('loan_guarantees', schema=None) as batch_op:
        batch_op.create_index('ix_loan_guarantees_guarantor', ['guarantor_borrower_id'], unique=False)


def downgrade() -> None:
    op.drop_table('loan_guarantees')
    op.drop_table('group_consents')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_applications_group_application_id_group_applications'),
                                 type_='foreignkey')
        batch_op.drop_column('group_application_id')
    op.drop_table('group_applications')
    op.drop_table('borrower_group_members')
    op.drop_table('borrower_groups')
    op.drop_table('inbox_messages')
