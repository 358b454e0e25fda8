"""The Госуслуги settings (ESIA_*): read from the environment, checked at start, and turned
into the client's configuration."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from abonent.identity.oidc import ExternalServiceSigner, NotConfigured, StaticSecretSigner, provider_config

ESIA_TEST = {
    "ESIA_ENABLED": "1",
    "ESIA_PROTOCOL": "esia",
    "ESIA_ISSUER": "http://esia-portal1.test.gosuslugi.ru/",
    "ESIA_AUTHORIZATION_URL": "https://esia-portal1.test.gosuslugi.ru/aas/oauth2/v3/ac",
    "ESIA_TOKEN_URL": "https://esia-portal1.test.gosuslugi.ru/aas/oauth2/v3/te",
    "ESIA_JWKS_URL": "https://esia-portal1.test.gosuslugi.ru/jwks",
    "ESIA_USERINFO_URL": "https://esia-portal1.test.gosuslugi.ru/rs/prns",
    "ESIA_CLIENT_ID": "ABONENT01",
    "ESIA_REDIRECT_URI": "https://lk.gaz.example/auth/esia/callback/",
    "ESIA_SIGNER_URL": "https://signer.internal/sign",
}
PRODUCTION = {
    "ABONENT_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-production-secret-for-the-test-0123456789",
    "ALLOWED_HOSTS": "lk.gaz.example",
    "DATABASE_URL": "postgres://abonent:secret@db.internal:5432/abonent",
    "PAYMENT_GATEWAY": "yookassa",
    "YOOKASSA_SHOPS": "gaz-msk=123456:live_secret",
}
PRINT = (
    "from abonent.identity.oidc import provider_config as p; c = p('esia'); "
    "print(c.protocol, '|', c.scope, '|', c.signer, '|', c.token_auth_method, '|', c.issuer)"
)


def abonent(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ESIA_", "ABONENT_ENV", "SECRET_KEY"))}
    return subprocess.run(
        [sys.executable, "-m", "abonent", *args],
        env={**clean, "ABONENT_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_esia_with_an_external_signer_by_default(tmp_path: Path) -> None:
    done = abonent(tmp_path, ESIA_TEST, "shell", "-c", PRINT)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        "esia | openid fullname mobile email | ExternalServiceSigner('https://signer.internal/sign', "
        "fields=('scope', 'timestamp', 'client_id', 'state')) | client_secret_post | http://esia-portal1.test.gosuslugi.ru/"
    )


def test_switched_on_with_nothing_set_says_what_is_missing(tmp_path: Path) -> None:
    done = abonent(tmp_path, {"ESIA_ENABLED": "1"}, "check")

    assert done.returncode != 0
    assert (
        "Login with Госуслуги (ESIA_ENABLED): ESIA_CLIENT_ID is required; ESIA_REDIRECT_URI is required" in done.stderr
    )
    assert "ESIA_ISSUER is required" in done.stderr
    assert "ESIA_SIGNER=static needs ESIA_CLIENT_SECRET" in done.stderr


def test_production_wants_https_to_the_provider_and_the_signer(tmp_path: Path) -> None:
    done = abonent(tmp_path, {**PRODUCTION, **ESIA_TEST, "ESIA_SIGNER_URL": "http://signer.internal/sign"}, "check")

    assert done.returncode != 0
    assert "ESIA_SIGNER_URL must be an https:// address when ABONENT_ENV=production" in done.stderr
    assert "ESIA_ISSUER" not in done.stderr  # an identifier only: the endpoints are set


def test_production_with_https_passes_check_deploy(tmp_path: Path) -> None:
    done = abonent(tmp_path, {**PRODUCTION, **ESIA_TEST}, "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stderr


class TestProviderConfig:
    def test_switched_off(self, settings: Settings) -> None:
        settings.ESIA_ENABLED = False

        with pytest.raises(NotConfigured):
            provider_config("esia")

    def test_only_the_esia_provider(self, settings: Settings) -> None:
        settings.ESIA_ENABLED = True

        with pytest.raises(NotConfigured):
            provider_config("vk")

    def test_from_the_settings(self, settings: Settings) -> None:
        settings.ESIA_ENABLED = True
        settings.ESIA_PROTOCOL = "oidc"
        settings.ESIA_SIGNER = "static"
        settings.ESIA_CLIENT_SECRET = "s3cret"
        settings.ESIA_CLIENT_ID = "abonent"
        settings.ESIA_ISSUER = "https://idp.example"
        settings.ESIA_REDIRECT_URI = "https://lk.example.ru/auth/esia/callback/"
        settings.ESIA_APP_REDIRECT_URIS = ["https://app.example.ru/esia"]
        settings.ESIA_SCOPES = ["openid", "profile"]
        settings.ESIA_TOKEN_AUTH_METHOD = "client_secret_basic"
        settings.ESIA_CLOCK_LEEWAY = 30

        config = provider_config("esia")

        assert isinstance(config.signer, StaticSecretSigner)
        assert (config.client_id, config.issuer, config.scope, config.token_auth_method) == (
            "abonent",
            "https://idp.example",
            "openid profile",
            "client_secret_basic",
        )
        assert config.redirect_uris == ("https://lk.example.ru/auth/esia/callback/", "https://app.example.ru/esia")
        assert config.leeway == dt.timedelta(seconds=30)

    def test_an_external_signer(self, settings: Settings) -> None:
        settings.ESIA_ENABLED = True
        settings.ESIA_SIGNER = "external"
        settings.ESIA_SIGNER_URL = "https://signer.internal/sign"
        settings.ESIA_SIGNED_FIELDS = ["client_id", "scope", "timestamp", "state", "redirect_uri"]

        signer = provider_config("esia").signer

        assert isinstance(signer, ExternalServiceSigner)
        assert signer.fields == ("client_id", "scope", "timestamp", "state", "redirect_uri")
