"""online registrants' branch, English branch names, administrators review profile changes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Institutions get the rule that places online registrants (and a default branch);
borrowers record how their branch was chosen; branches get an English name.
Existing borrowers registered at a branch are marked so; the system role
`administrator` of every institution gains the review of profile changes and
the edit of borrowers (to reassign them), as new institutions' roles have.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NEW_ADMIN_PERMISSIONS = ("borrower.review_change", "borrower.update")


def upgrade() -> None:
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('online_branch_rule', sa.String(length=16), nullable=False,
                                      server_default='region'))
        batch_op.add_column(sa.Column('default_branch_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_en', sa.String(length=200), nullable=True))
    with op.batch_alter_table('borrowers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('branch_assignment', sa.String(length=16), nullable=True))
    borrowers = sa.table('borrowers', sa.column('branch_id', sa.Integer), sa.column('channel', sa.String),
                         sa.column('branch_assignment', sa.String))
    op.execute(borrowers.update().where(borrowers.c.branch_id.is_not(None))
               .values(branch_assignment=sa.case((borrowers.c.channel == 'branch', 'branch'), else_='staff')))
    roles = sa.table('roles', sa.column('id', sa.Integer), sa.column('code', sa.String),
                     sa.column('is_system', sa.Boolean))
    grants = sa.table('role_permissions', sa.column('role_id', sa.Integer), sa.column('permission', sa.String))
    conn = op.get_bind()
    admin_roles = [r.id for r in conn.execute(sa.select(roles.c.id).where(roles.c.code == 'administrator',
                                                                          roles.c.is_system.is_(True)))]
    for role_id in admin_roles:
        held = {p for (p,) in conn.execute(sa.select(grants.c.permission).where(grants.c.role_id == role_id))}
        missing = [p for p in NEW_ADMIN_PERMISSIONS if p not in held]
        if missing:
            op.bulk_insert(grants, [{"role_id": role_id, "permission": p} for p in missing])


def downgrade() -> None:
    with op.batch_alter_table('borrowers', schema=None) as batch_op:
        batch_op.drop_column('branch_assignment')
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_column('name_en')
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_column('default_branch_id')
        batch_op.drop_column('online_branch_rule')
