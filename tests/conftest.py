"""Suite-wide set-up: the database choice, and the shared fixtures (tests/fixtures/), loaded
here as plugins so that no module imports a fixture by name."""

from __future__ import annotations

import os

import pytest
from django.db import connection

pytest_plugins = [
    "tests.fixtures.local_servers",  # first: other fixture modules import its free_port
    "tests.fixtures.environment",
    "tests.fixtures.accounts",
    "tests.fixtures.mailbox",
    "tests.fixtures.ledger",
    "tests.fixtures.fake_replicate",
    "tests.fixtures.fake_stripe",
    "tests.fixtures.object_storage",
    "tests.fixtures.redis_server",
    "tests.fixtures.live_stack",
]


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
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if skipped and reporter is not None:
        reporter.write_line(f"SQLite fallback: skipping {len(skipped)} PostgreSQL-only tests.")
