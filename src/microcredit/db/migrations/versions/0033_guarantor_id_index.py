"""guarantors found by ID number

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04

`ix_guarantors_id_number`: staff search guarantors by the blind index of their ID number (exact), as by
their phone's (`ix_guarantors_phone`), within the institution.
"""

from __future__ import annotations

from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('guarantors', schema=None) as batch_op:
        batch_op.create_index('ix_guarantors_id_number', ['institution_id', 'id_number_index'], unique=False)


def downgrade() -> None:
    # MariaDB refuses to drop an index a foreign key uses unless another index serves it:
    # ix_guarantors_phone still leads with institution_id.
    with op.batch_alter_table('guarantors', schema=None) as batch_op:
        batch_op.drop_index('ix_guarantors_id_number')
