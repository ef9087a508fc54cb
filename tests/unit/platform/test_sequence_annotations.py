"""FastAPI's "is this parameter a sequence?" kept per annotation (platform.routing._remember_sequence_annotations).

The answer must be FastAPI's own for every kind of annotation, repeated query values must still
arrive as lists (in a query model and as a plain parameter), and the question must be worked out
once per annotation, not twice per field per request.
"""

# No `from __future__ import annotations`: the routes below annotate with local classes FastAPI must resolve.

from typing import Annotated, Any, Literal, Optional, Union

import fastapi._compat.shared as fastapi_shared
import fastapi.dependencies.utils as fastapi_dependencies
import pytest
from fastapi import APIRouter, FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel

from microcredit.platform.routing import UnitOfWorkRoute


class Filters(BaseModel):
    tag: list[str] = []
    q: str | None = None
    page: int = 1
    sort: Literal["name", "-name"] = "name"


def _app() -> FastAPI:
    router = APIRouter(route_class=UnitOfWorkRoute)

    @router.get("/items")
    async def items(filters: Annotated[Filters, Query()]) -> dict[str, Any]:
        return filters.model_dump()

    @router.get("/plain")
    async def plain(ids: Annotated[list[int], Query()] = [], name: str = "x") -> dict[str, Any]:  # noqa: B006
        return {"ids": ids, "name": name}

    app = FastAPI()
    app.include_router(router)
    return app


def _check() -> Any:
    _app()  # building a UnitOfWorkRoute puts the kept check in place
    check = fastapi_dependencies.field_annotation_is_sequence
    assert getattr(check, "mc_remembered", False)
    return check


@pytest.mark.parametrize("annotation", [
    str, int, bytes, list[str], tuple[int, ...], set[str], frozenset[int], Optional[list[int]], list[int] | None,  # noqa: UP045
    Union[str, list[str]], str | None, Annotated[list[int], Query()], Annotated[str, Query(max_length=3)],  # noqa: UP007
    Literal["a", "b"], dict[str, int], Any, Annotated[list[str], ["unhashable metadata"]],
])
def test_the_kept_answer_is_fastapis(annotation: Any) -> None:
    check = _check()
    assert check(annotation) == check.mc_original(annotation)
    assert check(annotation) == check.mc_original(annotation)  # the second time from the dictionary


def test_repeated_values_still_arrive_as_lists() -> None:
    client = TestClient(_app())
    r = client.get("/items", params=[("tag", "a"), ("tag", "b"), ("q", "li"), ("page", "2")])
    assert r.json() == {"tag": ["a", "b"], "q": "li", "page": 2, "sort": "name"}
    assert client.get("/items").json() == {"tag": [], "q": None, "page": 1, "sort": "name"}
    assert client.get("/items", params={"page": "x"}).status_code == 422
    assert client.get("/plain", params=[("ids", "1"), ("ids", "2")]).json() == {"ids": [1, 2], "name": "x"}


def test_each_annotation_is_worked_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(_app())
    client.get("/items", params=[("tag", "a")])  # every annotation of the route asked once
    worked_out: list[Any] = []
    original = fastapi_shared._annotation_is_sequence

    def counting(annotation: Any) -> bool:
        worked_out.append(annotation)
        return original(annotation)

    monkeypatch.setattr(fastapi_shared, "_annotation_is_sequence", counting)
    for _ in range(5):
        assert client.get("/items", params=[("tag", "a"), ("tag", "b")]).status_code == 200
    assert worked_out == []  # FastAPI's own check would have run ~3 times for each of 4 fields, twice, per request
