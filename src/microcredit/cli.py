"""The `microcredit` command.

    microcredit serve [--host H] [--port P]     run the API and web app
    microcredit migrate                         bring the database schema up to date
    microcredit demo [--no-serve] [--no-loans]  migrate, load demo data (and loans), print logins, serve
    microcredit create-user ...                 create a staff account (bootstrap an administrator)
    microcredit backup FILE / restore FILE      copy the database out / back in
    microcredit audit verify [--anchor HASH]    recompute the audit hash chain
    microcredit audit anchor                    print the chain's head to keep outside the database
    microcredit keys new KID / keys rotate      make a field key / re-encrypt with the active key
    microcredit business-date set DATE          move the business date (demo/test installations)
    microcredit outbox dispatch                 deliver queued messages now
    microcredit outbox list [--status S]        queued, delivered and failed messages (never their text)
    microcredit housekeeping                    delete expired keys, windows, codes, old sessions
    microcredit schedule [FILE|-] [--json]      quote a loan description: schedule, totals, APR
    microcredit calendar seed [--institution C] copy the chinesecalendar package's holidays (new years only)
    microcredit calendar show YEAR              print a year of the institution's holiday calendar
    microcredit ledger verify [--institution C] recompute every journal entry; non-zero exit on a problem
    microcredit ledger export [-o FILE]         the books as a beancount file (bean-check reads it)
    microcredit cob run [--date D] [--until D]  close of business: each date in order (resumes a killed run;
                                                --runner processes: partitions worked by local processes at once;
                                                --runner celery: partitions to `celery -A microcredit.worker` workers)
    microcredit cob status / cob retry RUN_ID   the latest runs / run a run's failed loans again
    microcredit cob scheduler [--once]          close each day at MICROCREDIT_COB_CLOSE_AT (local time)
    microcredit risk train --data F --spec S    train and validate a credit model (scorecard|lgbm|mlp), write
                                                its artefact and report; microcredit risk synth: a synthetic population
    microcredit risk register --artefact F --name N [--report DIR]   a trained artefact as a new draft version
                                                (its SHA-256 checked against the training's; audited)
    microcredit risk fraud-scan --institution C open fraud cases for rings of applicants sharing identifiers
    microcredit contracts renew-timestamps [--before DAYS]   renew signed contracts' archive time stamps (B-LTA)
                                                whose certificate ends within DAYS (365); last line JSON

Configuration comes from `MICROCREDIT_*` environment variables (see
`microcredit.config`). Each command is one unit of work: it commits when it
succeeds and changes nothing when it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from microcredit.config import InsecureConfiguration, Mode, Settings
from microcredit.errors import DomainError
from microcredit.risk.learning.cli import risk_app
from microcredit.runtime import Runtime, build_runtime, settle_heap

app = typer.Typer(help="microcredit: an open-source microcredit (小额信贷) system.", no_args_is_help=True,
                  add_completion=False)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
keys_app = typer.Typer(help="Field-encryption keys.", no_args_is_help=True)
date_app = typer.Typer(help="The business date.", no_args_is_help=True)
outbox_app = typer.Typer(help="The notification outbox.", no_args_is_help=True)
calendar_app = typer.Typer(help="The institution's holiday calendar.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(date_app, name="business-date")
app.add_typer(outbox_app, name="outbox")
loan_app = typer.Typer(help="Loans computed by the engine, without a database.", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
app.add_typer(loan_app, name="loan")
ledger_app = typer.Typer(help="The double-entry books.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
contracts_app = typer.Typer(help="Loan contracts and their signing certificate.", no_args_is_help=True)
loans_app = typer.Typer(help="Loans on the books: auto-debit, reconciliation with the payment provider.",
                        no_args_is_help=True)
app.add_typer(loans_app, name="loans")
payments_app = typer.Typer(help="The payment provider (its simulator's callbacks and statement).", no_args_is_help=True)
app.add_typer(payments_app, name="payments")
app.add_typer(contracts_app, name="contracts")
cob_app = typer.Typer(help="Close of business: the daily run over every active loan.", no_args_is_help=True)
app.add_typer(cob_app, name="cob")
app.add_typer(risk_app, name="risk")
console = Console()


def _settings() -> Settings:
    """The settings, checked for production; a bad configuration is an error message, not a traceback."""
    try:
        settings = Settings()
        settings.check_production()
    except (InsecureConfiguration, ValueError) as exc:
        _fail(str(exc))
    return settings


def _runtime() -> Runtime:
    settings = _settings()
    try:
        return build_runtime(settings)
    except ValueError as exc:  # a malformed keyring, an active key that is not in it
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _migrate(runtime: Runtime) -> str | None:
    from microcredit.db.migrate import current_revision, upgrade

    assert runtime.db.engine is not None
    upgrade(runtime.db.engine)
    return current_revision(runtime.db.engine)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic; same migrations on every database)."""
    runtime = _runtime()
    revision = _migrate(runtime)
    console.print(f"database at revision [bold]{revision}[/bold] ({runtime.db.backend})")


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port")] = 8000,
          workers: Annotated[int, typer.Option(help="Worker processes")] = 1) -> None:
    """Run the API (and the built web app) with uvicorn."""
    import uvicorn

    settings = _settings()
    if workers > 1:
        uvicorn.run("microcredit.api.app:create_served_app", factory=True, host=host, port=port,
                    workers=workers, proxy_headers=False, log_level="warning",
                    timeout_worker_healthcheck=settings.worker_healthcheck_seconds)
        return
    from microcredit.api.app import create_served_app

    uvicorn.run(create_served_app(settings), host=host, port=port, proxy_headers=False, log_level="warning")


