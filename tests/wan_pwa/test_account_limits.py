"""Limits that stop scripts, not people: password guessing on the site and the admin, scripted
sign-ups, and reset and verification mails, which answer alike whether an account exists or
not and are sent by the worker, never inside the request."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from credits.models import BonusClaim
from credits.selectors import balance_of
from tests.factories import PASSWORD
from tests.fixtures.mailbox import body_of
from tests.generations.lifecycle_helpers import run_tasks
from tests.signups import sign_up, verify
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"
LIMITED = "Too many failed login attempts. Try again later."


def log_in(login: str, password: str, ip: str = "198.51.100.1") -> tuple[Client, str]:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("account_login"), {"login": login, "password": password})
    return client, response.content.decode()


def queued_mails() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="send_account_mail").count()


def test_wrong_passwords_lock_the_account_even_for_the_right_one_until_the_window_passes(
    user, settings
):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "100/h/ip,5/2s/key",
    }
    # Five guesses, each from another client address: the limit is per account too.
    for attempt in range(5):
        _, page = log_in("alice", WRONG, ip=f"198.51.100.{attempt + 10}")
        assert "are not correct" in page
    client, page = log_in("ALICE", PASSWORD)  # the right password, another spelling
    assert LIMITED in page and SESSION_KEY not in client.session
    time.sleep(2.1)
    client, _ = log_in("alice", PASSWORD)
    assert int(client.session[SESSION_KEY]) == user.pk


def test_one_client_address_guessing_many_accounts_is_stopped(make_user):
    bob = make_user("bob")
    for attempt in range(10):  # RATE_LIMIT_LOGIN_FAILED: 10 per minute per client address
        assert "are not correct" in log_in(f"someone{attempt}", WRONG)[1]
    client, page = log_in("bob", PASSWORD)
    assert LIMITED in page and SESSION_KEY not in client.session
    client, _ = log_in("bob", PASSWORD, ip="203.0.113.9")  # bob himself, elsewhere
    assert int(client.session[SESSION_KEY]) == bob.pk


def test_the_admin_login_cannot_be_guessed_at(staff):
    for _ in range(100):
        response = Client().post(
            "/admin/login/", {"username": "root", "password": WRONG, "next": "/admin/"}
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    # Even the right password does nothing there: the admin logs in through the site's log-in.
    client = Client()
    client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert SESSION_KEY not in client.session
    for _ in range(5):
        log_in("root", WRONG)
    client, page = log_in("root", PASSWORD)
    assert LIMITED in page and SESSION_KEY not in client.session


def test_scripted_sign_ups_from_one_address_make_few_accounts_and_fewer_bonuses(mailbox, settings):
    settings.SIGNUP_BONUS_DAILY_BUDGET = 300
    clients = [Client(REMOTE_ADDR="192.0.2.66") for _ in range(20)]
    statuses = [
        sign_up(client, f"bot{n}", f"bot{n}@example.net").status_code
        for n, client in enumerate(clients)
    ]
    assert statuses == [302] * 5 + [429] * 15  # RATE_LIMIT_SIGNUP: 5 per hour per address
    refused = sign_up(clients[-1], "bot99", "bot99@example.net").content.decode()
    assert "Too many attempts" in refused and 'class="site-header"' in refused  # our page
    assert User.objects.count() == 5
    assert all(balance_of(user) == 0 for user in User.objects.all())  # nothing before verifying
    for n, client in enumerate(clients[:5]):
        verify(client, mailbox, f"bot{n}@example.net")
    credited = [user for user in User.objects.all() if balance_of(user) > 0]
    assert len(credited) == 3  # the day's bonus budget: 300 credits
    assert BonusClaim.objects.filter(granted_at__isnull=True).count() == 2  # they wait


def test_a_reset_answers_alike_for_known_and_unknown_addresses_and_mails_from_the_worker(
    user, mailbox
):
    url = reverse("account_reset_password")
    known = Client().post(url, {"email": "alice@example.com"})
    unknown = Client().post(url, {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert not mailbox.messages  # nothing is sent inside the request: it takes no longer
    assert queued_mails() == 2
    run_tasks()
    (reset,) = mailbox.wait_for("alice@example.com")
    (stranger,) = mailbox.wait_for("nobody@example.com")
    assert "/accounts/password/reset/key/" in body_of(reset)
    assert "/accounts/password/reset/key/" not in body_of(stranger)


def test_reset_mails_are_counted_per_address_and_per_client_address(user):
    url = reverse("account_reset_password")
    statuses = [
        Client(REMOTE_ADDR=f"198.51.100.{n}").post(url, {"email": "alice@example.com"}).status_code
        for n in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]  # RATE_LIMIT_RESET_PASSWORD: 3 per address
    assert queued_mails() == 3
    bomber = Client(REMOTE_ADDR="203.0.113.50")
    statuses = [bomber.post(url, {"email": f"victim{n}@example.com"}).status_code for n in range(7)]
    assert statuses == [302] * 5 + [429] * 2  # and 5 per client address
    assert queued_mails() == 8


def test_verification_mails_are_counted_per_client_address(settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "confirm_email_ip": "2/h/ip"}
    for n in range(3):
        assert sign_up(Client(), f"new{n}", f"new{n}@example.com").status_code == 302
    assert queued_mails() == 2
