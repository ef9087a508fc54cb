"""Two import-linter contract types for rules the built-in ones cannot state (see pyproject.toml).

* `allow_list` — the modules under `source_modules` import only each other, the
  standard library and the external packages named in `allowed_external`. The
  pure lending core is held to this: a new dependency must be added here on
  purpose, not slip in because nobody thought to forbid it.
* `route_layers` — a layered architecture in which a module belongs to the layer of
  the *most specific* expression that matches it. That lets a domain's route
  module (`microcredit.*.api`) sit in the web layer above every domain while the
  rest of its package sits in the domain's own layer, and the migrations sit above
  the models they register while the rest of `db` sits at the bottom — without
  `ignore_imports`. Layers are listed top first; `a | b` are independent siblings
  that must not import each other. Every module of the package must fall in a
  layer. A direct import may go sideways within a group or down, never up: if
  every direct import does, no chain of imports can go up either.

Both read the graph with TYPE_CHECKING imports included, as the other contracts do
(`exclude_type_checking_imports = false`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import grimp
from importlinter import Contract, ContractCheck, fields, output


def _pattern(expression: str) -> re.Pattern[str]:
    """A module expression (`*` = one name) as a regex matching the module and, as a package, its descendants."""
    parts = [r"[^.]+" if p == "*" else re.escape(p) for p in expression.split(".")]
    return re.compile(r"\.".join(parts) + r"(\..+)?")


def _external_root(module: str) -> str:
    return module.split(".", 1)[0]


class AllowListContract(Contract):
    """Modules that may import only themselves, the standard library and the named packages."""

    type_name = "allow_list"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_external = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        sources = [m.name for m in self.source_modules]  # type: ignore[attr-defined]
        allowed = set(self.allowed_external or [])  # type: ignore[attr-defined]
        stdlib = set(sys.stdlib_module_names) | {"__future__"}
        root = sources[0].split(".", 1)[0]
        bad: list[tuple[str, str, tuple[int, ...]]] = []
        for module in sorted(graph.modules):
            if not any(module == s or module.startswith(s + ".") for s in sources):
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(module)):
                if imported.startswith(root + ".") or imported == root:
                    ok = any(imported == s or imported.startswith(s + ".") for s in sources)
                else:
                    ok = _external_root(imported) in stdlib | allowed
                if not ok:
                    lines = tuple(d["line_number"] for d in graph.get_import_details(importer=module,
                                                                                       imported=imported))
                    bad.append((module, imported, lines))
        output.verbose_print(verbose, f"{len(bad)} imports outside the allow-list.")
        return ContractCheck(kept=not bad, metadata={"bad": bad})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, imported, lines in check.metadata["bad"]:
            output.print_error(f"{module} -> {imported} (l. {', '.join(map(str, lines))}) is not allowed")
            output.new_line()


@dataclass(frozen=True)
class _Expression:
    text: str
    layer: int
    group: int
    pattern: re.Pattern[str]

    @property
    def specificity(self) -> tuple[int, int]:
        """More names first, then fewer wildcards."""
        parts = self.text.split(".")
        return len(parts), -parts.count("*")


class RouteLayersContract(Contract):
    """Layers assigned by the most specific matching expression; see the module docstring."""

    type_name = "route_layers"

    layers = fields.ListField(subfield=fields.StringField())
    root = fields.StringField()

    def _expressions(self) -> list[_Expression]:
        out = []
        for index, layer in enumerate(self.layers):  # type: ignore[attr-defined]
            for group, text in enumerate(p.strip() for p in layer.split("|")):
                out.append(_Expression(text, index, group, _pattern(text)))
        return out

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        root: str = self.root  # type: ignore[attr-defined]
        expressions = self._expressions()
        place: dict[str, _Expression] = {}
        unplaced: list[str] = []
        for module in sorted(graph.modules):
            if not module.startswith(root + "."):
                continue
            matches = [e for e in expressions if e.pattern.fullmatch(module)]
            if not matches:
                unplaced.append(module)
                continue
            place[module] = max(matches, key=lambda e: e.specificity)
        upward: list[tuple[str, str, str, str, tuple[int, ...]]] = []
        for importer, at in sorted(place.items()):
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                to = place.get(imported)
                if to is None:
                    continue
                sideways_across = to.layer == at.layer and to.group != at.group
                if to.layer < at.layer or sideways_across:
                    lines = tuple(d["line_number"] for d in graph.get_import_details(importer=importer,
                                                                                       imported=imported))
                    upward.append((importer, at.text, imported, to.text, lines))
        return ContractCheck(kept=not upward and not unplaced, metadata={"upward": upward, "unplaced": unplaced})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module in check.metadata["unplaced"]:
            output.print_error(f"{module} is in no layer: add it to one")
            output.new_line()
        for importer, at, imported, to, lines in check.metadata["upward"]:
            output.print_error(f"{importer} ({at}) -> {imported} ({to}), l. {', '.join(map(str, lines))}: "
                               "imports a higher layer or an independent sibling")
            output.new_line()
