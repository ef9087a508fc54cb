"""Settings: production refuses demo secrets and simulators; environment variables, nested ones included."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from microcredit.api.app import create_app
from microcredit.config import (
    DEMO_BLIND_INDEX_KEY,
    DEMO_FIELD_KEY,
    DEMO_OAUTH_SECRET,
    DEMO_PAYMENTS_CALLBACK_SECRET,
    DEMO_SECRET_KEY,
    InsecureConfiguration,
    Mode,
    OAuthProvider,
    SecuritySettings,
    Settings,
)

KEY = base64.b64encode(b"k" * 32).decode()
OTHER_KEY = base64.b64encode(b"o" * 32).decode()


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come only from what each test sets."""
    import os

    for name in list(os.environ):
        if name.startswith("MICROCREDIT_") and not name.startswith("MICROCREDIT_TEST_"):
            monkeypatch.delenv(name)


def _wechat(**change: Any) -> OAuthProvider:
    values: dict[str, Any] = {"name": "wechat", "display_name": "WeChat", "client_id": "wx123",
                              "client_secret": SecretStr("a-real-client-secret"),
                              "authorize_url": "https://open.weixin.qq.com/connect/qrconnect",
                              "token_url": "https://api.weixin.qq.com/sns/oauth2/access_token",
                              "userinfo_url": "https://api.weixin.qq.com/sns/userinfo"}
    return OAuthProvider(**{**values, **change})


def production(tmp_path: Path, **change: Any) -> Settings:
    """Proper production settings, with `change` applied."""
    security = {"field_keys": SecretStr(f"prod-1:{KEY}"),
                "blind_index_key": SecretStr("a-long-random-index-key-0123456789"),
                "secret_key": SecretStr("a-long-random-secret-key-0123456789")}
    security.update(change.pop("security", {}))
    values: dict[str, Any] = {"mode": Mode.PRODUCTION, "data_dir": tmp_path,
                              "database_url": "postgresql://microcredit@db.internal/microcredit",
                              "oauth_simulators": False, "sms_simulator": False,
                              "oauth_providers": [_wechat()], "security": SecuritySettings(**security),
                              "payments_callback_secret": SecretStr("a-long-random-callback-secret-0123456789")}
    values.update(change)
    return Settings(**values)


def test_proper_production_settings_are_accepted(tmp_path):
    settings = production(tmp_path)
    settings.check_production()
    assert not settings.allows_business_date_override
    assert [p.name for p in settings.oauth_providers] == ["wechat"]


@pytest.mark.parametrize(("change", "problem"), [
    ({"security": {"field_keys": SecretStr(DEMO_FIELD_KEY)}}, "FIELD_KEYS holds the demo key"),
    ({"security": {"field_keys": SecretStr(f"prod-1:{KEY},{DEMO_FIELD_KEY}")}}, "FIELD_KEYS holds the demo key"),
    ({"security": {"field_keys": SecretStr(f"other-name:{DEMO_FIELD_KEY.split(':', 1)[1]}")}},
     "FIELD_KEYS holds the demo key"),
    ({"security": {"blind_index_key": SecretStr(DEMO_BLIND_INDEX_KEY)}}, "BLIND_INDEX_KEY is the demo key"),
    ({"security": {"secret_key": SecretStr(DEMO_SECRET_KEY)}}, "SECRET_KEY is the demo key"),
    ({"security": {"secret_key": SecretStr("x" * 31)}}, "SECRET_KEY is shorter than 32 characters"),
    ({"security": {"blind_index_key": SecretStr("short")}}, "BLIND_INDEX_KEY is shorter than 32 characters"),
    ({"oauth_simulators": True}, "OAuth provider 'alipay' is the built-in simulator"),
    ({"oauth_providers": [_wechat(client_secret=SecretStr(DEMO_OAUTH_SECRET))]},
     "OAuth provider 'wechat' is the built-in simulator"),
    ({"oauth_providers": [_wechat(simulator=True)]}, "OAuth provider 'wechat' is the built-in simulator"),
    ({"sms_simulator": True}, "MICROCREDIT_SMS_SIMULATOR is on"),
    ({"database_url": None}, "MICROCREDIT_DATABASE_URL is not set"),
    ({"payments_callback_secret": SecretStr(DEMO_PAYMENTS_CALLBACK_SECRET)},
     "MICROCREDIT_PAYMENTS_CALLBACK_SECRET is the demo secret"),
    ({"payments_callback_secret": SecretStr("x" * 31)}, "MICROCREDIT_PAYMENTS_CALLBACK_SECRET is shorter than 32"),
    ({"storage": "s3"}, "MICROCREDIT_STORAGE is s3 but MICROCREDIT_S3_BUCKET is not set"),
])
def test_production_refuses_demo_secrets_and_simulators(tmp_path, change, problem):
    settings = production(tmp_path, **change)
    with pytest.raises(InsecureConfiguration) as info:
        settings.check_production()
    assert len(info.value.problems) == 1, info.value.problems
    assert info.value.problems[0].startswith(problem) or problem in info.value.problems[0]
    assert "refusing to start in production mode" in str(info.value)
    with pytest.raises(InsecureConfiguration):
        create_app(settings)


def test_the_defaults_are_refused_in_production_on_every_count(tmp_path):
    with pytest.raises(InsecureConfiguration) as info:
        Settings(mode=Mode.PRODUCTION, data_dir=tmp_path).check_production()
    assert len(info.value.problems) == 8  # field key, index key, secret key, 2 OAuth simulators, SMS,
    # the payment callbacks' secret, database


