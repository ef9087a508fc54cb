"""group meetings

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-04

`group_meetings`: a joint-liability group's repayment meeting schedule (frequency, first meeting, time of
day, place), one row per group; loans of its members are synced to it when they are opened.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('group_meetings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('first_on', sa.Date(), nullable=False),
    sa.Column('time_of_day', sa.String(length=5), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['borrower_groups.id'], name=op.f('fk_group_meetings_group_id_borrower_groups')),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_group_meetings_updated_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_meetings')),
    sa.UniqueConstraint('group_id', name=op.f('uq_group_meetings_group_id'))
    )


def downgrade() -> None:
    op.drop_table('group_meetings')
