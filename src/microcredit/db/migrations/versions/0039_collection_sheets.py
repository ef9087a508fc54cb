"""collection sheets

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-04

`collection_sheets`: a group meeting's collection sheet as saved (the meeting, who saved it and when, each
member's line with what was collected or why not), one row per sheet, unique per group and idempotency key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('collection_sheets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('meeting_date', sa.Date(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('due', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
    sa.Column('collected', microcredit.db.types.MoneyColumn('CNY'), nullable=False),
    sa.Column('recorded_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['borrower_groups.id'], name=op.f('fk_collection_sheets_group_id_borrower_groups')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_collection_sheets_institution_id_institutions')),
    sa.ForeignKeyConstraint(['recorded_by_user_id'], ['users.id'], name=op.f('fk_collection_sheets_recorded_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_sheets')),
    sa.UniqueConstraint('group_id', 'idempotency_key', name=op.f('uq_collection_sheets_group_id_idempotency_key'))
    )
    op.create_index('ix_collection_sheets_group', 'collection_sheets', ['group_id', 'meeting_date', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_collection_sheets_group', table_name='collection_sheets')
    op.drop_table('collection_sheets')
