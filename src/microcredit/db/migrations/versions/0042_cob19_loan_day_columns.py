"""what the close of business's later steps read of a loan's cached fold, in columns

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-05

Classify, auto-debit, reminders and features read, for a loan with nothing to do, only these (docs/cob.md
"Speed", change 7): on `loans` the earliest due date of an installment not settled, the delinquency bucket and
five-category class, the late and partial payments and the last payment's date of the cached fold (servicing
writes them with it); on `cob_loan_standing` the outstanding principal its provision was computed on. NULL until
the loan's next fold (those steps read the JSON meanwhile), so nothing is back-filled here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None

COLUMNS = (('unpaid_due_from', sa.Date()), ('bucket', sa.String(16)), ('category', sa.Integer()),
           ('late_payments', sa.Integer()), ('partial_payments', sa.Integer()), ('last_paid_on', sa.Date()))


def upgrade() -> None:
    with op.batch_alter_table('loans', schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table('cob_loan_standing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('principal', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cob_loan_standing', schema=None) as batch_op:
        batch_op.drop_column('principal')
    with op.batch_alter_table('loans', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
