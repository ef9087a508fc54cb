"""API shapes of the close of business: a run, its tasks (step x partition), its failures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from microcredit.platform.schema import InputSchema, MoneyStr, OutputSchema

RunStatus = Literal["running", "done", "done_with_failures"]
TaskState = Literal["pending", "running", "done", "failed"]


class CobRunCreate(InputSchema):
    """Start (or resume) the close of business of a date."""

    business_date: date | None = Field(default=None, description="The date to close: after the business date "
                                       "(default: the day after it), or the date of the unfinished run",
                                       examples=["2026-12-21"])


class CobRunRead(OutputSchema):
    """A run: the date it closes, where it stands, and (once finished) its report."""

    id: int
    institution_id: int
    business_date: date = Field(description="The date the run closes", examples=["2026-12-21"])
    previous_date: date = Field(description="The business date before the run", examples=["2026-12-20"])
    status: RunStatus = Field(description="running; done; done_with_failures (some loans failed a step: retry)")
    runner: str = Field(examples=["in_process"])
    partition_size: int = Field(description="Loans per partition", examples=[500])
    loans: int = Field(description="Active loans when the run opened", examples=[1200])
    failures: int = Field(description="Loans whose failure waits for a retry", examples=[0])
    started_at: datetime
    heartbeat_at: datetime = Field(description="The last time the run's runner was heard from")
    finished_at: datetime | None
    started_by_user_id: int | None
    report: dict[str, Any] | None = Field(description="Per step: partitions, loans, failed, counts, duration_ms",
                                          examples=[{"business_date": "2026-12-21", "loans": 2, "failures": 0,
                                                     "steps": {"advance": {"position": 10, "partitions": 1,
                                                                           "loans": 2, "failed": 0,
                                                                           "duration_ms": 40,
                                                                           "counts": {"entries": 2}}}}])


class CobTaskRead(OutputSchema):
    """One step over one partition of loans (by id range)."""

    id: int
    step: str = Field(examples=["advance"])
    position: int = Field(examples=[10])
    partition: int = Field(examples=[1])
    first_loan_id: int
    last_loan_id: int
    state: TaskState
    loans: int = Field(description="Loans the step did")
    failed: int = Field(description="Loans that failed the step")
    counts: dict[str, int] = Field(description="What the step did (amounts in minor units)",
                                   examples=[{"entries": 3}])
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int


class CobFailureRead(OutputSchema):
    """A loan that failed a step, with the error; `retried` once a retry ran it again successfully."""

    id: int
    loan_id: int
    step: str
    error: str
    at: datetime
    retried: bool
    retry_result: str | None = Field(description="fixed, or the error the last retry met")


class LoanStandingRead(OutputSchema):
    """What the last close of business found of a loan; every field null (provision "0.00") until one has."""

    loan_id: int
    as_of: date | None = Field(description="The business date of the close of business that found this")
    dpd: int | None
    bucket: str | None = Field(description='The delinquency bucket, e.g. "current", "1-30", "91-180"')
    category: int | None = Field(description="五级分类: 1 normal, 2 special mention, 3 substandard, 4 doubtful, 5 loss")
    provision: MoneyStr = Field(description="What loss_provision holds for the loan")
    late_payments: int | None
    partial_payments: int | None
    days_since_last_payment: int | None
    max_dpd: int | None


class CobRunDetail(OutputSchema):
    """A run with its steps x partitions and its failures."""

    run: CobRunRead
    steps: list[str] = Field(description="The steps in order", examples=[["advance", "classify", "autodebit"]])
    tasks: list[CobTaskRead]
    failures: list[CobFailureRead]


class CobRetryResult(OutputSchema):
    """What a retry did."""

    run: CobRunRead
    fixed: int
    failing: int
