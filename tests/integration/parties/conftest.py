"""Fixtures of the parties tests: an institution with two branches, and signed-in staff of any role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from microcredit.parties.models import Branch, Institution
from tests.factories import StaffHandle, make_branch, make_institution, make_staff
from tests.integration.helpers import shared_client, signed_in


@pytest.fixture
def client(runtime, backend) -> Iterator[TestClient]:
    """A TestClient on the worker's app for this backend, pointed at the test's context."""
    yield from shared_client(runtime, backend)


@dataclass
class Org:
    """An institution with branches A and B."""

    inst: Institution
    a: Branch
    b: Branch


@pytest.fixture
def org(session, runtime) -> Org:
    """A fresh institution (not the platform's) with two branches."""
    inst = make_institution(session, runtime)
    return Org(inst=inst, a=make_branch(session, runtime, inst), b=make_branch(session, runtime, inst))


@pytest.fixture
def staff_as(session, runtime, org) -> Callable[..., tuple[StaffHandle, dict[str, str]]]:
    """Make a staff member of `org` with one role and sign them in (commits the arrangement)."""

    def make(role: str, *, branch: Branch | None = None, inst: Institution | None = None,
             password: str | None = None) -> tuple[StaffHandle, dict[str, str]]:
        handle = make_staff(session, runtime, inst or org.inst, roles=(role,), branch=branch, password=password)
        headers = signed_in(session, runtime, handle.user)
        session.commit()
        return handle, headers

    return make
