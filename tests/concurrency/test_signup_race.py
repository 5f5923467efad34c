"""The sign-up form posted twice at the same moment (a double click): one account, and no
bonus before its address is verified."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from credits.models import CreditTransaction
from tests.concurrency.threads import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIGNUP = {
    "username": "erin",
    "email": "erin@example.com",
    "password1": "a-strong-pass-123",
    "password2": "a-strong-pass-123",
}


def test_simultaneous_sign_ups_make_one_account(assert_audit_clean):
    def post_signup() -> int:
        return Client().post(reverse("account_signup"), SIGNUP).status_code

    statuses = race([post_signup] * 4)

    assert all(isinstance(status, int) and status < 500 for status in statuses), statuses
    # The winner is logged in; the others see "username taken" or are sent to log in.
    assert set(statuses) <= {200, 302}, statuses
    user = get_user_model().objects.get(username="erin")
    assert get_user_model().objects.count() == 1
    assert not CreditTransaction.objects.filter(user=user).exists()
    assert_audit_clean()