@app.command()
def demo(serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after loading")] = True,
         host: str = "127.0.0.1", port: int = 8000,
         with_loans: Annotated[bool, typer.Option("--loans/--no-loans",
                                                  help="Make the loan portfolio (about a minute)")] = True) -> None:
    """Migrate the embedded database, load the demo data, print the logins, and serve."""
    from microcredit.demo import DEMO_PASSWORD, seed

    runtime = _runtime()
    if runtime.settings.mode.value == "production":
        _fail("refusing to load demo data in production mode")
    _migrate(runtime)
    from microcredit.contracts import signing

    _demo_ca(runtime)
    with runtime.db.unit_of_work() as session:
        logins = seed(session=session, kit=runtime.identity, storage=runtime.files,
                      document_policy=runtime.settings.documents, signer=signing.signer_files(runtime.settings),
                      payments=runtime.payments if with_loans else None)
    table = Table(title=f"Demo logins — password for all: {DEMO_PASSWORD}")
    for col in ("who", "role", "phone", "note"):
        table.add_column(col)
    for login in logins:
        table.add_row(login.who, login.role, login.phone, login.note)
    Console(width=max(console.width, 150)).print(table)
    url = f"http://{host}:{port}"
    console.print(f"borrower app: {url}/   staff console: {url}/staff   API docs: {url}/api/docs")
    console.print(f"simulated SMS messages: {url}/sms-inbox   (codes for SMS sign-in and registration)")
    runtime.close()
    if serve_after:
        serve(host=host, port=port, workers=1)


def _demo_ca(runtime: Runtime) -> Path:
    from microcredit.contracts import signing

    ocsp_url = runtime.settings.contracts.demo_pki_base_url.rstrip("/") + signing.OCSP_PATH
    return signing.init_demo_ca(runtime.settings.data_dir.resolve(), now=runtime.clock.now(), ocsp_url=ocsp_url)


@contracts_app.command("init-demo-ca")
def contracts_init_demo_ca() -> None:
    """Make the demo CA and the institution's contract-signing certificate in the data directory (kept if there).

    Demo and tests only: a real institution configures its own certificate
    (MICROCREDIT_CONTRACTS__SIGNING_PKCS12 or __SIGNING_KEY + __SIGNING_CERT; see docs/contracts.md).
    """
    runtime = _runtime()
    if runtime.settings.mode.value == "production":
        _fail("refusing to make a demo CA in production mode: configure the institution's certificate")
    folder = _demo_ca(runtime)
    runtime.close()
    console.print(f"demo CA and signing certificate in {folder} (keys mode 0600); trust {folder / 'ca.pem'} "
                  "in a PDF reader to see signed contracts as valid")


@contracts_app.command("revoke-demo-certificate")
def contracts_revoke_demo_certificate(
    which: Annotated[str, typer.Option(help="Which demo certificate: signer (contract signing) or tsa "
                                            "(the time-stamping simulator)")] = "signer",
) -> None:
    """Revoke a certificate of the demo CA: put it on the CRL (key compromise, at the business clock's time).

    Demo and tests only. Afterwards B-LT and B-LTA signatures are refused (the chain is checked before
    signing) and a signature made later fails validation; contracts signed before keep validating.
    To start over, delete the folder and run `microcredit contracts init-demo-ca`.
    """
    runtime = _runtime()
    if runtime.settings.mode.value == "production":
        _fail("refusing to touch a demo CA in production mode")
    if which not in ("signer", "tsa"):
        _fail("--which must be signer or tsa")
    from microcredit.contracts import signing

    data_dir = runtime.settings.data_dir.resolve()
    if not (data_dir / signing.DEMO_FOLDER / signing.CA_KEY).is_file():
        _fail("no demo CA here: run `microcredit contracts init-demo-ca` first")
    serial = signing.revoke_demo_certificate(data_dir, at=runtime.clock.now(), which=which)
    runtime.close()
    console.print(f"revoked the demo {which} certificate (serial {serial:x}); the CRL is "
                  f"{data_dir / signing.DEMO_FOLDER / signing.CRL_FILE}")


@contracts_app.command("renew-timestamps")
def contracts_renew_timestamps(
    before: Annotated[int, typer.Option("--before", min=1, max=3650,
                                        help="Renew when the latest document time stamp's certificate ends within "
                                             "this many days")] = 365,
    institution: Annotated[str | None, typer.Option(help="Institution code (default: every institution)")] = None,
) -> None:
    """Renew the archive time stamps of signed contracts (PAdES B-LTA) whose certificate ends soon.

    Each due contract gets a new document time stamp over its whole file, with fresh revocation information,
    stored as a new file (the old one kept) and recorded and audited; one failure does not stop the others.
    Run it regularly (the close of business does, daily). The last line is the counts as JSON; the exit code
    is 1 when a contract failed.
    """
    from datetime import timedelta

    from microcredit.contracts import signing
    from microcredit.contracts.service import Files, archive
    from microcredit.parties import service as parties

    runtime = _runtime()
    institution_id = None
    if institution is not None:
        try:
            with runtime.db.unit_of_work(write=False) as session:
                institution_id = parties.organisation.institution_by_code(session=session, code=institution).id
        except DomainError as exc:
            _fail(exc.message("en"))
    files = Files(storage=runtime.files, signer=signing.signer_files(runtime.settings))
    report = archive.renew_timestamps(db=runtime.db, clock=runtime.clock, files=files,
                                      before=timedelta(days=before), institution_id=institution_id)
    runtime.close()
    for number, reason in report.failures:
        console.print(f"[red]failed:[/red] {number}: {reason}")
    console.print(f"{report.checked} contract(s) checked: {report.renewed} renewed, {report.not_due} not due, "
                  f"{report.not_archival} without a document time stamp, {report.failed} failed")
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    if report.failed:
        raise typer.Exit(1)


