"""Smoke tests of the `microcredit` command on a temporary SQLite file, configured by environment variables."""

from __future__ import annotations

import base64
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from microcredit.audit import service as audit
from microcredit.cli import app as cli
from microcredit.config import DEMO_FIELD_KEY
from microcredit.db.engine import Database
from microcredit.db.migrate import head_revision
from microcredit.demo import BORROWERS, DEMO_PASSWORD, INSTITUTION_CODE, STAFF
from microcredit.identity.models import User
from microcredit.identity.passwords import PasswordHasher
from microcredit.integrations.models import SimulatedSms
from microcredit.models_registry import load_all_models
from microcredit.notifications import service as notifications
from microcredit.parties.models import Institution
from microcredit.platform.crypto import FieldCipher
from microcredit.platform.keyrotation import encrypted_columns
from microcredit.products.calendars import package_data
from microcredit.products.models import CalendarDay, CalendarYear, Product, ProductVersion
from microcredit.runtime import build_runtime
from tests.conftest import fresh_database_url, make_settings

Run = Callable[..., Result]


def _flat(output: str) -> str:
    return " ".join(output.split())


@pytest.fixture
def cli_env(worker_tmp: Path) -> dict[str, str]:
    """Environment of a fresh installation on a temporary SQLite file."""
    url = fresh_database_url("sqlite", worker_tmp, "_cli")
    data = worker_tmp / "cli-data"
    data.mkdir(exist_ok=True)
    return {"MICROCREDIT_DATABASE_URL": url, "MICROCREDIT_DATA_DIR": str(data), "MICROCREDIT_MODE": "test",
            "MICROCREDIT_LOG_LEVEL": "WARNING", "COLUMNS": "200"}


