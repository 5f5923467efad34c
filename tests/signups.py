"""Signing up and verifying the way a person does: the sign-up form, then the link in the mail
the task worker sent to the test's SMTP server."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.fixtures.mailbox import Mailbox, link_in
from tests.generations.lifecycle_helpers import run_tasks


def sign_up(client: Client, username: str, email: str, **extra: Any) -> Any:
    return client.post(
        reverse("account_signup"),
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
        **extra,
    )


def verify(client: Client, mailbox: Mailbox, email: str) -> str:
    """Sends the queued mails, follows the verification link mailed to `email` and confirms;
    returns the page it ends on."""
    run_tasks()
    message = mailbox.wait_for(email)[-1]
    confirm_page = client.get(link_in(message, "/accounts/confirm-email/"))
    assert confirm_page.status_code == 200
    return client.post(confirm_page.wsgi_request.path, follow=True).content.decode()
