"""Rules as data, written in CEL, compiled once per rule-set version and evaluated many times.

A rule says: in this `stage`, when the boolean CEL `expression` is true, the
outcome is `outcome` (fail: decline; flag: people look; missing: back to the
borrower with `needed`), explained by the catalogue key `message`
(``risk.rule.<code>`` unless given) with `params`, each a CEL expression whose
value fills the message. Expressions see the variables of `VARIABLES`; which
of them exist depends on the stage (the bureau report is fetched only after
completeness, eligibility and identity passed). The language is CEL
(https://cel.dev) through the Rust-backed `common-expression-language`
package: compiled by `cel.compile` into a program executed with a context;
never `eval`, never a parser of our own.

Everything here is pure: the service feeds it the facts and the answers of the
adapters; unit tests call it without a database.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cel

from microcredit.risk.assessment import Outcome, Stage

STAGES = tuple(Stage)
RULE_OUTCOMES = (Outcome.FAIL, Outcome.FLAG, Outcome.MISSING)
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
PARAM_RE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")

# The variables a rule may read, and from which stage on they exist.
VARIABLES: dict[str, Stage] = {
    "facts": Stage.COMPLETENESS,  # the application (ApplicantFacts, money in fen)
    "velocity": Stage.COMPLETENESS,  # applications from the same identifiers lately
    "blacklist": Stage.COMPLETENESS,  # {hit, kinds}: the institution's blacklist
    "params": Stage.COMPLETENESS,  # the version's named thresholds
    "identity": Stage.IDENTITY,  # {result, matched}: the ID check
    "bureau": Stage.BUREAU,  # facts read from the credit report
    "dti_pct": Stage.BUREAU,  # debt-to-income after this loan, in percent
    "fraud": Stage.FRAUD,  # the fraud signals: ring size, shared identifiers, anomaly (fraud/check.py)
    "score": Stage.SCORE,  # the interim scorer's points (300-900)
    "grade": Stage.SCORE,  # "A" (best) … "E"
}
_MACRO_RE = r"\b(?:all|exists|exists_one|map|filter)\(\s*{name}\s*,"


@dataclass(frozen=True)
class Rule:
    """One rule of a version, as stored (JSON) and edited."""

    stage: Stage
    code: str
    expression: str
    outcome: Outcome
    message: str = ""  # catalogue key; empty: risk.rule.<code>
    params: Mapping[str, str] = field(default_factory=dict)  # message parameter → CEL expression
    needed: str = ""  # for `missing`: a CEL expression giving the list of what the borrower must add

    @property
    def message_key(self) -> str:
        """The catalogue key of the rule's message."""
        return self.message or f"risk.rule.{self.code}"

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"stage": self.stage.value, "code": self.code, "expression": self.expression,
                "outcome": self.outcome.value, "message": self.message, "params": dict(self.params),
                "needed": self.needed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        """The rule of a stored dict."""
        return cls(stage=Stage(data["stage"]), code=data["code"], expression=data["expression"],
                   outcome=Outcome(data["outcome"]), message=data.get("message") or "",
                   params=dict(data.get("params") or {}), needed=data.get("needed") or "")


@dataclass(frozen=True)
class RuleProblem:
    """Why a rule cannot be saved: the rule's index, the field (expression, params.x, needed) and a code."""

    index: int
    field: str
    code: str  # rule_does_not_compile | rule_unknown_variable | rule_not_boolean | rule_invalid
    detail: str


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its programs."""

    rule: Rule
    program: Any  # cel.Program
    params: tuple[tuple[str, Any], ...]
    needed: Any | None


@dataclass(frozen=True)
class CompiledRuleSet:
    """The compiled rules of one version, per stage, with one program per stage evaluating them all at once."""

    label: str  # code@number
    parameters: Mapping[str, Any]
    stages: tuple[tuple[Stage, tuple[CompiledRule, ...], Any], ...]
    # Per thread, a CEL context holding `params` already converted (the evaluation sets the other
    # variables on it for each application; converting the parameters once per version saves that cost).
    local: threading.local = field(default_factory=threading.local, compare=False, repr=False)

    def context(self) -> Any:
        """This thread's CEL context of the version, with `params` set."""
        ctx = getattr(self.local, "context", None)
        if ctx is None:
            ctx = cel.Context(variables={"params": dict(self.parameters)})
            self.local.context = ctx
        return ctx


def _unknown_names(program: Any, source: str, stage: Stage) -> list[str]:
    order = {s: i for i, s in enumerate(STAGES)}
    unknown = []
    for name in program.variables():
        available = VARIABLES.get(name)
        if available is not None and order[available] <= order[stage]:
            continue
        if available is None and re.search(_MACRO_RE.format(name=re.escape(name)), source):
            continue  # bound by a comprehension macro: exists(d, …)
        unknown.append(name)
    return unknown


def _compile_one(expression: str, stage: Stage) -> tuple[Any, str | None, str]:
    """(program, problem code or None, detail)."""
    try:
        program = cel.compile(expression)
    except (ValueError, RuntimeError) as exc:
        return None, "rule_does_not_compile", str(exc)
    unknown = _unknown_names(program, expression, stage)
    if unknown:
        return None, "rule_unknown_variable", f"not available in stage {stage.value}: {', '.join(unknown)}"
    return program, None, ""


