"""pending TOTP secret during re-enrolment

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

A re-enrolment keeps the active second factor until the new secret is confirmed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_pending_secret_ciphertext', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_pending_secret_ciphertext')

