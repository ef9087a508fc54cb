"""Permissions and the default roles.

A permission is a named code (`borrower.register`). Every API endpoint
declares the one it needs; roles are sets of permissions that administrators
edit per institution. What a user may *see* is further limited by the widest
data scope among their roles:

* `own` — borrowers: their own records only;
* `branch` — staff: their branch's records;
* `institution` — managers, risk, finance, auditors: the whole institution;
* `all` — the platform operator's administrators: every institution.

Permissions marked `reserved` belong to capabilities that later releases add
(loans, approvals, collections); they are listed now so that the roles
the mission names can be told apart and edited today.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class DataScope(enum.StrEnum):
    """How far a role's view reaches."""

    OWN = "own"
    BRANCH = "branch"
    INSTITUTION = "institution"
    ALL = "all"

    @property
    def rank(self) -> int:
        """Order of width: own < branch < institution < all."""
        return list(DataScope).index(self)


@dataclass(frozen=True)
class Permission:
    """A named permission with its descriptions."""

    code: str
    zh: str
    en: str
    reserved: bool = False


PERMISSIONS: tuple[Permission, ...] = (
    # Borrower self-service
    Permission("profile.read_own", "查看本人资料", "View own profile"),
    Permission("profile.update_own", "修改本人资料", "Edit own profile"),
    Permission("application.apply_own", "本人申请贷款", "Apply for loans oneself"),
    Permission("application.read_own", "查看本人贷款申请", "View own loan applications"),
    # Borrowers (staff side)
    Permission("borrower.read", "查看借款人", "View borrowers"),
    Permission("borrower.register", "线下登记借款人", "Register walk-in borrowers"),
    Permission("borrower.update", "修改借款人资料", "Edit borrowers"),
    Permission("borrower.review_change", "审核资料变更", "Review profile changes"),
    Permission("borrower.view_sensitive", "查看完整证件号/卡号", "See full ID and card numbers"),
    Permission("borrower.export", "导出借款人", "Export borrowers"),
    # Organisation
    Permission("institution.read", "查看机构", "View institutions"),
    Permission("institution.manage", "管理机构", "Manage institutions"),
    Permission("branch.read", "查看网点", "View branches"),
    Permission("branch.manage", "管理网点", "Manage branches"),
    Permission("staff.read", "查看员工", "View staff"),
    Permission("staff.manage", "管理员工账户", "Manage staff accounts"),
    Permission("role.read", "查看角色", "View roles"),
    Permission("role.manage", "管理角色权限", "Manage roles and permissions"),
    Permission("user.unlock", "解锁账户", "Unlock accounts"),
    # Security and audit
    Permission("security.login_history", "查看登录记录", "View login history"),
    Permission("audit.read", "查看审计日志", "View the audit log"),
    Permission("audit.verify", "校验审计链", "Verify the audit chain"),
    Permission("business_date.set", "设置营业日（演示/测试）", "Set the business date (demo/test)"),
    # Products
    Permission("calendar.read", "查看节假日日历", "View the holiday calendar"),
    Permission("calendar.manage", "维护节假日日历", "Maintain the holiday calendar"),
    Permission("product.read", "查看贷款产品与LPR", "View loan products and the LPR table"),
    Permission("product.manage", "管理贷款产品、LPR与利率上限", "Manage loan products, the LPR table and rate caps"),
    Permission("contract.template.approve", "审批合同模板发布（不能审批本人提交的）",
               "Approve the publication of a contract template (never one's own request)"),
    # Notifications
    Permission("outbox.read", "查看消息发送记录", "View the message outbox"),
    Permission("outbox.manage", "重发/取消消息", "Retry and cancel messages"),
    # Ledger
    Permission("ledger.read", "查看账务", "View the books"),
    Permission("ledger.post", "记账与冲销", "Post and reverse entries"),
    Permission("ledger.accounts", "维护会计科目", "Maintain the chart of accounts"),
    Permission("ledger.close", "结账", "Close accounting periods"),
    Permission("ledger.reopen", "反结账", "Reopen closed periods"),
    # Close of business
    Permission("cob.run", "运行日终批处理", "Run the close of business"),
    # Applications and loans (staff side)
    Permission("loan.apply", "受理贷款申请", "Take loan applications"),
    Permission("loan.read", "查看贷款申请与贷款", "View loan applications and loans"),
    # Reserved for the next releases
    Permission("loan.approve.level1", "初审", "Approve (level 1)"),
    Permission("loan.approve.level2", "复审", "Approve (level 2)"),
    Permission("loan.approve.level3", "终审", "Approve (level 3)"),
    Permission("loan.disburse", "放款", "Disburse loans"),
    Permission("repayment.record", "登记还款", "Record repayments"),
    Permission("collection_sheet.save", "保存例会收款表", "Save meeting collection sheets"),
    Permission("loan.change.request", "提出贷款变更（减免、展期、重组、核销）",
               "Propose changes to a loan (waiver, deferral, rescheduling, write-off)"),
    Permission("loan.change.approve", "审批贷款变更", "Approve changes to a loan"),
    Permission("collection.act", "催收作业", "Work collection cases"),
    Permission("collection.manage", "催收管理（分案、阶段、规则、绩效）",
               "Manage collections (assignment, stages, rules, performance)"),
    Permission("risk.manage", "风控规则与黑名单", "Risk rules and the blacklist"),
    Permission("risk.read", "查看风控规则与征信报告", "View risk rules and credit reports"),
    Permission("risk.model.manage", "评分模型（训练、登记、影子运行、申请晋级）",
               "Credit models (train, register, run in the shadow, propose a promotion)"),
    Permission("risk.model.approve", "批准评分模型晋级", "Approve a credit model's promotion"),
    Permission("risk.fraud.investigate", "反欺诈调查", "Investigate fraud cases"),
    Permission("risk.warning.handle", "处理贷后预警", "Handle early warnings"),
    Permission("report.read", "查看报表", "View reports", reserved=True),
)

