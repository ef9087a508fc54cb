"""Refusals of the parties domain."""

from __future__ import annotations

from microcredit.errors import Conflict, DomainError


class IdNumberInvalid(DomainError):
    """The resident ID number failed validation; `code` says which part."""

    status = 422
    code = "id_number_invalid"
    message_zh = "身份证号码无效"
    message_en = "The ID number is not valid"


class IdNumberFormat(IdNumberInvalid):
    code = "id_number_format"
    message_zh = "身份证号码应为18位：17位数字加1位数字或X"
    message_en = "An ID number is 18 characters: 17 digits and a digit or X"


class IdNumberRegion(IdNumberInvalid):
    code = "id_number_region"
    message_zh = "身份证号码的地区码不存在"
    message_en = "The ID number's region code does not exist"


class IdNumberBirthDate(IdNumberInvalid):
    code = "id_number_birth_date"
    message_zh = "身份证号码中的出生日期无效"
    message_en = "The birth date in the ID number is not a real date"


class IdNumberChecksum(IdNumberInvalid):
    code = "id_number_checksum"
    message_zh = "身份证号码校验位不正确，请核对是否输错"
    message_en = "The ID number's check character is wrong: check for a typo"


ID_NUMBER_ERRORS: dict[str, type[IdNumberInvalid]] = {
    cls.code: cls for cls in (IdNumberFormat, IdNumberRegion, IdNumberBirthDate, IdNumberChecksum)
}


class IdNumberAlreadyRegistered(Conflict):
    """Another borrower of the institution has this ID number."""

    code = "id_number_already_registered"
    message_zh = "该身份证号码已注册"
    message_en = "This ID number is already registered"


class BorrowerUnderage(DomainError):
    """Below the institution's minimum age for borrowers."""

    code = "borrower_underage"
    status = 422
    message_zh = "借款人须年满 {min_age} 周岁"
    message_en = "Borrowers must be at least {min_age} years old"


class CodeTaken(Conflict):
    """An institution, branch or employee code already in use."""

    code = "code_taken"
    message_zh = "编号已被使用"
    message_en = "This code is already in use"


class ChangeNotPending(Conflict):
    """The profile change was already decided."""

    code = "change_not_pending"
    message_zh = "该变更已处理"
    message_en = "This change was already decided"


class ChangeOutdated(Conflict):
    """The profile changed since the request (a staff edit): approving would overwrite it."""

    code = "change_outdated"
    message_zh = "申请提交后以下资料已被修改：{fields_zh}。请驳回并让借款人重新提交"
    message_en = "These fields changed since the request: {fields_en}. Reject it and ask for a new one"


class IdentifierInQuery(DomainError):
    """A full ID number or phone in a URL ends up in proxy and browser logs."""

    code = "identifier_in_query"
    status = 422
    message_zh = "请勿在网址中传递完整证件号或手机号，请使用 POST /borrowers/search"
    message_en = "Do not put full ID numbers or phones in URLs; use POST /borrowers/search"


class NothingToChange(DomainError):
    """An update that changes nothing."""

    code = "nothing_to_change"
    status = 422
    message_zh = "没有需要修改的内容"
    message_en = "Nothing to change"


class BusinessDateLocked(DomainError):
    """Only close of business moves the business date in production."""

    code = "business_date_locked"
    status = 409
    message_zh = "生产环境中营业日只能由日终批处理推进"
    message_en = "In production only close of business moves the business date"


class BankCardInvalid(DomainError):
    """The bank card number is malformed."""

    code = "bank_card_format"
    status = 422
    message_zh = "银行卡号应为12–19位数字"
    message_en = "A bank card number is 12–19 digits"


class GroupWrongState(Conflict):
    """The group's status does not allow this (a dissolved group changes no more)."""

    code = "group_wrong_state"
    message_zh = "联保小组当前状态为“{status}”，不能执行此操作"
    message_en = "The group is {status}: this cannot be done"


class BorrowerInAnotherGroup(Conflict):
    """A borrower is a current member of at most one group that is not dissolved."""

    code = "borrower_in_another_group"
    message_zh = "该借款人已是另一个联保小组的成员"
    message_en = "This borrower is already a member of another group"
