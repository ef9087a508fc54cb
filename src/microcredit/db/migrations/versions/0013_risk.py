"""risk: rule sets and versions, the blacklist, stored credit reports; the default rules; risk permissions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Four tables (risk.models): `risk_rule_sets`, `risk_rule_set_versions`
(parameters and rules as JSON; one `published` per rule set), `risk_blacklist`
(values encrypted, blind-indexed, masked) and `risk_bureau_reports`. Every
existing institution gets the default rule set, version 1 published
(risk.defaults), as new ones do. `risk.manage` stops being reserved and
`risk.read` is new: the system roles get what their templates now carry
(risk officer: manage and read; approvers and auditor: read).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types
from microcredit.clock import SystemClock
from microcredit.risk.defaults import DEFAULT_CODE, DEFAULT_NAME, DEFAULT_PARAMETERS, DEFAULT_RULES

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
institutions = sa.table('institutions', sa.column('id', sa.BigInteger))
roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))
GRANTS = (("risk_officer", "risk.manage"), ("risk_officer", "risk.read"), ("approver_l1", "risk.read"),
          ("approver_l2", "risk.read"), ("approver_l3", "risk.read"), ("auditor", "risk.read"))


def upgrade() -> None:
    op.create_table('risk_rule_sets',
    sa.Column('id', ID, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_rule_sets_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_rule_sets')),
    sa.UniqueConstraint('institution_id', 'code', name=op.f('uq_risk_rule_sets_institution_id_code'))
    )
    op.create_table('risk_rule_set_versions',
    sa.Column('id', ID, nullable=False),
    sa.Column('rule_set_id', ID, nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('based_on_number', sa.Integer(), nullable=True),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_user_id', ID, nullable=True),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('published_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('published_by_user_id', ID, nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'published', 'retired')", name=op.f('ck_risk_rule_set_versions_status')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_risk_rule_set_versions_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['published_by_user_id'], ['users.id'], name=op.f('fk_risk_rule_set_versions_published_by_user_id_users')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['risk_rule_sets.id'], name=op.f('fk_risk_rule_set_versions_rule_set_id_risk_rule_sets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_rule_set_versions')),
    sa.UniqueConstraint('rule_set_id', 'number', name=op.f('uq_risk_rule_set_versions_rule_set_id_number'))
    )
    op.create_index(op.f('ix_risk_rule_set_versions_rule_set_id'), 'risk_rule_set_versions', ['rule_set_id'], unique=False)
    op.create_table('risk_blacklist',
    sa.Column('id', ID, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value_ciphertext', sa.Text(), nullable=False),
    sa.Column('value_index', sa.String(length=64), nullable=False),
    sa.Column('value_masked', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_user_id', ID, nullable=True),
    sa.Column('removed_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('removed_by_user_id', ID, nullable=True),
    sa.Column('removed_reason', sa.String(length=255), nullable=True),
    sa.CheckConstraint("kind IN ('id_number', 'phone', 'device_id')", name=op.f('ck_risk_blacklist_kind')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_risk_blacklist_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_blacklist_institution_id_institutions')),
    sa.ForeignKeyConstraint(['removed_by_user_id'], ['users.id'], name=op.f('fk_risk_blacklist_removed_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_blacklist'))
    )
    op.create_index('ix_risk_blacklist_lookup', 'risk_blacklist', ['institution_id', 'kind', 'value_index'], unique=False)
    op.create_table('risk_bureau_reports',
    sa.Column('id', ID, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('id_number_index', sa.String(length=64), nullable=False),
    sa.Column('application_number', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('report_number', sa.String(length=64), nullable=False),
    sa.Column('queried_on', sa.Date(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_bureau_reports_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_bureau_reports'))
    )
    op.create_index('ix_risk_bureau_reports_person', 'risk_bureau_reports', ['institution_id', 'id_number_index'], unique=False)
    _seed_rule_sets()
    for code, permission in GRANTS:
        holders = sa.select(roles.c.id, sa.literal(permission, sa.String)).where(
            roles.c.code == code, roles.c.is_system.is_(True),
            ~sa.exists().where(role_permissions.c.role_id == roles.c.id,
                               role_permissions.c.permission == permission))
        op.execute(role_permissions.insert().from_select(['role_id', 'permission'], holders))


def _seed_rule_sets() -> None:
    """The default rule set, version 1 published, of every existing institution."""
    bind = op.get_bind()
    sets = sa.table('risk_rule_sets', sa.column('id'), sa.column('institution_id'), sa.column('code'),
                    sa.column('name'), sa.column('created_at', microcredit.db.types.UTCDateTime()))
    versions = sa.table('risk_rule_set_versions', *(sa.column(c) for c in (
        'rule_set_id', 'number', 'status', 'note', 'based_on_number', 'created_by_user_id', 'published_by_user_id',
        'lock_version')), sa.column('parameters', sa.JSON()), sa.column('rules', sa.JSON()),
        *(sa.column(c, microcredit.db.types.UTCDateTime()) for c in ('created_at', 'updated_at', 'published_at')))
    now = SystemClock().now()
    for (inst_id,) in bind.execute(sa.select(institutions.c.id)).all():
        bind.execute(sets.insert().values(institution_id=inst_id, code=DEFAULT_CODE, name=DEFAULT_NAME,
                                          created_at=now))
        set_id = bind.execute(sa.select(sets.c.id).where(sets.c.institution_id == inst_id,
                                                         sets.c.code == DEFAULT_CODE)).scalar_one()
        bind.execute(versions.insert().values(
            rule_set_id=set_id, number=1, status='published', parameters=dict(DEFAULT_PARAMETERS),
            rules=[r.to_json() for r in DEFAULT_RULES], note=None, based_on_number=None, created_by_user_id=None,
            published_by_user_id=None, lock_version=1, created_at=now, updated_at=now, published_at=now))


def downgrade() -> None:
    op.execute(role_permissions.delete().where(role_permissions.c.permission == 'risk.read'))
    op.execute(role_permissions.delete().where(
        role_permissions.c.permission == 'risk.manage',
        role_permissions.c.role_id.in_(sa.select(roles.c.id).where(roles.c.code != 'risk_officer'))))
    op.drop_table('risk_bureau_reports')
    op.drop_table('risk_blacklist')
    op.drop_table('risk_rule_set_versions')
    op.drop_table('risk_rule_sets')
