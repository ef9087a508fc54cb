"""e-mail channel: the e-mail server simulator's mailbox

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03

`sim_email_messages` holds what the built-in e-mail server simulator (`integrations.email`)
"delivered": the address as a blind index and masked, the subject, the body and the message id
that makes a retried send idempotent. Early warning e-mails a warning's assignee who has an
address (docs/risk.md, Routing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sim_email_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('address_index', sa.String(length=64), nullable=False),
    sa.Column('address_masked', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=100), nullable=False),
    sa.Column('sent_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sim_email_messages'))
    )
    with op.batch_alter_table('sim_email_messages', schema=None) as batch_op:
        batch_op.create_index('ix_sim_email_address', ['address_index', 'sent_at'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB).
    op.drop_table('sim_email_messages')
