"""API shapes of parties: institutions, branches, staff, borrowers, profile changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from microcredit.consent.schemas import ConsentAcceptance
from microcredit.identity.schemas import PASSWORD_FIELD, PHONE_FIELD
from microcredit.lending.meetings import LAST_MONTH_DAY
from microcredit.platform.paging import MAX_PAGE, MAX_PAGE_SIZE
from microcredit.platform.schema import MAX_INT, ExactText, InputSchema, MoneyStr, MultiLine, OutputSchema, field_error

CustomerType = Literal["consumer", "sole_trader", "small_business", "farmer"]
NAME_FIELD = Field(min_length=2, max_length=50, description="Real name as on the ID card", examples=["张三"])
ID_FIELD = Field(
    min_length=15, max_length=20, description="Resident ID number (18 characters)", examples=["11010519491231002X"]
)


# --- institutions and branches -------------------------------------------------


class InstitutionCreate(InputSchema):
    """A new institution (platform administrators)."""

    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Z0-9_-]+$", examples=["JXRCC"])
    name: str = Field(min_length=2, max_length=200, examples=["江西某农村信用合作社"])
    name_en: str | None = Field(default=None, max_length=200)
    kind: Literal[
        "small_loan_company", "rural_credit_cooperative", "village_bank", "microfinance", "online_small_loan"
    ] = "small_loan_company"
    business_date: date
    contact_phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=255)

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "code": "JXRCC",
                    "name": "江西某农村信用合作社",
                    "kind": "rural_credit_cooperative",
                    "business_date": "2026-11-25",
                }
            ]
        },
    )


class InstitutionUpdate(InputSchema):
    """Change an institution (omitted fields stay)."""

    name: str | None = Field(default=None, min_length=2, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=255)
    status: Literal["active", "suspended"] | None = None
    online_branch_rule: Literal["region", "default", "none"] | None = Field(
        default=None, description="Where online registrants go: the branch of their region (else the default "
        "branch), the default branch, or nobody (staff assign them)")
    default_branch_id: int | None = Field(default=None, description="An open branch of the institution")

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"contact_phone": "0791-88880000"}]}
    )


class InstitutionRead(OutputSchema):
    """An institution."""

    id: int
    code: str
    name: str
    name_en: str | None
    kind: str
    timezone: str
    currency: str
    business_date: date
    contact_phone: str | None
    address: str | None
    status: str
    online_branch_rule: str
    default_branch_id: int | None
    created_at: datetime


class BusinessDateSet(InputSchema):
    """Move the business date (demo and test installations only)."""

    business_date: date

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"business_date": "2026-11-26"}]}
    )


class BranchCreate(InputSchema):
    """A new branch."""

    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", examples=["BR03"])
    name: str = Field(min_length=2, max_length=200, examples=["城东支行"])
    name_en: str | None = Field(default=None, max_length=200, examples=["Chengdong Branch"])
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$", description="GB/T 2260 county code")
    address: str | None = Field(default=None, max_length=255)
    institution_id: int | None = Field(default=None, description="Platform administrators only")

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"code": "BR03", "name": "城东支行", "region_code": "360102", "address": "南昌市东湖区"}]
        },
    )


class BranchUpdate(InputSchema):
    """Change a branch (omitted fields stay)."""

    name: str | None = Field(default=None, min_length=2, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    address: str | None = Field(default=None, max_length=255)
    status: Literal["active", "closed"] | None = None

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"address": "南昌市东湖区新址 8 号"}]},
    )


class BranchRead(OutputSchema):
    """A branch."""

    id: int
    institution_id: int
    code: str
    name: str
    name_en: str | None
    region_code: str | None
    address: str | None
    status: str
    created_at: datetime


# --- staff -----------------------------------------------------------------------


class StaffCreate(InputSchema):
    """A new employee and their sign-in account (first sign-in by SMS code)."""

    name: str = NAME_FIELD
    employee_number: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    phone: str = PHONE_FIELD
    position: str | None = Field(default=None, max_length=100)
    email: EmailStr | None = None
    branch_id: int | None = None
    roles: list[str] = Field(min_length=1, examples=[["loan_officer"]])
    institution_id: int | None = Field(default=None, description="Platform administrators only")

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "李强",
                    "employee_number": "E0102",
                    "phone": "13900000102",
                    "position": "客户经理",
                    "branch_id": 1,
                    "roles": ["loan_officer"],
                }
            ]
        },
    )


class StaffUpdate(InputSchema):
    """Change a staff member (omitted fields stay)."""

    name: str | None = Field(default=None, min_length=2, max_length=50)
    position: str | None = Field(default=None, max_length=100)
    email: EmailStr | None = None
    branch_id: int | None = None
    roles: list[str] | None = Field(default=None, min_length=1)

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"roles": ["loan_officer", "collector"], "branch_id": 2}]},
    )


class StaffRead(OutputSchema):
    """A staff member and their account's state."""

    id: int
    user_id: int
    institution_id: int
    branch_id: int | None
    name: str
    employee_number: str
    position: str | None
    email: str | None
    phone_masked: str
    roles: list[str]
    status: str
    locked: bool
    totp_enabled: bool
    last_login_at: datetime | None
    created_at: datetime


