"""Suite-wide set-up: the database choice, isolated media, and user helpers."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from credits.audit import audit_credits
from tests.generations.lifecycle_helpers import configure


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("CI") == "true" and "postgresql" not in engine:
        raise pytest.UsageError(
            "CI=true needs PostgreSQL: set DATABASE_URL=postgres://... or start PostgreSQL."
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (running on the SQLite fallback)")
    skipped = [item for item in items if "postgres" in item.keywords]
    for item in skipped:
        item.add_marker(skip)
    if skipped:
        config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"SQLite fallback: skipping {len(skipped)} PostgreSQL-only tests."
        )


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_user(db, django_user_model):
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, password: str = "a-strong-pass-123", **extra):
        name = username or f"user{next(counter)}"
        return django_user_model.objects.create_user(
            username=name,
            email=extra.pop("email", f"{name}@example.com"),
            password=password,
            **extra,
        )

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def logged_in(client, user):
    """The test client, logged in as `user`."""
    client.force_login(user)
    return client


@pytest.fixture
def replicate_settings(settings) -> None:
    """Replicate at a test address, no waiting between retries (`configure`): modules that talk
    to Replicate use it for every test."""
    configure(settings)


@pytest.fixture
def assert_audit_clean():
    """Call at the end of a scenario: the ledger and balances must agree."""

    def check() -> None:
        report = audit_credits()
        assert report.clean, [str(m) for m in report.mismatches]

    return check
