"""Checking iQmetrix's credentials: constant-time, both parts always, malformed is a refusal, and
the secrets never show."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from iqmetrix_dropship.shipping_options import ApiKeyAuth, BasicAuth
from iqmetrix_dropship.shipping_options import _auth as auth_module

from .conftest import API_KEY, BASIC, KEYED, PASSWORD, TOKEN, USERNAME


def _basic(value: str) -> dict[str, str]:
    return {"authorization": value}


def _b64(text: bytes) -> str:
    return base64.b64encode(text).decode()


@pytest.mark.parametrize(
    "header",
    [f"Basic {TOKEN}", f"basic {TOKEN}", f"BASIC {TOKEN}", f"  Basic   {TOKEN}  "],
    ids=["Basic", "basic", "BASIC", "spaces"],
)
def test_basic_accepts_the_right_credentials_whatever_the_scheme_case(header: str) -> None:
    assert BASIC.accepts(_basic(header))


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(f"Basic {_b64(f'{USERNAME}:wrong'.encode())}", id="wrong-password"),
        pytest.param(f"Basic {_b64(f'someone:{PASSWORD}'.encode())}", id="wrong-user"),
        pytest.param(f"Basic {_b64(f'{USERNAME}:{PASSWORD}x'.encode())}", id="password-with-more"),
        pytest.param(f"Basic {_b64(f'{USERNAME}:'.encode())}", id="no-password"),
        pytest.param(f"Basic {_b64(USERNAME.encode())}", id="no-colon"),
        pytest.param("Basic !!!not-base64!!!", id="not-base64"),
        pytest.param(f"Basic {TOKEN[:-1]}", id="bad-padding"),
        pytest.param("Basic é", id="not-ascii"),
        pytest.param("Basic", id="no-token"),
        pytest.param("", id="empty"),
        pytest.param(f"Bearer {TOKEN}", id="other-scheme"),
        pytest.param(f"Basic {TOKEN}, Basic {TOKEN}", id="twice"),
        pytest.param("Basic " + "A" * 10_000, id="huge"),
    ],
)
def test_basic_refuses_wrong_or_malformed_credentials(header: str) -> None:
    assert not BASIC.accepts(_basic(header))


def test_basic_refuses_a_request_without_the_header() -> None:
    assert not BASIC.accepts({})


@pytest.mark.parametrize("given", [f"x:{PASSWORD}", f"{USERNAME}:x", "x:y", f"{USERNAME}:{PASSWORD}"])
def test_basic_compares_the_user_name_and_the_password_every_time(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = auth_module.hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth_module.hmac, "compare_digest", counting)
    BASIC.accepts(_basic(f"Basic {_b64(given.encode())}"))
    assert [type(a) for a, _ in compared] == [bytes, bytes]


def test_basic_takes_a_utf8_password_as_servers_decode_headers() -> None:
    auth = BasicAuth("iq", "pässwörd")
    assert auth.accepts(_basic(f"Basic {_b64('iq:pässwörd'.encode())}"))


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "p", "user name must be a non-empty string"),
        ("u", "", "password must be a non-empty string"),
        ("a:b", "p", "must not contain ':'"),
        ("u", "p\n", "control characters"),
        (None, "p", "user name must be a non-empty string"),
    ],
)
def test_basic_auth_refuses_unusable_credentials(username: Any, password: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        BasicAuth(username, password)
    assert "p\n" not in str(caught.value)


def test_basic_auth_repr_masks_the_password() -> None:
    assert repr(BASIC) == f"BasicAuth(username={USERNAME!r}, password='***')"
    assert PASSWORD not in str(BASIC)


def test_api_key_auth_repr_masks_the_key() -> None:
    assert repr(KEYED) == "ApiKeyAuth(key='***', header='Api-Key')"
    assert API_KEY not in str(KEYED)


def test_the_api_key_header_is_found_whatever_its_case() -> None:
    auth = ApiKeyAuth(API_KEY, header="X-Api-Key")
    assert auth.accepts({"x-api-key": API_KEY})
    assert not auth.accepts({"api-key": API_KEY})


@pytest.mark.parametrize("given", [API_KEY + "x", API_KEY[:-1], "", API_KEY.upper()])
def test_a_wrong_api_key_is_refused(given: str) -> None:
    assert not KEYED.accepts({"api-key": given})


def test_api_key_auth_refuses_a_request_without_the_header() -> None:
    assert not KEYED.accepts({"authorization": f"Basic {TOKEN}"})


@pytest.mark.parametrize(
    ("key", "header", "message"),
    [
        ("", "Api-Key", "API key must be a non-empty string"),
        (" k", "Api-Key", "white space"),
        ("k", "", "HTTP header name"),
        ("k", "Api Key", "HTTP header name"),
        ("k", "Api-Key:", "HTTP header name"),
        ("k", "Äpi", "HTTP header name"),
    ],
)
def test_api_key_auth_refuses_an_unusable_key_or_header(key: str, header: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ApiKeyAuth(key, header=header)


def test_auth_objects_are_read_only() -> None:
    with pytest.raises(AttributeError):
        BASIC.username = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        KEYED.header = "Other"  # type: ignore[misc]


def test_the_challenges_name_the_realm() -> None:
    assert BASIC.challenge == {"WWW-Authenticate": 'Basic realm="ShippingOptions"'}
    assert KEYED.challenge == {"WWW-Authenticate": 'ApiKey realm="ShippingOptions", header="Api-Key"'}
