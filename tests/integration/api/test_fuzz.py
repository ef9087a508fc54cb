"""Schemathesis over the whole OpenAPI document: no input, valid or not, makes a server error.

Every operation gets a few generated requests (schema-valid and schema-breaking
ones) as an anonymous caller, a borrower and an administrator, against the app
in test mode on a seeded database. This bounded run belongs to the suite; the
long run (thousands of examples per operation) is documented in
docs/security.md (`MICROCREDIT_FUZZ_EXAMPLES`).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from tests.factories import institution_header, make_borrower, make_branch, make_institution, make_staff
from tests.integration.helpers import signed_in

EXAMPLES = int(os.environ.get("MICROCREDIT_FUZZ_EXAMPLES", "2"))
# The bounded run uses SQLite; the long run names more (MICROCREDIT_FUZZ_BACKENDS=sqlite,postgresql,mysql).
BACKENDS = os.environ.get("MICROCREDIT_FUZZ_BACKENDS", "sqlite").split(",")
# Operations that end the caller's own session (the rest of the run would be anonymous), and readiness,
# whose 503 on the test database (bound to one connection, no engine of its own) is its documented answer.
SKIPPED = {"logout", "change_password", "end_my_session", "readyz"}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The databases this run fuzzes against."""
    return str(request.param)


def _send(client: Any, case: Any, headers: dict[str, str]) -> Any:
    sent = {k: str(v) for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    kwargs: dict[str, Any] = {"headers": {**sent, **headers}, "params": case.query or None}
    body = case.body
    if body is not None and not isinstance(body, schemathesis.core.NotSet):
        if isinstance(body, bytes) or (case.media_type and "json" not in case.media_type):
            kwargs["content"] = body if isinstance(body, bytes) else str(body).encode()
            kwargs["headers"]["Content-Type"] = case.media_type or "application/json"
        else:
            kwargs["content"] = json.dumps(body).encode()
            kwargs["headers"]["Content-Type"] = "application/json"
    return client.request(case.method, case.formatted_path, **kwargs)


@pytest.mark.parametrize("caller", ["anonymous", "borrower", "administrator"])
def test_no_generated_request_makes_a_server_error(client, session, runtime, caller):
    inst = make_institution(session, runtime, calendar=False)
    branch = make_branch(session, runtime, inst)
    make_borrower(session, runtime, inst, branch=branch)
    headers = institution_header(inst)
    if caller == "borrower":
        headers |= signed_in(session, runtime, make_borrower(session, runtime, inst, branch=branch).user)
    elif caller == "administrator":
        headers |= signed_in(session, runtime, make_staff(session, runtime, inst, roles=("administrator",)).user)
    session.commit()
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    failures: list[str] = []
    runs = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        raw = operation.definition.raw
        if raw.get("operationId") in SKIPPED:
            continue
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
        if raw.get("parameters") or raw.get("requestBody"):  # something to break
            strategy = st.one_of(strategy, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case: Any) -> None:
            r = _send(client, case, headers)
            if r.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} query={case.query!r} "
                                f"body={case.body!r}: {r.status_code} {r.text[:200]}")

        run()
        runs += 1
    assert runs > 60
    assert failures == []
