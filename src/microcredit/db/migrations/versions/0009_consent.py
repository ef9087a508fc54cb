"""consent: versioned user agreement, privacy policy and sensitive-information rules; consent records

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02

Two tables: `consent_documents` (every published version of an institution's
documents, never edited) and `consent_records` (who accepted which version,
when, through which channel, from where; withdrawal time). Every existing
institution gets version 1.0 of the three default documents (consent.defaults),
as new institutions do. Borrowers registered before this migration have no
consent records: nothing here pretends they consented.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types
from microcredit.clock import SystemClock
from microcredit.consent.defaults import DEFAULT_VERSION, DEFAULTS
from microcredit.consent.service import content_hash

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None

institutions = sa.table('institutions', sa.column('id', sa.BigInteger))


def upgrade() -> None:
    documents = op.create_table('consent_documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('title_zh', sa.String(length=120), nullable=False),
    sa.Column('title_en', sa.String(length=120), nullable=False),
    sa.Column('body_zh', sa.Text(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('effective_from', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('published_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('published_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_consent_documents_institution_id_institutions')),
    sa.ForeignKeyConstraint(['published_by_user_id'], ['users.id'], name=op.f('fk_consent_documents_published_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_documents')),
    sa.UniqueConstraint('institution_id', 'kind', 'version', name=op.f('uq_consent_documents_institution_id_kind_version'))
    )
    op.create_index('ix_consent_documents_current', 'consent_documents', ['institution_id', 'kind', 'effective_from'], unique=False)
    op.create_table('consent_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('borrower_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('accepted_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('recorded_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('withdrawn_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('withdrawn_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_consent_records_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['document_id'], ['consent_documents.id'], name=op.f('fk_consent_records_document_id_consent_documents')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_consent_records_institution_id_institutions')),
    sa.ForeignKeyConstraint(['recorded_by_user_id'], ['users.id'], name=op.f('fk_consent_records_recorded_by_user_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consent_records_user_id_users')),
    sa.ForeignKeyConstraint(['withdrawn_by_user_id'], ['users.id'], name=op.f('fk_consent_records_withdrawn_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    op.create_index('ix_consent_records_borrower', 'consent_records', ['borrower_id', 'kind'], unique=False)
    op.create_index('ix_consent_records_user', 'consent_records', ['user_id', 'kind'], unique=False)

    now = SystemClock().now()
    rows = [{"institution_id": inst_id, "kind": d.kind, "version": DEFAULT_VERSION, "title_zh": d.title_zh,
             "title_en": d.title_en, "body_zh": d.body_zh, "body_en": d.body_en,
             "content_hash": content_hash(title_zh=d.title_zh, title_en=d.title_en, body_zh=d.body_zh,
                                          body_en=d.body_en),
             "effective_from": now, "published_at": now, "published_by_user_id": None}
            for inst_id in op.get_bind().scalars(sa.select(institutions.c.id)) for d in DEFAULTS]
    if rows:
        op.bulk_insert(documents, rows)


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key uses first).
    op.drop_table('consent_records')
    op.drop_table('consent_documents')
