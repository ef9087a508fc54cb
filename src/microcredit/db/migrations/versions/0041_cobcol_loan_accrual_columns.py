"""the quiet loans' figures in columns on the loan row

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-05

What a close-of-business day that is only an accrual reads and writes (docs/cob.md "Speed", change 6): the
accrual's rate (x 1e8), day-count basis, rounding, the running period's start and the date the quiet days end
(the next due date or period end), the interest base and the principal not yet due, and the accrued interest
and the payoff's accrual of the day the loan is current to (minor units). Servicing writes them with the
cached fold; a loan opened before stays NULL until its next fold (its next day goes through `advance`, which
writes them), so nothing is back-filled here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None

COLUMNS = (('accrual_rate', sa.BigInteger()), ('accrual_basis', sa.Integer()), ('accrual_rounding', sa.String(16)),
           ('accrual_from', sa.Date()), ('accrual_until', sa.Date()), ('accrual_base', sa.BigInteger()),
           ('accrual_future', sa.BigInteger()), ('accrued_interest', sa.BigInteger()),
           ('payoff_accrued', sa.BigInteger()))


def upgrade() -> None:
    with op.batch_alter_table('loans', schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('loans', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
