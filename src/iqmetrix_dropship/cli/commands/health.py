"""``dropship ping`` and ``dropship doctor``: is every host up, and does the whole set-up work?

``ping`` asks each service's health check (no token). ``doctor`` goes through what a working
integration needs, in order, and for each failure says what is wrong and how to fix it:

=================  ==========================================================================
check              passes when
=================  ==========================================================================
settings           a supplier id, and the four credentials (or an access token), are set
config file        it is readable by its owner only (0600): it may hold secrets
environment        ``sandbox``/``production``, and no host belongs to the other one
URLs               every host is an http(s) URL; plain http only to this machine
each host          its health check answers (``/ping``)
token              the accounts server issues a token (a refusal names the settings to fix)
feed               the feed's current page can be read: the supplier id and the token's access
clock              the local clock is within 60 s of a server's ``Date`` header (token expiry
                   is computed from it)
=================  ==========================================================================

The pure parts (``check_*`` functions) take plain values and are tested as tables.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import typer

from ..._exceptions import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    TokenError,
)
from ..._protocol.catalog import ServiceStatus
from ..._protocol.config import Environment
from .._exit import CliError, ExitCode, exit_code_for, message_for
from .._hosts import is_loopback
from .._options import JsonOption
from .._render import echo_json, out_console, plural, time_text
from .._session import Session
from .._settings import CREDENTIALS, ENV_VARS, URL_SETTINGS, Settings

__all__ = [
    "MAX_CLOCK_SKEW",
    "Check",
    "Status",
    "check_clock",
    "check_config_file",
    "check_environment",
    "check_settings",
    "doctor",
    "ping",
]

PING_TIMEOUT = 10.0
MAX_CLOCK_SKEW = 60.0
"""Seconds. A token's expiry is the server's time plus its lifetime: a clock further off than this
refreshes too late (401s) or far too early."""


class Status(str, Enum):
    OK = "ok"
    WARN = "warn"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def mark(self) -> str:
        return {"ok": "✓", "warn": "!", "failed": "✗", "skipped": "-"}[self.value]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None
    code: ExitCode = field(default=ExitCode.API_ERROR, repr=False)
    """The exit code of ``doctor`` when this is the first check that failed."""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("code")
        return data | {"status": self.status.value}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _where(settings: Settings, name: str) -> str:
    setting = settings.values.get(name)
    return f"{name} (from {setting.source})" if setting is not None else f"{name} (not set)"


def _how_to_set(*names: str) -> str:
    flags = ", ".join(_flag(name) for name in names)
    variables = ", ".join(ENV_VARS[name] for name in names)
    return f"{flags}, or {variables}, or the profile's key{'s' if len(names) > 1 else ''} ({', '.join(names)})"


# -- pure checks ------------------------------------------------------------------------------


def check_settings(settings: Settings) -> Check:
    """Everything a client needs is set (values never shown: they may be secrets)."""
    missing = [] if settings.get("supplier_id") else ["supplier_id"]
    if settings.get("access_token") is None:
        missing += [name for name in CREDENTIALS if settings.get(name) is None]
    if missing:
        return Check(
            "settings", Status.FAILED, f"missing: {', '.join(missing)}", f"set {_how_to_set(*missing)}", ExitCode.USAGE
        )
    supplier = settings.get("supplier_id") or ""
    if not (supplier.strip().isascii() and supplier.strip().isdigit() and int(supplier) > 0):
        return Check(
            "settings",
            Status.FAILED,
            f"supplier id is not a positive whole number: {_where(settings, 'supplier_id')}",
            f"set {_how_to_set('supplier_id')}",
            ExitCode.USAGE,
        )
    how = "an access token" if settings.get("access_token") else "client id, secret, user name and password"
    where = f"profile {settings.profile!r}" if settings.profile else "flags and IQMETRIX_* variables"
    return Check("settings", Status.OK, f"supplier {supplier.strip()} and {how} set ({where})")


def check_config_file(path: Path | None, mode: int | None) -> Check:
    """A config file readable by others is a leak waiting to happen: it may hold secrets."""
    if path is None:
        return Check("config file", Status.OK, "none (flags and IQMETRIX_* variables)")
    if mode is None or os.name == "nt":
        return Check("config file", Status.OK, f"{path} (permissions not checked on this system)")
    if mode & 0o077:
        return Check(
            "config file",
            Status.FAILED,
            f"{path} is readable or writable by others (mode {stat.S_IMODE(mode):04o}); it may hold secrets",
            f"chmod 600 {path}",
            ExitCode.USAGE,
        )
    return Check("config file", Status.OK, f"{path} (mode {stat.S_IMODE(mode):04o})")


def check_environment(environment: Environment, urls: Mapping[str, str]) -> list[Check]:
    """The environment, whether each iQmetrix host belongs to it, and plain http kept to this machine."""
    production = {urlsplit(url).hostname for url in _hosts(Environment.PRODUCTION)}
    wrong: list[str] = []
    outside: list[str] = []
    clear: list[str] = []
    for name, url in urls.items():
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme == "http" and not is_loopback(host):
            clear.append(name)
        if not host.endswith(".iqmetrix.net"):
            outside.append(name)
        elif (host in production) != (environment is Environment.PRODUCTION):
            other = "production" if host in production else "sandbox"
            wrong.append(f"{name} {url} is a {other} host")
    checks: list[Check] = []
    if wrong:
        checks.append(
            Check(
                "environment",
                Status.FAILED,
                f"the environment is {environment.value}, but " + "; ".join(wrong),
                "make them agree: set --environment (IQMETRIX_ENVIRONMENT), or remove the URL settings to use "
                "the environment's own hosts",
                ExitCode.USAGE,
            )
        )
    else:
        where = f"; not iQmetrix hosts (an emulator or a proxy): {', '.join(outside)}" if outside else ""
        checks.append(Check("environment", Status.OK, f"{environment.value}{where}"))
    if clear:
        checks.append(
            Check(
                "URLs",
                Status.WARN,
                f"plain http to another machine: {', '.join(clear)}; the credentials and the token would cross "
                "the network unencrypted",
                "use https:// URLs",
            )
        )
    else:
        checks.append(Check("URLs", Status.OK, "; ".join(f"{name} {url}" for name, url in urls.items())))
    return checks


def _hosts(environment: Environment) -> tuple[str, ...]:
    return (
        environment.base_url,
        environment.accounts_url,
        environment.availability_url,
        environment.product_library_url,
    )


@dataclass(frozen=True)
class DateSample:
    """A server's ``Date`` header (``None`` when it sent none) and the local time its answer came."""

    header: str | None
    received: datetime
    host: str


