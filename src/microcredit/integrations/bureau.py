"""The credit bureau: the adapter interface and the built-in credit bureau *simulator*.

A real deployment queries the PBOC Credit Reference Center (征信中心) through
its institution's connection and maps the second-generation personal credit
report (个人信用报告, 二代征信) onto `BureauReport`. The demo and the tests use
`SimulatedBureau`, which invents a report in the same shape: deterministic per
ID number (seeded from the SHA-256 of it), so a demo and a test see the same
report every time, with a realistic mix of profiles (no file, thin files,
clean files, some late payments, heavy inquirers, serious delinquencies).

Fixed scenarios are chosen by the ID number's sequence code (顺序码, the
digits at positions 15–17, 1-based); the first two of them decide, the third
(sex) is free, so a valid check digit is always possible:

=========  ===========================================================
``900-909``  no credit file (查无记录)
``910-919``  serious current delinquency (a loan 4+ months overdue now)
``920-929``  many recent inquiries (9 loan/card approvals in 3 months)
``930-939``  a court judgment and an enforcement in the public records
``940-949``  clean thick file (12 years, four accounts, all N)
``950-959``  thin file (one credit card opened 4 months ago)
``960-969``  some late payments (two 1s, one 2 in 24 months, none now)
=========  ===========================================================

Any other sequence code gets the seeded mix. The repayment grid uses the
report's symbols (sources: PBOC CRC's report legend as reproduced by e.g.
https://31344.com/baikezhishi/16337.html and https://dxju.cn/help/35569.html):
``N`` paid as agreed; ``1``–``7`` overdue 1–30 … over 180 days (for cards:
minimum payment missed that many times); ``C`` closed, balance 0; ``G`` ended
other than by closing; ``D`` repaid by the guarantor; ``Z`` repaid with
assets; ``*`` nothing due that month; ``#`` status unknown; ``/`` the account
was not open yet. Months run oldest first; the last is the report month.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, is_dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from microcredit.platform.crypto import mask_id_number, mask_name

GRID_MONTHS = 24
SYMBOLS = "N1234567CGDZ*#/"
ACCOUNT_KINDS = ("loan", "credit_card", "revolving")  # 非循环贷账户, 贷记卡账户, 循环额度下分账户/循环贷账户
INQUIRY_REASONS = ("loan_approval", "card_approval", "guarantee_check", "self_query", "post_loan_management")
INQUIRY_REASON_ZH = {"loan_approval": "贷款审批", "card_approval": "信用卡审批", "guarantee_check": "担保资格审查",
                     "self_query": "本人查询", "post_loan_management": "贷后管理"}
INSTITUTION_TYPES = ("commercial_bank", "consumer_finance", "microcredit", "online_bank")
INSTITUTION_TYPE_ZH = {"commercial_bank": "商业银行", "consumer_finance": "消费金融公司",
                       "microcredit": "小额贷款公司", "online_bank": "互联网银行"}
PUBLIC_RECORD_KINDS = ("court_judgment", "enforcement", "tax_arrears")
PUBLIC_RECORD_ZH = {"court_judgment": "民事判决", "enforcement": "强制执行", "tax_arrears": "欠税"}

SCENARIOS = {
    90: "no_file", 91: "serious_delinquency", 92: "many_inquiries", 93: "court_judgment",
    94: "clean_thick", 95: "thin_file", 96: "late_payments",
}


@dataclass(frozen=True)
class BureauIdentity:
    """身份信息: who the report is about (the ID number masked)."""

    name: str
    id_type: str  # 身份证
    id_number_masked: str
    birth_date: date | None
    sex: str  # "male" | "female"


@dataclass(frozen=True)
class BureauAccount:
    """One credit account (借贷账户信息) with its repayment grid."""

    kind: str  # one of ACCOUNT_KINDS
    institution_type: str  # one of INSTITUTION_TYPES
    opened_on: date
    currency: str
    limit_minor: int  # the loan amount (loan) or the credit limit (card, revolving), in fen
    balance_minor: int
    status: str  # "normal" | "overdue" | "closed" | "written_off"
    overdue_months: int  # 当前逾期期数
    overdue_minor: int  # 当前逾期总额
    monthly_payment_minor: int  # 本月应还款
    grid: str  # GRID_MONTHS symbols, oldest first, the last is the report month


@dataclass(frozen=True)
class BureauOverdue:
    """逾期记录: a month an account was overdue."""

    account_index: int
    month: str  # YYYY-MM
    months_overdue: int
    amount_minor: int


@dataclass(frozen=True)
class BureauInquiry:
    """查询记录: who asked, when and why."""

    on: date
    institution_type: str
    reason: str  # one of INQUIRY_REASONS


@dataclass(frozen=True)
class BureauPublicRecord:
    """公共信息: judgments, enforcements, tax arrears."""

    kind: str  # one of PUBLIC_RECORD_KINDS
    on: date
    authority: str
    amount_minor: int
    status: str  # "open" | "closed"


@dataclass(frozen=True)
class BureauSummary:
    """信息概要: counts and totals over the accounts."""

    loan_accounts: int
    credit_card_accounts: int
    revolving_accounts: int
    open_accounts: int
    total_limit_minor: int
    total_balance_minor: int
    overdue_accounts: int
    overdue_minor: int
    monthly_payments_minor: int


@dataclass(frozen=True)
class BureauReport:
    """A personal credit report, shaped like the PBOC second-generation report (see the module doc)."""

    report_number: str
    source: str  # "simulator" or the adapter's name
    queried_on: date
    has_file: bool
    identity: BureauIdentity
    summary: BureauSummary
    accounts: tuple[BureauAccount, ...] = ()
    overdue_records: tuple[BureauOverdue, ...] = ()
    inquiries: tuple[BureauInquiry, ...] = ()
    public_records: tuple[BureauPublicRecord, ...] = ()
    scenario: str | None = None  # the simulator's profile (never set by a real bureau)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings): what `dataclasses.asdict` gives, in one pass without its
        deep copies (a third of the CPU of storing a decision's report)."""
        out: dict[str, Any] = _jsonable(self)
        return out