@app.command("create-user")
def create_user(
    phone: Annotated[str, typer.Option(help="Mobile number (sign-in name)")],
    name: Annotated[str, typer.Option(help="Real name")],
    employee_number: Annotated[str, typer.Option(help="Employee number")],
    role: Annotated[list[str], typer.Option(help="Role code (repeatable), e.g. administrator")],
    institution: Annotated[str | None, typer.Option(help="Institution code")] = None,
    position: Annotated[str | None, typer.Option()] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
) -> None:
    """Create a staff account — the way to bootstrap the first administrator.

    Without --password-stdin the account has no password and signs in with an
    SMS code; with it, the operator sets their own password.
    """
    from microcredit.identity import service as identity
    from microcredit.parties import service as parties
    from microcredit.platform.actor import Actor
    from microcredit.platform.validators import validate_phone

    runtime = _runtime()
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session,
                                                            code=institution or runtime.settings.default_institution)
            user = identity.accounts.create_user(session=session, kit=runtime.identity, institution_id=inst.id,
                                                 kind="staff",
                                                 phone=validate_phone(phone), display_name=name, password=password,
                                                 role_codes=tuple(role))
            staff = parties.staff.add_staff_record(session=session, kit=runtime.identity, actor=Actor.system(inst.id),
                                                   user=user, name=name, employee_number=employee_number,
                                                   position=position)
    except (DomainError, ValueError) as exc:
        _fail(str(exc))
    console.print(f"created staff {staff.id} (user {user.id}) in {inst.code} with roles {', '.join(role)}")


@app.command()
def backup(target: Annotated[Path, typer.Argument(help="Backup file to write")]) -> None:
    """Copy the database to a file (SQLite online backup; pg_dump; mariadb-dump)."""
    from microcredit.db.backup import BackupError
    from microcredit.db.backup import backup as do_backup

    settings = Settings()
    try:
        info = do_backup(settings.resolved_database_url, target)
    except BackupError as exc:
        _fail(str(exc))
    console.print(f"wrote {info.path} ({info.backend}, {info.bytes} bytes)")


@app.command()
def restore(source: Annotated[Path, typer.Argument(help="Backup file to load")],
            yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False) -> None:
    """Replace the database with a backup. Stop the service first."""
    from microcredit.db.backup import BackupError
    from microcredit.db.backup import restore as do_restore

    settings = Settings()
    if not yes:
        typer.confirm(f"Replace the database at {settings.resolved_database_url} with {source}?", abort=True)
    try:
        info = do_restore(settings.resolved_database_url, source)
    except BackupError as exc:
        _fail(str(exc))
    console.print(f"restored {info.path} into the {info.backend} database")


@audit_app.command("verify")
def audit_verify(anchor: Annotated[str | None, typer.Option(help="A head hash kept outside the database")] = None
                 ) -> None:
    """Recompute the hash chain; exit 1 and list the problems if anything was altered."""
    from microcredit.audit import service as audit

    runtime = _runtime()
    audit.seal_left(runtime.db)  # what a crash left unsealed is verified too
    try:
        with runtime.db.unit_of_work(write=False) as session:
            result = audit.verify(session=session, anchor=anchor, now=runtime.clock.now(),
                                  unsealed_alarm=timedelta(seconds=runtime.settings.security.audit_unsealed_alarm_seconds))
    except DomainError as exc:
        _fail(exc.message("en"))
    if result.ok:
        console.print(f"[green]audit chain intact[/green]: {result.records} records, head {result.head_hash}")
        return
    console.print(f"[red]audit chain BROKEN[/red] ({result.records} records read)")
    for problem in result.problems:
        console.print(f"  - {problem}")
    raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Print the chain's head (sequence and hash) to keep outside the database."""
    from microcredit.audit import service as audit

    runtime = _runtime()
    audit.seal_left(runtime.db)  # the head anchored covers every record committed before it
    with runtime.db.unit_of_work(write=False) as session:
        result = audit.verify(session=session)
    console.print(f"{result.head_seq} {result.head_hash}")


@keys_app.command("new")
def keys_new(kid: Annotated[str, typer.Argument(help="Key id, e.g. 2026-11")]) -> None:
    """Print a new random AES-256 key entry to append to MICROCREDIT_SECURITY__FIELD_KEYS."""
    from microcredit.platform.crypto import new_key_spec

    print(new_key_spec(kid))


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every encrypted column with the active key (old keys must still be in the keyring)."""
    from microcredit.models_registry import load_all_models
    from microcredit.platform.keyrotation import rotate

    runtime = _runtime()
    with runtime.db.unit_of_work() as session:
        counts = rotate(session=session, cipher=runtime.keys.cipher, metadata=load_all_models())
    for column, n in counts.items():
        console.print(f"{column}: {n} values re-encrypted")
    console.print(f"active key: {runtime.keys.cipher.active_kid}")


@date_app.command("set")
def business_date_set(value: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
                      institution: Annotated[str | None, typer.Option()] = None) -> None:
    """Set an institution's business date (refused in production)."""
    from microcredit.parties import service as parties
    from microcredit.platform.actor import Actor

    runtime = _runtime()
    try:
        new = date.fromisoformat(value)
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session,
                                                            code=institution or runtime.settings.default_institution)
            parties.organisation.set_business_date_as(
                session=session, clock=runtime.clock, actor=Actor.system(inst.id), institution_id=inst.id,
                new_date=new, override_allowed=runtime.settings.allows_business_date_override)
    except (DomainError, ValueError) as exc:
        _fail(str(exc))
    console.print(f"business date of {inst.code} is now {new}")