def check_clock(samples: Sequence[DateSample], *, limit: float = MAX_CLOCK_SKEW) -> Check:
    """The local clock against the last server ``Date`` seen. The header has whole seconds, so a
    difference of a second or two is its rounding."""
    if not samples:
        return Check("clock", Status.SKIPPED, "no server answered: the clock was not compared")
    dated = [sample for sample in samples if sample.header]
    if not dated:
        return Check("clock", Status.WARN, "no server sent a Date header: the clock was not compared")
    sample = dated[-1]
    try:
        server = parsedate_to_datetime(sample.header or "")
    except (TypeError, ValueError):
        return Check("clock", Status.WARN, f"{sample.host} sent a Date header that cannot be read")
    if server.tzinfo is None:
        server = server.replace(tzinfo=timezone.utc)
    skew = (sample.received - server).total_seconds()
    if abs(skew) <= limit:
        return Check("clock", Status.OK, f"within {abs(skew):.0f} s of {sample.host}'s clock")
    side = "ahead of" if skew > 0 else "behind"
    return Check(
        "clock",
        Status.WARN,
        f"the local clock is {abs(skew):.0f} s {side} {sample.host}'s ({time_text(server)} UTC): token expiry "
        "is computed from it",
        "turn on time synchronisation (NTP), e.g. `timedatectl set-ntp true` or `chronyc makestep`",
    )


def service_check(status: ServiceStatus) -> Check:
    name = f"host {status.service}"
    if status.ok:
        versions = ", ".join(
            f"{what} {value}"
            for what, value in (("version", status.application_version), ("db", status.db_version))
            if value
        )
        return Check(
            name, Status.OK, f"{status.url} answered {status.status_code}" + (f" ({versions})" if versions else "")
        )
    setting = "base_url" if status.service == "dropship" else f"{status.service}_url"
    if status.status_code is not None:
        return Check(
            name,
            Status.WARN,
            f"{status.url} answered {status.error or status.status_code}: the host is up, its health check is not",
            f"if the host is right, this is the service's own trouble; else check {setting}",
        )
    return Check(
        name,
        Status.FAILED,
        f"no answer from {status.url}: {status.error}",
        f"check {setting} ({_flag(setting)}), the network, a proxy or firewall; is the service (or emulator) running?",
        ExitCode.NETWORK,
    )


