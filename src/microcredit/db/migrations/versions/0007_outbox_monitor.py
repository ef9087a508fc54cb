"""outbox monitor: message status, display columns, institution; outbox permissions

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03

Outbox rows get an explicit status (pending, retrying, dead, delivered, cancelled),
the plain columns the monitor lists (template, masked recipient, institution) so
that listing never decrypts a payload, and the times of the last attempt and of a
cancellation. Existing rows get their status from what they recorded; their
template and recipient stay empty (their payloads are encrypted, and the keys are
not the migration's business), as does their institution.

The system administrator roles of existing institutions get `outbox.read` and
`outbox.manage`, the system auditor roles `outbox.read`, as new institutions do.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import microcredit.db.types

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None

MAX_ATTEMPTS = 12  # notifications.service.MAX_ATTEMPTS when this migration was written
GRANTS = (("administrator", "outbox.read"), ("administrator", "outbox.manage"), ("auditor", "outbox.read"))

outbox = sa.table('outbox_messages', sa.column('status', sa.String), sa.column('attempts', sa.Integer),
                  sa.column('dispatched_at', microcredit.db.types.UTCDateTime()))
roles = sa.table('roles', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                 sa.column('is_system', sa.Boolean))
role_permissions = sa.table('role_permissions', sa.column('role_id', sa.BigInteger),
                            sa.column('permission', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.add_column(sa.Column('template', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('recipient_masked', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('last_attempt_at', microcredit.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', microcredit.db.types.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_institution_id_institutions'), 'institutions',
                                    ['institution_id'], ['id'])
        batch_op.drop_index('ix_outbox_pending')

    op.execute(outbox.update().where(outbox.c.dispatched_at.is_not(None)).values(status='delivered'))
    op.execute(outbox.update().where(outbox.c.dispatched_at.is_(None), outbox.c.attempts >= MAX_ATTEMPTS)
               .values(status='dead'))
    op.execute(outbox.update().where(outbox.c.status.is_(None), outbox.c.attempts > 0).values(status='retrying'))
    op.execute(outbox.update().where(outbox.c.status.is_(None)).values(status='pending'))

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=16), nullable=False)
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_inst_status', ['institution_id', 'status', 'created_at'], unique=False)

    for code, permission in GRANTS:
        holders = sa.select(roles.c.id, sa.literal(permission, sa.String)).where(
            roles.c.code == code, roles.c.is_system.is_(True),
            ~sa.exists().where(role_permissions.c.role_id == roles.c.id,
                               role_permissions.c.permission == permission))
        op.execute(role_permissions.insert().from_select(['role_id', 'permission'], holders))


def downgrade() -> None:
    op.execute(role_permissions.delete().where(role_permissions.c.permission.in_(('outbox.read', 'outbox.manage'))))
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        # The foreign key first: MariaDB refuses to drop the index it uses.
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_institution_id_institutions'), type_='foreignkey')
        batch_op.drop_index('ix_outbox_inst_status')
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_pending', ['dispatched_at', 'next_attempt_at'], unique=False)
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('recipient_masked')
        batch_op.drop_column('template')
        batch_op.drop_column('institution_id')
        batch_op.drop_column('status')
