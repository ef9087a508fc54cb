"""application numbers from a database sequence where there is one: no row locked from the number to the commit

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-05

On PostgreSQL and MariaDB a submission took the day's counter row (`application_sequences.last`) under a lock held
until its commit, so every submission of an institution's day ran after the one before (docs/performance.md,
"what serialises the decisions"). There, numbers now come from the sequence `application_numbers` less the
day's `base` (origination's `repository.sequence_without_lock`); SQLite, one writer at a time anyway, keeps the
counter. A day already begun by the counter goes on with it (its row has no base).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('application_sequences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base', sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.supports_sequences:
        op.execute(sa.schema.CreateSequence(sa.Sequence('application_numbers')))


def downgrade() -> None:
    if op.get_bind().dialect.supports_sequences:
        op.execute(sa.schema.DropSequence(sa.Sequence('application_numbers')))
    with op.batch_alter_table('application_sequences', schema=None) as batch_op:
        batch_op.drop_column('base')
