"""Refusals of the risk domain."""

from __future__ import annotations

from microcredit.errors import DomainError, FieldProblem, ValidationFailed


class RulesInvalid(ValidationFailed):
    """A rule does not compile, reads a variable its stage does not have, or is not boolean.

    Each problem's field is `rules[<i>].<field>` (`rules[3].expression`), its
    code `rule_does_not_compile`, `rule_unknown_variable`, `rule_not_boolean`,
    `rule_code_taken` or `rule_invalid`; the whole refusal's code is the first
    problem's, so a single bad expression reads as `rule_does_not_compile`.
    """

    code = "rule_does_not_compile"
    message_zh = "规则有误，未保存：请查看标出的规则"
    message_en = "Some rules are not valid and nothing was saved; see the rules marked"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(problems)
        self.code = problems[0].code  # type: ignore[misc]


class RuleSetNotFound(DomainError):
    """No such rule set or version in the institution."""

    status = 404
    code = "rule_set_not_found"
    message_zh = "找不到该规则集或版本"
    message_en = "No such rule set or version"


class VersionNotDraft(DomainError):
    """A published (or retired) version never changes: edit a new draft instead."""

    status = 409
    code = "rule_set_version_not_draft"
    message_zh = "该版本已发布，不能修改；请基于它新建草稿"
    message_en = "This version was published and cannot change; create a new draft from it"


class DraftExists(DomainError):
    """A rule set has at most one draft at a time."""

    status = 409
    code = "rule_set_draft_exists"
    message_zh = "该规则集已有一个草稿，请先编辑或发布它"
    message_en = "This rule set already has a draft; edit or publish it first"


class BlacklistValueInvalid(DomainError):
    """The value is not a valid identifier of its kind."""

    status = 422
    code = "blacklist_value_invalid"
    message_zh = "号码格式不正确"
    message_en = "This is not a valid value of that kind"


class AlreadyBlacklisted(DomainError):
    """The identifier is on the blacklist already."""

    status = 409
    code = "blacklist_duplicate"
    message_zh = "该号码已在黑名单中"
    message_en = "This value is on the blacklist already"


class BlacklistEntryRemoved(DomainError):
    """The entry was removed before."""

    status = 409
    code = "blacklist_entry_removed"
    message_zh = "该记录已移除"
    message_en = "This entry was removed already"


class SampleInvalid(DomainError):
    """A typed sample application is not valid ApplicantFacts JSON."""

    status = 422
    code = "sample_invalid"
    message_zh = "样例申请格式不正确"
    message_en = "The sample application is not valid"
