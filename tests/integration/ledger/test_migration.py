"""Migration 0011 gives institutions that existed before it the default chart and the system roles their grants."""

from __future__ import annotations

from datetime import date, datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, insert, select

from microcredit.db.engine import make_engine
from microcredit.db.migrate import alembic_config, upgrade
from microcredit.ledger.chart import DEFAULT_CHART
from tests.conftest import fresh_database_url


def test_existing_institutions_get_the_chart_books_and_grants(backend, worker_tmp):
    engine = make_engine(fresh_database_url(backend, worker_tmp, "_ledger_mig"))
    try:
        before = ScriptDirectory.from_config(alembic_config()).get_revision("0011").down_revision
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), str(before))
        meta = MetaData()
        institutions = Table("institutions", meta, autoload_with=engine)
        roles = Table("roles", meta, autoload_with=engine)
        grants = Table("role_permissions", meta, autoload_with=engine)
        at = datetime(2026, 11, 25, 2, 0)
        with engine.begin() as conn:
            conn.execute(insert(institutions), [{
                "id": i, "code": f"OLD{i}", "name": "旧机构", "kind": "microcredit_company",
                "timezone": "Asia/Shanghai", "currency": "CNY", "business_date": date(2026, 11, 25),
                "status": "active", "created_at": at, "version": 1} for i in (1, 2)])
            role = {"institution_id": 1, "name_zh": "角色", "name_en": "Role", "data_scope": "institution",
                    "requires_mfa": False, "version": 1}
            conn.execute(insert(roles), [
                {**role, "id": 1, "code": "finance", "is_system": True},
                {**role, "id": 2, "code": "administrator", "is_system": True},
                {**role, "id": 3, "code": "finance_copy", "is_system": False},
            ])
            conn.execute(insert(grants), [{"role_id": 1, "permission": "ledger.read"}])
        upgrade(engine)
        meta = MetaData()
        accounts = Table("ledger_accounts", meta, autoload_with=engine)
        books = Table("ledger_books", meta, autoload_with=engine)
        with engine.connect() as conn:
            charts = conn.execute(select(accounts.c.institution_id, accounts.c.code, accounts.c.parent_id,
                                         accounts.c.id, accounts.c.normal_side)).all()
            book_rows = conn.execute(select(books.c.institution_id, books.c.closed_through)).all()
            granted = sorted(conn.execute(select(grants.c.role_id, grants.c.permission)
                                          .where(grants.c.permission.like("ledger.%"))).all())
        for inst in (1, 2):
            mine = {code: (parent, row_id, side) for i, code, parent, row_id, side in charts if i == inst}
            assert set(mine) == {d.code for d in DEFAULT_CHART}
            assert mine["130101"][0] == mine["1301"][1]
            assert mine["1304"][2] == "credit"
        assert sorted(book_rows) == [(1, None), (2, None)]
        assert granted == [(1, "ledger.accounts"), (1, "ledger.close"), (1, "ledger.post"), (1, "ledger.read"),
                           (2, "ledger.accounts"), (2, "ledger.read"), (2, "ledger.reopen")]
    finally:
        engine.dispose()