@app.command("housekeeping")
def housekeeping_command() -> None:
    """Delete what has expired: idempotency keys, rate-limit windows, used codes, old sessions (and seal the audit
    records a crash left unsealed)."""
    from microcredit import housekeeping
    from microcredit.audit import service as audit

    runtime = _runtime()
    with runtime.db.unit_of_work() as session:
        counts = housekeeping.run(session=session, clock=runtime.clock)
    console.print(f"audit records sealed: {audit.seal_left(runtime.db)}")
    for table, n in counts.items():
        console.print(f"{table}: {n} deleted")


@outbox_app.command("dispatch")
def outbox_dispatch() -> None:
    """Deliver the queued messages now."""
    from microcredit.notifications import service as notifications

    runtime = _runtime()
    report = notifications.dispatch_pending(db=runtime.db, cipher=runtime.keys.cipher, clock=runtime.clock,
                                            sms=runtime.sms, addressee=runtime.addressee,
                                            handlers=runtime.outbox_handlers)
    console.print(f"texted {report.texted} notifications; delivered {report.delivered}, failed {report.failed}, "
                  f"dead {report.dead}")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="pending, retrying, dead, delivered or cancelled")] = None,
    institution: Annotated[str | None, typer.Option(help="Institution code (default: every institution)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first")] = 50,
) -> None:
    """List messages with their status, attempts and last error — never their text (it may hold a code)."""
    from microcredit.notifications import service as notifications
    from microcredit.parties import service as parties

    statuses = [s.value for s in notifications.OutboxStatus]
    if status is not None and status not in statuses:
        _fail(f"--status must be one of: {', '.join(statuses)}")
    runtime = _runtime()
    try:
        with runtime.db.unit_of_work(write=False) as session:
            inst_id = (parties.organisation.institution_by_code(session=session, code=institution).id
                       if institution else None)
            rows = notifications.recent_messages(session=session, institution_id=inst_id, status=status, limit=limit)
            counts = notifications.summary(session=session, institution_id=inst_id)
    except DomainError as exc:
        _fail(exc.message("en"))
    table = Table(title="Outbox (times in UTC)")
    for col in ("id", "institution", "status", "template", "recipient", "attempts", "created", "next attempt",
                "delivered", "last error"):
        table.add_column(col, no_wrap=col != "last error")

    def at(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""

    for m in rows:
        waiting = m.status in (notifications.OutboxStatus.PENDING, notifications.OutboxStatus.RETRYING)
        table.add_row(str(m.id), str(m.institution_id or ""), m.status, m.template or "", m.recipient_masked or "",
                      f"{m.attempts}/{notifications.MAX_ATTEMPTS}", at(m.created_at),
                      at(m.next_attempt_at) if waiting else "", at(m.dispatched_at), (m.last_error or "")[:200])
    Console(width=max(console.width, 160)).print(table)
    console.print(", ".join(f"{name} {n}" for name, n in counts.items()))


@calendar_app.command("seed")
def calendar_seed(institution: Annotated[str | None, typer.Option(help="Institution code")] = None) -> None:
    """Copy the chinesecalendar package's holidays into the institution's calendar.

    Only years the institution has no record of are filled (and marked covered); years already
    seeded or touched by an administrator are left as they are, so running it again is harmless.
    """
    from microcredit.lending.calendar import year_spans
    from microcredit.parties import service as parties
    from microcredit.platform.actor import Actor
    from microcredit.products import service as products

    runtime = _runtime()
    try:
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session,
                                                            code=institution or runtime.settings.default_institution)
            report = products.calendar.seed(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                            institution_id=inst.id)
    except DomainError as exc:
        _fail(exc.message("en"))
    package = f"chinesecalendar {report.package_version}"
    if report.years_seeded:
        console.print(f"{inst.code}: seeded {year_spans(report.years_seeded)} from {package} "
                      f"({report.days_added} days added)")
    else:
        console.print(f"{inst.code}: nothing to seed from {package}")
    if report.years_skipped:
        console.print(f"left as they are (already seeded or maintained): {year_spans(report.years_skipped)}")


@calendar_app.command("show")
def calendar_show(year: Annotated[int, typer.Argument(help="Year, e.g. 2027")],
                  institution: Annotated[str | None, typer.Option(help="Institution code")] = None) -> None:
    """Print a year's holidays and make-up working days, and whether the year is covered."""
    from microcredit.parties import service as parties
    from microcredit.products import service as products

    runtime = _runtime()
    try:
        with runtime.db.unit_of_work(write=False) as session:
            inst = parties.organisation.institution_by_code(session=session,
                                                            code=institution or runtime.settings.default_institution)
            view = products.calendar.year_view(session=session, institution_id=inst.id, year=year)
            rows = [(d.day, d.kind, d.name_zh, d.name_en or "", d.source) for d in view.days]
            covered = view.covered
    except DomainError as exc:
        _fail(exc.message("en"))
    table = Table(title=f"{inst.code} holiday calendar {year}")
    for col in ("date", "weekday", "kind", "名称", "name", "source"):
        table.add_column(col)
    for day, kind, name_zh, name_en, source in rows:
        table.add_row(day.isoformat(), day.strftime("%a"), "holiday" if kind == "holiday" else "make-up working day",
                      name_zh, name_en, source)
    Console(width=max(console.width, 120)).print(table)  # names and kinds unwrapped, one day a line
    if covered:
        console.print(f"{year} is covered: due dates follow these days")
    else:
        console.print(f"[yellow]warning[/yellow] {year} is not covered: due dates in {year} are moved for weekends "
                      "only until an administrator enters its holidays and marks it covered")


