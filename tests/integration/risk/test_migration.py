"""Migrations 0013 and 0025 give institutions that existed before them the rule set and risk's grants."""

from __future__ import annotations

import json
from datetime import date, datetime

from alembic import command
from sqlalchemy import MetaData, Table, insert, select

from microcredit.db.engine import make_engine
from microcredit.db.migrate import alembic_config, upgrade
from microcredit.risk.defaults import DEFAULT_PARAMETERS, DEFAULT_RULES
from tests.conftest import fresh_database_url


def test_existing_institutions_get_the_default_rules_and_grants(backend, worker_tmp):
    engine = make_engine(fresh_database_url(backend, worker_tmp, "_risk_mig"))
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), "0011")
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
                {**role, "id": 1, "code": "risk_officer", "is_system": True},
                {**role, "id": 2, "code": "approver_l1", "is_system": True},
                {**role, "id": 3, "code": "risk_copy", "is_system": False},
            ])
            conn.execute(insert(grants), [{"role_id": 1, "permission": "risk.manage"}])
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), "0024")
        meta = MetaData()
        sets = Table("risk_rule_sets", meta, autoload_with=engine)
        versions = Table("risk_rule_set_versions", meta, autoload_with=engine)
        with engine.connect() as conn:
            seeded = conn.execute(select(sets.c.institution_id, sets.c.code, versions.c.number, versions.c.status,
                                         versions.c.parameters, versions.c.rules)
                                  .join(versions, versions.c.rule_set_id == sets.c.id)
                                  .order_by(sets.c.institution_id)).all()
            granted = sorted(conn.execute(select(grants.c.role_id, grants.c.permission)
                                          .where(grants.c.permission.like("risk.%"))).all())
        assert [(i, code, n, status) for i, code, n, status, _, _ in seeded] == [
            (1, "default", 1, "published"), (2, "default", 1, "published")]
        # Reflected, MariaDB's JSON columns are LONGTEXT: read the text back as JSON there.
        def as_json(value):
            return json.loads(value) if isinstance(value, str) else value

        assert as_json(seeded[0].parameters) == DEFAULT_PARAMETERS
        assert as_json(seeded[0].rules) == [r.to_json() for r in DEFAULT_RULES]
        assert granted == [(1, "risk.manage"), (1, "risk.read"), (2, "risk.read")]

        upgrade(engine)  # 0025: models, fraud and warnings, to the system risk officer (and no one else here)
        with engine.connect() as conn:
            granted = sorted(conn.execute(select(grants.c.role_id, grants.c.permission)
                                          .where(grants.c.permission.like("risk.%"))).all())
        assert granted == [(1, "risk.fraud.investigate"), (1, "risk.manage"), (1, "risk.model.approve"),
                           (1, "risk.model.manage"), (1, "risk.read"), (1, "risk.warning.handle"), (2, "risk.read")]
    finally:
        engine.dispose()
