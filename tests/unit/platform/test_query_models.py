"""A frozen query model validated once per query string (platform.routing._remember_query_models).

The values a route receives must be FastAPI's own (the same app on plain `APIRoute`s answers
the same for every query, repeated keys and unknown parameters included); a frozen model's query
is validated once per query string, a failed one every time (and still a 422), and a model that is
not frozen, or a plain parameter, every time.
"""

# No `from __future__ import annotations`: the routes below annotate with local classes FastAPI must resolve.

from typing import Annotated, Any

import pytest
from fastapi import APIRouter, FastAPI, Query
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field, field_validator

VALIDATIONS: list[str] = []


class Frozen(BaseModel):
    q: str | None = Field(default=None, max_length=5)
    page: int = Field(default=1, ge=1)
    tags: tuple[str, ...] = ()

    model_config = ConfigDict(frozen=True)

    @field_validator("page")
    @classmethod
    def _seen(cls, page: int) -> int:
        VALIDATIONS.append("frozen")
        return page


class Thawed(BaseModel):
    page: int = 1

    @field_validator("page")
    @classmethod
    def _seen(cls, page: int) -> int:
        VALIDATIONS.append("thawed")
        return page


def _app(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(route_class=route_class)

    @router.get("/frozen")
    async def frozen(query: Annotated[Frozen, Query()]) -> dict[str, Any]:
        return query.model_dump()

    @router.get("/thawed")
    async def thawed(query: Annotated[Thawed, Query()]) -> dict[str, Any]:
        return query.model_dump()

    @router.get("/plain")
    async def plain(page: int = 1) -> dict[str, Any]:
        return {"page": page}

    app = FastAPI()
    app.include_router(router)
    return app


@pytest.fixture
def ours() -> TestClient:
    from microcredit.platform.routing import UnitOfWorkRoute

    return TestClient(_app(UnitOfWorkRoute))


QUERIES = ["", "page=2", "page=2&q=abc", "q=abc&page=2", "page=1&page=3", "tags=a&tags=b", "other=1",
           "page=0", "q=toolong", "page=x", "q=%E4%B8%AD"]


@pytest.mark.parametrize("path", ["/frozen", "/thawed", "/plain"])
def test_the_answers_are_fastapis(ours: TestClient, path: str) -> None:
    plain = TestClient(_app(APIRoute))
    for query in QUERIES + QUERIES:  # the second time from what was kept
        mine, theirs = ours.get(f"{path}?{query}"), plain.get(f"{path}?{query}")
        assert (mine.status_code, mine.json()) == (theirs.status_code, theirs.json()), query


def test_a_frozen_query_is_validated_once_per_query_string(ours: TestClient) -> None:
    VALIDATIONS.clear()
    for _ in range(3):
        assert ours.get("/frozen?page=2").json()["page"] == 2
    assert VALIDATIONS == ["frozen"]
    assert ours.get("/frozen?page=3").json()["page"] == 3  # another query string: validated
    assert VALIDATIONS == ["frozen", "frozen"]


def test_a_failed_query_is_validated_every_time(ours: TestClient) -> None:
    VALIDATIONS.clear()
    for _ in range(2):
        answer = ours.get("/frozen?page=0")
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["query", "page"]
    assert VALIDATIONS == []  # refused by the bound before the validator, both times
    for _ in range(2):
        assert ours.get("/frozen?page=2&q=toolong").status_code == 422
    assert VALIDATIONS == ["frozen", "frozen"]


def test_a_model_that_is_not_frozen_is_validated_every_time(ours: TestClient) -> None:
    VALIDATIONS.clear()
    for _ in range(3):
        assert ours.get("/thawed?page=2").json()["page"] == 2
    assert VALIDATIONS == ["thawed"] * 3