# -- the checks that talk to the servers ------------------------------------------------------


def _token_check(error: BaseException | None, expires: datetime | None, settings: Settings) -> Check:
    if error is None:
        when = f"expires {time_text(expires)} UTC" if expires else "a static access token: checked by the feed read"
        return Check("token", Status.OK, f"issued ({when})")
    if isinstance(error, TokenError):
        if error.error == "invalid_client":
            names: tuple[str, ...] = ("client_id", "client_secret")
        elif error.error == "invalid_grant":
            names = ("username", "password")
        else:
            names = CREDENTIALS
        wheres = ", ".join(_where(settings, name) for name in names)
        return Check(
            "token",
            Status.FAILED,
            f"the accounts server refused {' or '.join(names)} ({error.error or 'no reason given'}): {wheres}",
            f"correct {' and '.join(names)}: {_how_to_set(*names)}",
            ExitCode.AUTH,
        )
    return Check("token", Status.FAILED, message_for(error), "see the host checks above", exit_code_for(error))


def _feed_check(error: BaseException | None, entries: int, settings: Settings) -> Check:
    supplier = settings.get("supplier_id")
    if error is None:
        return Check(
            "feed",
            Status.OK,
            f"the current page of supplier {supplier}'s feed: {entries} {'entry' if entries == 1 else 'entries'}",
        )
    wrong_supplier = f"correct supplier_id: {_how_to_set('supplier_id')}"
    if isinstance(error, BadRequestError) and "supplier" in str(error).lower():
        return Check(
            "feed", Status.FAILED, f"the API does not know {_where(settings, 'supplier_id')}: {message_for(error)}",
            wrong_supplier, ExitCode.API_ERROR,
        )  # fmt: skip
    if isinstance(error, AuthenticationError) or (isinstance(error, APIError) and error.status_code == 403):
        return Check(
            "feed",
            Status.FAILED,
            f"the API refused the token for supplier {supplier}: {message_for(error)}",
            "check that the credentials and the supplier id belong to this environment (sandbox or production); "
            + wrong_supplier,
            ExitCode.AUTH,
        )
    if isinstance(error, NotFoundError):
        return Check(
            "feed", Status.FAILED, message_for(error), f"check {_where(settings, 'base_url')}: it ends in /v1",
            ExitCode.NOT_FOUND,
        )  # fmt: skip
    return Check("feed", Status.FAILED, message_for(error), None, exit_code_for(error))


def _skipped(name: str, why: str) -> Check:
    return Check(name, Status.SKIPPED, f"skipped: {why}")


class _Clock:
    """An httpx response hook that keeps each answer's ``Date`` header and when it arrived."""

    def __init__(self) -> None:
        self.samples: list[DateSample] = []

    def __call__(self, response: httpx.Response) -> None:
        received = datetime.now(timezone.utc)
        self.samples.append(DateSample(response.headers.get("date"), received, response.request.url.host))


def _diagnose(session: Session) -> list[Check]:
    try:
        settings = session.settings
    except CliError as error:
        return [Check("settings", Status.FAILED, str(error), "fix the setting named above", ExitCode.USAGE)]
    checks = [check_settings(settings)]
    path = settings.config_path
    checks.append(check_config_file(path, path.stat().st_mode if path is not None and path.exists() else None))
    clock = _Clock()
    timeout = settings.host_options().get("timeout", PING_TIMEOUT) if "timeout" in settings.values else PING_TIMEOUT
    try:
        environment = Environment.parse(settings.get("environment") or Environment.SANDBOX)
        with session.client(hosts_only=True, max_retries=0, on_response=clock) as client:
            config = client.config
            urls = {name: getattr(config, name) for name in URL_SETTINGS}
            checks += check_environment(environment, urls)
            statuses = client.ping(timeout=timeout)
    except (ConfigurationError, CliError) as error:
        checks.append(Check("URLs", Status.FAILED, str(error), f"fix it: {_how_to_set(*URL_SETTINGS)}", ExitCode.USAGE))
        return checks
    checks += [service_check(status) for status in statuses.values()]
    checks += _account_checks(session, settings, statuses, clock)
    checks.append(check_clock(clock.samples))
    return checks