def _jsonable(value: Any) -> Any:
    if is_dataclass(value):  # the report's parts: plain frozen dataclasses, their fields in `vars` in order
        return {k: _jsonable(v) for k, v in vars(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def report_from_json(data: dict[str, Any]) -> BureauReport:
    """Rebuild a stored report (the inverse of `BureauReport.to_json`)."""
    ident = dict(data["identity"])
    ident["birth_date"] = date.fromisoformat(ident["birth_date"]) if ident.get("birth_date") else None
    return BureauReport(
        report_number=data["report_number"], source=data["source"],
        queried_on=date.fromisoformat(data["queried_on"]), has_file=data["has_file"],
        identity=BureauIdentity(**ident), summary=BureauSummary(**data["summary"]),
        accounts=tuple(BureauAccount(**{**a, "opened_on": date.fromisoformat(a["opened_on"])})
                       for a in data["accounts"]),
        overdue_records=tuple(BureauOverdue(**o) for o in data["overdue_records"]),
        inquiries=tuple(BureauInquiry(**{**i, "on": date.fromisoformat(i["on"])}) for i in data["inquiries"]),
        public_records=tuple(BureauPublicRecord(**{**p, "on": date.fromisoformat(p["on"])})
                             for p in data["public_records"]),
        scenario=data.get("scenario"))


class CreditBureau(Protocol):
    """Fetches a person's credit report (with their authorisation, recorded by the caller)."""

    name: str

    def report(self, *, id_number: str, name: str, on: date) -> BureauReport:
        """The report of the person with this ID number and name, as of `on`."""
        ...


def scenario_of(id_number: str) -> str | None:
    """The fixed scenario the ID number's sequence code asks the simulator for (None: the seeded mix)."""
    if len(id_number) != 18 or not id_number[14:16].isdigit():
        return None
    return SCENARIOS.get(int(id_number[14:16]))


def _month_add(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


@dataclass
class _Builder:
    rng: random.Random
    on: date
    accounts: list[BureauAccount] = field(default_factory=list)
    overdue: list[BureauOverdue] = field(default_factory=list)
    inquiries: list[BureauInquiry] = field(default_factory=list)
    public: list[BureauPublicRecord] = field(default_factory=list)

    def account(self, *, kind: str, age_months: int, limit_yuan: int, late: dict[int, int] | None = None,
                closed: bool = False, current_overdue: int = 0, utilisation: float | None = None) -> None:
        """Add an account opened `age_months` ago; `late` maps months-ago → months overdue then."""
        rng = self.rng
        opened = _month_add(self.on.replace(day=1), -age_months)
        opened = opened.replace(day=rng.randint(1, 28))
        limit = limit_yuan * 100
        used = utilisation if utilisation is not None else rng.uniform(0.05, 0.6)
        balance = 0 if closed else int(limit * used) // 100 * 100
        if kind == "loan" and not closed:
            balance = int(limit * rng.uniform(0.2, 0.9)) // 100 * 100
        payment = 0 if closed else balance // (36 if kind == "loan" else 10) // 100 * 100
        grid = []
        late = dict(late or {})
        for m in range(GRID_MONTHS - 1, -1, -1):  # months ago, oldest first
            if m > age_months:
                grid.append("/")
            elif m == age_months:
                grid.append("*")
            elif closed and m == 0:
                grid.append("C")
            elif m < current_overdue:
                grid.append(str(min(current_overdue - m, 7)))
            elif m in late:
                grid.append(str(late[m]))
            else:
                grid.append("N")
        index = len(self.accounts)
        overdue_minor = payment * current_overdue if current_overdue else 0
        for m, symbol in zip(range(GRID_MONTHS - 1, -1, -1), grid, strict=True):
            if symbol.isdigit():
                month = _month_add(self.on.replace(day=1), -m)
                self.overdue.append(BureauOverdue(index, f"{month.year:04d}-{month.month:02d}", int(symbol),
                                                  max(payment, 10_000) * int(symbol)))
        self.accounts.append(BureauAccount(
            kind=kind, institution_type=rng.choice(INSTITUTION_TYPES), opened_on=opened, currency="CNY",
            limit_minor=limit, balance_minor=balance,
            status="closed" if closed else ("overdue" if current_overdue else "normal"),
            overdue_months=current_overdue, overdue_minor=overdue_minor, monthly_payment_minor=payment,
            grid="".join(grid)))

    def inquiry(self, days_ago: int, reason: str) -> None:
        self.inquiries.append(BureauInquiry(self.on - timedelta(days=days_ago), self.rng.choice(INSTITUTION_TYPES),
                                            reason))

    def ordinary_inquiries(self, count: int) -> None:
        for _ in range(count):
            self.inquiry(self.rng.randint(1, 720),
                         self.rng.choice(("loan_approval", "card_approval", "self_query", "post_loan_management")))


class SimulatedBureau:
    """The built-in credit bureau simulator (demo and tests): deterministic reports per ID number."""

    name = "simulator"

    def report(self, *, id_number: str, name: str, on: date) -> BureauReport:
        """A made-up report for this person as of `on`; the same inputs give the same report."""
        seed = hashlib.sha256(id_number.encode()).digest()
        rng = random.Random(int.from_bytes(seed[:8], "big"))  # noqa: S311 - a simulator's repeatable mix, no secret
        scenario = scenario_of(id_number) or self._mix(rng)
        b = _Builder(rng=rng, on=on)
        getattr(self, f"_{scenario}")(b)
        b.inquiries.sort(key=lambda i: i.on, reverse=True)
        accounts = tuple(b.accounts)
        open_accounts = [a for a in accounts if a.status != "closed"]
        summary = BureauSummary(
            loan_accounts=sum(a.kind == "loan" for a in accounts),
            credit_card_accounts=sum(a.kind == "credit_card" for a in accounts),
            revolving_accounts=sum(a.kind == "revolving" for a in accounts),
            open_accounts=len(open_accounts),
            total_limit_minor=sum(a.limit_minor for a in open_accounts),
            total_balance_minor=sum(a.balance_minor for a in open_accounts),
            overdue_accounts=sum(a.overdue_months > 0 for a in accounts),
            overdue_minor=sum(a.overdue_minor for a in accounts),
            monthly_payments_minor=sum(a.monthly_payment_minor for a in open_accounts))
        born = _birth_date(id_number)
        sex = "male" if len(id_number) == 18 and id_number[16].isdigit() and int(id_number[16]) % 2 else "female"
        return BureauReport(
            report_number=f"SIM{on:%Y%m%d}{seed.hex()[:12].upper()}", source=self.name, queried_on=on,
            has_file=bool(accounts or b.inquiries or b.public),
            identity=BureauIdentity(name=mask_name(name), id_type="身份证", id_number_masked=mask_id_number(id_number),
                                    birth_date=born, sex=sex),
            summary=summary, accounts=accounts, overdue_records=tuple(b.overdue), inquiries=tuple(b.inquiries),
            public_records=tuple(b.public), scenario=scenario)

    @staticmethod
    def _mix(rng: random.Random) -> str:
        roll = rng.random()
        if roll < 0.05:
            return "no_file"
        if roll < 0.17:
            return "thin_file"
        if roll < 0.57:
            return "clean"
        if roll < 0.80:
            return "late_payments"
        if roll < 0.90:
            return "many_inquiries"
        if roll < 0.96:
            return "serious_delinquency"
        return "court_judgment"

    # --- the profiles --------------------------------------------------------

    def _no_file(self, b: _Builder) -> None:
        return None

    def _thin_file(self, b: _Builder) -> None:
        b.account(kind="credit_card", age_months=4, limit_yuan=b.rng.choice((3_000, 5_000, 8_000)))
        b.inquiry(b.rng.randint(100, 130), "card_approval")

    def _clean(self, b: _Builder) -> None:
        for _ in range(b.rng.randint(2, 4)):
            kind = b.rng.choice(ACCOUNT_KINDS)
            b.account(kind=kind, age_months=b.rng.randint(12, 120),
                      limit_yuan=b.rng.choice((10_000, 20_000, 50_000, 100_000)),
                      closed=kind == "loan" and b.rng.random() < 0.3)
        b.ordinary_inquiries(b.rng.randint(0, 3))

    def _clean_thick(self, b: _Builder) -> None:
        b.account(kind="loan", age_months=144, limit_yuan=300_000, utilisation=0.4)
        b.account(kind="credit_card", age_months=96, limit_yuan=50_000, utilisation=0.1)
        b.account(kind="credit_card", age_months=60, limit_yuan=30_000, utilisation=0.05)
        b.account(kind="loan", age_months=36, limit_yuan=80_000, closed=True)
        b.inquiry(400, "self_query")

    def _late_payments(self, b: _Builder) -> None:
        b.account(kind="credit_card", age_months=b.rng.randint(30, 80), limit_yuan=20_000, late={14: 1, 9: 2, 3: 1},
                  utilisation=0.55)
        b.account(kind="loan", age_months=b.rng.randint(12, 40), limit_yuan=50_000)
        b.ordinary_inquiries(b.rng.randint(1, 4))

    def _many_inquiries(self, b: _Builder) -> None:
        b.account(kind="credit_card", age_months=b.rng.randint(20, 60), limit_yuan=10_000, utilisation=0.85)
        b.account(kind="revolving", age_months=b.rng.randint(6, 20), limit_yuan=20_000, utilisation=0.9)
        for _ in range(9):
            b.inquiry(b.rng.randint(1, 88), b.rng.choice(("loan_approval", "card_approval")))

    def _serious_delinquency(self, b: _Builder) -> None:
        b.account(kind="loan", age_months=b.rng.randint(24, 48), limit_yuan=60_000, current_overdue=4)
        b.account(kind="credit_card", age_months=b.rng.randint(24, 60), limit_yuan=15_000, late={8: 1, 7: 2},
                  utilisation=0.95)
        b.ordinary_inquiries(3)

    def _court_judgment(self, b: _Builder) -> None:
        self._late_payments(b)
        b.public.append(BureauPublicRecord("court_judgment", b.on - timedelta(days=300), "某市人民法院",
                                           4_500_000, "open"))
        b.public.append(BureauPublicRecord("enforcement", b.on - timedelta(days=200), "某市人民法院",
                                           4_500_000, "open"))


def _birth_date(id_number: str) -> date | None:
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except (ValueError, IndexError):
        return None
