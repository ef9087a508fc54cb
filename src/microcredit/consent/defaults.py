"""The documents every new institution starts with (version 1.0), until its administrator publishes its own.

The text of a version never changes once released (documents are immutable and migration
0009 seeds the same text into existing institutions): a new default text needs a new version.

They are plain, short texts that say what the system really does; an
institution replaces them with the versions its lawyers wrote
(`POST /api/v1/consent-documents`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_VERSION = "1.0"


@dataclass(frozen=True)
class DefaultDocument:
    """The text of one default document."""

    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str


DEFAULTS: tuple[DefaultDocument, ...] = (
    DefaultDocument(
        "user_agreement", "用户协议", "User agreement",
        "一、本协议是您与本机构之间关于使用本借款服务的约定。\n"
        "二、您应提供真实、准确、完整的个人信息，并及时更新；因信息不实造成的后果由您承担。\n"
        "三、您应妥善保管账户密码和短信验证码，不得转借他人使用。以您的账户进行的操作视为您本人的操作。\n"
        "四、贷款申请、审批、签约和还款以届时签署的借款合同为准；本协议不构成任何贷款承诺。\n"
        "五、本机构可能更新本协议；更新后的版本将在您下次登录或办理业务时请您重新确认。\n"
        "六、本协议适用中华人民共和国法律。",
        "1. This agreement governs your use of the lending service of this institution.\n"
        "2. You provide true, accurate and complete personal information and keep it up to date; you bear the "
        "consequences of untrue information.\n"
        "3. You keep your password and SMS codes to yourself. Actions taken with your account are taken as yours.\n"
        "4. Applications, approval, contracts and repayment follow the loan contract signed at the time; this "
        "agreement promises no loan.\n"
        "5. The institution may update this agreement; you will be asked to confirm a new version when you next "
        "sign in or apply.\n"
        "6. This agreement is governed by the law of the People's Republic of China."),
    DefaultDocument(
        "privacy_policy", "隐私政策", "Privacy policy",
        "一、我们收集的信息：姓名、手机号码、身份证号码、联系地址、职业与收入等您填写的资料，"
        "以及登录时间、IP 地址和设备信息。\n"
        "二、使用目的：核实您的身份、评估借款申请、履行合同、防范欺诈、满足监管要求。\n"
        "三、保存与保护：身份证号码、银行卡号等加密存储，"
        "页面上仅显示遮蔽后的号码；员工按岗位权限查看，所有查看和修改均记入审计日志。\n"
        "四、共享：除法律法规要求或经您另行同意外，我们不会向第三方提供您的个人信息。\n"
        "五、您的权利：您可以查阅、更正您的个人信息，"
        "撤回同意，或申请注销账户；撤回同意不影响撤回前基于同意已进行的处理。\n"
        "六、联系我们：请通过本机构公布的客服电话或营业网点联系我们。",
        "1. What we collect: your name, mobile number, resident ID number, address, occupation, income and the "
        "other details you enter, and sign-in times, IP addresses and device information.\n"
        "2. Why: to verify your identity, assess applications, perform contracts, prevent fraud and meet "
        "regulatory duties.\n"
        "3. Storage and protection: ID and card numbers are stored encrypted and shown masked; staff see what "
        "their role needs, and every view and change is written to the audit log.\n"
        "4. Sharing: we give your personal information to no third party unless the law requires it or you "
        "consent separately.\n"
        "5. Your rights: you may read and correct your information, withdraw consent or close your account; "
        "withdrawing consent does not affect processing done before.\n"
        "6. Contact: the institution's published service number or any of its branches."),
    DefaultDocument(
        "sensitive_info", "敏感个人信息处理规则", "Processing of sensitive personal information",
        "根据《个人信息保护法》第二十九条，处理敏感个人信息应当取得您的单独同意。\n"
        "一、我们处理的敏感个人信息：您的居民身份证号码（以及日后您添加的银行卡号）。\n"
        "二、处理的必要性：借款业务依法须核实借款人真实身份并进行反洗钱、反欺诈核查；"
        "不提供身份证号码，我们无法为您办理借款。\n"
        "三、对您的影响：上述信息一旦泄露可能危及您的财产安全；我们以加密方式存储，"
        "仅以遮蔽形式显示，完整号码只有获授权的员工在必要时查看，且每次查看均记入审计日志。\n"
        "四、撤回：您可以随时撤回本同意；撤回后我们将不再为您受理新的借款业务，已有合同依法继续履行。",
        "Under article 29 of the Personal Information Protection Law, processing sensitive personal information "
        "needs your separate consent.\n"
        "1. The sensitive information we process: your resident ID number (and bank card numbers you add later).\n"
        "2. Why it is necessary: lending requires by law that we verify a borrower's identity and check for money "
        "laundering and fraud; without your ID number we cannot lend to you.\n"
        "3. What it means for you: if leaked, this information could put your property at risk; we store it "
        "encrypted and show it masked; only authorised staff may see the full number when needed, and every view "
        "is written to the audit log.\n"
        "4. Withdrawal: you may withdraw this consent at any time; we will then take no new applications from "
        "you, and existing contracts continue as the law provides."),
)
