"""model registry: a version's purpose (credit scoring, or the fraud check's anomaly model)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04

The isolation forest of the fraud check is trained from the institution's own applications and goes
through the registry's life cycle (draft, approved by a second risk officer, champion = in force).
Roles are held per purpose, so the forest in force never displaces the credit champion. Every version
registered before is a credit model (server default).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('risk_model_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='credit', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('risk_model_versions', schema=None) as batch_op:
        batch_op.drop_column('purpose')
