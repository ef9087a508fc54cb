"""contract archive renewals

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04

`contract_archive_renewals`: each renewal of a signed contract's document time stamps (PAdES B-LTA) — a new
file under a new key, the digest of the file it extends, the new stamp's time and its certificate's end.
`contracts.archive_pdf_key`, `archive_pdf_sha256`: the latest renewal's file (what a download serves);
`contracts.archive_valid_until`: the end of the certificate of the latest stamp of that file (the renewal run
selects on it; NULL until read).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contract_archive_renewals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('renewed_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('timestamp_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('previous_sha256', sa.String(length=64), nullable=False),
    sa.Column('previous_valid_until', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('pdf_key', sa.String(length=200), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf_size', sa.BigInteger(), nullable=False),
    sa.Column('valid_until', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('tsa_subject', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_archive_renewals_contract_id_contracts')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_contract_archive_renewals_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_archive_renewals')),
    sa.UniqueConstraint('contract_id', 'previous_sha256', name=op.f('uq_contract_archive_renewals_contract_id_previous_sha256')),
    )
    with op.batch_alter_table('contract_archive_renewals', schema=None) as batch_op:
        batch_op.create_index('ix_contract_archive_renewals_inst', ['institution_id', 'renewed_at'], unique=False)

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archive_pdf_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('archive_pdf_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('archive_valid_until', microcredit.db.types.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_contracts_archive', ['archive_valid_until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_contracts_archive')
        batch_op.drop_column('archive_valid_until')
        batch_op.drop_column('archive_pdf_sha256')
        batch_op.drop_column('archive_pdf_key')

    # The table's indexes go with it (MariaDB: the foreign keys use them).
    op.drop_table('contract_archive_renewals')