@app.command()
def schedule(source: Annotated[str, typer.Argument(help="Loan description JSON file, or - for stdin")] = "-",
             as_json: Annotated[bool, typer.Option("--json", help="Print the quote as JSON")] = False) -> None:
    """Print the repayment schedule, totals and APR of a loan description (no database needed).

    Holidays come from the chinesecalendar package (2004-2026 in v1.11), not from an institution's
    calendar as in the API; a due date beyond them is moved for weekends only, with a warning.
    """
    from microcredit.products.cli import schedule_command

    schedule_command(source, as_json=as_json, console=console)


@loan_app.command("replay")
def loan_replay(source: Annotated[str, typer.Argument(help="Loan JSON (terms, events, as_of) file, or - for stdin")]
                = "-") -> None:
    """Fold a loan's terms and events into its state on a day and print it as JSON (docs/lending-engine.md)."""
    from microcredit.products.cli import replay_command

    replay_command(source)


@loan_app.command("schema")
def loan_schema() -> None:
    """Print the JSON Schema of `loan replay`'s input (docs/schemas/loan-replay.schema.json)."""
    import json

    from microcredit.products.schemas import loan_replay_schema

    sys.stdout.write(json.dumps(loan_replay_schema(), indent=2, ensure_ascii=False) + "\n")


@ledger_app.command("verify")
def ledger_verify(institution: Annotated[str | None, typer.Option(help="Institution code (default: all)")] = None
                  ) -> None:
    """Check every entry: balanced per currency, lines equal to the stored totals, reversals once and exact."""
    from microcredit.ledger import service as ledger
    from microcredit.parties import service as parties
    from microcredit.servicing.service import loans

    runtime = _runtime()
    try:
        with runtime.db.unit_of_work(write=False) as session:
            inst_id = parties.organisation.institution_by_code(session=session, code=institution).id \
                if institution else None
            report = ledger.books.verify(session=session, institution_id=inst_id, subledger=loans.control_balances)
    except DomainError as exc:
        _fail(exc.message("en"))
    console.print(f"{report.institutions} institution(s), {report.accounts} accounts, {report.entries} entries, "
                  f"{report.lines} lines, {report.reversals} reversals")
    console.print(f"loan sub-ledger: {report.controls} control account balance(s) compared with the loans' folds")
    for problem in report.problems:
        console.print(f"[red]problem:[/red] {problem}", soft_wrap=True)
    if not report.ok:
        _fail(f"{len(report.problems)} problem(s) in the books")
    console.print("[green]ok[/green]: every entry balances and matches its totals; no entry is reversed twice; "
                  "the loan control accounts equal the loans")


@ledger_app.command("export")
def ledger_export(fmt: Annotated[str, typer.Option("--format", help="Only beancount")] = "beancount",
                  institution: Annotated[str | None, typer.Option(help="Institution code (default: all)")] = None,
                  basis: Annotated[str, typer.Option(help="The book: accrual or cash")] = "accrual",
                  output: Annotated[Path | None, typer.Option("-o", "--output", help="File (default: stdout)")]
                  = None) -> None:
    """Write the books as a beancount file: accounts opened by type, one transaction per entry."""
    from microcredit.ledger import service as ledger
    from microcredit.parties import service as parties

    if fmt != "beancount":
        _fail(f"unknown format {fmt!r}: only beancount")
    if basis not in ("accrual", "cash"):
        _fail(f"unknown basis {basis!r}: accrual or cash")
    runtime = _runtime()
    try:
        with runtime.db.unit_of_work(write=False) as session:
            if institution:
                inst = parties.organisation.institution_by_code(session=session, code=institution)
                codes = {inst.id: inst.code}
            else:
                codes = {i: parties.organisation.institution(session=session, institution_id=i).code
                         for i in ledger.books.institutions_with_books(session=session)}
            text = "\n".join(ledger.books.export_beancount(session=session, institutions=codes, basis=basis)) + "\n"
    except DomainError as exc:
        _fail(exc.message("en"))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output} ({len(codes)} institution(s), the {basis} book)")


@loans_app.command("autodebit")
def loans_autodebit(on: Annotated[str, typer.Option("--on", help="The day to collect for (YYYY-MM-DD)")],
                    institution: Annotated[str, typer.Option(help="Institution code")] = "DEMO") -> None:
    """Collect what is due on the day from each active loan's bound card (retried 1 and 3 days after)."""
    from datetime import date

    from microcredit.parties import service as parties
    from microcredit.servicing.service import payments

    try:
        day = date.fromisoformat(on)
    except ValueError:
        _fail(f"--on {on!r} is not a date (YYYY-MM-DD)")
    runtime = _runtime()
    try:
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session, code=institution)
            report = payments.autodebit(session=session, clock=runtime.clock, provider=runtime.payments,
                                        institution_id=inst.id, on=day)
    except DomainError as exc:
        _fail(exc.message("en"))
    skipped = ", ".join(f"{why} {n}" for why, n in sorted(report.skipped.items())) or "none"
    console.print(f"{day}: {len(report.requested)} collection(s) asked for, {report.confirmed} confirmed, "
                  f"{report.failed} failed, the rest waiting for the provider; passed over: {skipped}")


