"""Every audit action the back end records, read from the source: web/src/audit/recorded-actions.json.

    .venv/bin/python scripts/audit_actions.py           # write the file
    .venv/bin/python scripts/audit_actions.py --check   # exit 1 if it is not current (make test)

The console's audit log names each action in both languages (the `auditAction` catalogue section);
a vitest test (web/src/audit/actions.spec.ts) checks that every action in this file has a name, so a
domain that records a new action without naming it fails the build rather than showing staff a code.

The actions are read from the syntax tree of src/microcredit, not imported: the `action=` of every
`record(...)` call (or `Entry(...)`, a record of `record_many`), as a string, either branch of a
conditional, a module constant, or -- where a domain's `_audit` helper builds it as
``f"prefix.{action}"`` -- the literal each call of the helper passes.  An action built from a
value known only at run time is listed in `DYNAMIC`, by the helper and argument that build it,
with the values it takes and where they come from; an f-string the script cannot resolve and
`DYNAMIC` does not list is an error, so it cannot slip by unnamed.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "microcredit"
OUT = ROOT / "web" / "src" / "audit" / "recorded-actions.json"

DYNAMIC: dict[str, tuple[str, ...]] = {
    # origination/service/applications.py: the automated decision (states.DECIDED's values)
    "application.<application.status>": ("application.approved", "application.declined", "application.referred",
                                         "application.returned"),
    # origination/service/applications.py: submit / resubmit / group_submit
    "application.<{'submit': 'submitted', 'resubmit': 'resubmitted', 'group_submit': 'submitted'}[action]>": (
        "application.submitted", "application.resubmitted"),
    # origination/service/approvals.py: the reviewer's act (schemas.ReviewAction)
    "application.<f'review.{action}'>": ("application.review.approve", "application.review.decline",
                                         "application.review.request_documents",
                                         "application.review.counter_offer"),
    # collections/service/cases.py: a case the close of business opened or escalated a partition at a time
    "<m.action>": ("collection.case_opened", "collection.case_escalated"),
    # servicing/service/payments.py: a payment through the provider reaching its final status
    "payment.<{payment.status}>": ("payment.confirmed", "payment.failed"),
    # servicing/service/loans.py: every event recorded on a loan (loans.py's and changes.PREFIX's types)
    "loan.<{item.type}>": ("loan.disbursement", "loan.repayment", "loan.prepayment", "loan.recovery",
                           "loan.reversal", "loan.waiver", "loan.deferral", "loan.rescheduling", "loan.write_off",
                           "loan.refund", "loan.penalty", "loan.acceleration"),
    # collections/service/actions.py: an action logged on a case (models.ACTION_KINDS)
    "collection.<{data.kind}>": ("collection.sms", "collection.call", "collection.visit", "collection.promise",
                                 "collection.legal_referral", "collection.negative_report_notice",
                                 "collection.bureau_report"),
    # collections/service/cases.py: a promise to pay followed up by the sync
    "collection.promise_<{promise.promise_status}>": ("collection.promise_kept", "collection.promise_broken"),
}


def _strings(node: ast.expr, constants: dict[str, str]) -> list[str] | None:
    """The strings an expression can be, or None when it is not statically known."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        a, b = _strings(node.body, constants), _strings(node.orelse, constants)
        return None if a is None or b is None else a + b
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    return None


def _module_constants(tree: ast.Module) -> dict[str, str]:
    out: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = stmt.value.value
    return out


def _is_record(call: ast.Call) -> bool:
    """`audit.record(action=...)`, or `audit.Entry(action=...)`: a record `audit.record_many` appends."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "record"  # inside the audit service itself (its own `Entry(action=action)` is no action)
    return (isinstance(func, ast.Attribute) and func.attr in ("record", "Entry")
            and isinstance(func.value, ast.Name) and func.value.id in ("audit", "service"))


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(SRC.parent).with_suffix("").parts)


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Names a module gives to other modules: `from a.b import c as d` -> {"d": "a.b.c"}."""
    out: dict[str, str] = {}
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.ImportFrom) and stmt.module:
            for alias in stmt.names:
                out[alias.asname or alias.name] = f"{stmt.module}.{alias.name}"
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    out[alias.asname] = alias.name
    return out


def actions() -> tuple[set[str], list[str]]:
    """(every action found, the problems: builds neither resolved nor listed in DYNAMIC)."""
    found: set[str] = set()
    problems: list[str] = []
    # (module, function) -> (prefix, parameter, position): a helper whose action is prefix + that argument
    helpers: dict[tuple[str, str], tuple[str, str, int | None]] = {}
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(SRC.rglob("*.py"))}

    def dynamic(key: str, where: str) -> None:
        if key in DYNAMIC:
            found.update(DYNAMIC[key])
        else:
            problems.append(f"{where}: action {key!r} is built at run time: list its values in DYNAMIC")

    for path, tree in trees.items():
        constants = _module_constants(tree)
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            positional = [a.arg for a in fn.args.args]
            parameters = positional + [a.arg for a in fn.args.kwonlyargs]
            for call in ast.walk(fn):
                if not (isinstance(call, ast.Call) and _is_record(call)):
                    continue
                for kw in call.keywords:
                    if kw.arg != "action":
                        continue
                    where = f"{path.relative_to(ROOT)}:{kw.value.lineno}"
                    values = _strings(kw.value, constants)
                    prefix, name = None, None
                    if isinstance(kw.value, ast.Name) and kw.value.id in parameters:
                        prefix, name = "", kw.value.id
                    elif (isinstance(kw.value, ast.JoinedStr) and len(kw.value.values) == 2
                          and isinstance(kw.value.values[0], ast.Constant)
                          and isinstance(kw.value.values[1], ast.FormattedValue)
                          and isinstance(kw.value.values[1].value, ast.Name)
                          and kw.value.values[1].value.id in parameters):
                        prefix, name = str(kw.value.values[0].value), kw.value.values[1].value.id
                    if values is not None:
                        found.update(values)
                    elif prefix is not None and name is not None:
                        helpers[(_module_of(path), fn.name)] = (
                            prefix, name, positional.index(name) if name in positional else None)
                    else:
                        dynamic(_shape(kw.value), where)
    for path, tree in trees.items():
        constants, aliases, here = _module_constants(tree), _aliases(tree), _module_of(path)
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            if isinstance(call.func, ast.Name):
                key = (here, call.func.id)
            elif isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
                key = (aliases.get(call.func.value.id, ""), call.func.attr)
            else:
                continue
            if key not in helpers:
                continue
            prefix, parameter, position = helpers[key]
            value = next((kw.value for kw in call.keywords if kw.arg == parameter), None)
            if value is None and position is not None and position < len(call.args):
                value = call.args[position]
            if value is None:
                continue
            values = _strings(value, constants)
            if values is not None:
                found.update(prefix + v for v in values)
            else:
                dynamic(f"{prefix}<{ast.unparse(value)}>", f"{path.relative_to(ROOT)}:{value.lineno}")
    return found, problems


def _shape(node: ast.expr) -> str:
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else f"<{ast.unparse(v)}>" for v in node.values)
    return f"<{ast.unparse(node)}>"


def main() -> int:
    found, problems = actions()
    for problem in problems:
        print(problem, file=sys.stderr)
    text = json.dumps(sorted(found), indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is not current: run .venv/bin/python scripts/audit_actions.py",
                  file=sys.stderr)
            return 1
        return 1 if problems else 0
    OUT.write_text(text, encoding="utf-8")
    print(f"{len(found)} actions -> {OUT.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
