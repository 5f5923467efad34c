"""Sign-up, log-in and the password pages."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from credits.models import CreditTransaction
from credits.selectors import balance_of
from wan_pwa.accounts.models import User
from wan_pwa.accounts.signals import user_created

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "carol",
    "email": "carol@example.com",
    "password1": "a-strong-pass-123",
    "password2": "a-strong-pass-123",
}


def test_sign_up_logs_in_and_shows_100_credits(client):
    response = client.post(reverse("signup"), SIGNUP, follow=True)
    assert response.status_code == 200
    assert response.context["user"].username == "carol"
    assert "100 credits" in response.content.decode()


def test_sign_up_posted_twice_gives_the_bonus_once(client):
    client.post(reverse("signup"), SIGNUP)
    client.logout()
    second = client.post(reverse("signup"), SIGNUP)
    assert second.status_code == 200
    assert "already exists" in second.content.decode()
    user = get_user_model().objects.get(username="carol")
    assert get_user_model().objects.count() == 1
    assert CreditTransaction.objects.filter(user=user, type="bonus").count() == 1
    assert balance_of(user) == 100


def test_sign_up_with_another_case_of_a_taken_email_is_refused(client, user):
    response = client.post(reverse("signup"), {**SIGNUP, "email": "ALICE@example.com"})
    assert "An account with this email address already exists." in response.content.decode()
    assert not get_user_model().objects.filter(username="carol").exists()


def test_sign_up_with_mismatched_passwords_shows_a_form_error(client):
    response = client.post(reverse("signup"), {**SIGNUP, "password2": "something-else-1"})
    assert response.status_code == 200
    assert "fields didn\u2019t match" in response.content.decode()
    assert not get_user_model().objects.exists()


def test_log_in_and_out(client, user):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "a-strong-pass-123"}, follow=True
    )
    assert response.context["user"].is_authenticated
    response = client.post(reverse("logout"), follow=True)
    assert not response.context["user"].is_authenticated


def test_wrong_password_is_a_form_error(client, user):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_password_change_requires_the_old_password(client, user):
    client.force_login(user)
    url = reverse("password_change")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "old_password": "a-strong-pass-123",
            "new_password1": "new-pass-456-x",
            "new_password2": "new-pass-456-x",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new-pass-456-x")


def test_password_reset_sends_a_link_that_sets_a_new_password(client, user):
    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert len(mail.outbox) == 1
    link = next(word for word in mail.outbox[0].body.split() if "/accounts/reset/" in word)
    path = link.split("://", 1)[-1].split("/", 1)[-1]
    form_page = client.get("/" + path, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-9", "new_password2": "brand-new-pass-9"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-9")


def test_users_made_by_createsuperuser_also_get_an_account(db):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123-456-x")
    assert balance_of(admin) == 100


def test_a_user_is_not_created_when_a_receiver_of_user_created_fails(db):
    def refuse(sender: object, user: User, **kwargs: Any) -> None:
        raise RuntimeError("cannot open the account")

    user_created.connect(refuse, dispatch_uid="test.refuse")
    try:
        with pytest.raises(RuntimeError):
            get_user_model().objects.create_user("erin", "erin@example.com", "pw-123-456-x")
    finally:
        user_created.disconnect(dispatch_uid="test.refuse")
    # The credits' receiver ran first; its balance and bonus went with the user.
    assert not get_user_model().objects.filter(username="erin").exists()
    assert not CreditTransaction.objects.exists()


def test_create_demo_user_says_the_balance_the_user_really_has(db):
    out = io.StringIO()
    call_command("create_demo_user", stdout=out)
    assert "Log in as demo / demo-password-123 (100 credits)." in out.getvalue()

    call_command("create_demo_user", "--password", "another-password-456", stdout=out)
    assert "Reset the password of the demo user" in out.getvalue()
    assert User.objects.get(username="demo").check_password("another-password-456")