@loans_app.command("reconcile")
def loans_reconcile(statement: Annotated[Path, typer.Option("--statement", help="The provider's daily statement (CSV)",
                                                            exists=True, dir_okay=False)],
                    day: Annotated[str | None, typer.Option("--date", help="The statement's day (default: from the "
                                                                            "file name's YYYY-MM-DD)")] = None,
                    institution: Annotated[str, typer.Option(help="Institution code")] = "DEMO") -> None:
    """Match the provider's statement against our payments; print and store every break."""
    import re
    from datetime import date

    from microcredit.parties import service as parties
    from microcredit.servicing.service import payments

    found = day or (m.group(0) if (m := re.search(r"\d{4}-\d{2}-\d{2}", statement.name)) else None)
    if found is None:
        _fail("give --date: the file name holds no YYYY-MM-DD")
    try:
        statement_date = date.fromisoformat(found)
    except ValueError:
        _fail(f"{found!r} is not a date (YYYY-MM-DD)")
    runtime = _runtime()
    try:
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session, code=institution)
            rows = payments.reconcile(session=session, clock=runtime.clock, provider=runtime.payments,
                                      institution_id=inst.id, text=statement.read_text(encoding="utf-8"),
                                      statement_date=statement_date)
            lines = [(b.kind, b.reference, b.provider_reference or "", str((b.ours or {}).get("amount", "")),
                      str((b.theirs or {}).get("amount", ""))) for b in rows]
    except DomainError as exc:
        _fail(exc.message("en"))
    for kind, reference, provider_reference, ours, theirs in lines:
        console.print(f"break {kind}: {reference} {provider_reference} ours={ours or '-'} theirs={theirs or '-'}")
    console.print(f"{statement_date}: {len(lines)} new break(s)" if lines else f"{statement_date}: no new break")


@payments_app.command("statement")
def payments_statement(on: Annotated[str, typer.Option("--on", help="The day (YYYY-MM-DD)")],
                       output: Annotated[Path | None, typer.Option("-o", "--output", help="File (default: stdout)")]
                       = None) -> None:
    """Write the payment provider simulator's daily statement (CSV) of what it settled on the day."""
    from datetime import date

    try:
        day = date.fromisoformat(on)
    except ValueError:
        _fail(f"--on {on!r} is not a date (YYYY-MM-DD)")
    runtime = _runtime()
    with runtime.db.unit_of_work() as session:
        text = runtime.payments.statement(session=session, day=day)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output} ({text.count(chr(10)) - 1} line(s))")


def _cob_dates(runtime: Runtime, inst_id: int, first: str | None, until: str | None) -> list[date | None]:
    """The dates to close: --date (default the day after the business date, or the unfinished run's)
    through --until, one by one."""
    from datetime import timedelta

    from microcredit.cob import service as cob
    from microcredit.parties import service as parties

    try:
        start = date.fromisoformat(first) if first else None
        end = date.fromisoformat(until) if until else None
    except ValueError:
        _fail("dates are YYYY-MM-DD")
    if end is None:
        return [start]
    with runtime.db.unit_of_work(write=False) as session:
        unfinished = cob.runs.latest(session=session, institution_id=inst_id)
        today = parties.organisation.business_date(session=session, institution_id=inst_id)
    pending = unfinished.business_date if unfinished is not None and unfinished.status == "running" else None
    day = start or pending or today + timedelta(days=1)
    days: list[date | None] = []
    while day <= end:
        days.append(day)
        day += timedelta(days=1)
    return days


def _progress_bars(bars: Any) -> Any:
    """A listener drawing one bar per step, advanced by each partition done."""
    shown: dict[str, Any] = {}

    def show(p: Any) -> None:
        if p.step not in shown:
            shown[p.step] = bars.add_task(p.step, total=p.partitions, note="")
        bars.update(shown[p.step], advance=1,
                    note=f"partition {p.partition}/{p.partitions}: {p.loans} loans, {p.failed} failed")

    return show


RUNNER_HELP = ("in_process, processes (a step's partitions on local processes at once: --processes, "
               "MICROCREDIT_COB_PROCESSES, default one per CPU), or celery (workers over the Redis broker)")


@contextlib.contextmanager
def _step_runner(runtime: Runtime, runner: str, processes: int | None = None) -> Iterator[Any]:
    """The close of business's step runner by name, for the command's time: None (in process), a pool of local
    processes (stopped at the end), or Celery workers over the broker. This process's start-up heap is settled
    first (`runtime.settle_heap`: the in-process runner works every loan here) — not in test mode, where the tests
    run the commands inside their own process (`CliRunner`), whose heap must stay collectable."""
    if runner not in ("in_process", "processes", "celery"):
        _fail(f"unknown runner {runner!r}: in_process, processes or celery")
    if runtime.settings.mode is not Mode.TEST:
        settle_heap()
    if runner == "in_process":
        yield None
        return
    from microcredit.worker import ProcessRunner, celery_runner, make_app

    if runner == "processes":
        with ProcessRunner(runtime.settings, processes or runtime.settings.cob_processes or os.cpu_count() or 1) \
                as pool:
            try:
                yield pool
            finally:
                worked = ", ".join(f"{pid}: {n}" for pid, n in sorted(pool.tasks_by_process.items()))
                console.print(f"tasks worked by process: {worked or 'none'}")
        return
    try:
        made = celery_runner(make_app(runtime.settings))
    except ValueError as exc:
        _fail(str(exc))
    yield made


@cob_app.command("run")
def cob_run(on: Annotated[str | None, typer.Option("--date", help="The date to close (default: the next)")] = None,
            until: Annotated[str | None, typer.Option("--until", help="Close every date through this one")] = None,
            institution: Annotated[str | None, typer.Option(help="Institution code")] = None,
            force: Annotated[bool, typer.Option("--force", help="Take over a run whose heartbeat is fresh")]
            = False,
            runner: Annotated[str, typer.Option(help=RUNNER_HELP)] = "in_process",
            processes: Annotated[int | None, typer.Option(min=1, help="--runner processes: how many")] = None) -> None:
    """Close business dates in order: every step over every partition, resuming an unfinished run."""
    from microcredit.parties import service as parties

    runtime = _runtime()
    with runtime.db.unit_of_work(write=False) as session:
        inst = parties.organisation.institution_by_code(session=session,
                                                        code=institution or runtime.settings.default_institution)
        inst_id, inst_code = inst.id, inst.code
    with _step_runner(runtime, runner, processes) as step_runner:
        _close_dates(runtime, inst_id, inst_code, on, until, force, runner, step_runner)