# --- borrowers -------------------------------------------------------------------


class ProfileFields(InputSchema):
    """Profile fields a borrower or staff may set."""

    customer_type: CustomerType | None = None
    occupation: str | None = Field(default=None, max_length=100)
    employer: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    province: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=255)
    monthly_income: MoneyStr | None = Field(default=None, description="CNY a month")
    total_assets: MoneyStr | None = None
    total_liabilities: MoneyStr | None = None

    def profile(self) -> dict[str, Any]:
        """The profile fields that were given, by name."""
        return {k: v for k in ProfileFields.model_fields if (v := getattr(self, k)) is not None}


class Registration(ProfileFields):
    """Online self-registration."""

    phone: str = PHONE_FIELD
    sms_code: str | None = Field(
        default=None,
        pattern=r"^\d{6}$",
        description="Code sent with purpose `register` (not needed when the phone was proven in an OAuth link)",
    )
    real_name: str = NAME_FIELD
    id_number: str = ID_FIELD
    password: Annotated[str, ExactText()] = PASSWORD_FIELD
    oauth_ticket: str | None = Field(
        default=None, max_length=200, description="Link a WeChat/Alipay account from /auth/oauth/link"
    )
    consents: ConsentAcceptance | None = Field(
        default=None,
        description="Required: the version of each document accepted (GET /public/consent-documents). Without it, "
        "or with an older version, registration is refused with `consent_required` / `consent_version_stale`",
    )

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=False,
        json_schema_extra={
            "examples": [
                {
                    "phone": "13800138000",
                    "sms_code": "123456",
                    "real_name": "张三",
                    "id_number": "11010519491231002X",
                    "password": "a long passphrase",
                    "consents": {"user_agreement": "1.0", "privacy_policy": "1.0", "sensitive_info": "1.0"},
                }
            ]
        },
    )


class OfflineRegistration(ProfileFields):
    """A walk-in borrower registered by a loan officer at the branch."""

    phone: str = PHONE_FIELD
    real_name: str = NAME_FIELD
    id_number: str = ID_FIELD
    branch_id: int | None = Field(default=None, description="Defaults to the officer's branch")
    notify_by_sms: bool = True
    consent_signed: bool = Field(
        default=False,
        description="Required true: the borrower signed the user agreement, privacy policy and the separate "
        "consent to processing sensitive personal information in effect; recorded with channel `walk_in`",
    )

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "phone": "13900001234",
                    "real_name": "李四",
                    "id_number": "440524188001010014",
                    "customer_type": "farmer",
                    "occupation": "种植户",
                    "monthly_income": "4500.00",
                    "consent_signed": True,
                }
            ]
        },
    )


class BorrowerUpdate(ProfileFields):
    """Staff edit of a borrower (applied at once, audited)."""

    real_name: str | None = Field(default=None, min_length=2, max_length=50)
    branch_id: int | None = Field(default=None, description="Move to another branch (institution scope)")

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"occupation": "个体户", "monthly_income": "8000.00"}]},
    )


