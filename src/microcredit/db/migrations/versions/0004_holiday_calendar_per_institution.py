"""holiday calendar per institution

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02

Each institution keeps its own calendar of public holidays and make-up working
days (`calendar_days`) and the years that data is complete for
(`calendar_years`). The default staff roles of existing institutions gain
`calendar.read` (administrators also `calendar.manage`), as new institutions'
roles have them. Calendars themselves are not filled here: the data comes from
the chinesecalendar package, which changes with its releases, so run
`microcredit calendar seed --institution CODE` after upgrading (docs/calendar.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None

# The default staff roles as they stood at this revision (identity/permissions.py may move on).
_STAFF_ROLES = ('loan_officer', 'risk_officer', 'approver_l1', 'approver_l2', 'approver_l3', 'collector',
                'finance', 'branch_manager', 'administrator', 'auditor')
_PERMISSIONS = ('calendar.read', 'calendar.manage')


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_calendar_days_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_calendar_days_institution_id_institutions')),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_calendar_days_updated_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_days')),
    sa.UniqueConstraint('institution_id', 'day', name=op.f('uq_calendar_days_institution_id_day'))
    )
    op.create_table('calendar_years',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('covered', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_calendar_years_institution_id_institutions')),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_calendar_years_updated_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_years')),
    sa.UniqueConstraint('institution_id', 'year', name=op.f('uq_calendar_years_institution_id_year'))
    )

    roles = sa.table('roles', sa.column('id', sa.Integer()), sa.column('code', sa.String()),
                     sa.column('is_system', sa.Boolean()))
    role_permissions = sa.table('role_permissions', sa.column('role_id', sa.Integer()),
                                sa.column('permission', sa.String()))
    rows = op.get_bind().execute(
        sa.select(roles.c.id, roles.c.code).where(roles.c.is_system == sa.true(), roles.c.code.in_(_STAFF_ROLES))
    ).all()
    grants = [{'role_id': role_id, 'permission': 'calendar.read'} for role_id, _ in rows]
    grants += [{'role_id': role_id, 'permission': 'calendar.manage'} for role_id, code in rows
               if code == 'administrator']
    if grants:
        op.bulk_insert(role_permissions, grants)


def downgrade() -> None:
    role_permissions = sa.table('role_permissions', sa.column('permission', sa.String()))
    op.execute(role_permissions.delete().where(role_permissions.c.permission.in_(_PERMISSIONS)))
    op.drop_table('calendar_years')
    op.drop_table('calendar_days')
