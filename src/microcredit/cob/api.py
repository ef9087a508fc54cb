"""Routes of the close of business for administrators: start a run (it works in the background),
list runs, read one (steps x partitions, failures), retry its failed loans."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request

from microcredit.api.deps import DB, WallClock, require, runtime_of
from microcredit.api.params import Id, PageNo, PageSize
from microcredit.cob import service
from microcredit.cob.models import CobRun
from microcredit.cob.schemas import (
    CobFailureRead,
    CobRetryResult,
    CobRunCreate,
    CobRunDetail,
    CobRunRead,
    CobTaskRead,
    LoanStandingRead,
)
from microcredit.identity.principal import Principal
from microcredit.platform.paging import PageRequest
from microcredit.platform.routing import UnitOfWorkRoute
from microcredit.platform.schema import Page

router = APIRouter(tags=["cob"], route_class=UnitOfWorkRoute)
ERRORS: dict[int | str, dict[str, Any]] = {404: {"description": "No such run (`cob_run_not_found`)"},
          409: {"description": "A run is under way (`cob_run_in_progress`), an earlier date's run is unfinished "
                               "(`cob_previous_run_unfinished`), the run is not finished "
                               "(`cob_run_not_finished`) or not the latest (`cob_retry_not_latest`)"},
          422: {"description": "The date is not after the business date (`cob_date_not_after_business_date`)"}}


def _read(run: CobRun) -> CobRunRead:
    return CobRunRead.model_validate(run, from_attributes=True)


@router.post("/cob/runs", response_model=CobRunRead, status_code=202, operation_id="start_cob_run",
             summary="Start (or resume) the close of business of a date", responses=ERRORS)
def start_cob_run(body: CobRunCreate, request: Request, background: BackgroundTasks, session: DB,
                  clock: WallClock, principal: Principal = require("cob.run")) -> CobRunRead:
    """Open the run (the business date moves to it) and work it in the background; poll GET /cob/runs/{id}."""
    runtime = runtime_of(request)
    kit = runtime.cob
    run = service.runs.start(session=session, clock=clock, actor=principal.actor,
                             institution_id=principal.institution_id, on=body.business_date,
                             partition_size=kit.partition_size, lease_seconds=kit.lease_seconds)
    session.flush()
    background.add_task(service.runs.execute, db=runtime.db, kit=kit, run_id=run.id)
    return _read(run)


@router.get("/cob/runs", response_model=Page[CobRunRead], operation_id="list_cob_runs",
            summary="The institution's runs, newest date first")
def list_cob_runs(session: DB, principal: Principal = require("cob.run"), page: PageNo = 1,
                  page_size: PageSize = 20) -> Page[CobRunRead]:
    """A page of runs with their status, counts and report."""
    r = service.runs.list_runs(session=session, institution_id=principal.institution_id,
                               page=PageRequest(page, page_size))
    return Page(items=[_read(x) for x in r.items], total=r.total, page=r.page, page_size=r.page_size)


@router.get("/cob/runs/{run_id}", response_model=CobRunDetail, operation_id="get_cob_run",
            summary="A run: its steps x partitions and failures", responses={404: ERRORS[404]})
def get_cob_run(run_id: Id, session: DB, principal: Principal = require("cob.run")) -> CobRunDetail:
    """The run, each task's state, counts and duration, and the loans that failed."""
    run = service.runs.get(session=session, institution_id=principal.institution_id, run_id=run_id)
    tasks = service.runs.tasks(session=session, run=run)
    steps = list(dict.fromkeys(t.step for t in tasks)) or [s.name for s in service.steps.registered()]
    return CobRunDetail(run=_read(run), steps=steps,
                        tasks=[CobTaskRead.model_validate(t, from_attributes=True) for t in tasks],
                        failures=[CobFailureRead.model_validate(f, from_attributes=True)
                                  for f in service.runs.failures(session=session, run=run)])


@router.post("/cob/runs/{run_id}/retry", response_model=CobRetryResult, operation_id="retry_cob_run",
             summary="Run the failed loans of the latest run again", responses=ERRORS)
def retry_cob_run(run_id: Id, request: Request, session: DB,
                  principal: Principal = require("cob.run")) -> CobRetryResult:
    """Each failed loan from the step it failed through the last, in a unit of work of its own."""
    runtime = runtime_of(request)
    fixed, failing = service.runs.retry(db=runtime.db, kit=runtime.cob, institution_id=principal.institution_id,
                                        run_id=run_id)
    # Read in a transaction of its own, begun after the retry's commits (the request's may be older).
    run = runtime.db.run(lambda s: _read(service.runs.get(session=s, institution_id=principal.institution_id,
                                                          run_id=run_id)), write=False)
    return CobRetryResult(run=run, fixed=fixed, failing=failing)


@router.get("/loans/{loan_id}/standing", response_model=LoanStandingRead, operation_id="get_loan_standing",
            summary="A loan's bucket, five-category class and provision, as the last close of business found them",
            responses={404: {"description": "No such loan in the caller's scope (`not_found`)"}})
def get_loan_standing(loan_id: Id, session: DB, principal: Principal = require("loan.read")) -> LoanStandingRead:
    """With the behaviour features early warning reads; nulls until a close of business reached the loan."""
    found = service.standing.of_loan(session=session, principal=principal, loan_id=loan_id)
    return LoanStandingRead.model_validate(found, from_attributes=True)
