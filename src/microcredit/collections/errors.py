"""Refusals of collections. The compliance gates name the field, a stable code and the rule broken
(`rule`, in the problem document), so that the screen can say which rule refused the action."""

from __future__ import annotations

from typing import Any

from microcredit.errors import DomainError


class CollectionError(DomainError):
    """Base of collections' refusals."""

    code = "collection_error"
    status = 422


class ComplianceRefused(CollectionError):
    """An action a collection-conduct rule forbids (docs/collections.md, the gates)."""

    code = "collection_rule"
    status = 422
    rule = "collection_rule"

    def __init__(self, *, field: str, **params: Any) -> None:
        super().__init__(field=field, params=params, extra={"rule": self.rule})


class QuietHours(ComplianceRefused):
    """No contact in the quiet hours of the debtor's time zone, unless the debtor agreed."""

    code = rule = "quiet_hours"
    message_zh = ("债务人当地时间 {local_time}（{time_zone}）处于 {quiet_from}–{quiet_until} "
                  "禁止催收时段，且债务人未同意")
    message_en = ("It is {local_time} for the debtor ({time_zone}): no contact between {quiet_from} and "
                  "{quiet_until} without the debtor's consent")


class EffectiveCallsExceeded(ComplianceRefused):
    """At most N effective calls per debtor per day."""

    code = rule = "effective_calls_per_day"
    message_zh = "今日已与该债务人有效通话 {count} 次，每日最多 {limit} 次"
    message_en = "{count} effective calls with this debtor today: at most {limit} a day"


class AttemptsPerNumberExceeded(ComplianceRefused):
    """At most N call attempts to the same number per day."""

    code = rule = "attempts_per_number_per_day"
    message_zh = "今日已拨打该号码 {count} 次，同一号码每日最多 {limit} 次"
    message_en = "{count} calls to this number today: at most {limit} a day to the same number"


class ThirdPartyNotAllowed(ComplianceRefused):
    """Collection is from the debtor; third parties only as the institution's rules allow."""

    code = rule = "third_party_contact"
    message_zh = "不得联系第三方（{party_zh}）：{why_zh}"
    message_en = "No contact with a third party ({party}): {why}"


class ProhibitedPhrase(ComplianceRefused):
    """An SMS or template uses a phrase on the prohibited list."""

    code = rule = "prohibited_phrase"
    message_zh = "短信含有禁用语“{phrase}”"
    message_en = "The message uses the prohibited phrase “{phrase}”"


class NoticeRequired(ComplianceRefused):
    """Negative information is reported to the credit bureau only after the borrower was told."""

    code = rule = "negative_report_notice"
    message_zh = "报送不良信息前须先告知借款人（先登记“不良信息报送告知”）"
    message_en = "The borrower must be told before negative information is reported (log the notice first)"


class NothingOverdue(CollectionError):
    """Collection is stepped up only on a loan past due."""

    code = "loan_not_overdue"
    status = 409
    message_zh = "贷款未逾期，无需加强催收"
    message_en = "The loan is not past due: there is nothing to collect"


class CaseClosed(CollectionError):
    """A closed case takes no more actions."""

    code = "case_closed"
    status = 409
    message_zh = "案件已结案"
    message_en = "The case is closed"


class NotACollector(CollectionError):
    """Cases are assigned to collectors of the institution (or an agency on the allow-list)."""

    code = "not_a_collector"
    message_zh = "只能分配给本机构的催收员或白名单内的委外机构"
    message_en = "Cases are assigned to the institution's collectors or an allowed agency"


class BadStages(CollectionError):
    """The stages must start at 1 day past due and ascend."""

    code = "bad_stages"
    message_zh = "阶段须从逾期第 1 天开始，按逾期天数递增且代码不重复"
    message_en = "Stages must start at 1 day past due, ascend by days past due and have distinct codes"


class UnknownTemplate(CollectionError):
    """No such SMS template."""

    code = "unknown_template"
    message_zh = "没有该短信模板"
    message_en = "No such SMS template"


class QuietHoursShort(CollectionError):
    """The quiet hours may be made longer than 22:00-08:00, never shorter."""

    code = "quiet_hours_short"
    message_zh = "禁止联系时段须至少覆盖 22:00 至次日 08:00"
    message_en = "The quiet hours must cover at least 22:00 to 08:00"


class UnknownStage(CollectionError):
    """An agency named a stage the rules do not have."""

    code = "unknown_stage"
    message_zh = "没有阶段“{stage}”"
    message_en = "No stage “{stage}”"

    def __init__(self, *, field: str, stage: str) -> None:
        super().__init__(field=field, params={"stage": stage})


class DuplicateAgency(CollectionError):
    """Two agencies of one name."""

    code = "duplicate_agency"
    message_zh = "委外机构名称重复"
    message_en = "Two agencies have this name"


class DuplicateTemplate(CollectionError):
    """Two SMS templates of one code."""

    code = "duplicate_template"
    message_zh = "短信模板代码重复"
    message_en = "Two templates have this code"


class AgencyNotTaking(CollectionError):
    """The agency is inactive, or does not take cases of the case's stage."""

    code = "agency_not_taking"
    message_zh = "该委外机构已停用，或不接“{stage}”阶段的案件"
    message_en = "The agency is inactive or does not take cases in the “{stage}” stage"

    def __init__(self, *, field: str, stage: str) -> None:
        super().__init__(field=field, params={"stage": stage})


class BadTimeZone(CollectionError):
    """Not an IANA time zone."""

    code = "bad_time_zone"
    message_zh = "时区无效"
    message_en = "Not a known time zone"
