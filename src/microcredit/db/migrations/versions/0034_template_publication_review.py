"""contracts: a template version's publication by maker–checker (request, then approval or rejection by another)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04

A draft contract template is no longer published by one administrator: an editor requests publication
(`review_status` pending, who and when) and a different person holding the new permission
`contract.template.approve` approves (the draft is published) or rejects it with a reason. Versions made
before keep no review (NULL). The permission is granted to the system administrator roles of institutions
that already exist, as the role template now does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
GRANTS = (("administrator", "contract.template.approve"),)
roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('contract_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('requested_at', microcredit.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('requested_by_user_id', ID, nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', microcredit.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_user_id', ID, nullable=True))
        batch_op.add_column(sa.Column('review_reason', sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_contract_templates_requested_by_user_id_users'), 'users',
                                    ['requested_by_user_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_contract_templates_reviewed_by_user_id_users'), 'users',
                                    ['reviewed_by_user_id'], ['id'])
        batch_op.create_check_constraint('review_status', "review_status IN ('pending', 'approved', 'rejected')")
    for code, permission in GRANTS:
        holders = sa.select(roles.c.id, sa.literal(permission, sa.String)).where(
            roles.c.code == code, roles.c.is_system.is_(True),
            ~sa.exists().where(role_permissions.c.role_id == roles.c.id,
                               role_permissions.c.permission == permission))
        op.execute(role_permissions.insert().from_select(['role_id', 'permission'], holders))


def downgrade() -> None:
    op.execute(role_permissions.delete().where(
        role_permissions.c.permission.in_(sorted({permission for _, permission in GRANTS}))))
    with op.batch_alter_table('contract_templates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_contract_templates_review_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_contract_templates_reviewed_by_user_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_contract_templates_requested_by_user_id_users'), type_='foreignkey')
        batch_op.drop_column('review_reason')
        batch_op.drop_column('reviewed_by_user_id')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('requested_by_user_id')
        batch_op.drop_column('requested_at')
        batch_op.drop_column('review_status')
