"""Refusals of the identity domain."""

from __future__ import annotations

from microcredit.errors import Conflict, DomainError, NotAuthenticated, PermissionDenied, RateLimited


class InvalidCredentials(DomainError):
    """Wrong phone/password or code. Says nothing about whether the account exists."""

    code = "invalid_credentials"
    status = 401
    message_zh = "手机号或密码错误"
    message_en = "Wrong phone number or password"
    keeps_changes = True


class InvalidSmsCode(DomainError):
    """The SMS code is wrong, expired, used, or has run out of attempts."""

    code = "invalid_sms_code"
    status = 422
    message_zh = "验证码错误或已失效，请重新获取"
    message_en = "The verification code is wrong or no longer valid; request a new one"
    keeps_changes = True


class AccountLocked(DomainError):
    """Too many failures: locked until a time, an SMS-verified reset, or a staff unlock."""

    code = "account_locked"
    status = 423
    message_zh = "登录失败次数过多，账户已锁定，{minutes} 分钟后可再试。也可通过短信验证重置密码，或联系工作人员解锁"
    message_en = ("Too many failed sign-ins: locked for {minutes} more minutes. Reset your password with an SMS "
                  "code, or ask staff to unlock it")
    keeps_changes = True


class LoginDelayed(DomainError):
    """Growing delay between failures: try again in a few seconds."""

    code = "login_delayed"
    status = 429
    message_zh = "尝试过于频繁，请 {retry_after} 秒后再试"
    message_en = "Too many attempts; try again in {retry_after} s"
    keeps_changes = True


class LoginRateLimited(RateLimited):
    """Too many failed sign-ins from one address; the refused attempt is still recorded."""

    keeps_changes = True


class AccountDisabled(DomainError):
    """The account was disabled by staff."""

    code = "account_disabled"
    status = 403
    message_zh = "账户已停用，请联系工作人员"
    message_en = "This account is disabled; contact staff"
    keeps_changes = True


class SessionExpired(NotAuthenticated):
    """The session ended (idle, absolute expiry, logout, lock, password change)."""

    code = "session_expired"
    message_zh = "登录已过期，请重新登录"
    message_en = "Your session has ended; please sign in again"


class ReauthenticationRequired(DomainError):
    """A sensitive change needs the current password (again)."""

    code = "reauthentication_required"
    status = 401
    message_zh = "请先验证当前密码"
    message_en = "Confirm your current password first"
    keeps_changes = True


class SecondFactorRequired(PermissionDenied):
    """The role requires a second factor the user has not enrolled yet."""

    code = "second_factor_enrolment_required"
    message_zh = "您的角色要求启用动态口令（TOTP），请先完成绑定"
    message_en = "Your role requires an authenticator app (TOTP); enrol one first"


class InvalidTotp(DomainError):
    """Wrong, reused or expired one-time password."""

    code = "invalid_totp"
    status = 422
    message_zh = "动态口令错误"
    message_en = "The authenticator code is wrong"
    keeps_changes = True


class PhoneAlreadyRegistered(Conflict):
    """Another account uses this phone number."""

    code = "phone_already_registered"
    message_zh = "该手机号已注册"
    message_en = "This phone number is already registered"


class UnknownRole(DomainError):
    """A role code that does not exist in the institution."""

    code = "unknown_role"
    status = 422
    message_zh = "角色不存在：{role}"
    message_en = "No such role: {role}"


class UnknownPermission(DomainError):
    """A permission code that is not registered."""

    code = "unknown_permission"
    status = 422
    message_zh = "权限不存在：{permission}"
    message_en = "No such permission: {permission}"


class OAuthFailed(DomainError):
    """The third-party login did not complete."""

    code = "oauth_failed"
    status = 400
    message_zh = "第三方登录未完成：{reason}"
    message_en = "Third-party sign-in did not complete: {reason}"


class UnknownProvider(DomainError):
    """No such third-party login provider."""

    code = "unknown_oauth_provider"
    status = 404
    message_zh = "不支持该第三方登录"
    message_en = "No such sign-in provider"
