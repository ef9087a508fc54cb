"""Message templates, per language. SMS texts carry the institution's signature 【…】."""

from __future__ import annotations

SMS_TEMPLATES: dict[str, dict[str, str]] = {
    "verification_code": {
        "zh-CN": "【{signature}】您的验证码为 {code}，{minutes} 分钟内有效，用于{purpose_zh}。请勿告诉他人。",
        "en": "[{signature}] Your verification code is {code}, valid for {minutes} minutes, "
              "to {purpose_en}. Never share it.",
    },
    "already_registered": {
        "zh-CN": "【{signature}】该手机号已注册，请直接登录；如忘记密码，可通过短信验证重置。",
        "en": "[{signature}] This phone number is already registered: sign in, or reset your "
              "password with an SMS code.",
    },
    "not_registered": {
        "zh-CN": "【{signature}】该手机号尚未注册，无法登录或重置密码；如需借款，请先注册。"
                 "如非本人操作，请忽略本短信。",
        "en": "[{signature}] This phone number is not registered, so it cannot sign in or reset a password; "
              "register first to apply for a loan. If this was not you, ignore this message.",
    },
    "registered_at_branch": {
        "zh-CN": "【{signature}】{name}，您已在网点完成登记。可使用本手机号通过短信验证码登录，并在“我的”中设置密码。",
        "en": "[{signature}] {name}, you are registered at our branch. Sign in with this phone number "
              "and an SMS code, then set a password under Me.",
    },
    "id_number_registration_attempt": {
        "zh-CN": "【{signature}】有人尝试用您的身份证号码注册新账户，未予办理。"
                 "您仍可用本手机号登录；如非本人操作，请联系我们。",
        "en": "[{signature}] Someone tried to register a new account with your ID number; it was not "
              "created. You can still sign in with this phone number. If this was not you, contact us.",
    },
    "account_locked": {
        "zh-CN": "【{signature}】您的账户因多次登录失败已被锁定。如非本人操作，请尽快重置密码。",
        "en": "[{signature}] Your account was locked after several failed sign-ins. If this was "
              "not you, reset your password.",
    },
    "application_submitted": {
        "zh-CN": "【{signature}】您的贷款申请 {number}（金额 {amount} 元）已提交，正在审查，结果将短信通知您。",
        "en": "[{signature}] Your loan application {number} for CNY {amount} was submitted and is being "
              "reviewed; we will text you the result.",
    },
    "application_returned": {
        "zh-CN": "【{signature}】您的贷款申请 {number} 需补充 {count} 项材料，请在“我的申请”中查看并重新提交。",
        "en": "[{signature}] Your loan application {number} needs {count} more item(s): see My applications "
              "and resubmit.",
    },
    "application_approved": {
        "zh-CN": "【{signature}】恭喜！您的贷款申请 {number}（金额 {amount} 元）已获批准，合同准备好后将通知您签署。",
        "en": "[{signature}] Your loan application {number} for CNY {amount} is approved. We will tell you "
              "when the contract is ready to sign.",
    },
    "application_declined": {
        "zh-CN": "【{signature}】很抱歉，您的贷款申请 {number} 未获批准，原因共 {count} 项，"
                 "可在“我的申请”中查看；您也可申请人工复核。",
        "en": "[{signature}] We are sorry: your loan application {number} was not approved, for {count} "
              "reason(s) shown under My applications; you may ask for a review by a person.",
    },
    "group_consent_requested": {
        "zh-CN": "【{signature}】您所在的联保小组“{group}”申请了贷款，您的金额为 {amount} 元。"
                 "请在“我的申请”中查看联保责任并确认是否同意。",
        "en": "[{signature}] Your group \"{group}\" applied for loans; your amount is CNY {amount}. "
              "Read the joint liability under My applications and consent or refuse.",
    },
    "group_member_left": {
        "zh-CN": "【{signature}】您已退出联保小组“{group}”，您在该小组贷款申请中的部分（{amount} 元）已撤回。"
                 "如需贷款，可随新小组或下一期申请。",
        "en": "[{signature}] You left the group \"{group}\": your part of its loan application (CNY {amount}) "
              "is withdrawn. You may apply with a group in its next cycle.",
    },
    "group_dissolved": {
        "zh-CN": "【{signature}】联保小组“{group}”已解散，您在该小组贷款申请中的部分（{amount} 元）已撤回。"
                 "如需贷款，可加入新小组后申请，或申请个人贷款。",
        "en": "[{signature}] The group \"{group}\" was dissolved: your part of its loan application (CNY {amount}) "
              "is withdrawn. You may apply with a new group, or on your own.",
    },
    "application_counter_offer": {
        "zh-CN": "【{signature}】您的贷款申请 {number} 审批人员提出调整方案：金额 {amount} 元，期限 {term} 期，"
                 "请在“我的申请”中接受或拒绝。",
        "en": "[{signature}] For your loan application {number} we offer CNY {amount} over {term} period(s): "
              "accept or reject it under My applications.",
    },
    "application_human_review": {
        "zh-CN": "【{signature}】已收到您对贷款申请 {number} 的人工复核请求，审批人员复核后将短信通知您结果。",
        "en": "[{signature}] We received your request for a person to review loan application {number}; "
              "we will text you the result.",
    },
    "contract_signed": {
        "zh-CN": "【{signature}】您已签署借款合同 {number}，我方已加盖电子签名。可在“我的申请”中下载已签署的合同。",
        "en": "[{signature}] You signed loan contract {number} and we have signed it too. Download the signed "
              "contract under My applications.",
    },
    "collection_message": {  # the text comes from the institution's collection templates (collections)
        "zh-CN": "【{signature}】{text}",
        "en": "[{signature}] {text}",
    },
    # Repayment reminders the close of business queues (cob.service.steps.remind).
    "repayment_upcoming": {
        "zh-CN": "【{signature}】温馨提示：您的贷款 {number} 将于 {due_date} 到期还款 {amount} 元，请按时还款。",
        "en": "[{signature}] Reminder: CNY {amount} of your loan {number} falls due on {due_date}. Please pay on time.",
    },
    "repayment_due_today": {
        "zh-CN": "【{signature}】您的贷款 {number} 今日（{due_date}）应还 {amount} 元，请于今日还款。",
        "en": "[{signature}] CNY {amount} of your loan {number} is due today ({due_date}). Please pay today.",
    },
    "early_warning_raised": {
        "zh-CN": "【{signature}】贷后预警：贷款 {number} 触发“{rule_zh}”，建议{action_zh}。请登录工作台处理。",
        "en": "[{signature}] Early warning: loan {number} tripped \"{rule_en}\"; suggested: {action_en}. "
              "Please handle it in the staff console.",
    },
    "guarantor_requested": {
        "zh-CN": "【{signature}】关于您的贷款 {number}，我们需要您补充一名保证人，请联系客户经理或到网点办理。",
        "en": "[{signature}] For your loan {number} we need you to add a guarantor: please contact your loan "
              "officer or visit the branch.",
    },
    "repayment_overdue": {
        "zh-CN": "【{signature}】您的贷款 {number} 已逾期 {days} 天，应还 {amount} 元，请尽快还款，以免影响您的信用。",
        "en": "[{signature}] Your loan {number} is {days} day(s) overdue: CNY {amount} is owed. Please pay as soon "
              "as you can to protect your credit record.",
    },
    "loan_disbursed": {
        "zh-CN": "【{signature}】您的贷款 {number} 已放款 {amount} 元，可在“我的贷款”中查看还款计划。",
        "en": "[{signature}] CNY {amount} of your loan {number} has been paid out; see the schedule under My loans.",
    },
    "loan_repayment_recorded": {
        "zh-CN": "【{signature}】已收到您贷款 {number} 的还款 {amount} 元，回单可在“我的贷款”中下载。",
        "en": "[{signature}] We received CNY {amount} for your loan {number}; the receipt is under My loans.",
    },
    "loan_accelerated": {
        "zh-CN": "【{signature}】您的贷款 {number} 已于 {on} 宣布提前到期，现应一次性偿还 {amount} 元，"
                 "请尽快还款或联系您的客户经理。",
        "en": "[{signature}] Your loan {number} was called early on {on}: CNY {amount} is now due at once. Please "
              "pay, or contact your loan officer.",
    },
    "loan_closed": {
        "zh-CN": "【{signature}】您的贷款 {number} 已全部还清结清，感谢您按约还款。",
        "en": "[{signature}] Your loan {number} is paid off and closed. Thank you.",
    },
    "loan_cancelled": {
        "zh-CN": "【{signature}】您的贷款申请 {number} 已在放款前取消，合同已作废，未发放任何款项。",
        "en": "[{signature}] Your loan application {number} was cancelled before payout: the contract is void "
              "and no money was paid out.",
    },
}

PURPOSE_TEXT = {
    "register": ("注册", "register"),
    "login": ("登录", "sign in"),
    "reset_password": ("重置密码", "reset your password"),
    "change_phone": ("更换手机号", "change your phone number"),
    "link": ("绑定第三方账号", "link your account"),
    "sign_contract": ("签署借款合同", "sign your loan contract"),
}


def render_sms(template: str, language: str, params: dict[str, str]) -> str:
    """The text of an SMS in `language` (falls back to Chinese)."""
    texts = SMS_TEMPLATES[template]
    text = texts.get(language) or texts["zh-CN"]
    return text.format(**params)