def _close_dates(runtime: Runtime, inst_id: int, inst_code: str, on: str | None, until: str | None, force: bool,
                 runner: str, step_runner: Any) -> None:
    """`cob run`'s dates, each closed by `step_runner`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from microcredit.cob import service as cob
    from microcredit.platform.actor import Actor

    kit = runtime.cob
    for day in _cob_dates(runtime, inst_id, on, until):
        def open_run(session: Any, on: date | None = day) -> tuple[int, date]:
            run = cob.runs.start(session=session, clock=runtime.clock, actor=Actor.system(inst_id),
                                 institution_id=inst_id, on=on, partition_size=kit.partition_size,
                                 lease_seconds=kit.lease_seconds, force=force, runner=runner)
            return run.id, run.business_date

        try:
            run_id, closing = runtime.db.run(open_run)
        except DomainError as exc:
            _fail(exc.message("en"))
        console.print(f"close of business of {inst_code} for {closing} (run {run_id})")
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[note]}"), console=console) as bars:
            cob.runs.execute(db=runtime.db, kit=kit, run_id=run_id, listener=_progress_bars(bars), runner=step_runner)
        with runtime.db.unit_of_work(write=False) as session:
            run = cob.runs.get(session=session, institution_id=inst_id, run_id=run_id)
            console.print(f"{run.business_date}: {run.status}, {run.loans} loans, {run.failures} failed loan(s)")
            for failure in cob.runs.failures(session=session, run=run):
                if not failure.retried:
                    console.print(f"[red]failed:[/red] loan {failure.loan_id} at {failure.step}: "
                                  f"{failure.error.splitlines()[-1] if failure.error else ''}", soft_wrap=True)


@cob_app.command("scheduler")
def cob_scheduler(once: Annotated[bool, typer.Option("--once", help="Look once and exit (for cron)")] = False,
                  runner: Annotated[str, typer.Option(help=RUNNER_HELP)] = "in_process",
                  processes: Annotated[int | None, typer.Option(min=1, help="--runner processes: how many")]
                  = None) -> None:
    """Close each institution's days at MICROCREDIT_COB_CLOSE_AT (its local time), missed dates first; run
    as a service (it looks every MICROCREDIT_COB_SCHEDULE_CHECK_SECONDS), or with --once from cron."""
    import time as wall

    from microcredit.cob import service as cob

    runtime = _runtime()
    close_at = runtime.settings.cob_close_at
    if close_at is None:
        _fail("no schedule: set MICROCREDIT_COB_CLOSE_AT (e.g. 02:00, each institution's local time)")

    def report(closed: Any) -> None:
        if closed.dates:
            console.print(f"{closed.code}: closed {', '.join(d.isoformat() for d in closed.dates)}")
        if closed.skipped == "in_progress":
            console.print(f"{closed.code}: another run is under way; next look")
        elif closed.skipped:
            console.print(f"[red]{closed.code}: {closed.skipped}[/red]", soft_wrap=True)

    console.print(f"close of business at {close_at:%H:%M}, each institution's local time")
    with _step_runner(runtime, runner, processes) as step_runner:  # a pool's processes kept from day to day
        while True:
            cob.schedule.close_due(db=runtime.db, kit=runtime.cob, clock=runtime.clock, close_at=close_at,
                                   runner=step_runner, runner_name=runner, report=report)
            if once:
                return
            wall.sleep(runtime.settings.cob_schedule_check_seconds)


@cob_app.command("status")
def cob_status(institution: Annotated[str | None, typer.Option(help="Institution code")] = None,
               limit: Annotated[int, typer.Option(help="How many runs")] = 10) -> None:
    """The latest runs: date, status, loans, failures, duration."""
    from microcredit.cob import service as cob
    from microcredit.parties import service as parties
    from microcredit.platform.paging import PageRequest

    runtime = _runtime()
    with runtime.db.unit_of_work(write=False) as session:
        inst = parties.organisation.institution_by_code(session=session,
                                                        code=institution or runtime.settings.default_institution)
        console.print(f"business date of {inst.code}: {inst.business_date}")
        page = cob.runs.list_runs(session=session, institution_id=inst.id, page=PageRequest(page=1, page_size=limit))
        table = Table("run", "date", "status", "loans", "failures", "started (UTC)", "finished (UTC)")
        for run in page.items:
            table.add_row(str(run.id), str(run.business_date), run.status, str(run.loans), str(run.failures),
                          f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                          f"{run.finished_at:%Y-%m-%d %H:%M:%S}" if run.finished_at else "")
    console.print(table)


@cob_app.command("retry")
def cob_retry(run_id: Annotated[int, typer.Argument(help="The run")],
              institution: Annotated[str | None, typer.Option(help="Institution code")] = None) -> None:
    """Run the failed loans of the latest run again, from the step each failed at."""
    from microcredit.cob import service as cob
    from microcredit.parties import service as parties

    runtime = _runtime()
    with runtime.db.unit_of_work(write=False) as session:
        inst_id = parties.organisation.institution_by_code(
            session=session, code=institution or runtime.settings.default_institution).id
    try:
        fixed, failing = cob.runs.retry(db=runtime.db, kit=runtime.cob, institution_id=inst_id, run_id=run_id)
    except DomainError as exc:
        _fail(exc.message("en"))
    console.print(f"run {run_id}: {fixed} loan(s) fixed, {failing} still failing")
    if failing:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the `microcredit` console script."""
    app()


