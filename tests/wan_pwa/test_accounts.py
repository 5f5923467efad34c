"""Sign-up, log-in and the password pages."""

from __future__ import annotations

import io
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from credits.models import CreditTransaction
from credits.selectors import balance_of
from tests.factories import PASSWORD
from tests.fixtures.mailbox import body_of, link_in
from tests.generations.lifecycle_helpers import run_tasks
from wan_pwa.accounts.models import User
from wan_pwa.accounts.signals import user_created
from wan_pwa.checks import check_webauthn_origin_is_checked

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "carol",
    "email": "carol@example.com",
    "password1": "a-strong-pass-123",
    "password2": "a-strong-pass-123",
}


def sign_up(client: Client, **fields: str) -> Any:
    return client.post(reverse("account_signup"), {**SIGNUP, **fields})


def test_sign_up_logs_in_without_credits_until_the_address_is_verified(client, mailbox):
    response = client.post(reverse("account_signup"), SIGNUP, follow=True)
    assert response.status_code == 200
    assert response.context["user"].username == "carol"
    carol = User.objects.get(username="carol")
    assert balance_of(carol) == 0
    assert not mailbox.messages  # the mail is the task worker's job, not the request's

    run_tasks()
    (message,) = mailbox.wait_for("carol@example.com")
    confirm_page = client.get(link_in(message, "/accounts/confirm-email/"))
    assert confirm_page.status_code == 200
    confirmed = client.post(confirm_page.wsgi_request.path, follow=True)
    assert "100 free credits are in your balance" in confirmed.content.decode()
    assert balance_of(carol) == 100
    assert EmailAddress.objects.get(user=carol).verified


def test_sign_up_with_a_taken_address_looks_like_any_sign_up_and_reaches_nothing(client, user):
    fresh = sign_up(Client(), username="dave", email="dave@example.com")
    taken = sign_up(client, username="carol", email="ALICE@example.com")
    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"])
    # A second account with an unverified copy of the address: no bonus, and alice's own
    # verified address stays hers alone.
    carol = User.objects.get(username="carol")
    assert balance_of(carol) == 0
    assert EmailAddress.objects.get(email="alice@example.com", verified=True).user == user


def test_sign_up_with_mismatched_passwords_shows_a_form_error(client):
    response = sign_up(client, password2="something-else-1")
    assert response.status_code == 200
    assert "You must type the same password each time." in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize("login", ["alice", "alice@example.com", "ALICE@example.com"])
def test_log_in_by_username_or_email_and_out(client, user, login):
    response = client.post(
        reverse("account_login"), {"login": login, "password": PASSWORD}, follow=True
    )
    assert response.context["user"] == user
    response = client.post(reverse("account_logout"), follow=True)
    assert not response.context["user"].is_authenticated


def test_wrong_password_is_a_form_error(client, user):
    response = client.post(reverse("account_login"), {"login": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "username and/or password you specified are not correct" in response.content.decode()


def test_password_change_requires_the_old_password_and_keeps_this_session(client, user):
    client.force_login(user)
    url = reverse("account_change_password")
    new = {"password1": "new-pass-456-x", "password2": "new-pass-456-x"}
    refused = client.post(url, {"oldpassword": "not-it", **new})
    assert refused.status_code == 200
    response = client.post(url, {"oldpassword": PASSWORD, **new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new-pass-456-x")
    assert client.get(reverse("settings")).status_code == 200


def test_password_reset_mails_a_link_that_sets_a_new_password(client, user, mailbox):
    client.post(reverse("account_reset_password"), {"email": "alice@example.com"})
    run_tasks()
    (message,) = mailbox.wait_for("alice@example.com")
    form_page = client.get(link_in(message, "/accounts/password/reset/key/"), follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "brand-new-pass-9", "password2": "brand-new-pass-9"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-9")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/signup/", "/accounts/signup/"),
        ("/accounts/password_reset/", "/accounts/password/reset/"),
        ("/accounts/password_change/", "/accounts/password/change/"),
        ("/accounts/reset/MQ/abc-123/", "/accounts/password/reset/"),
        ("/settings/password/", "/accounts/password/change/"),
    ],
)
def test_the_account_pages_old_addresses_redirect_to_the_new_ones(client, old, new):
    response = client.get(old)
    assert (response.status_code, response["Location"]) == (301, new)


def test_users_made_by_createsuperuser_get_an_account_but_no_unverified_bonus(db):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123-456-x")
    assert balance_of(admin) == 0


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


def test_sessions_begun_before_allauth_stay_logged_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("settings")).status_code == 200


def test_the_deploy_check_refuses_passkeys_on_any_origin(settings):
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
    (error,) = check_webauthn_origin_is_checked(None)
    assert error.id == "wan_pwa.E005"
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
    assert check_webauthn_origin_is_checked(None) == []


def test_an_old_address_with_an_outside_next_still_lands_on_the_site(client):
    moved = client.get("/signup/?next=https://evil.example/")
    assert moved["Location"] == "/accounts/signup/?next=https://evil.example/"
    response = client.post(moved["Location"], SIGNUP)
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_another_accounts_verified_address_cannot_be_taken_over(client, user, make_user, mailbox):
    mallory = make_user("mallory")
    client.force_login(mallory)
    asked = client.post(reverse("account_email"), {"action_add": "", "email": "alice@example.com"})
    client.post(asked["Location"], {"password": PASSWORD})
    client.post(reverse("account_email"), {"action_add": "", "email": "alice@example.com"})
    run_tasks()
    # Even if alice follows the link mailed to her, the address stays hers and verified.
    (message,) = mailbox.wait_for("alice@example.com")
    assert "Hello from Wan PWA!" in body_of(message)
    page = client.get(link_in(message, "/accounts/confirm-email/"))
    client.post(page.wsgi_request.path)
    mallory.refresh_from_db()
    assert mallory.email == "mallory@example.com"
    owner = EmailAddress.objects.get(email="alice@example.com", verified=True)
    assert owner.user == user


def test_a_user_made_by_a_command_can_verify_its_address_from_settings(client, mailbox):
    boss = User.objects.create_superuser("boss", "Boss@example.com", PASSWORD)
    address = EmailAddress.objects.get(user=boss)
    assert (address.email, address.verified, address.primary) == ("boss@example.com", False, True)
    client.force_login(boss)
    client.post(reverse("account_email"), {"action_send": "", "email": "boss@example.com"})
    run_tasks()
    confirm = client.get(link_in(mailbox.wait_for("boss@example.com")[-1], "/confirm-email/"))
    client.post(confirm.wsgi_request.path)
    assert balance_of(boss) == 100
