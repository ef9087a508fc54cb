"""join the origination (0012), risk (0013) and documents (0014) heads on the applications branch

Revision ID: m0012_0013_0014
Revises: 0012, 0013, 0014
Create Date: 2026-12-02

The three revisions start from 0011 (their helpers worked side by side); this empty revision
makes one head of them so that `upgrade head` works on this branch. At the merge into main, where the
revisions are chained one after the other, it goes away.
"""

from __future__ import annotations

revision = 'm0012_0013_0014'
down_revision = ('0012', '0013', '0014')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