def _account_checks(
    session: Session, settings: Settings, statuses: Mapping[str, ServiceStatus], clock: _Clock
) -> list[Check]:
    if checks_failed := [check for check in (check_settings(settings),) if check.status is Status.FAILED]:
        why = f"the settings are incomplete ({checks_failed[0].detail})"
        return [_skipped("token", why), _skipped("feed", why)]
    answered = {name: status.status_code is not None for name, status in statuses.items()}
    if not answered.get("accounts", True) and settings.get("access_token") is None:
        return [_skipped("token", "the accounts host did not answer"), _skipped("feed", "no token")]
    with session.client(max_retries=0, on_response=clock) as client:
        expires: datetime | None = None
        error: BaseException | None = None
        try:
            expires = client.authenticate()
        except (TokenError, APIError, APIConnectionError) as failure:
            error = failure
        token = _token_check(error, expires, settings)
        if token.status is Status.FAILED:
            return [token, _skipped("feed", "no token")]
        if not answered.get("dropship", True):
            return [token, _skipped("feed", "the dropship host did not answer")]
        entries = 0
        try:
            entries = len(client.get_notifications().entries)
        except (APIError, APIConnectionError, TokenError) as failure:
            error = failure
        return [token, _feed_check(error, entries, settings)]


def _print_checks(checks: Sequence[Check]) -> None:
    console = out_console()
    width = max(len(check.name) for check in checks)
    for check in checks:
        console.print(f"{check.status.mark} {check.name:<{width}}  {check.detail}", soft_wrap=True)
        if check.fix and check.status in (Status.FAILED, Status.WARN):
            console.print(f"  {'':<{width}}  fix: {check.fix}", soft_wrap=True)


def doctor(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Check the whole set-up, and say how to fix what is wrong.

    The settings, the config file's permissions, the environment and the hosts, each host's health
    check, a token, one read of the order feed, and the local clock against the server's. Exit 0
    when nothing failed (warnings allowed); otherwise the exit code of the first failure.
    """
    checks = _diagnose(Session.of(ctx))
    failed = [check for check in checks if check.status is Status.FAILED]
    if json_output:
        echo_json({"ok": not failed, "checks": [check.as_json() for check in checks]})
    else:
        _print_checks(checks)
        passed = sum(check.status is Status.OK for check in checks)
        warned = sum(check.status is Status.WARN for check in checks)
        skipped = sum(check.status is Status.SKIPPED for check in checks)
        summary = f"{passed} of {len(checks)} checks passed"
        details = [plural(len(failed), "failure")] if failed else []
        details += [plural(warned, "warning")] if warned else []
        details += [f"{skipped} skipped"] if skipped else []
        out_console().print(summary + (f" ({', '.join(details)})." if details else "."))
    if failed:
        raise CliError(f"{plural(len(failed), 'check')} failed: {', '.join(c.name for c in failed)}", failed[0].code)


def ping(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Ask each service's health check: dropship, accounts, availability, product library.

    Needs no credentials (a health check sends no token); one attempt each. Exit 0 when all
    answer OK; 5 if one did not answer, 1 if one answered with an error.
    """
    session = Session.of(ctx)
    timeout = session.settings.host_options().get("timeout", PING_TIMEOUT)
    with session.client(hosts_only=True, max_retries=0) as client:
        statuses = client.ping(timeout=timeout)
    if json_output:
        echo_json(
            {
                "ok": all(status.ok for status in statuses.values()),
                "services": {
                    name: {key: value for key, value in asdict(status).items() if key != "details"}
                    for name, status in statuses.items()
                },
            }
        )
    else:
        console = out_console()
        width = max(len(name) for name in statuses)
        for name, status in statuses.items():
            mark = "✓" if status.ok else "✗"
            answer = str(status.status_code) if status.status_code is not None else "no answer"
            versions = " ".join(
                f"{what} {value}"
                for what, value in (("version", status.application_version), ("db", status.db_version))
                if value
            )
            why = "" if status.ok else f"  {status.error}"
            console.print(
                f"{mark} {name:<{width}}  {answer:<9}  {status.url}  {versions}{why}".rstrip(), soft_wrap=True
            )
    down = [status for status in statuses.values() if not status.ok]
    if down:
        unreachable = any(status.status_code is None for status in down)
        names = ", ".join(status.service for status in down)
        raise CliError(
            f"{plural(len(down), 'service')} of {len(statuses)} not OK: {names}",
            ExitCode.NETWORK if unreachable else ExitCode.API_ERROR,
        )
