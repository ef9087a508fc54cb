"""origination: the review in levels (application_reviews; the chain, level and counter-offer of an application)

Revision ID: 0015
Revises: 0017
Create Date: 2026-12-03

One table, `application_reviews` (origination.models.ApplicationReview): every act of a reviewer
(approve, decline, request documents, counter-offer at a level of a chain; notes without a level),
unique per (application, chain, level). `applications` gains the chain in progress, the level it
waits at and since when, the human-review request (PIPL Art. 24) and a counter-offer's amount and
term. `loan.approve.level1/2/3` stop being reserved: the approver roles, which their templates
always carried them in, get them where an institution's copy lacks them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0015'
down_revision = '0017'  # after the groups branch's 0017 (merged in), so the branch has one head
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))
GRANTS = (("approver_l1", "loan.approve.level1"), ("approver_l2", "loan.approve.level2"),
          ("approver_l3", "loan.approve.level3"))


def upgrade() -> None:
    op.create_table('application_reviews',
    sa.Column('id', ID, nullable=False),
    sa.Column('application_id', ID, nullable=False),
    sa.Column('chain', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('override_reason', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('needed', sa.JSON(), nullable=True),
    sa.Column('counter_amount', microcredit.db.types.MoneyColumn('CNY'), nullable=True),
    sa.Column('counter_term', sa.Integer(), nullable=True),
    sa.Column('at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                            name=op.f('fk_application_reviews_application_id_applications')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_application_reviews_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_reviews')),
    sa.UniqueConstraint('application_id', 'chain', 'level',
                        name=op.f('uq_application_reviews_application_id_chain_level'))
    )
    op.create_index('ix_application_reviews_app', 'application_reviews', ['application_id', 'id'], unique=False)
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_chain', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('review_level', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('level_entered_at', microcredit.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('human_review', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('human_review_requested_at', microcredit.db.types.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('counter_amount', microcredit.db.types.MoneyColumn('CNY'), nullable=True))
        batch_op.add_column(sa.Column('counter_term', sa.Integer(), nullable=True))
    # Applications already waiting for people wait at level 1 of their first chain, since their decision.
    applications = sa.table('applications', sa.column('status', sa.String), sa.column('review_chain', sa.Integer),
                            sa.column('review_level', sa.Integer), sa.column('human_review', sa.Boolean),
                            sa.column('level_entered_at', microcredit.db.types.UTCDateTime()),
                            sa.column('decided_at', microcredit.db.types.UTCDateTime()))
    op.execute(applications.update().values(review_chain=0, human_review=False))
    op.execute(applications.update().where(applications.c.status == 'referred').values(
        review_chain=1, review_level=1, level_entered_at=applications.c.decided_at))
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.alter_column('review_chain', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('human_review', existing_type=sa.Boolean(), nullable=False)
    for code, permission in GRANTS:
        holders = sa.select(roles.c.id, sa.literal(permission, sa.String)).where(
            roles.c.code == code, roles.c.is_system.is_(True),
            ~sa.exists().where(role_permissions.c.role_id == roles.c.id,
                               role_permissions.c.permission == permission))
        op.execute(role_permissions.insert().from_select(['role_id', 'permission'], holders))


def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        for column in ('counter_term', 'counter_amount', 'human_review_requested_at', 'human_review',
                       'level_entered_at', 'review_level', 'review_chain'):
            batch_op.drop_column(column)
    op.drop_index('ix_application_reviews_app', table_name='application_reviews')
    op.drop_table('application_reviews')
