"""Where settings come from: flags > IQMETRIX_* variables > a profile of the config file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from iqmetrix_dropship.cli._exit import CliError
from iqmetrix_dropship.cli._settings import BUILTIN_PROFILES, EMULATOR_BASE_URL, default_config_path, resolve
from iqmetrix_dropship.emulator import EmulatorConfig


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write(
        tmp_path / "config.toml",
        """
        default_profile = "sandbox"

        [profiles.sandbox]
        supplier_id = 60455
        client_id = "sandbox-client"
        client_secret_env = "SANDBOX_SECRET"
        username = "ops@example.com"
        password = "file-password"
        environment = "sandbox"
        db = "~/sandbox.db"

        [profiles.production]
        supplier_id = 1
        environment = "production"
        """,
    )


def test_a_flag_beats_a_variable_which_beats_the_profile(config: Path) -> None:
    environ = {"IQMETRIX_CLIENT_ID": "env-client", "IQMETRIX_USERNAME": "env-user", "SANDBOX_SECRET": "s"}
    settings = resolve({"client_id": "flag-client"}, environ, config=config)
    assert settings.values["client_id"].value == "flag-client"
    assert settings.values["client_id"].source == "--client-id"
    assert settings.values["username"].value == "env-user"
    assert settings.values["username"].source == "IQMETRIX_USERNAME"
    assert settings.values["password"].source == "profile 'sandbox'"


def test_the_default_profile_is_used_unless_another_is_chosen(config: Path) -> None:
    assert resolve({}, {"SANDBOX_SECRET": "s"}, config=config).profile == "sandbox"
    assert resolve({}, {"IQMETRIX_PROFILE": "production"}, config=config).get("supplier_id") == "1"
    assert resolve({}, {"IQMETRIX_PROFILE": "production"}, profile="emulator", config=config).profile == "emulator"


def test_a_secret_can_live_in_another_variable(config: Path) -> None:
    settings = resolve({}, {"SANDBOX_SECRET": "from-the-variable"}, config=config)
    assert settings.values["client_secret"].value == "from-the-variable"
    assert settings.values["client_secret"].source == "profile 'sandbox' ($SANDBOX_SECRET)"


def test_a_secret_variable_that_is_not_set_is_an_error_naming_it(config: Path) -> None:
    with pytest.raises(CliError, match="client_secret_env names SANDBOX_SECRET, which is not set") as raised:
        resolve({}, {}, config=config)
    assert raised.value.code == 2


def test_a_secret_given_elsewhere_does_not_need_the_profiles_variable(config: Path) -> None:
    settings = resolve({}, {"IQMETRIX_CLIENT_SECRET": "env-secret"}, config=config)
    assert settings.values["client_secret"].source == "IQMETRIX_CLIENT_SECRET"


def test_the_db_path_expands_the_home_directory(config: Path) -> None:
    settings = resolve({}, {"SANDBOX_SECRET": "s"}, config=config)
    assert settings.db.value == str(Path("~/sandbox.db").expanduser())


def test_without_anything_the_db_is_orders_db(tmp_path: Path) -> None:
    settings = resolve({}, {"XDG_CONFIG_HOME": str(tmp_path)})
    assert (settings.db.value, settings.db.source) == ("orders.db", "default")
    assert settings.config_path is None
    assert settings.profile is None


def test_the_built_in_emulator_profile_matches_the_emulators_defaults(tmp_path: Path) -> None:
    defaults = EmulatorConfig()
    profile = BUILTIN_PROFILES["emulator"]
    assert profile["supplier_id"] == str(defaults.supplier_id)
    assert (profile["client_id"], profile["client_secret"]) == (defaults.client_id, defaults.client_secret)
    assert (profile["username"], profile["password"]) == (defaults.username, defaults.password)
    assert profile["base_url"] == profile["accounts_url"] == EMULATOR_BASE_URL == "http://127.0.0.1:8080/v1"
    options = resolve({}, {"XDG_CONFIG_HOME": str(tmp_path)}, profile="emulator").client_options()
    assert options["base_url"] == EMULATOR_BASE_URL
    assert options["password"] == defaults.password


def test_a_profile_in_the_file_replaces_the_built_in_one(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[profiles.emulator]\nsupplier_id = 7\nbase_url = "http://127.0.0.1:9000/v1"\n')
    settings = resolve({}, {}, profile="emulator", config=path)
    assert settings.get("supplier_id") == "7"
    assert settings.get("client_id") is None


def test_an_unknown_profile_is_an_error_listing_the_known_ones(config: Path) -> None:
    with pytest.raises(CliError, match=r"no profile .staging. in .*; known profiles: emulator, production, sandbox"):
        resolve({}, {}, profile="staging", config=config)


def test_a_config_file_named_explicitly_must_exist(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="does not exist"):
        resolve({}, {"IQMETRIX_CONFIG": str(tmp_path / "missing.toml")})


def test_the_default_config_file_may_be_absent(tmp_path: Path) -> None:
    assert resolve({}, {"XDG_CONFIG_HOME": str(tmp_path)}).config_path is None


def test_the_default_config_file_is_read_from_xdg_config_home(tmp_path: Path) -> None:
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "iqmetrix-dropship" / "config.toml"
    assert default_config_path({}) == Path("~/.config/iqmetrix-dropship/config.toml").expanduser()
    path = default_config_path({"XDG_CONFIG_HOME": str(tmp_path)})
    path.parent.mkdir()
    write(path, 'default_profile = "p"\n[profiles.p]\nsupplier_id = 3\n')
    assert resolve({}, {"XDG_CONFIG_HOME": str(tmp_path)}).get("supplier_id") == "3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[profiles.p]\npasword = 'typo'\n", "unknown key 'pasword'"),
        ("profile = 'p'\n", "unknown key 'profile'"),
        ("[profiles.p]\npassword = 'a'\npassword_env = 'B'\n", "sets both password and password_env"),
        ("[profiles.p]\nsupplier_id = true\n", "must be a string or a number"),
        ("profiles = 3\n", "'profiles' must be a table"),
        ("[profiles]\np = 3\n", r"\[profiles.p\] must be a table"),
        ("default_profile = 3\n", "default_profile must be a profile name"),
        ("[profiles.p\n", "not valid TOML"),
    ],
)
def test_a_bad_config_file_is_refused_with_a_clear_message(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(CliError, match=message) as raised:
        resolve({}, {}, config=path)
    assert raised.value.code == 2


def test_client_options_name_every_missing_credential() -> None:
    settings = resolve({"supplier_id": "1", "client_id": "c"}, {"XDG_CONFIG_HOME": "/nonexistent"})
    with pytest.raises(
        CliError, match=r"missing --client-secret, --username, --password \(or set IQMETRIX_CLIENT_SECRET"
    ):
        settings.client_options()


def test_an_access_token_needs_no_other_credential() -> None:
    settings = resolve({"supplier_id": "1"}, {"IQMETRIX_ACCESS_TOKEN": "t", "XDG_CONFIG_HOME": "/nonexistent"})
    assert settings.client_options() == {"supplier_id": "1", "access_token": "t"}


@pytest.mark.parametrize(
    ("name", "value"), [("timeout", "0"), ("timeout", "x"), ("max_retries", "-1"), ("max_retries", "1.5")]
)
def test_timeout_and_retries_are_checked(name: str, value: str) -> None:
    flags = {"supplier_id": "1", name: value}
    settings = resolve(flags, {"IQMETRIX_ACCESS_TOKEN": "t", "XDG_CONFIG_HOME": "/nonexistent"})
    with pytest.raises(CliError, match=f"{name} must be"):
        settings.client_options()


def test_shown_settings_mask_secrets(config: Path) -> None:
    rows = {
        name: (value, source) for name, value, source in resolve({}, {"SANDBOX_SECRET": "s"}, config=config).shown()
    }
    assert rows["password"] == ("***", "profile 'sandbox'")
    assert rows["client_secret"] == ("***", "profile 'sandbox' ($SANDBOX_SECRET)")
    assert rows["access_token"] == ("", "not set")
