"""notifications: in-app notifications (inbox_messages)

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-03

`inbox_messages` (notifications.models.InboxMessage): one in-app notification
per row for one user — a template key and its parameters (the app renders the
text in the reader's language), the subject it is about (kind + id, no foreign
key) and when it was read.
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


def downgrade() -> None:
    op.drop_table('inbox_messages')