def check(rules: Sequence[Rule], parameters: Mapping[str, Any],
          sample: Callable[[Stage], Mapping[str, Any]] | None = None) -> list[RuleProblem]:
    """Every problem of a list of rules: syntax, variables, and (given a sample context per stage) types.

    With `sample`, each expression is run against a sample application's
    context of its stage: it must give a boolean (a `needed` a list, params
    any value) without error, which catches misspelt fields and type errors
    (CEL does not convert between int and double) at save time.
    """
    problems: list[RuleProblem] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if not CODE_RE.match(rule.code):
            problems.append(RuleProblem(i, "code", "rule_invalid", "a code is 2-48 of a-z, 0-9, _"))
        elif rule.code in seen:
            problems.append(RuleProblem(i, "code", "rule_code_taken", f"two rules are called {rule.code}"))
        seen.add(rule.code)
        if rule.outcome not in RULE_OUTCOMES:
            problems.append(RuleProblem(i, "outcome", "rule_invalid", "the outcome is fail, flag or missing"))
        parts = [("expression", rule.expression, "bool"),
                 *((f"params.{k}", v, "any") for k, v in rule.params.items())]
        if rule.needed:
            parts.append(("needed", rule.needed, "list"))
        for where, source, kind in parts:
            program, code, detail = _compile_one(source, rule.stage)
            if program is None:
                problems.append(RuleProblem(i, where, code or "rule_does_not_compile", detail))
                continue
            if sample is None:
                continue
            try:
                value = program.execute(sample(rule.stage))
            except Exception as exc:
                problems.append(RuleProblem(i, where, "rule_does_not_compile", f"{type(exc).__name__}: {exc}"))
                continue
            if kind == "bool" and not isinstance(value, bool):
                problems.append(RuleProblem(i, where, "rule_not_boolean", f"gives {type(value).__name__}, not bool"))
            elif kind == "list" and not isinstance(value, list):
                problems.append(RuleProblem(i, where, "rule_not_boolean", f"gives {type(value).__name__}, not list"))
    for name in parameters:
        if not PARAM_RE.match(name):
            problems.append(RuleProblem(-1, f"parameters.{name}", "rule_invalid", "a parameter name is a-z, 0-9, _"))
    return problems


def compile_rules(label: str, rules: Sequence[Rule], parameters: Mapping[str, Any]) -> CompiledRuleSet:
    """Compile a version's rules (already checked at save time): one program per rule and one per stage."""
    stages = []
    for stage in STAGES:
        mine = [r for r in rules if r.stage == stage]
        compiled = tuple(CompiledRule(
            rule=r, program=cel.compile(r.expression),
            params=tuple((k, cel.compile(v)) for k, v in r.params.items()),
            needed=cel.compile(r.needed) if r.needed else None) for r in mine)
        batch = cel.compile("[" + ", ".join(f"({r.expression})" for r in mine) + "]") if mine else None
        stages.append((stage, compiled, batch))
    return CompiledRuleSet(label=label, parameters=dict(parameters), stages=tuple(stages))


@dataclass(frozen=True)
class Fired:
    """A rule's result before it becomes a `RuleResult`."""

    stage: Stage
    code: str
    outcome: Outcome
    message: str
    params: dict[str, str | int]
    needed: tuple[str, ...] = ()


def _plain(value: Any) -> str | int:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return value
    return str(value)


def run_stage(compiled: tuple[CompiledRule, ...], batch: Any, context: Any) -> list[Fired]:
    """Evaluate one stage's rules against a context: one program call for all, per rule only on error.

    A rule that cannot be evaluated (a runtime error: a missing field, a
    division by zero) is flagged for people (`rule_error`) rather than passed:
    a broken rule never waves an application through.
    """
    if not compiled:
        return []
    try:
        verdicts = list(batch.execute(context))
    except Exception:
        verdicts = []
        for c in compiled:
            try:
                verdicts.append(c.program.execute(context))
            except Exception as exc:
                verdicts.append(exc)
    out = []
    for c, verdict in zip(compiled, verdicts, strict=True):
        r = c.rule
        if isinstance(verdict, Exception) or not isinstance(verdict, bool):
            out.append(Fired(r.stage, r.code, Outcome.FLAG, "risk.rule.rule_error",
                             {"rule": r.code, "error": type(verdict).__name__}))
            continue
        if not verdict:
            out.append(Fired(r.stage, r.code, Outcome.PASS, r.message_key, {}))
            continue
        params: dict[str, str | int] = {}
        for name, program in c.params:
            try:
                params[name] = _plain(program.execute(context))
            except Exception:
                params[name] = "?"
        needed: tuple[str, ...] = ()
        if c.needed is not None:
            try:
                needed = tuple(str(x) for x in c.needed.execute(context))
            except Exception:
                needed = ()
        out.append(Fired(r.stage, r.code, r.outcome, r.message_key, params, needed))
    return out
