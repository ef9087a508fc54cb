"""outbox dedupe key: a message stored once per (topic, key)

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04

`outbox_messages.dedupe_key`: what makes a message the same as one already stored, unique per topic
(NULL for messages that have none, as SMS). A payment provider's callback is stored in the outbox
(topic `payment_callback`) under the provider's name, its payment reference and the outcome it
reports, so the same notice delivered twice is stored once and applied once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=128), nullable=True))
        batch_op.create_index('ux_outbox_dedupe', ['topic', 'dedupe_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ux_outbox_dedupe')
        batch_op.drop_column('dedupe_key')