@pytest.mark.parametrize("mode", [Mode.DEMO, Mode.TEST, Mode.DEVELOPMENT])
def test_other_modes_run_with_the_demo_defaults(tmp_path, mode):
    settings = Settings(mode=mode, data_dir=tmp_path)
    settings.check_production()
    assert settings.allows_business_date_override
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'microcredit.sqlite3').resolve()}"


def test_settings_come_from_environment_variables_nested_ones_with_a_double_underscore(monkeypatch, tmp_path):
    providers = [{"name": "alipay", "display_name": "支付宝", "client_id": "ali-1", "client_secret": "s3cret",
                  "authorize_url": "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm",
                  "token_url": "https://openapi.alipay.com/gateway.do",
                  "userinfo_url": "https://openapi.alipay.com/gateway.do"}]
    env = {
        "MICROCREDIT_MODE": "production",
        "MICROCREDIT_DATA_DIR": str(tmp_path),
        "MICROCREDIT_DATABASE_URL": "mysql://mc:pw@db/microcredit",
        "MICROCREDIT_REDIS_URL": "redis://cache:6379/2",
        "MICROCREDIT_SECURITY__FIELD_KEYS": f"2026-01:{KEY},2026-11:{OTHER_KEY}",
        "MICROCREDIT_SECURITY__ACTIVE_FIELD_KEY": "2026-01",
        "MICROCREDIT_SECURITY__BLIND_INDEX_KEY": "index-key-from-the-vault-0123456789",
        "MICROCREDIT_SECURITY__SECRET_KEY": "secret-key-from-the-vault-0123456789",
        "MICROCREDIT_PAYMENTS_CALLBACK_SECRET": "callback-secret-from-the-vault-0123456789",
        "MICROCREDIT_SECURITY__LOCKOUT_THRESHOLD": "7",
        "MICROCREDIT_SECURITY__MASK_CARD": "[4, 4]",
        "MICROCREDIT_RATE_LIMITS__LOGIN_PER_IP_PER_MINUTE": "12",
        "MICROCREDIT_OAUTH_PROVIDERS": json.dumps(providers),
        "MICROCREDIT_OAUTH_SIMULATORS": "false",
        "MICROCREDIT_SMS_SIMULATOR": "0",
        "MICROCREDIT_OUTBOX_POLL_SECONDS": "2.5",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    settings.check_production()
    sec = settings.security
    assert (settings.mode, settings.data_dir, settings.redis_url) == (Mode.PRODUCTION, tmp_path,
                                                                     "redis://cache:6379/2")
    assert sec.field_keys.get_secret_value() == env["MICROCREDIT_SECURITY__FIELD_KEYS"]
    assert (sec.active_field_key, sec.lockout_threshold, sec.mask_card) == ("2026-01", 7, (4, 4))
    assert sec.lockout_minutes == 30  # untouched nested fields keep their defaults
    assert settings.rate_limits.login_per_ip_per_minute == 12
    assert settings.rate_limits.sms_per_ip_per_hour == 30
    assert [(p.name, p.client_secret.get_secret_value(), p.simulator) for p in settings.oauth_providers] == [
        ("alipay", "s3cret", False)]
    assert (settings.sms_simulator, settings.outbox_poll_seconds) == (False, 2.5)
    assert settings.resolved_database_url == "mysql://mc:pw@db/microcredit"
    assert "index-key-from-the-vault" not in repr(settings)  # secrets stay out of logs


@pytest.mark.parametrize(("name", "value"), [
    ("MICROCREDIT_SECURITY__LOCKOUT_THRESHOLD", "11"),  # PCI DSS 8.3.4: at most 10
    ("MICROCREDIT_SECURITY__LOCKOUT_MINUTES", "10"),  # at least 30
    ("MICROCREDIT_SECURITY__ARGON2_MEMORY_KIB", "1024"),  # below the OWASP minimum
    ("MICROCREDIT_SECURITY__PASSWORD_MIN_LENGTH", "6"),
    ("MICROCREDIT_SECURITY__SMS_CODE_TTL_SECONDS", "3600"),  # ASVS 6.5.5: at most 10 minutes
    ("MICROCREDIT_MODE", "staging"),
])
def test_unsafe_values_are_refused_at_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert name.removeprefix("MICROCREDIT_").lower().split("__")[-1] in str(info.value)


def test_nothing_reads_the_environment_before_settings_are_made(monkeypatch, tmp_path):
    first = Settings(data_dir=tmp_path)
    monkeypatch.setenv("MICROCREDIT_SECURITY__LOCKOUT_THRESHOLD", "4")
    assert first.security.lockout_threshold == 5
    assert Settings(data_dir=tmp_path).security.lockout_threshold == 4


def test_storage_is_local_under_the_data_directory_unless_configured(monkeypatch, tmp_path):
    from microcredit.platform.storage import LocalStorage, S3Storage
    from microcredit.runtime import storage_from

    local = storage_from(Settings(mode=Mode.TEST, data_dir=tmp_path))
    assert isinstance(local, LocalStorage)
    assert local.root == (tmp_path / "storage").resolve()
    monkeypatch.setenv("MICROCREDIT_STORAGE", "s3")
    monkeypatch.setenv("MICROCREDIT_S3_BUCKET", "mc-files")
    monkeypatch.setenv("MICROCREDIT_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MICROCREDIT_S3_PREFIX", "prod")
    monkeypatch.setenv("MICROCREDIT_DOCUMENTS__IMAGE_MAX_BYTES", "4194304")
    settings = Settings(data_dir=tmp_path)
    s3 = storage_from(settings)
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix, s3.client.meta.endpoint_url) == ("mc-files", "prod", "http://127.0.0.1:9")
    assert settings.documents.image_max_bytes == 4 * 1024 * 1024
