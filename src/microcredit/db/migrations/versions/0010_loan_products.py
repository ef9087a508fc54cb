"""loan products, versioned; the one-year LPR table; rate caps per kind of institution

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

`products` (code unique per institution) and `product_versions` (a draft until
published, then immutable; the terms as one validated JSON document). The
`lpr_rates` table is seeded with the one-year LPR history since the 2019
reform (products.service.caps.LPR_HISTORY, each row naming its source), and
`rate_caps` with the defaults for every kind of institution from 2000-01-01:
a 24 % hard cap on the APR and approval above 4 × LPR (docs/products.md).
The default staff roles of existing institutions gain `product.read`, as new
institutions' roles have it (administrators already hold `product.manage`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import microcredit.db.types
from microcredit.clock import SystemClock
from microcredit.products.service.caps import DEFAULT_CAPS, LPR_HISTORY

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# The default staff roles as they stood at this revision (identity/permissions.py may move on).
_STAFF_ROLES = ('loan_officer', 'risk_officer', 'approver_l1', 'approver_l2', 'approver_l3', 'collector',
                'finance', 'branch_manager', 'administrator', 'auditor')
_KINDS = ('small_loan_company', 'rural_credit_cooperative', 'village_bank', 'microfinance', 'online_small_loan')


def upgrade() -> None:
    lpr_table = op.create_table('lpr_rates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('one_year_percent', microcredit.db.types.ExactDecimal(length=40), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_lpr_rates_updated_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lpr_rates')),
    sa.UniqueConstraint('effective_date', name=op.f('uq_lpr_rates_effective_date'))
    )
    op.create_table('products',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_products_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_products_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('institution_id', 'code', name=op.f('uq_products_institution_id_code'))
    )
    caps_table = op.create_table('rate_caps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_kind', sa.String(length=32), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('hard_cap_percent', microcredit.db.types.ExactDecimal(length=40), nullable=False),
    sa.Column('approval_lpr_multiple', microcredit.db.types.ExactDecimal(length=40), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_rate_caps_created_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_caps')),
    sa.UniqueConstraint('institution_kind', 'effective_from', name=op.f('uq_rate_caps_institution_kind_effective_from'))
    )
    op.create_table('product_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('active_from', sa.Date(), nullable=False),
    sa.Column('active_to', sa.Date(), nullable=True),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('published_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('published_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('retired_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('retired_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cap_check', sa.JSON(), nullable=True),
    sa.Column('rate_approved_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('rate_approval_reason', sa.String(length=500), nullable=True),
    sa.Column('rate_approved_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_product_versions_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_product_versions_institution_id_institutions')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_versions_product_id_products')),
    sa.ForeignKeyConstraint(['published_by_user_id'], ['users.id'], name=op.f('fk_product_versions_published_by_user_id_users')),
    sa.ForeignKeyConstraint(['rate_approved_by_user_id'], ['users.id'], name=op.f('fk_product_versions_rate_approved_by_user_id_users')),
    sa.ForeignKeyConstraint(['retired_by_user_id'], ['users.id'], name=op.f('fk_product_versions_retired_by_user_id_users')),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_product_versions_updated_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_versions')),
    sa.UniqueConstraint('product_id', 'number', name=op.f('uq_product_versions_product_id_number'))
    )
    now = SystemClock().now()
    op.bulk_insert(lpr_table, [
        {'effective_date': day, 'one_year_percent': Decimal(percent), 'source': source, 'origin': 'seeded',
         'created_at': now, 'updated_at': now, 'version': 1} for day, percent, source in LPR_HISTORY])
    op.bulk_insert(caps_table, [
        {'institution_kind': kind, 'effective_from': date(2000, 1, 1),
         'hard_cap_percent': DEFAULT_CAPS.hard_cap_percent,
         'approval_lpr_multiple': DEFAULT_CAPS.approval_lpr_multiple, 'origin': 'seeded', 'created_at': now}
        for kind in _KINDS])

    roles = sa.table('roles', sa.column('id', sa.Integer()), sa.column('code', sa.String()),
                     sa.column('is_system', sa.Boolean()))
    role_permissions = sa.table('role_permissions', sa.column('role_id', sa.Integer()),
                                sa.column('permission', sa.String()))
    rows = op.get_bind().execute(
        sa.select(roles.c.id).where(roles.c.is_system == sa.true(), roles.c.code.in_(_STAFF_ROLES))).all()
    if rows:
        op.bulk_insert(role_permissions, [{'role_id': role_id, 'permission': 'product.read'} for (role_id,) in rows])


def downgrade() -> None:
    role_permissions = sa.table('role_permissions', sa.column('permission', sa.String()))
    op.execute(role_permissions.delete().where(role_permissions.c.permission == 'product.read'))
    op.drop_table('product_versions')
    op.drop_table('rate_caps')
    op.drop_table('products')
    op.drop_table('lpr_rates')
