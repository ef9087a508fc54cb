"""Publishing a version that maps an account and closing that account at the same moment.

`close_account` takes the books row's exclusive lock, then reads the published versions' mappings;
publishing takes its shared lock before it checks the accounts. So the two cannot both go through: the
later one waits for the earlier one's commit and sees it. Played here with two real transactions on the
servers that have row locks (SQLite has one writer at a time anyway).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from microcredit.clock import SystemClock
from microcredit.db.engine import Database, make_engine
from microcredit.db.migrate import upgrade
from microcredit.ledger import service as ledger
from microcredit.ledger.errors import AccountMappedByProduct
from microcredit.platform.actor import Actor
from microcredit.products import service as products
from microcredit.products.product_schemas import ProductTerms
from tests.conftest import fresh_database_url
from tests.factories import make_institution
from tests.integration.products.test_products_api import terms


def _close(database: Database, inst_id: int, clock: SystemClock, *, server: str | None = None) -> None:
    with database.unit_of_work() as closing:
        if server is not None:  # give up waiting for a lock after 2 s
            closing.execute(text("SET LOCAL lock_timeout = '2s'" if server == "postgresql"
                                 else "SET SESSION innodb_lock_wait_timeout = 2"))
        account = next(a for a in ledger.accounts.list_accounts(session=closing, institution_id=inst_id)
                       if a.code == "130102")
        ledger.accounts.close_account(session=closing, clock=clock, actor=Actor.system(inst_id), account=account,
                                      mapped_by=products.catalogue.accounts_in_use)


@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_a_version_being_published_holds_the_account_it_maps_against_closing(server, worker_tmp):
    url = fresh_database_url(server, worker_tmp, "_mapped_race")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    database, clock = Database(url), SystemClock()
    try:
        with database.unit_of_work() as s:
            inst = make_institution(s, SimpleNamespace(clock=clock))
            parent = next(a for a in ledger.accounts.list_accounts(session=s, institution_id=inst.id)
                          if a.code == "1301")
            ledger.accounts.create_account(session=s, clock=clock, actor=Actor.system(inst.id),
                                           institution_id=inst.id, code="130102", name_zh="贷款—农户",
                                           name_en="Loans — farmers", type="asset", parent_id=parent.id)
            products.catalogue.create_product(
                session=s, clock=clock, actor=Actor.system(inst.id), institution_id=inst.id, code="FARM",
                terms=ProductTerms.model_validate(terms(accounts={"loan_principal": "130102"})))
            inst_id, kind, business_date = inst.id, inst.kind, inst.business_date

        with database.unit_of_work() as publishing:
            products.catalogue.publish(session=publishing, clock=clock, actor=Actor.system(inst_id),
                                       institution_id=inst_id, institution_kind=kind, business_date=business_date,
                                       code="FARM", number=1, calendars=products.offline_calendars)
            # Not yet committed: a close now would read no published mapping, so it must wait for this one.
            with pytest.raises(OperationalError):
                _close(database, inst_id, clock, server=server)

        # Committed: the close sees the mapping and is refused, naming the product.
        with pytest.raises(AccountMappedByProduct):
            _close(database, inst_id, clock)
    finally:
        database.dispose()