PERMISSION_CODES = frozenset(p.code for p in PERMISSIONS)
_STAFF_READ = ("borrower.read", "branch.read", "institution.read", "calendar.read", "product.read")


@dataclass(frozen=True)
class RoleTemplate:
    """A default role seeded into every new institution."""

    code: str
    zh: str
    en: str
    scope: DataScope
    permissions: tuple[str, ...]
    requires_mfa: bool = False


DEFAULT_ROLES: tuple[RoleTemplate, ...] = (
    RoleTemplate("borrower", "借款人", "Borrower", DataScope.OWN,
                 ("profile.read_own", "profile.update_own", "application.apply_own", "application.read_own")),
    RoleTemplate("loan_officer", "客户经理", "Loan officer", DataScope.BRANCH,
                 (*_STAFF_READ, "borrower.register", "borrower.update", "borrower.review_change",
                  "borrower.view_sensitive", "borrower.export", "loan.apply", "loan.read", "risk.warning.handle",
                  "collection_sheet.save")),
    RoleTemplate("risk_officer", "风控专员", "Risk officer", DataScope.INSTITUTION,
                 (*_STAFF_READ, "borrower.export", "loan.read", "risk.manage", "risk.read", "report.read",
                  "risk.model.manage", "risk.model.approve", "risk.fraud.investigate", "risk.warning.handle")),
    RoleTemplate("approver_l1", "初审员", "Approver (level 1)", DataScope.BRANCH,
                 (*_STAFF_READ, "loan.read", "loan.approve.level1", "risk.read")),
    RoleTemplate("approver_l2", "复审员", "Approver (level 2)", DataScope.INSTITUTION,
                 (*_STAFF_READ, "loan.read", "loan.approve.level2", "risk.read")),
    RoleTemplate("approver_l3", "终审员", "Approver (level 3)", DataScope.INSTITUTION,
                 (*_STAFF_READ, "loan.read", "loan.approve.level3", "risk.read"), requires_mfa=True),
    RoleTemplate("collector", "催收员", "Collector", DataScope.BRANCH,
                 (*_STAFF_READ, "loan.read", "collection.act", "loan.change.request")),
    RoleTemplate("finance", "财务", "Finance", DataScope.INSTITUTION,
                 (*_STAFF_READ, "loan.read", "loan.disburse", "repayment.record", "collection_sheet.save",
                  "loan.change.request", "ledger.read",
                  "ledger.post", "ledger.accounts", "ledger.close", "report.read")),
    RoleTemplate("branch_manager", "网点负责人", "Branch manager", DataScope.INSTITUTION,
                 (*_STAFF_READ, "borrower.register", "borrower.update", "borrower.review_change",
                  "borrower.view_sensitive", "borrower.export", "staff.read", "role.read",
                  "user.unlock", "security.login_history", "audit.read", "loan.read",
                  "loan.change.approve", "report.read", "collection.manage", "risk.warning.handle")),
    RoleTemplate("administrator", "系统管理员", "Administrator", DataScope.INSTITUTION,
                 (*_STAFF_READ, "borrower.export", "borrower.update", "borrower.review_change",
                  "institution.manage", "branch.manage", "staff.read",
                  "staff.manage", "role.read", "role.manage", "user.unlock",
                  "security.login_history", "audit.read", "audit.verify", "business_date.set",
                  "product.manage", "contract.template.approve", "calendar.manage", "outbox.read", "outbox.manage",
                  "ledger.read", "ledger.accounts", "ledger.reopen", "cob.run"), requires_mfa=True),
    RoleTemplate("auditor", "审计员", "Auditor", DataScope.INSTITUTION,
                 (*_STAFF_READ, "staff.read", "role.read", "security.login_history", "audit.read",
                  "audit.verify", "loan.read", "ledger.read", "report.read", "outbox.read", "risk.read")),
)

ROLE_TEMPLATES = {r.code: r for r in DEFAULT_ROLES}


def describe(code: str) -> Permission:
    """The registered permission named `code`."""
    for p in PERMISSIONS:
        if p.code == code:
            return p
    raise KeyError(code)