if __name__ == "__main__":
    main()


collections_app = typer.Typer(help="Collections: cases of overdue loans.", no_args_is_help=True)
app.add_typer(collections_app, name="collections")


@collections_app.command("sync")
def collections_sync(day: Annotated[str | None, typer.Option("--date", help="The business date (YYYY-MM-DD; "
                                                                           "default the institution's)")] = None,
                     institution: Annotated[str, typer.Option(help="Institution code")] = "DEMO") -> None:
    """Open, escalate and close collection cases from the loans' days past due; follow up promises to pay."""
    from datetime import date

    from microcredit.collections import service as collections
    from microcredit.parties import service as parties

    try:
        on = date.fromisoformat(day) if day else None
    except ValueError:
        _fail(f"--date {day!r} is not a date (YYYY-MM-DD)")
    runtime = _runtime()
    try:
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session, code=institution)
            business_date = on or parties.organisation.business_date(session=session, institution_id=inst.id)
            report = collections.sync_cases(session=session, clock=runtime.clock, kit=runtime.identity,
                                            institution_id=inst.id,
                                            business_date=business_date)
    except DomainError as exc:
        _fail(exc.message("en"))
    console.print(f"{report.business_date}: {len(report.opened)} case(s) opened, {len(report.escalated)} escalated, "
                  f"{len(report.closed)} closed; promises {len(report.promises_kept)} kept, "
                  f"{len(report.promises_broken)} broken")


# `microcredit risk …`: the learning commands (train, synth) and these, on one group (a second group named
# "risk" would hide the first one's commands).


@risk_app.command("register")
def risk_register(
    artefact_path: Annotated[Path, typer.Option("--artefact", help="model.json written by `risk train`")],
    name: Annotated[str, typer.Option("--name", help="The model's code (a new model on its first version)")],
    report: Annotated[Path | None, typer.Option("--report", help="The training's report directory (report.json)")]
    = None,
    institution: Annotated[str | None, typer.Option(help="Institution code")] = None,
    note: Annotated[str | None, typer.Option(help="A note stored with the version")] = None,
) -> None:
    """Register a trained artefact as a new draft version of a model (hash verified, audited).

    The expected SHA-256 is the one `risk train` wrote beside the artefact (`model.json.sha256`) or in
    its report (`report.json`, `artefact.sha256`); a file whose bytes no longer hash to it is refused.
    Promotion to challenger or champion stays maker–checker, in the web app or the API.
    """
    from microcredit.parties import service as parties
    from microcredit.platform.actor import Actor
    from microcredit.risk.learning import artefact
    from microcredit.risk.registry.service import lifecycle

    if not artefact_path.is_file():
        _fail(f"no artefact at {artefact_path}")
    blob = artefact_path.read_bytes()
    report_blob = None
    if report is not None:
        report_file = report / "report.json" if report.is_dir() else report
        if not report_file.is_file():
            _fail(f"no report.json in {report}")
        report_blob = report_file.read_bytes()
    expected = _expected_sha256(artefact_path, report_blob)
    if expected is None:
        _fail(f"no SHA-256 to check {artefact_path} against: {artefact_path.name}.sha256 beside it or the report "
              f"of its training")
    actual = artefact.digest(blob)
    if actual != expected:
        _fail(f"{artefact_path} does not match its SHA-256 (expected {expected}, the file hashes to {actual}): "
              f"changed since it was trained; not registered")
    runtime = _runtime()
    try:
        with runtime.db.unit_of_work() as session:
            inst = parties.organisation.institution_by_code(session=session,
                                                            code=institution or runtime.settings.default_institution)
            version = lifecycle.register(session=session, clock=runtime.clock, actor=Actor.system(inst.id),
                                         institution_id=inst.id, code=name, blob=blob, report=report_blob, note=note)
            summary = {"institution": inst.code, "model": name, "version": version.number,
                       "version_id": version.id, "sha256": version.sha256, "status": version.status,
                       "metrics": version.metrics}
    except DomainError as exc:
        _fail(exc.message("en"))
    console.print(f"{name}@{summary['version']} registered as a draft in {summary['institution']} "
                  f"(sha256 {summary['sha256']})")
    typer.echo(json.dumps(summary, ensure_ascii=False))


def _expected_sha256(artefact_path: Path, report_blob: bytes | None) -> str | None:
    """The hash `risk train` recorded for the artefact: the file beside it, else the report's."""
    beside = artefact_path.with_name(artefact_path.name + ".sha256")
    if beside.is_file():
        return beside.read_text(encoding="utf-8").strip().lower() or None
    if report_blob is not None:
        try:
            recorded = json.loads(report_blob).get("artefact", {}).get("sha256")
        except (ValueError, AttributeError):
            return None
        return str(recorded).lower() if recorded else None
    return None


@risk_app.command("fraud-scan")
def risk_fraud_scan(institution: Annotated[str, typer.Option(help="Institution code")]) -> None:
    """Find rings of applicants sharing identifiers and open a fraud case for each new one (audited)."""
    from microcredit.parties import service as parties
    from microcredit.platform.actor import Actor
    from microcredit.risk.fraud import service as fraud
    from microcredit.risk.service import current

    runtime = _runtime()
    try:
        with runtime.db.unit_of_work() as session:
            inst_id = parties.organisation.institution_by_code(session=session, code=institution).id
            report = fraud.scan(session=session, kit=current(), actor=Actor.system(inst_id), institution_id=inst_id)
    except DomainError as exc:
        _fail(exc.message("en"))
    console.print(f"{report.applications} application(s) scanned, {report.rings} ring(s), {report.opened} new case(s)")
