"""The shape of the package, read from its import graph and its files (docs/architecture.md).

* no import circles, TYPE_CHECKING imports included;
* every domain has the same skeleton, and only repositories query;
* the custom import contracts (scripts/import_contracts.py) really refuse what they must.
"""

from __future__ import annotations

import ast
import copy
import tomllib
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest
from scripts.import_contracts import AllowListContract, RouteLayersContract

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "microcredit"
DOMAINS = ("identity", "parties", "products", "consent", "ledger", "audit", "notifications", "origination", "risk",
           "documents", "servicing", "contracts")
SKELETON = ("models", "schemas", "repository", "service", "api", "errors")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """The package's import graph, TYPE_CHECKING imports included."""
    return grimp.build_graph("microcredit", include_external_packages=True, exclude_type_checking_imports=False)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), among the package's own modules."""
    nodes = sorted(m for m in graph.modules if m.startswith("microcredit"))
    edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i.startswith("microcredit"))
             for m in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_through_others(graph):
    assert _cycles(graph) == []


def test_a_circle_would_be_found(graph):
    g = copy.deepcopy(graph)
    g.add_import(importer="microcredit.db.base", imported="microcredit.models_registry")
    assert any({"microcredit.db.base", "microcredit.models_registry"} <= set(c) for c in _cycles(g))


def _module_or_package(domain: str, name: str) -> Path | None:
    for candidate in (PACKAGE / domain / f"{name}.py", PACKAGE / domain / name / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_domain_has_the_same_skeleton(domain):
    missing = [name for name in SKELETON if _module_or_package(domain, name) is None]
    assert missing == []


def _sources(kind: str) -> Iterator[Path]:
    for domain in (*DOMAINS, "integrations"):
        found = _module_or_package(domain, kind)
        if found is None:
            continue
        yield from (found.parent.rglob("*.py") if found.name == "__init__.py" else [found])
    if kind == "api":
        yield from (PACKAGE / "api").glob("*.py")


def _queries(path: Path) -> list[str]:
    """Calls of `select(...)`, `session.get(...)` or `.query(...)` in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id == "select":
            out.append(f"{path.name}:{node.lineno} select(")
        elif isinstance(f, ast.Attribute) and f.attr == "query":
            out.append(f"{path.name}:{node.lineno} .query(")
        elif isinstance(f, ast.Attribute) and f.attr == "get" and isinstance(f.value, ast.Name) \
                and f.value.id == "session":
            out.append(f"{path.name}:{node.lineno} session.get(")
    return out


@pytest.mark.parametrize("kind", ["service", "api"])
def test_only_repositories_query(kind):
    files = list(_sources(kind))
    assert files
    assert [q for f in files for q in _queries(f)] == []


def test_the_query_check_sees_a_query(tmp_path):
    src = tmp_path / "service.py"
    src.write_text("def f(session):\n    return session.get(User, 1), select(User)\n")
    assert len(_queries(src)) == 2


def _contract(kind: type, name_start: str) -> object:
    """The contract of pyproject.toml whose name starts with `name_start`, built from its options."""
    config = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text())["tool"]["importlinter"]
    for options in config["contracts"]:
        if options["name"].startswith(name_start):
            contract_options = {k: v for k, v in options.items() if k not in ("name", "type")}
            return kind(name=options["name"], session_options={}, contract_options=contract_options)
    raise AssertionError(f"no contract named {name_start!r}")


def test_the_layers_contract_refuses_an_upward_import(graph):
    contract = _contract(RouteLayersContract, "layers")
    assert contract.check(graph, verbose=False).kept  # type: ignore[attr-defined]
    g = copy.deepcopy(graph)
    g.add_import(importer="microcredit.identity.service.totp", imported="microcredit.api.deps")
    check = contract.check(g, verbose=False)  # type: ignore[attr-defined]
    assert not check.kept
    assert [u[:3] for u in check.metadata["upward"]] == [
        ("microcredit.identity.service.totp", "microcredit.identity", "microcredit.api.deps")]


def test_the_layers_contract_refuses_an_import_between_independent_siblings(graph):
    contract = _contract(RouteLayersContract, "layers")
    g = copy.deepcopy(graph)
    g.add_import(importer="microcredit.audit.service", imported="microcredit.notifications.service")
    assert not contract.check(g, verbose=False).kept  # type: ignore[attr-defined]


def test_the_core_may_import_only_the_standard_library_and_numpy(graph):
    contract = _contract(AllowListContract, "lending")
    assert contract.check(graph, verbose=False).kept  # type: ignore[attr-defined]
    for imported in ("sqlalchemy", "microcredit.config", "pydantic"):
        g = copy.deepcopy(graph)
        g.add_import(importer="microcredit.lending.money", imported=imported)
        check = contract.check(g, verbose=False)  # type: ignore[attr-defined]
        assert [b[:2] for b in check.metadata["bad"]] == [("microcredit.lending.money", imported)]
