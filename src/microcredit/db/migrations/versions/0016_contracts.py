"""contracts: versioned contract templates and the contracts of approved applications

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Two tables (contracts.models): `contract_templates` (per institution, code and
version number; draft / published / retired; the HTML and the DOCX template)
and `contracts` (one per application: the template version, the terms snapshot,
the PDF's and DOCX's storage keys and SHA-256, the borrower's e-signature record
and the institution-signed PDF). Every existing institution gets the default
template (contracts.defaults) as version 1, published; new ones get it on first
use. Template administration needs `product.manage`, which administrators hold:
no new permission.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import microcredit.db.types
from microcredit.clock import SystemClock
from microcredit.contracts.defaults import DEFAULT_CODE, DEFAULT_HTML, DEFAULT_LANGUAGE, DEFAULT_NAME, default_docx

revision = '0016'
down_revision = '0015'  # after the review in levels (0015), itself after group lending (0017)
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
institutions = sa.table('institutions', sa.column('id', sa.BigInteger))


def upgrade() -> None:
    op.create_table('contract_templates',
    sa.Column('id', ID, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('html', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb'), nullable=False),
    sa.Column('docx', sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), 'mysql', 'mariadb'), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_user_id', ID, nullable=True),
    sa.Column('updated_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('published_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('published_by_user_id', ID, nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'published', 'retired')", name=op.f('ck_contract_templates_status')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_contract_templates_institution_id_institutions')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_contract_templates_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['published_by_user_id'], ['users.id'], name=op.f('fk_contract_templates_published_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_templates')),
    sa.UniqueConstraint('institution_id', 'code', 'number', name=op.f('uq_contract_templates_institution_id_code_number'))
    )
    op.create_index('ix_contract_templates_inst_code', 'contract_templates', ['institution_id', 'code', 'status'], unique=False)
    op.create_table('contracts',
    sa.Column('id', ID, nullable=False),
    sa.Column('institution_id', ID, nullable=False),
    sa.Column('branch_id', ID, nullable=True),
    sa.Column('application_id', ID, nullable=False),
    sa.Column('borrower_id', ID, nullable=False),
    sa.Column('borrower_user_id', ID, nullable=False),
    sa.Column('number', sa.String(length=48), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('template_id', ID, nullable=False),
    sa.Column('template_code', sa.String(length=32), nullable=False),
    sa.Column('template_number', sa.Integer(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('pdf_key', sa.String(length=200), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf_size', sa.BigInteger(), nullable=False),
    sa.Column('docx_key', sa.String(length=200), nullable=False),
    sa.Column('docx_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', microcredit.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_user_id', ID, nullable=True),
    sa.Column('signed_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('signer_name', sa.String(length=100), nullable=True),
    sa.Column('sign_ip', sa.String(length=64), nullable=True),
    sa.Column('sign_device_id', sa.String(length=64), nullable=True),
    sa.Column('sign_user_agent', sa.String(length=255), nullable=True),
    sa.Column('signed_document_sha256', sa.String(length=64), nullable=True),
    sa.Column('signed_pdf_key', sa.String(length=200), nullable=True),
    sa.Column('signed_pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('signed_pdf_size', sa.BigInteger(), nullable=True),
    sa.Column('institution_signed_at', microcredit.db.types.UTCDateTime(), nullable=True),
    sa.Column('certificate_subject', sa.String(length=255), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('ready', 'signed', 'void')", name=op.f('ck_contracts_status')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_contracts_institution_id_institutions')),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_contracts_branch_id_branches')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_contracts_application_id_applications')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.id'], name=op.f('fk_contracts_borrower_id_borrowers')),
    sa.ForeignKeyConstraint(['borrower_user_id'], ['users.id'], name=op.f('fk_contracts_borrower_user_id_users')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_contracts_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['template_id'], ['contract_templates.id'], name=op.f('fk_contracts_template_id_contract_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('application_id', name=op.f('uq_contracts_application_id')),
    sa.UniqueConstraint('institution_id', 'number', name=op.f('uq_contracts_institution_id_number'))
    )
    op.create_index('ix_contracts_inst_status', 'contracts', ['institution_id', 'status', 'branch_id'], unique=False)
    op.create_index('ix_contracts_borrower', 'contracts', ['borrower_id'], unique=False)
    _seed_templates()


def _seed_templates() -> None:
    """The default template, version 1 published, of every existing institution."""
    bind = op.get_bind()
    rows = sa.table('contract_templates', *(sa.column(c) for c in (
        'institution_id', 'code', 'number', 'status', 'name', 'language', 'html', 'note', 'created_by_user_id',
        'published_by_user_id', 'lock_version')), sa.column('docx', sa.LargeBinary()),
        *(sa.column(c, microcredit.db.types.UTCDateTime()) for c in ('created_at', 'updated_at', 'published_at')))
    now = SystemClock().now()
    docx = default_docx()
    for (inst_id,) in bind.execute(sa.select(institutions.c.id)).all():
        bind.execute(rows.insert().values(
            institution_id=inst_id, code=DEFAULT_CODE, number=1, status='published', name=DEFAULT_NAME,
            language=DEFAULT_LANGUAGE, html=DEFAULT_HTML, docx=docx, note=None, created_by_user_id=None,
            published_by_user_id=None, lock_version=1, created_at=now, updated_at=now, published_at=now))


def downgrade() -> None:
    # The indexes go with the tables (MariaDB refuses to drop one a foreign key relies on first).
    op.drop_table('contracts')
    op.drop_table('contract_templates')
