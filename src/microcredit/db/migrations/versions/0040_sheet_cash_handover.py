"""a collection sheet's cash handed over to finance

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-04

Loan officers save their groups' collection sheets (`collection_sheet.save`, granted here to the system
roles `loan_officer` and `finance` of existing institutions, as the role templates now do); the cash they
collect waits in field cash until finance confirms the handover. `collection_sheets` gets the group's branch
(filled from the group) and the handover's columns; existing institutions get the new default accounts
(1001 cash on hand with 100101 field cash, 1221 other receivables with 122101 staff shortages) that
`ledger.chart.DEFAULT_CHART` now lists. Sheets saved before stay as they were: their lines posted to the
bank, so they are marked handed over (by nobody, nothing expected) and wait for nobody.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types
from microcredit.clock import SystemClock
from microcredit.ledger.chart import DEFAULT_CHART
from microcredit.ledger.models import NORMAL_SIDE

revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None

GRANTS = (("loan_officer", "collection_sheet.save"), ("finance", "collection_sheet.save"))
NEW_ACCOUNTS = ("1001", "100101", "1221", "122101")

roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))
institutions = sa.table('institutions', sa.column('id', sa.BigInteger), sa.column('currency', sa.String))
accounts = sa.table('ledger_accounts', *(sa.column(c) for c in (
    'id', 'institution_id', 'code', 'key', 'name_zh', 'name_en', 'type', 'normal_side', 'parent_id', 'currency',
    'status', 'description', 'version')), sa.column('created_at', microcredit.db.types.UTCDateTime()),
    sa.column('closed_at', microcredit.db.types.UTCDateTime()))
books = sa.table('ledger_books', sa.column('institution_id', sa.BigInteger), sa.column('version', sa.Integer))
sheets = sa.table('collection_sheets', sa.column('group_id', sa.BigInteger), sa.column('branch_id', sa.BigInteger),
                  sa.column('recorded_at', microcredit.db.types.UTCDateTime()),
                  sa.column('handed_over_at', microcredit.db.types.UTCDateTime()))
groups = sa.table('borrower_groups', sa.column('id', sa.BigInteger), sa.column('branch_id', sa.BigInteger))


def upgrade() -> None:
    with op.batch_alter_table('collection_sheets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('branch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.add_column(sa.Column('handover_expected', microcredit.db.types.MoneyColumn('CNY'), nullable=True))
        batch_op.add_column(sa.Column('handover_counted', microcredit.db.types.MoneyColumn('CNY'), nullable=True))
        batch_op.add_column(sa.Column('handover_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('handover_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.add_column(sa.Column('handed_over_by_user_id',
                                      sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('handed_over_at', microcredit.db.types.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_collection_sheets_branch_id_branches'), 'branches',
                                    ['branch_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_collection_sheets_handover_entry_id_ledger_entries'),
                                    'ledger_entries', ['handover_entry_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_collection_sheets_handed_over_by_user_id_users'), 'users',
                                    ['handed_over_by_user_id'], ['id'])
        batch_op.create_index('ix_collection_sheets_handover', ['handed_over_at', 'institution_id', 'meeting_date'],
                              unique=False)
    op.execute(sheets.update().values(
        branch_id=sa.select(groups.c.branch_id).where(groups.c.id == sheets.c.group_id).scalar_subquery(),
        handed_over_at=sheets.c.recorded_at))
    for code, permission in GRANTS:
        holders = sa.select(roles.c.id, sa.literal(permission, sa.String)).where(
            roles.c.code == code, roles.c.is_system.is_(True),
            ~sa.exists().where(role_permissions.c.role_id == roles.c.id,
                               role_permissions.c.permission == permission))
        op.execute(role_permissions.insert().from_select(['role_id', 'permission'], holders))
    _add_accounts()


def _add_accounts() -> None:
    """The new default accounts for every institution that lacks them (parents before children); the books
    row's version moves so a kept chart is read again."""
    bind = op.get_bind()
    now = SystemClock().now()
    for inst_id, currency in bind.execute(sa.select(institutions.c.id, institutions.c.currency)).all():
        have = dict(bind.execute(sa.select(accounts.c.code, accounts.c.id).where(
            accounts.c.institution_id == inst_id, accounts.c.code.in_(NEW_ACCOUNTS))).all())
        added = False
        for d in DEFAULT_CHART:
            if d.code not in NEW_ACCOUNTS or d.code in have:
                continue
            bind.execute(accounts.insert().values(
                institution_id=inst_id, code=d.code, key=d.key, name_zh=d.name_zh, name_en=d.name_en, type=d.type,
                normal_side=NORMAL_SIDE[d.type], parent_id=have[d.parent] if d.parent else None,
                currency=currency or "CNY", status="active", description=d.description, created_at=now,
                closed_at=None, version=1))
            have[d.code] = bind.execute(sa.select(accounts.c.id).where(
                accounts.c.institution_id == inst_id, accounts.c.code == d.code)).scalar_one()
            added = True
        if added:
            bind.execute(books.update().where(books.c.institution_id == inst_id).values(version=books.c.version + 1))


def downgrade() -> None:
    op.execute(role_permissions.delete().where(role_permissions.c.permission == "collection_sheet.save"))
    with op.batch_alter_table('collection_sheets', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_sheets_handover')
        batch_op.drop_constraint(batch_op.f('fk_collection_sheets_handed_over_by_user_id_users'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_collection_sheets_handover_entry_id_ledger_entries'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_collection_sheets_branch_id_branches'), type_='foreignkey')
        for column in ('handed_over_at', 'handed_over_by_user_id', 'handover_entry_id', 'handover_reason',
                       'handover_counted', 'handover_expected', 'branch_id'):
            batch_op.drop_column(column)
    # The accounts stay: entries may have posted to them, and the ledger keeps what it posted.
