"""guarantors as parties

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04

`guarantors`: a person who guarantees an application (and the loan opened from it) without being a
borrower — name, ID number and phone kept as a borrower's are (encrypted, blind-indexed, masked), relation,
guarantee kind, amount, the consent they signed, and whether they are active or released.
`collection_actions.number_index`: the blind index of the number a guarantor contact called, so the
per-number attempt count is per that number.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('guarantors',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_number_ciphertext', sa.Text(), nullable=False),
    sa.Column('id_number_index', sa.String(length=64), nullable=False),
    sa.Column('id_number_masked', sa.String(length=32), nullable=False),
    sa.Column('phone_ciphertext', sa.Text(), nullable=False),
    sa.Column('phone_index', sa.String(length=64), nullable=False),
    sa.Column('phone_masked', sa.String(length=16), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', microcredit.db.types.MoneyColumn('CNY'), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('consent_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consent_content_hash', sa.String(length=64), nullable=False),
    sa.Column('consented_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('added_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('released_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('released_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('release_reason', sa.String(length=200), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_user_id'], ['users.id'], name=op.f('fk_guarantors_added_by_user_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_guarantors_application_id_applications')),
    sa.ForeignKeyConstraint(['consent_document_id'], ['consent_documents.id'], name=op.f('fk_guarantors_consent_document_id_consent_documents')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_guarantors_institution_id_institutions')),
    sa.ForeignKeyConstraint(['released_by_user_id'], ['users.id'], name=op.f('fk_guarantors_released_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guarantors'))
    )
    with op.batch_alter_table('guarantors', schema=None) as batch_op:
        batch_op.create_index('ix_guarantors_application', ['application_id', 'status'], unique=False)
        batch_op.create_index('ix_guarantors_phone', ['institution_id', 'phone_index'], unique=False)

    with op.batch_alter_table('collection_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number_index', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_collection_actions_number_day', ['institution_id', 'number_index', 'local_date'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('collection_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_actions_number_day')
        batch_op.drop_column('number_index')

    # The table's indexes go with it (MariaDB refuses to drop ix_guarantors_phone alone: the
    # institution's foreign key uses it).
    op.drop_table('guarantors')
