"""fraud detection: identifiers seen at review, the investigator's cases and notes, the labels

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03

Four tables of risk's fraud detection (docs/risk.md, section "Fraud").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('risk_fraud_identifiers',
    sa.Column('id', ID, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('application_number', sa.String(length=64), nullable=False),
    sa.Column('person_index', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value_index', sa.String(length=64), nullable=False),
    sa.Column('value_masked', sa.String(length=64), nullable=False),
    sa.Column('seen_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_fraud_identifiers_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_fraud_identifiers')),
    sa.UniqueConstraint('institution_id', 'application_number', 'kind', name='uq_risk_fraud_identifiers_app_kind')
    )
    op.create_index('ix_risk_fraud_identifiers_value', 'risk_fraud_identifiers', ['institution_id', 'kind', 'value_index'], unique=False)
    op.create_index('ix_risk_fraud_identifiers_person', 'risk_fraud_identifiers', ['institution_id', 'person_index'], unique=False)
    op.create_table('risk_fraud_cases',
    sa.Column('id', ID, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('application_number', sa.String(length=64), nullable=True),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('opened_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('verdict', sa.String(length=12), nullable=True),
    sa.Column('verdict_reason', sa.String(length=500), nullable=True),
    sa.Column('decided_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('decided_by_user_id', ID, nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("source IN ('review', 'scan')", name=op.f('ck_risk_fraud_cases_source')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_risk_fraud_cases_status')),
    sa.CheckConstraint("verdict IS NULL OR verdict IN ('fraud', 'not_fraud')", name=op.f('ck_risk_fraud_cases_verdict')),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_risk_fraud_cases_decided_by_user_id_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_fraud_cases_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_fraud_cases'))
    )
    op.create_index('ix_risk_fraud_cases_queue', 'risk_fraud_cases', ['institution_id', 'status', 'opened_at'], unique=False)
    op.create_table('risk_fraud_case_notes',
    sa.Column('id', ID, nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_user_id', ID, nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['risk_fraud_cases.id'], name=op.f('fk_risk_fraud_case_notes_case_id_risk_fraud_cases')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_risk_fraud_case_notes_created_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_fraud_case_notes'))
    )
    op.create_index(op.f('ix_risk_fraud_case_notes_case_id'), 'risk_fraud_case_notes', ['case_id'], unique=False)
    op.create_table('risk_fraud_labels',
    sa.Column('id', ID, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('application_number', sa.String(length=64), nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('label', sa.String(length=12), nullable=False),
    sa.Column('labelled_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint("label IN ('fraud', 'not_fraud')", name=op.f('ck_risk_fraud_labels_label')),
    sa.ForeignKeyConstraint(['case_id'], ['risk_fraud_cases.id'], name=op.f('fk_risk_fraud_labels_case_id_risk_fraud_cases')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_risk_fraud_labels_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_fraud_labels')),
    sa.UniqueConstraint('case_id', 'application_number', name='uq_risk_fraud_labels_case_app')
    )
    op.create_index('ix_risk_fraud_labels_app', 'risk_fraud_labels', ['institution_id', 'application_number'], unique=False)


def downgrade() -> None:
    op.drop_table('risk_fraud_labels')
    op.drop_table('risk_fraud_case_notes')
    op.drop_table('risk_fraud_cases')
    op.drop_table('risk_fraud_identifiers')
