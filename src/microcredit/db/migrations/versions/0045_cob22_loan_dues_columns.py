"""the unsettled installments and the repayments of a loan's cached fold, in columns

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-05

The close of business's reminders and collections steps read, for an overdue loan, only its unsettled installments
(which fall due on a reminder day, what each still owes by component) and its repayments (docs/cob.md "Speed",
changes 11 and 12): `loans.unpaid_dues` (`number:YYYY-MM-DD:principal:interest:fee:penalty` per unsettled
installment) and `loans.repaid` (`YYYY-MM-DD:minor` per repayment), written by servicing with the cached fold
(`accrual.day_columns`), comma-separated in the fold's order; '' when none. NULL until the loan's next fold (the
steps read the JSON or fold meanwhile), so nothing is back-filled here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0045'
down_revision = '0044'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unpaid_dues', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('repaid', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_column('repaid')
        batch_op.drop_column('unpaid_dues')