class BankCardCreate(InputSchema):
    """A bank card for disbursement and repayment."""

    bank_name: str = Field(min_length=2, max_length=100, examples=["中国农业银行"])
    card_number: str = Field(min_length=12, max_length=23, examples=["6225881414207430"])
    primary: bool = False

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"bank_name": "中国农业银行", "card_number": "6225881414207430", "primary": True}]
        },
    )


class BankCardRead(OutputSchema):
    """A bank card, masked."""

    id: int
    bank_name: str
    card_masked: str
    luhn_valid: bool
    is_primary: bool
    created_at: datetime


class FieldChange(OutputSchema):
    """One field's value before and after (as text; money as a decimal string)."""

    old: str | None
    new: str | None


class ChangeRead(OutputSchema):
    """A change to credit-relevant fields and its review."""

    id: int
    borrower_id: int
    borrower_name: str | None = None
    changes: dict[str, FieldChange]
    status: str
    requested_at: datetime
    reviewed_at: datetime | None
    reviewed_by_user_id: int | None
    review_reason: str | None


class BorrowerRead(OutputSchema):
    """A borrower, with sensitive fields masked."""

    id: int
    user_id: int
    institution_id: int
    branch_id: int | None
    branch_assignment: str | None = Field(description="How the branch was chosen: region or default (the online "
                                          "rule), branch (registered there), staff (moved); null: unassigned")
    real_name: str
    id_number_masked: str
    phone_masked: str
    gender: str
    birth_year: int
    customer_type: str
    occupation: str | None
    employer: str | None
    email: str | None
    province: str | None
    city: str | None
    address: str | None
    monthly_income: MoneyStr | None
    total_assets: MoneyStr | None
    total_liabilities: MoneyStr | None
    channel: str
    created_at: datetime
    updated_at: datetime


class BorrowerDetail(BorrowerRead):
    """A borrower with account state, cards and changes."""

    age: int
    locked: bool
    account_status: str
    has_password: bool
    bank_cards: list[BankCardRead]
    pending_change: ChangeRead | None
    recent_changes: list[ChangeRead]


class SensitiveRead(OutputSchema):
    """Full values (every view is audited)."""

    id_number: str
    phone: str
    bank_cards: list[dict[str, Any]]


class RegistrationAccepted(OutputSchema):
    """The registration was taken: sign in with the phone and password just sent.

    The same answer whether an account was made or the ID number already belongs to a borrower
    here (whose owner is then told by SMS): the caller holds only a code for their own phone,
    which must not tell them whether someone is a customer.
    """

    status: Literal["received"] = "received"
    phone_masked: str


class BorrowerSearch(InputSchema):
    """Search borrowers with the terms in the body, so ID numbers and phones stay out of URLs and logs."""

    q: str | None = Field(
        default=None, max_length=50, description="Name, full ID number, the last digits of the ID number, or phone"
    )
    customer_type: CustomerType | None = None
    channel: Literal["online", "branch"] | None = None
    branch_id: int | None = None
    unassigned: bool = Field(default=False, description="Only borrowers without a branch")
    locked: bool = Field(default=False, description="Only borrowers whose account is locked out now")
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=100)
    sort: str | None = Field(default=None, max_length=40, examples=["name", "-created_at"])

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"q": "11010519491231002X"}, {"q": "张"}]},
    )


class BorrowerListQuery(BaseModel):
    """The query of `GET /borrowers`, validated as one model (one validation, not one per parameter).

    The same public names and bounds as the parameters it replaces; unknown parameters are
    ignored, as they were. Full ID numbers and phones are refused by the route (they go in the
    body of `POST /borrowers/search`).
    """

    q: str | None = Field(default=None, max_length=50, description="Name or the last digits of the ID number; "
                          "full ID numbers and phones go to POST /borrowers/search")
    customer_type: str | None = None
    channel: str | None = None
    branch_id: int | None = Field(default=None, ge=1, le=MAX_INT, description="An id (1 … 2^63−1)")
    unassigned: bool = Field(default=False, description="Only borrowers without a branch")
    locked: bool = Field(default=False, description="Only borrowers whose account is locked out now")
    page: int = Field(default=1, ge=1, le=MAX_PAGE, description=f"Page number, 1 … {MAX_PAGE}")
    page_size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page, 1 … {MAX_PAGE_SIZE}")
    sort: str | None = None

    model_config = ConfigDict(frozen=True)  # hashable: with the caller's scope, the key of a kept page


