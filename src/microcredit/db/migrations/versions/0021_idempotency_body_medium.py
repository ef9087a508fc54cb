"""idempotency_keys.response_body: MEDIUMBLOB on MySQL/MariaDB (a BLOB stops at 64 KiB)

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-03

A repayment answers with the loan it changed, events included; a loan with a few hundred events
answers with more than 64 KiB, which MySQL's BLOB cannot hold, so storing the answer for replay
failed with "Data too long" and the repayment answered 500 (found by the SIGKILL test, which sends
160 repayments to one loan). MEDIUMBLOB holds 16 MiB. PostgreSQL's bytea and SQLite's BLOB have no
such limit; nothing changes there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0021'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        op.alter_column('idempotency_keys', 'response_body', existing_type=sa.LargeBinary(),
                        type_=mysql.MEDIUMBLOB(), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        op.alter_column('idempotency_keys', 'response_body', existing_type=mysql.MEDIUMBLOB(),
                        type_=sa.LargeBinary(), existing_nullable=True)
