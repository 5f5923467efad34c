"""Settings come from the environment; the documented production values pass the deploy check."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from wan_pwa import settings as settings_module

PRODUCTION_ENV = {
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "SITE_URL": "https://wan.example.com",
    "ALLOWED_HOSTS": "wan.example.com",
    "DEBUG": "false",
}
# Documented in the README's configuration table but read by prometheus_client, not the settings.
READ_OUTSIDE_SETTINGS = {"PROMETHEUS_MULTIPROC_DIR"}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own code)
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run([str(settings.BASE_DIR / "manage.py"), *args], {**os.environ, **env})


def clean_environment(tmp_path: Path, **env: str) -> dict[str, str]:
    """The machine's environment without any of our variables, plus the given ones."""
    ours = set(settings_module.env.dump()) | READ_OUTSIDE_SETTINGS
    base = {key: value for key, value in os.environ.items() if key not in ours}
    return {**base, "DJANGO_SETTINGS_MODULE": "wan_pwa.settings", "DATA_DIR": str(tmp_path), **env}


def load_settings(tmp_path: Path, *names: str, **env: str) -> dict[str, Any]:
    """The named settings as a process started with exactly these variables reads them."""
    script = (
        "import json, sys; from django.conf import settings as s; "
        "json.dump({n: getattr(s, n) for n in sys.argv[1:]}, sys.stdout, default=str)"
    )
    result = run(["-c", script, *names], clean_environment(tmp_path, **env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def start_error(tmp_path: Path, **env: str) -> str:
    """The last line a process prints when its settings refuse the environment."""
    result = run(["-c", "import wan_pwa.settings"], clean_environment(tmp_path, **env))
    assert result.returncode != 0
    return result.stderr.strip().splitlines()[-1]


def test_check_deploy_is_silent_with_the_documented_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_refuses_the_development_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = manage("check", "--deploy", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is the development key" in result.stderr


def test_a_malformed_boolean_stops_manage_py_naming_the_variable():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert 'Environment variable "DEBUG" invalid: Not a valid boolean.' in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MAX_IN_FLIGHT_PER_USER", "three", "Not a valid integer."),
        ("AWS_QUERYSTRING_EXPIRE", "1.5", "Not a valid integer."),
        ("WORKER_LEASE", "soon", "Not a valid number."),
        ("SECURE_COOKIES", "sometimes", "Not a valid boolean."),
        ("SITE_URL", "wan.example.com", "must be an http:// or https:// URL"),
        ("STATUS_PAGE_URL", "javascript:alert(1)", "must be an https:// URL"),
        ("DATABASE_URL", "nosuchdb://somewhere/db", "Not a valid database URL."),
        ("LOG_FORMAT", "xml", "Must be one of: text, json."),
        ("LOG_LEVEL", "LOUD", "Not a valid log level."),
        ("PERIODIC_JOB_PERIODS", "=60", "'=60' is not <job>=<seconds>"),
        ("PERIODIC_JOB_PERIODS", "audit_credits=-1", "'audit_credits=-1' is not <job>=<seconds>"),
    ],
)
def test_a_bad_value_stops_the_start_with_a_sentence_naming_the_variable(
    tmp_path: Path, variable: str, value: str, message: str
):
    error = start_error(tmp_path, **{variable: value})
    assert f'Environment variable "{variable}" invalid:' in error
    assert message in error


@pytest.mark.parametrize(
    ("scheme", "secure", "hsts"), [("https", True, 31536000), ("http", False, 0)]
)
def test_https_defaults_follow_the_site_url_scheme(
    tmp_path: Path, scheme: str, secure: bool, hsts: int
):
    names = ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    values = load_settings(
        tmp_path, *names, "SECURE_HSTS_SECONDS", SITE_URL=f"{scheme}://wan.example.com/"
    )
    assert values == {**dict.fromkeys(names, secure), "SECURE_HSTS_SECONDS": hsts}


def test_explicit_https_settings_override_the_scheme(tmp_path: Path):
    values = load_settings(
        tmp_path,
        "SITE_URL",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        SITE_URL="https://wan.example.com/",
        SECURE_SSL_REDIRECT="off",
        SECURE_COOKIES="0",
        SECURE_HSTS_SECONDS="60",
    )
    assert values == {
        "SITE_URL": "https://wan.example.com",
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 60,
    }


def test_an_empty_variable_keeps_the_default(tmp_path: Path):
    values = load_settings(
        tmp_path,
        "DEBUG",
        "SECRET_KEY",
        "SECURE_HSTS_SECONDS",
        "SITE_URL",
        "STORAGES",
        DEBUG="",
        SECRET_KEY="",
        SECURE_HSTS_SECONDS="",
        SITE_URL="",
        AWS_STORAGE_BUCKET_NAME="",
    )
    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == settings_module.DEV_SECRET_KEY
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SITE_URL"] == "http://localhost:8000"
    assert values["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")


def test_sqlite_by_default_takes_its_write_lock_up_front(tmp_path: Path):
    database = load_settings(tmp_path, "DATABASES")["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "db.sqlite3")
    assert database["OPTIONS"] == {"transaction_mode": "IMMEDIATE", "timeout": 20}
    assert database["CONN_MAX_AGE"] == 0


def test_a_postgres_url_keeps_connections_and_checks_them(tmp_path: Path):
    database = load_settings(
        tmp_path, "DATABASES", DATABASE_URL="postgres://wan:secret@db:5432/wan"
    )["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["NAME"], database["USER"]) == ("db", "wan", "wan")
    assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (60, True)


def test_redis_url_moves_the_cache_and_sessions_to_redis(tmp_path: Path):
    without = load_settings(tmp_path, "CACHES", "SESSION_ENGINE")
    assert without["CACHES"]["default"]["BACKEND"].endswith("DatabaseCache")
    assert without["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"

    url = "redis://cache:6379/0"
    with_redis = load_settings(tmp_path, "CACHES", "SESSION_ENGINE", REDIS_URL=url)
    assert with_redis["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
    }
    assert with_redis["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"


def test_a_bucket_name_selects_private_object_storage(tmp_path: Path):
    storage = load_settings(
        tmp_path,
        "STORAGES",
        AWS_STORAGE_BUCKET_NAME="wan-media",
        AWS_S3_REGION_NAME="eu-west-1",
        AWS_S3_ENDPOINT_URL="",
        AWS_QUERYSTRING_EXPIRE="120",
    )["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert (options["bucket_name"], options["region_name"]) == ("wan-media", "eu-west-1")
    # Unset (or empty) credentials and endpoint are None, so boto3 looks them up itself.
    assert options["endpoint_url"] is options["access_key"] is options["secret_key"] is None
    assert (options["querystring_auth"], options["querystring_expire"]) == (True, 120)
    assert options["default_acl"] is None


def test_comma_lists_drop_blanks_and_job_periods_override_the_defaults(tmp_path: Path):
    values = load_settings(
        tmp_path,
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "PERIODIC_JOB_PERIODS",
        ALLOWED_HOSTS=" wan.example.com, api.example.com ,,",
        SITE_URL="https://wan.example.com",
        PERIODIC_JOB_PERIODS="reconcile_generations = 60, audit_credits=0,",
    )
    assert values["ALLOWED_HOSTS"] == ["wan.example.com", "api.example.com"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://wan.example.com"]
    # Only the overrides: the apps register the jobs and their default periods.
    assert values["PERIODIC_JOB_PERIODS"] == {"reconcile_generations": 60, "audit_credits": 0}


def documented_variables() -> set[str]:
    """Every variable named in the first column of the README's configuration tables."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    names: set[str] = set()
    in_table = False
    for line in readme.splitlines():
        if line.startswith("| variable | default | meaning |"):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table:
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_the_readme_documents_exactly_the_variables_the_settings_read():
    read = set(settings_module.env.dump())
    documented = documented_variables()
    assert len(read) > 50  # the parse found the settings' reads
    assert sorted(read - documented) == [], "read by settings.py, missing from README"
    assert sorted(documented - read - READ_OUTSIDE_SETTINGS) == [], "in README, never read"


def test_check_deploy_refuses_private_outbound_hosts():
    env = {**PRODUCTION_ENV, "OUTBOUND_ALLOWED_PRIVATE_HOSTS": "localhost"}
    result = manage("check", "--deploy", **env)
    assert result.returncode != 0
    assert "wan_pwa.E003" in result.stderr
    assert "OUTBOUND_ALLOWED_PRIVATE_HOSTS" in result.stderr
