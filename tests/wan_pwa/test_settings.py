"""Settings come from the environment; the documented production values pass the deploy check."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "SITE_URL": "https://wan.example.com",
    "ALLOWED_HOSTS": "wan.example.com",
    "DEBUG": "false",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_deploy_is_silent_with_the_documented_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_refuses_the_development_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = manage("check", "--deploy", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is the development key" in result.stderr


def test_a_malformed_boolean_is_reported_by_name():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr


def test_check_deploy_refuses_private_outbound_hosts():
    env = {**PRODUCTION_ENV, "OUTBOUND_ALLOWED_PRIVATE_HOSTS": "localhost"}
    result = manage("check", "--deploy", **env)
    assert result.returncode != 0
    assert "wan_pwa.E002" in result.stderr
    assert "OUTBOUND_ALLOWED_PRIVATE_HOSTS" in result.stderr
