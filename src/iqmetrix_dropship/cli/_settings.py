"""Where the command line's settings come from: flags, then ``IQMETRIX_*`` variables, then a profile.

Pure code over a mapping of flags, an environment and a config file: no typer, no rich, so it is
tested as a table. Each resolved value remembers its source, which ``dropship config`` shows
(secrets as ``***``).

The config file is TOML (``~/.config/iqmetrix-dropship/config.toml``; ``--config`` or
``IQMETRIX_CONFIG`` name another)::

    default_profile = "sandbox"

    [profiles.sandbox]
    supplier_id = 60455
    client_id = "my-client"
    client_secret_env = "SANDBOX_CLIENT_SECRET"   # the secret stays out of the file
    username = "ops@example.com"
    password_env = "SANDBOX_PASSWORD"
    environment = "sandbox"
    db = "~/dropship/sandbox-orders.db"

A built-in ``emulator`` profile points at ``python -m iqmetrix_dropship.emulator`` on its default
port with its default (fake) credentials; a ``[profiles.emulator]`` in the file replaces it.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._pg import is_dsn
from .._text import preview
from ._exit import CliError

__all__ = [
    "BUILTIN_PROFILES",
    "DEFAULT_DB",
    "ENV_VARS",
    "SECRETS",
    "SETTINGS",
    "URL_SETTINGS",
    "ConfigFile",
    "Setting",
    "Settings",
    "default_config_path",
    "load_config_file",
    "resolve",
]

SETTINGS = (
    "supplier_id",
    "client_id",
    "client_secret",
    "username",
    "password",
    "access_token",
    "environment",
    "base_url",
    "accounts_url",
    "availability_url",
    "product_library_url",
    "timeout",
    "max_retries",
    "db",
)
SECRETS = frozenset({"client_secret", "password", "access_token"})
URL_SETTINGS = ("base_url", "accounts_url", "availability_url", "product_library_url")
"""The four hosts. The emulator profile names two: the others follow ``base_url`` when it is not an
``*.iqmetrix.net`` host (the client's rule), so that an emulator on another port needs one URL."""
CREDENTIALS = ("client_id", "client_secret", "username", "password")

# The names DropshipClient.from_env reads (API.md), plus three of the command line's own
# (IQMETRIX_TIMEOUT, IQMETRIX_MAX_RETRIES, IQMETRIX_DB).
ENV_VARS = {name: f"IQMETRIX_{name.upper()}" for name in SETTINGS}
PROFILE_VAR = "IQMETRIX_PROFILE"
CONFIG_VAR = "IQMETRIX_CONFIG"
DEFAULT_DB = "orders.db"

# The emulator's defaults (emulator/_config.py), repeated here because importing the emulator
# package needs its extra; tests/cli/test_settings.py checks that the two agree.
EMULATOR_BASE_URL = "http://127.0.0.1:8080/v1"
BUILTIN_PROFILES: Mapping[str, Mapping[str, str]] = {
    "emulator": {
        "supplier_id": "60455",
        "client_id": "emulator-client",
        "client_secret": "emulator-secret",
        "username": "supplier@example.com",
        "password": "emulator-password",
        "base_url": EMULATOR_BASE_URL,
        "accounts_url": EMULATOR_BASE_URL,
    },
}

_PROFILE_KEYS = frozenset(SETTINGS) | {f"{name}_env" for name in SECRETS}


@dataclass(frozen=True)
class Setting:
    value: str
    source: str
    """``--flag``, ``IQMETRIX_X``, ``profile 'name'``, ``profile 'name' ($VAR)`` or ``default``."""


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one invocation. ``values`` holds only what was set somewhere."""

    profile: str | None
    config_path: Path | None
    """The config file that was read, or ``None`` when there was none."""
    values: Mapping[str, Setting] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        setting = self.values.get(name)
        return None if setting is None else setting.value

    @property
    def db(self) -> Setting:
        return self.values.get("db") or Setting(DEFAULT_DB, "default")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``DropshipClient``; ``CliError`` (exit 2) if something is missing."""
        if self.get("supplier_id") is None:
            raise CliError(
                "no supplier id: pass --supplier-id, set IQMETRIX_SUPPLIER_ID, or choose a profile (--profile)"
            )
        options: dict[str, Any] = {
            name: self.get(name) for name in ("supplier_id", "environment", *URL_SETTINGS) if self.get(name) is not None
        }
        if self.get("access_token") is not None:
            options["access_token"] = self.get("access_token")
        else:
            missing = [name for name in CREDENTIALS if self.get(name) is None]
            if missing:
                flags = ", ".join("--" + name.replace("_", "-") for name in missing)
                names = ", ".join(ENV_VARS[name] for name in missing)
                raise CliError(f"missing {flags} (or set {names}, or choose a profile with --profile)")
            options.update({name: self.get(name) for name in CREDENTIALS})
        return options | self._timing()

    def host_options(self) -> dict[str, Any]:
        """Keyword arguments for a client that only asks the hosts' health checks (``ping``): the
        hosts and timing; no credentials are needed, as a health check sends no token."""
        options: dict[str, Any] = {name: self.get(name) for name in ("environment", *URL_SETTINGS) if self.get(name)}
        # DropshipClient needs a supplier id and a way to a token; a health check uses neither.
        options.update(supplier_id=1, access_token="unused-by-health-checks")  # noqa: S106
        return options | self._timing()

    def _timing(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if (timeout := self.values.get("timeout")) is not None:
            options["timeout"] = _number(timeout, float, "timeout", minimum=0.001)
        if (retries := self.values.get("max_retries")) is not None:
            options["max_retries"] = _number(retries, int, "max_retries", minimum=0)
        return options

    def shown(self) -> list[tuple[str, str, str]]:
        """``(name, value, source)`` of every setting, secrets as ``***``: what ``dropship config`` prints."""
        rows = []
        for name in SETTINGS:
            setting = self.db if name == "db" else self.values.get(name)
            if setting is None:
                rows.append((name, "", "not set"))
            else:
                rows.append((name, "***" if name in SECRETS else setting.value, setting.source))
        return rows


def _number(setting: Setting, kind: type[float] | type[int], name: str, *, minimum: float) -> float | int:
    try:
        value = kind(setting.value)
    except ValueError:
        value = None
    if value is None or math.isnan(value) or value < minimum:
        what = "a number of seconds above 0" if kind is float else "a whole number >= 0"
        raise CliError(f"{name} must be {what}, got {preview(setting.value)} (from {setting.source})")
    return value


def default_config_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/iqmetrix-dropship/config.toml``, by default under ``~/.config``."""
    base = environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base) if base else Path("~/.config").expanduser()
    return root / "iqmetrix-dropship" / "config.toml"


def _toml() -> Any:
    # tomllib is in the standard library from 3.11; on 3.10 the same parser is the tomli package.
    for name in ("tomllib", "tomli"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise CliError("reading a config file needs Python 3.11+, or the tomli package on Python 3.10 (pip install tomli)")


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    profiles: Mapping[str, Mapping[str, str]]
    default_profile: str | None = None


def load_config_file(path: Path) -> ConfigFile | None:
    """A config file, checked (unknown keys are refused: a typo must not pass unnoticed);
    ``None`` if the file does not exist."""
    toml = _toml()
    try:
        with path.open("rb") as file:
            data = toml.load(file)
    except FileNotFoundError:
        return None
    except toml.TOMLDecodeError as error:
        raise CliError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise CliError(f"{path}: cannot read it: {error.strerror or error}") from None
    unknown = sorted(set(data) - {"default_profile", "profiles"})
    if unknown:
        raise CliError(f"{path}: unknown key {unknown[0]!r} (expected default_profile and [profiles.NAME] tables)")
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise CliError(f"{path}: 'profiles' must be a table of [profiles.NAME] tables")
    checked = {name: _check_profile(path, name, table) for name, table in profiles.items()}
    default = data.get("default_profile")
    if default is not None and (not isinstance(default, str) or not default):
        raise CliError(f"{path}: default_profile must be a profile name")
    return ConfigFile(path, checked, default)


def _check_profile(path: Path, name: str, table: object) -> dict[str, str]:
    if not isinstance(table, dict):
        raise CliError(f"{path}: [profiles.{name}] must be a table")
    profile: dict[str, str] = {}
    for key, value in table.items():
        if key not in _PROFILE_KEYS:
            raise CliError(f"{path}: [profiles.{name}] has an unknown key {key!r}; known keys: {', '.join(SETTINGS)}")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise CliError(f"{path}: [profiles.{name}] {key} must be a string or a number")
        profile[key] = str(value)
    for secret in SECRETS:
        if secret in profile and f"{secret}_env" in profile:
            raise CliError(f"{path}: [profiles.{name}] sets both {secret} and {secret}_env; keep one")
    return profile


def resolve(
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    *,
    profile: str | None = None,
    config: str | os.PathLike[str] | None = None,
) -> Settings:
    """Flags over ``IQMETRIX_*`` variables over the selected profile.

    ``profile`` and ``config`` are the ``--profile`` and ``--config`` flags. A config file named
    by a flag or by ``IQMETRIX_CONFIG`` must exist; the default one may be absent.
    """
    config_path, named = _config_path(config, environ)
    file = load_config_file(config_path)
    if file is None and named:
        raise CliError(f"config file {config_path} does not exist")
    name = profile or environ.get(PROFILE_VAR, "").strip() or (file.default_profile if file else None)
    table = _profile(name, file)

    values: dict[str, Setting] = {}
    for key in SETTINGS:
        flag = flags.get(key)
        if flag is not None and str(flag).strip():
            values[key] = Setting(str(flag), "--" + key.replace("_", "-"))
        elif environ.get(ENV_VARS[key], "").strip():
            values[key] = Setting(environ[ENV_VARS[key]], ENV_VARS[key])
        elif (from_profile := _from_profile(name, table, key, environ)) is not None:
            values[key] = from_profile
    if "db" in values and not is_dsn(values["db"].value):
        values["db"] = Setting(str(Path(values["db"].value).expanduser()), values["db"].source)
    return Settings(profile=name, config_path=file.path if file else None, values=values)


def _config_path(flag: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> tuple[Path, bool]:
    if flag is not None and str(flag).strip():
        return Path(flag).expanduser(), True
    if environ.get(CONFIG_VAR, "").strip():
        return Path(environ[CONFIG_VAR]).expanduser(), True
    return default_config_path(environ), False


def _profile(name: str | None, file: ConfigFile | None) -> Mapping[str, str]:
    if name is None:
        return {}
    profiles = file.profiles if file is not None else {}
    if name in profiles:
        return profiles[name]
    if name in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[name]
    known = sorted({*profiles, *BUILTIN_PROFILES})
    where = f"in {file.path}" if file is not None else "(no config file)"
    raise CliError(f"no profile {name!r} {where}; known profiles: {', '.join(known)}")


def _from_profile(name: str | None, table: Mapping[str, str], key: str, environ: Mapping[str, str]) -> Setting | None:
    if key in table:
        return Setting(table[key], f"profile {name!r}")
    variable = table.get(f"{key}_env")
    if variable is None:
        return None
    value = environ.get(variable, "")
    if not value.strip():
        raise CliError(f"profile {name!r}: {key}_env names {variable}, which is not set")
    return Setting(value, f"profile {name!r} (${variable})")