@pytest.fixture
def run(cli_env: dict[str, str]) -> Run:
    """Invoke the command with the installation's environment (plus `env` overrides)."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None, ok: bool = True) -> Result:
        result = runner.invoke(cli, list(args), env={**cli_env, **(env or {})}, input=input)
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    return invoke


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database (its backup API, whatever the journal holds)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@pytest.fixture
def demo(run: Run, cli_env: dict[str, str], worker_tmp: Path) -> Database:
    """A migrated installation with the demo data. The commands (`migrate`, `demo --no-serve --no-loans`,
    ~10 s) run for the worker's first such test, which keeps a copy of the result; the next ones start
    from a copy of it (the installation's data directory, `cli-data`, is the worker's for every test)."""
    target = Path(str(make_url(cli_env["MICROCREDIT_DATABASE_URL"]).database))
    template = worker_tmp / "cli-demo-template.sqlite3"
    if template.is_file():
        _copy_sqlite(template, target)
    else:
        run("migrate")
        run("demo", "--no-serve", "--no-loans")
        _copy_sqlite(target, template)
    database = Database(cli_env["MICROCREDIT_DATABASE_URL"])
    yield database
    database.dispose()


def _count(database: Database, model) -> int:
    with database.unit_of_work(write=False) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_migrate_then_demo_prints_the_logins_and_is_idempotent(run, cli_env):
    r = run("migrate")
    assert f"database at revision {head_revision()} (sqlite)" in _flat(r.output)
    first = run("demo", "--no-serve")
    out = _flat(first.output)
    assert f"password for all: {DEMO_PASSWORD}" in out
    for _name, _number, phone, *_ in STAFF:
        assert phone in out
    database = Database(cli_env["MICROCREDIT_DATABASE_URL"])
    users = _count(database, User)
    assert users == len(STAFF) + len(BORROWERS)
    # The demo's loans, made by the real operations, leave books that verify.
    assert "loan control accounts equal the loans" in _flat(run("ledger", "verify").output)
    again = run("demo", "--no-serve")
    assert _flat(again.output).count("139000000") == len(STAFF)
    assert _count(database, User) == users
    assert _count(database, Institution) == 1
    with database.unit_of_work(write=False) as s:
        assert audit.verify(session=s).ok
    database.dispose()


def test_the_demo_publishes_its_products_once(run, demo):
    with demo.unit_of_work(write=False) as s:
        published = sorted(s.execute(select(Product.code, ProductVersion.status, ProductVersion.cap_check)
                                     .join(ProductVersion, ProductVersion.product_id == Product.id)).all())
    assert [(code, status, check["status"]) for code, status, check in published] == [
        ("CONSUMER", "published", "ok"), ("FARM-BIZ", "published", "ok"), ("SME-QTR", "published", "ok")]
    run("demo", "--no-serve")
    assert _count(demo, ProductVersion) == 3


def test_production_mode_refuses_demo_secrets_with_a_message(run):
    r = run("migrate", env={"MICROCREDIT_MODE": "production"}, ok=False)
    assert r.exit_code == 1
    assert isinstance(r.exception, SystemExit), r.exception  # refused, not crashed
    assert "refusing to start in production mode" in _flat(r.output)
    assert "FIELD_KEYS holds the demo key" in _flat(r.output)
    r = run("demo", "--no-serve", env={"MICROCREDIT_MODE": "production"}, ok=False)
    assert r.exit_code == 1


def test_create_user_with_and_without_a_password(run, demo):
    r = run("create-user", "--phone", "137 0000 0099", "--name", "运维甲", "--employee-number", "OPS1",
            "--role", "administrator", "--institution", INSTITUTION_CODE)
    assert "created staff" in r.output
    r = run("create-user", "--phone", "13700000098", "--name", "运维乙", "--employee-number", "OPS2",
            "--role", "auditor", "--role", "branch_manager", "--password-stdin",
            input="Operator-Passphrase-77\n")
    assert "roles auditor, branch_manager" in _flat(r.output)
    with demo.unit_of_work(write=False) as s:
        users = {u.display_name: u for u in s.scalars(select(User).where(User.display_name.like("运维%")))}
    assert users["运维甲"].password_hash is None
    assert PasswordHasher().verify(users["运维乙"].password_hash, "Operator-Passphrase-77")

    for args, message in (
        (("--phone", "13700000097", "--role", "wizard"), "No such role"),
        (("--phone", "13700000099", "--role", "auditor"), "already registered"),
        (("--phone", "99", "--role", "auditor"), "mobile number"),
    ):
        r = run("create-user", "--name", "坏例子", "--employee-number", "BAD", *args, ok=False)
        assert r.exit_code == 1, r.output
        assert message in _flat(r.output), r.output
    r = run("create-user", "--phone", "13700000096", "--name", "短密码", "--employee-number", "OPS3",
            "--role", "auditor", "--password-stdin", input="short\n", ok=False)
    assert r.exit_code == 1
    assert _count(demo, User) == len(STAFF) + len(BORROWERS) + 2


def test_business_date_set(run, demo):
    r = run("business-date", "set", "2026-12-31", "--institution", INSTITUTION_CODE)
    assert "business date of DEMO is now 2026-12-31" in _flat(r.output)
    with demo.unit_of_work(write=False) as s:
        assert s.scalar(select(Institution.business_date)) == date(2026, 12, 31)
    assert run("business-date", "set", "2026-13-01", ok=False).exit_code == 1
    assert run("business-date", "set", "2027-01-01", "--institution", "NOPE", ok=False).exit_code == 1


def test_the_demo_has_a_seeded_calendar_and_calendar_seed_and_show(run, demo):
    with demo.unit_of_work(write=False) as s:
        days = int(s.scalar(select(func.count()).select_from(CalendarDay)) or 0)
        years = set(s.scalars(select(CalendarYear.year).where(CalendarYear.covered == True)))  # noqa: E712
    assert days == len(package_data().days)
    assert years == package_data().years
    r = run("calendar", "seed", "--institution", INSTITUTION_CODE)
    out = _flat(r.output)
    assert "DEMO: nothing to seed from chinesecalendar" in out
    assert "left as they are (already seeded or maintained): 2004-2026" in out

    shown = _flat(run("calendar", "show", "2025").output.replace("│", " "))
    assert "2025-01-28 Tue holiday 春节 Spring Festival seeded" in shown
    assert "2025-09-28 Sun make-up working day 国庆节 National Day seeded" in shown
    assert "2025 is covered" in shown
    future = _flat(run("calendar", "show", "2027").output)
    assert "2027 is not covered: due dates in 2027 are moved for weekends only" in future
    r = run("calendar", "show", "1800", ok=False)
    assert r.exit_code == 1
    assert "2000 to 2100" in _flat(r.output)
    assert run("calendar", "seed", "--institution", "NOPE", ok=False).exit_code == 1


def _values(database: Database) -> list[tuple[str, str, str]]:
    """(column, context, stored value) of every encrypted value."""
    out = []
    tables = load_all_models().tables
    with database.unit_of_work(write=False) as s:
        for table_name, column_name, context in encrypted_columns(load_all_models()):
            t = tables[table_name]
            rows = s.execute(select(t.c[column_name]).where(t.c[column_name].is_not(None)).order_by(t.c.id))
            out.extend((f"{table_name}.{column_name}", context, value) for (value,) in rows)
    return out


def test_keys_new_and_rotate(run, demo, worker_tmp):
    r = run("keys", "new", "2026-11")
    kid, _, b64 = r.output.strip().partition(":")
    assert kid == "2026-11"
    assert len(base64.b64decode(b64)) == 32
    new_key = r.output.strip()

    # A queued message, so that a command has to decrypt with the new key later.
    runtime = build_runtime(make_settings(worker_tmp), database=demo)
    with demo.unit_of_work() as s:
        notifications.enqueue_sms(session=s, cipher=runtime.keys.cipher, clock=runtime.clock, institution_id=None,
                                  phone="13900000001", template="account_locked", params={"signature": "示范"},
                                  language="zh-CN")
    before = _values(demo)
    assert {v.split(":")[1] for _, _, v in before} == {"demo-1"}
    columns = {c for c, _, _ in before}
    assert {"borrowers.id_number_ciphertext", "users.phone_ciphertext", "users.totp_secret_ciphertext",
            "outbox_messages.payload_ciphertext"} <= columns

    both = {"MICROCREDIT_SECURITY__FIELD_KEYS": f"{DEMO_FIELD_KEY},{new_key}"}
    r = run("keys", "rotate", env=both)
    out = _flat(r.output)
    assert "active key: 2026-11" in out
    assert f"borrowers.id_number_ciphertext: {sum(c == 'borrowers.id_number_ciphertext' for c, _, _ in before)} "\
           "values re-encrypted" in out
    after = _values(demo)
    new_only = FieldCipher.from_spec(new_key)
    old = FieldCipher.from_spec(DEMO_FIELD_KEY)
    assert len(after) == len(before)
    for (column, context, was), (_, _, now) in zip(before, after, strict=True):
        assert now.startswith("v1:2026-11:"), column
        assert new_only.decrypt(now, context=context) == old.decrypt(was, context=context)
    again = run("keys", "rotate", env=both)
    assert "borrowers.id_number_ciphertext: 0 values re-encrypted" in _flat(again.output)

    # The old key can go: everything is readable with the new one alone.
    r = run("outbox", "dispatch", env={"MICROCREDIT_SECURITY__FIELD_KEYS": new_key})
    assert "delivered 1, failed 0" in _flat(r.output)
    with demo.unit_of_work(write=False) as s:
        assert list(s.scalars(select(SimulatedSms.text))) == [
            "【示范】您的账户因多次登录失败已被锁定。如非本人操作，请尽快重置密码。"]
    missing_key = run("keys", "rotate", env={"MICROCREDIT_SECURITY__FIELD_KEYS": new_key,
                                             "MICROCREDIT_SECURITY__ACTIVE_FIELD_KEY": "2027-01"}, ok=False)
    assert missing_key.exit_code == 1
    assert isinstance(missing_key.exception, SystemExit), missing_key.exception
    assert "active field key '2027-01' is not in the keyring" in _flat(missing_key.output)


def test_outbox_dispatch_and_audit_anchor(run, demo):
    r = run("outbox", "dispatch")
    assert "delivered 0, failed 0" in _flat(r.output)
    r = run("audit", "anchor")
    seq, head = r.output.split()
    with demo.unit_of_work(write=False) as s:
        result = audit.verify(session=s)
    assert (int(seq), head) == (result.head_seq, result.head_hash)
    assert re.fullmatch(r"[0-9a-f]{64}", head)
    assert int(seq) > 0
    r = run("audit", "verify", "--anchor", head)
    assert f"audit chain intact: {seq} records" in _flat(r.output)


def test_outbox_list_shows_how_messages_went_and_never_their_text(run, demo, worker_tmp):
    runtime = build_runtime(make_settings(worker_tmp), database=demo)
    with demo.unit_of_work() as s:
        inst = s.scalars(select(Institution).where(Institution.code == INSTITUTION_CODE)).one()
        notifications.enqueue_sms(session=s, cipher=runtime.keys.cipher, clock=runtime.clock, institution_id=inst.id,
                                  phone="13900000001", template="verification_code",
                                  params={"signature": "示范", "code": "135790", "minutes": 5, "purpose_zh": "登录",
                                          "purpose_en": "sign in"}, language="zh-CN")
    out = _flat(run("outbox", "list").output)
    assert "pending" in out
    assert "verification_code" in out
    assert "139****0001" in out
    assert "pending 1, retrying 0, dead 0, delivered 0, cancelled 0" in out
    r = run("outbox", "dispatch", env={"MICROCREDIT_SMS_SIMULATOR_FAIL_PREFIX": "139"})
    assert "delivered 0, failed 1, dead 0" in _flat(r.output)
    out = _flat(run("outbox", "list", "--status", "retrying").output)
    assert "1/12" in out
    assert "refused" in out  # the last error (wrapped in its column)
    assert "139****0001" not in _flat(run("outbox", "list", "--status", "delivered", "--institution",
                                          INSTITUTION_CODE).output)
    for out in (_flat(run("outbox", "list", *args).output) for args in ((), ("--status", "retrying"))):
        assert "135790" not in out
        assert "13900000001" not in out
    assert run("outbox", "list", "--status", "lost", ok=False).exit_code == 1
    assert run("outbox", "list", "--institution", "NOPE", ok=False).exit_code == 1


def test_loans_autodebit_and_reconcile_with_the_payment_simulators_statement(run, demo, worker_tmp):
    out = run("loans", "autodebit", "--on", "2026-11-25").output
    assert "0 collection(s) asked for" in _flat(out)
    assert "is not a date" in run("loans", "autodebit", "--on", "25.11.2026", ok=False).output
    statement = worker_tmp / "statement-2026-11-25.csv"
    run("payments", "statement", "--on", "2026-11-25", "-o", str(statement))
    header = statement.read_text().splitlines()
    assert header == ["provider_reference,merchant_reference,kind,amount,currency,status,settled_at"]
    with demo.unit_of_work(write=False) as s:
        inst_id = s.scalar(select(Institution.id).where(Institution.code == INSTITUTION_CODE))
    # A payment the provider settled that we have no record of: one break, stored once.
    statement.write_text(f"{header[0]}\nSIMX0001,MC{inst_id}-424242,online,50.00,CNY,succeeded,"
                         "2026-11-25T10:00:00+08:00\n")
    out = _flat(run("loans", "reconcile", "--statement", str(statement)).output)
    assert f"break missing_ours: MC{inst_id}-424242 SIMX0001" in out
    assert "2026-11-25: 1 new break(s)" in out
    assert "no new break" in run("loans", "reconcile", "--statement", str(statement)).output
    statement.write_text("a,b\n1,2\n")
    assert "not a payment statement" in _flat(run("loans", "reconcile", "--statement", str(statement),
                                                  ok=False).output)


def test_collections_sync_reports_what_it_did(run, demo):
    out = _flat(run("collections", "sync", "--date", "2026-11-25").output)
    assert "2026-11-25: 0 case(s) opened, 0 escalated, 0 closed" in out  # the demo has no loan late
    assert "is not a date" in run("collections", "sync", "--date", "25.11.2026", ok=False).output


def test_risk_fraud_scan_finds_the_demo_ring_already_in_a_case(run, demo):
    r = run("risk", "fraud-scan", "--institution", INSTITUTION_CODE)
    assert "1 ring(s), 0 new case(s)" in _flat(r.output)  # the review opened the demo ring's case
    assert run("risk", "fraud-scan", "--institution", "NOPE", ok=False).exit_code == 1


def test_risk_train_then_register_a_draft_and_a_tampered_file_is_refused(run, demo, worker_tmp):
    import json

    from microcredit.audit.models import AuditRecord
    from microcredit.risk.registry.models import RiskModelVersion

    data, out = worker_tmp / "pop.csv", worker_tmp / "trained"
    run("risk", "synth", "--rows", "2000", "--out", str(data), "--seed", "3")
    run("risk", "train", "--data", str(data), "--spec", str(worker_tmp / "pop.spec.json"), "--model", "scorecard",
        "--cv", "2", "--report", str(out))
    r = run("risk", "register", "--artefact", str(out / "model.json"), "--report", str(out), "--name", "trained_sc",
            "--institution", INSTITUTION_CODE)
    said = json.loads(r.output.strip().splitlines()[-1])
    assert (said["model"], said["version"], said["status"]) == ("trained_sc", 1, "draft")
    assert said["sha256"] == (out / "model.json.sha256").read_text().strip()
    assert said["metrics"]["auc"] > 0.6  # the report's figures went with it
    with demo.unit_of_work(write=False) as s:
        version = s.get(RiskModelVersion, said["version_id"])
        assert (version.sha256, version.status, version.report["artefact"]["sha256"]) == (
            said["sha256"], "draft", said["sha256"])
        [audited] = s.scalars(select(AuditRecord).where(AuditRecord.action == "risk_model.registered",
                                                        AuditRecord.entity_id == str(version.id))).all()
        assert audited.actor_kind == "system"
    # The same file again: the next version. A changed byte: refused, nothing stored.
    again = run("risk", "register", "--artefact", str(out / "model.json"), "--name", "trained_sc")
    assert json.loads(again.output.strip().splitlines()[-1])["version"] == 2
    blob = (out / "model.json").read_bytes()
    (out / "model.json").write_bytes(blob.replace(b'"base_points"', b'"base_points" ', 1))
    refused = run("risk", "register", "--artefact", str(out / "model.json"), "--name", "trained_sc", ok=False)
    assert refused.exit_code == 1
    assert "does not match its SHA-256" in _flat(refused.output)
    (out / "model.json.sha256").unlink()
    lone = run("risk", "register", "--artefact", str(out / "model.json"), "--name", "trained_sc", ok=False)
    assert "no SHA-256 to check" in _flat(lone.output)
    with demo.unit_of_work(write=False) as s:
        assert s.scalar(select(func.count()).select_from(RiskModelVersion).where(
            RiskModelVersion.status == "draft")) == 2 + _demo_drafts(s)


def _demo_drafts(session) -> int:
    """Drafts the demo itself registered (its own models), beside the two this test registered."""
    from microcredit.risk.registry.models import RiskModel, RiskModelVersion

    return int(session.scalar(select(func.count()).select_from(RiskModelVersion).join(
        RiskModel, RiskModel.id == RiskModelVersion.model_id).where(
        RiskModelVersion.status == "draft", RiskModel.code != "trained_sc")) or 0)


def test_contracts_revoke_demo_certificate_stops_long_term_signatures(run, tmp_path):
    from datetime import UTC, datetime

    from cryptography import x509

    from microcredit.contracts import rendering, signing

    env = {"MICROCREDIT_DATA_DIR": str(tmp_path)}  # a CA of its own: the worker's data directory is shared
    assert "no demo CA here" in run("contracts", "revoke-demo-certificate", env=env, ok=False).output
    run("contracts", "init-demo-ca", env=env)
    folder = tmp_path / signing.DEMO_FOLDER
    signer = x509.load_pem_x509_certificate((folder / signing.SIGNER_CERT).read_bytes())
    out = _flat(run("contracts", "revoke-demo-certificate", env=env).output)
    assert f"serial {signer.serial_number:x}" in out
    crl = x509.load_der_x509_crl((folder / signing.CRL_FILE).read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(signer.serial_number) is not None
    pdf = rendering.html_to_pdf("<html><body><p>x</p></body></html>")
    with pytest.raises(signing.SigningUnavailable, match="revoked"):
        signing.sign_pdf(pdf, signing.demo_files(tmp_path), reason="t", location="l", name="n",
                         at=datetime.now(UTC))


def test_contracts_renew_timestamps(run, demo, cli_env):
    """The demo's signed contracts (B-LTA): due within a horizon past their stamp's certificate's end, but the
    simulator's certificate ends no later than theirs, so each renewal is refused and counted (exit 1, the run
    goes on); under a longer certificate they are renewed, and a second run finds nothing due. The last line is
    the counts as JSON."""
    import json
    from datetime import UTC, datetime, timedelta

    from microcredit.contracts import signing
    from microcredit.contracts.models import ArchiveRenewal, Contract

    with demo.unit_of_work(write=False) as s:
        signed = s.scalar(select(func.count()).select_from(Contract).where(Contract.signed_pdf_key.is_not(None)))
    assert signed
    from cryptography import x509

    folder = Path(cli_env["MICROCREDIT_DATA_DIR"]) / signing.DEMO_FOLDER
    ends = x509.load_pem_x509_certificate((folder / signing.TSA_CERT).read_bytes()).not_valid_after_utc
    days = str((ends - datetime.now(UTC)).days + 30)  # every contract's stamp ends within this many days
    refused = run("contracts", "renew-timestamps", "--before", days, ok=False)
    assert refused.exit_code == 1
    counts = json.loads(refused.output.strip().splitlines()[-1])
    assert (counts["checked"], counts["renewed"], counts["failed"]) == (signed, 0, signed)
    assert "no later" in counts["failures"][0]["reason"]

    signing.reissue_demo_tsa(folder, at=datetime.now(UTC), lifetime=ends - datetime.now(UTC) + timedelta(days=60))
    try:
        done = json.loads(run("contracts", "renew-timestamps", "--before", days).output.strip().splitlines()[-1])
        assert (done["checked"], done["renewed"], done["failed"]) == (signed, signed, 0)
        again = json.loads(run("contracts", "renew-timestamps", "--before", days).output.strip().splitlines()[-1])
        assert (again["checked"], again["renewed"]) == (0, 0)
    finally:
        signing.reissue_demo_tsa(folder, at=datetime.now(UTC))
    with demo.unit_of_work(write=False) as s:
        assert s.scalar(select(func.count()).select_from(ArchiveRenewal)) == signed
    assert "--before" in run("contracts", "renew-timestamps", "--help").output


def test_serve_with_workers_gives_each_the_configured_time_to_start(run, monkeypatch):
    """uvicorn's parent replaces a worker that does not answer its health ping in time; a worker answers only
    once it has built the app, which takes longer than uvicorn's own 5 s on a busy machine. `serve` passes
    the configured bound (default 60 s)."""
    import uvicorn

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    run("serve", "--workers", "2")
    run("serve", "--workers", "2", env={"MICROCREDIT_WORKER_HEALTHCHECK_SECONDS": "120"})
    assert [(a, kw["workers"], kw["timeout_worker_healthcheck"]) for a, kw in calls] == [
        (("microcredit.api.app:create_served_app",), 2, 60), (("microcredit.api.app:create_served_app",), 2, 120)]
    run("serve", "--workers", "2", env={"MICROCREDIT_WORKER_HEALTHCHECK_SECONDS": "0"}, ok=False)
    assert len(calls) == 2  # out of range: refused before anything is served
