"""What the in-process benchmarks (bench_lifecycle.py, bench_dashboard.py) share: a throwaway
PostgreSQL test database for the run, set up the way the tests set theirs up."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.test.utils import setup_test_environment, teardown_test_environment


@contextmanager
def throwaway_database() -> Iterator[None]:
    """`test_<name>` of DATABASE_URL, created for the run and dropped after it, with the test
    client allowed and fast password hashing. Off PostgreSQL it exits with a sentence."""
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL=postgres://... : the figures are for PostgreSQL.")
    logging.disable(logging.INFO)  # per-request and per-task log lines would dominate timings
    setup_test_environment()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
