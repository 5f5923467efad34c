"""A suspension racing the user's own submissions, in real threads against PostgreSQL: whatever
the interleaving, nothing is left running and every charge taken is given back once."""

from __future__ import annotations

import functools

import pytest

from credits.selectors import balance_of
from generations.models import IN_FLIGHT_STATUSES, Generation, Status
from generations.suspension import suspend_user
from tests.concurrency.threads import race
from tests.generations.lifecycle_helpers import refunds_of, submit
from wan_pwa.accounts.suspension import AccountSuspended

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replicate_settings"),
]


def test_submissions_racing_a_suspension_leave_nothing_running(
    user, staff, settings, assert_audit_clean
):
    settings.MAX_IN_FLIGHT_PER_USER = settings.API_SUBMISSIONS_PER_MINUTE = 100
    balance = balance_of(user)

    results = race(
        [functools.partial(submit, user) for _ in range(8)]
        + [functools.partial(suspend_user, user, by=staff, reason="abuse")]
    )

    errors = [result for result in results[:-1] if isinstance(result, Exception)]
    assert all(isinstance(error, AccountSuspended) for error in errors), errors
    generations = Generation.objects.filter(user=user)
    assert not generations.filter(status__in=IN_FLIGHT_STATUSES).exists()
    for generation in generations:
        assert generation.status == Status.CANCELED
        assert refunds_of(generation) == 1
    assert balance_of(user) == balance
    assert_audit_clean()
