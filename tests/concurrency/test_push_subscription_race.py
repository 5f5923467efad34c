"""Real threads against PostgreSQL: one user's devices subscribing at the same moment never
leave more than the allowed number, and two accounts posting one endpoint at once leave it with
exactly one of them."""

from __future__ import annotations

import base64
import functools
import os

import pytest

from generations.models import PushSubscription
from generations.notifications.actions import (
    MAX_PUSH_SUBSCRIPTIONS,
    EndpointInUse,
    subscribe_push,
)
from tests.concurrency.threads import race
from wan_pwa.accounts.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# A push service's endpoint on a public address written as one (the tests run without DNS).
ENDPOINT = "https://142.250.180.10/fcm/send/device"


def subscribe(user: User, endpoint: str) -> PushSubscription:
    key = base64.urlsafe_b64encode(b"\x04" + os.urandom(64)).decode()
    auth = base64.urlsafe_b64encode(os.urandom(16)).decode()
    return subscribe_push(user, endpoint=endpoint, p256dh=key, auth=auth)


def test_devices_subscribing_at_once_keep_at_most_the_limit(user: User):
    calls = [
        functools.partial(subscribe, user, f"{ENDPOINT}-{number}")
        for number in range(MAX_PUSH_SUBSCRIPTIONS + 4)
    ]
    results = race(calls)

    assert all(isinstance(result, PushSubscription) for result in results), results
    assert PushSubscription.objects.filter(user=user).count() == MAX_PUSH_SUBSCRIPTIONS


def test_two_accounts_posting_one_endpoint_at_once_leave_it_with_one(user: User, other_user: User):
    results = race([functools.partial(subscribe, owner, ENDPOINT) for owner in (user, other_user)])

    owner = PushSubscription.objects.get(endpoint=ENDPOINT).user
    refused = [result for result in results if isinstance(result, EndpointInUse)]
    assert len(refused) == 1, results
    winner = next(result for result in results if isinstance(result, PushSubscription))
    assert winner.user == owner