class ReviewDecision(InputSchema):
    """Why a change was rejected (required) or approved (optional)."""

    reason: Annotated[str | None, MultiLine()] = Field(default=None, max_length=500)

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"reason": "收入证明与申报不符"}]}
    )


# --- joint-liability groups ------------------------------------------------------------------------

GroupStatus = Literal["forming", "active", "dissolved"]


class GroupCreate(InputSchema):
    """A new joint-liability group (小组联保) in a branch, with its first members (a leader among them)."""

    name: str = Field(min_length=2, max_length=100, examples=["城关一组"])
    branch_id: int | None = Field(default=None, ge=1, description="The branch (default: the officer's)")
    member_ids: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list, max_length=10,
                                                          description="Borrower ids of the first members")
    leader_id: int | None = Field(default=None, ge=1, description="The leader's borrower id (one of the members)")


class GroupMemberAdd(InputSchema):
    """A borrower to add to a group."""

    borrower_id: int = Field(ge=1)


class GroupLeaderSet(InputSchema):
    """The member who leads the group."""

    borrower_id: int = Field(ge=1)


class GroupMemberRead(OutputSchema):
    """A current member of a group (the name in full: staff in scope see it anyway)."""

    borrower_id: int
    real_name: str
    phone_masked: str
    id_number_masked: str
    leader: bool
    joined_at: datetime


class GroupSummary(OutputSchema):
    """A group in a list."""

    id: int
    name: str
    branch_id: int | None
    status: GroupStatus = Field(description="forming: gathering members; active: 3–10 members and a leader, "
                                            "may apply; dissolved: final")
    leader_borrower_id: int | None
    members: int = Field(description="Current members")
    created_at: datetime


class GroupRead(GroupSummary):
    """A group with its members and who formed it."""

    formed_by_user_id: int | None
    activated_at: datetime | None
    dissolved_at: datetime | None
    member_list: list[GroupMemberRead]
    min_members: int = 3
    max_members: int = 10


# --- group meeting schedules ----------------------------------------------------------------------

MeetingFrequencyName = Literal["weekly", "fortnightly", "monthly"]


class GroupMeetingWrite(InputSchema):
    """A group's repayment meeting schedule: how often, from which first meeting, when and where."""

    frequency: MeetingFrequencyName = Field(description="weekly (every 7 days), fortnightly (every 14 days) or "
                                                        "monthly (the first meeting's day of the month, 1–28)")
    first_on: date = Field(description="The first meeting; its weekday (or day of the month) is the group's")
    time_of_day: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, the institution's time zone",
                             examples=["09:30"])
    place: str = Field(min_length=1, max_length=200, examples=["城关村委会二楼会议室"])

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"frequency": "monthly", "first_on": "2027-01-15", "time_of_day": "09:30", "place": "城关村委会二楼会议室"}]})

    @field_validator("first_on")
    @classmethod
    def _first_meeting(cls, value: date, info: ValidationInfo) -> date:
        if not date(2000, 1, 1) <= value <= date(2099, 12, 31):
            raise field_error("meeting_date_out_of_range", "The first meeting is a date in 2000–2099",
                              "首次例会须在 2000–2099 年之间")
        if info.data.get("frequency") == "monthly" and value.day > LAST_MONTH_DAY:
            raise field_error("meeting_day_after_28th",
                              f"A monthly meeting falls on day 1–{LAST_MONTH_DAY} (every month has it)",
                              f"每月例会须在 1–{LAST_MONTH_DAY} 日（每个月都有这一天）")
        return value


class GroupMeetingRead(OutputSchema):
    """A group's meeting schedule and its next meetings (from the business date)."""

    group_id: int
    frequency: MeetingFrequencyName
    first_on: date
    time_of_day: str
    place: str
    next_meetings: list[date] = Field(description="The next 3 meetings on or after the business date")
    updated_at: datetime


class MyGroupMeetingRead(OutputSchema):
    """The borrower's group and its next meeting (for any current member)."""

    group_id: int
    group_name: str
    frequency: MeetingFrequencyName
    time_of_day: str
    place: str
    next_meeting: date
