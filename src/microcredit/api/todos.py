"""The caller's to-dos: each domain counts what waits for them (see platform/todo.py)."""

from __future__ import annotations

from fastapi import APIRouter

from microcredit.api.deps import DB, Config, Kit, authenticated
from microcredit.collections import service as collections
from microcredit.contracts import service as contracts
from microcredit.identity import service as identity
from microcredit.identity.principal import Principal
from microcredit.notifications import service as notifications
from microcredit.origination import service as origination
from microcredit.parties import service as parties
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import OutputSchema
from microcredit.risk.warnings.service import handling as warnings
from microcredit.servicing.service import changes, collection_sheets, loans, payments

router = APIRouter(tags=["identity"], route_class=UnitOfWorkRoute)


class TodoRead(OutputSchema):
    """`count` things of kind `code` wait for the caller."""

    code: str
    count: int


class TodosRead(OutputSchema):
    """Everything waiting for the caller that their permissions let them act on."""

    items: list[TodoRead]


@router.get("/me/todos", response_model=TodosRead, operation_id="get_my_todos", summary="What waits for me")
def get_my_todos(session: DB, kit: Kit, settings: Config, principal: Principal = authenticated()) -> TodosRead:
    """Counts per kind of work (changes to review, locked accounts, borrowers without a branch,
    applications waiting per approval level and past their SLA, disbursements waiting …),
    only what the caller's permissions and data scope let them act on; zero counts included."""
    todos = [*parties.borrowers.todos(session=session, principal=principal),
             *identity.accounts.todos(session=session, kit=kit, principal=principal),
             *origination.approvals.todos(session=session, clock=kit.clock, sla=settings.review,
                                          principal=principal),
             *origination.group_applications.todos(session=session, principal=principal),
             *loans.todos(session=session, principal=principal),
             *changes.todos(session=session, principal=principal),
             *payments.todos(session=session, principal=principal),
             *collection_sheets.todos(session=session, principal=principal),
             *contracts.contracts.todos(session=session, principal=principal),
             *contracts.templates.todos(session=session, principal=principal),
             *collections.cases.todos(session=session, principal=principal),
             *warnings.todos(session=session, principal=principal)]
    if principal.can("outbox.manage"):
        todos += notifications.todos(session=session, institution_id=None if principal.sees_all_institutions
                                     else principal.institution_id)
    return TodosRead(items=[TodoRead(code=t.code, count=t.count) for t in todos])
