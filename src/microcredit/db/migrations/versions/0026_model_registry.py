"""risk: the model registry (models, versions, promotions by maker–checker, scores per application)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03

Four tables of the credit-model registry (docs/risk.md, "Model registry and serving"): a model of
an institution, its versions (artefact bytes with their SHA-256, features, validation report,
metrics, status), promotion proposals with the second risk officer's answer, and what the
champion (deciding) and the challenger (in the shadow) said of each application.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import microcredit.db.types

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('risk_models',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_models_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_models')),
    sa.UniqueConstraint('institution_id', 'code', name=op.f('uq_risk_models_institution_id_code'))
    )
    op.create_table('risk_model_versions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('model_id', ID, nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('format', sa.String(length=64), nullable=False),
    sa.Column('artefact', sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), 'mysql', 'mariadb'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('registered_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('registered_by_user_id', ID, nullable=True),
    sa.Column('promoted_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('retired_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'champion', 'challenger', 'retired')", name=op.f('ck_risk_model_versions_status')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_model_versions_institution_id_institutions')),
    sa.ForeignKeyConstraint(['model_id'], ['risk_models.id'], name=op.f('fk_risk_model_versions_model_id_risk_models')),
    sa.ForeignKeyConstraint(['registered_by_user_id'], ['users.id'], name=op.f('fk_risk_model_versions_registered_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_model_versions')),
    sa.UniqueConstraint('model_id', 'number', name=op.f('uq_risk_model_versions_model_id_number'))
    )
    op.create_index('ix_risk_model_versions_status', 'risk_model_versions', ['institution_id', 'status'], unique=False)
    op.create_index(op.f('ix_risk_model_versions_model_id'), 'risk_model_versions', ['model_id'], unique=False)
    op.create_table('risk_model_promotions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('version_id', ID, nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('proposed_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('proposed_by_user_id', ID, nullable=True),
    sa.Column('decided_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('decided_by_user_id', ID, nullable=True),
    sa.Column('decision_reason', sa.String(length=500), nullable=True),
    sa.Column('replaced_version_id', ID, nullable=True),
    sa.CheckConstraint("target IN ('champion', 'challenger')", name=op.f('ck_risk_model_promotions_target')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f('ck_risk_model_promotions_status')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_model_promotions_institution_id_institutions')),
    sa.ForeignKeyConstraint(['version_id'], ['risk_model_versions.id'], name=op.f('fk_risk_model_promotions_version_id_risk_model_versions')),
    sa.ForeignKeyConstraint(['proposed_by_user_id'], ['users.id'], name=op.f('fk_risk_model_promotions_proposed_by_user_id_users')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_risk_model_promotions_decided_by_user_id_users')),
    sa.ForeignKeyConstraint(['replaced_version_id'], ['risk_model_versions.id'], name=op.f('fk_risk_model_promotions_replaced_version_id_risk_model_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_model_promotions'))
    )
    op.create_index('ix_risk_model_promotions_status', 'risk_model_promotions', ['institution_id', 'status'], unique=False)
    op.create_index(op.f('ix_risk_model_promotions_version_id'), 'risk_model_promotions', ['version_id'], unique=False)
    op.create_table('risk_model_scores',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('application_number', sa.String(length=64), nullable=False),
    sa.Column('version_id', ID, nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('pd', sa.Float(), nullable=False),
    sa.Column('grade', sa.String(length=2), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('scored_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint("role IN ('champion', 'challenger')", name=op.f('ck_risk_model_scores_role')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_model_scores_institution_id_institutions')),
    sa.ForeignKeyConstraint(['version_id'], ['risk_model_versions.id'], name=op.f('fk_risk_model_scores_version_id_risk_model_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_model_scores'))
    )
    op.create_index('ix_risk_model_scores_application', 'risk_model_scores', ['institution_id', 'application_number'], unique=False)
    op.create_index('ix_risk_model_scores_version', 'risk_model_scores', ['version_id', 'scored_at'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key uses).
    for table in ('risk_model_scores', 'risk_model_promotions', 'risk_model_versions', 'risk_models'):
        op.drop_table(table)
