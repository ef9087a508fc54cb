"""credit risk's permissions granted to the system roles of existing institutions

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03

Models, fraud investigation and early warnings (docs/risk.md) bring four permissions. New
institutions' roles get them from the role templates; this grants them to the system roles of
institutions that already exist, as the templates would have.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

GRANTS = (
    ("risk_officer", "risk.model.manage"),
    ("risk_officer", "risk.model.approve"),
    ("risk_officer", "risk.fraud.investigate"),
    ("risk_officer", "risk.warning.handle"),
    ("loan_officer", "risk.warning.handle"),
    ("branch_manager", "risk.warning.handle"),
)
roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))


def upgrade() -> None:
    for code, permission in GRANTS:
        holders = sa.select(roles.c.id, sa.literal(permission, sa.String)).where(
            roles.c.code == code, roles.c.is_system.is_(True),
            ~sa.exists().where(role_permissions.c.role_id == roles.c.id,
                               role_permissions.c.permission == permission))
        op.execute(role_permissions.insert().from_select(['role_id', 'permission'], holders))


def downgrade() -> None:
    op.execute(role_permissions.delete().where(
        role_permissions.c.permission.in_(sorted({permission for _, permission in GRANTS}))))
