"""Accounts in Chromium: sign up and verify from the mailed link to get the bonus; add a passkey
and sign in with it, with Chromium's virtual authenticator standing in for a phone or a key."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import CDPSession, Page, expect
from pytest_django import Settings

from credits.selectors import balance_of
from tests.browser.chromium import log_in, sign_up_and_verify
from tests.factories import PASSWORD
from tests.fixtures.mailbox import Mailbox
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.browser


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator (like a phone's) that keeps passkeys and verifies its user."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options: dict[str, Any] = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return cdp, added["authenticatorId"]


def test_sign_up_verify_from_the_mail_and_see_the_bonus(page: Page, mailbox: Mailbox) -> None:
    sign_up_and_verify(page, mailbox, "vera")
    expect(page.get_by_text("100 free credits are in your balance")).to_be_visible()
    expect(page.get_by_test_id("credit-balance")).to_have_text("100 credits")
    assert balance_of(User.objects.get(username="vera")) == 100


def test_add_a_passkey_then_sign_in_with_it_alone(
    page: Page, make_user: Any, settings: Settings
) -> None:
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # the live server is http://localhost
    cdp, authenticator = virtual_authenticator(page)
    pia = make_user("pia")
    log_in(page, "pia")

    page.goto("/accounts/2fa/webauthn/add/")
    page.wait_for_url("**/accounts/reauthenticate/**")  # a new factor needs the password again
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/2fa/webauthn/add/")
    page.locator("#id_name").fill("My phone")
    page.locator("#id_passwordless").check()  # a passkey: it signs in without the password
    page.locator("#mfa_webauthn_add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    key = Authenticator.objects.get(user=pia, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().is_passwordless
    (credential,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]
    assert credential["isResidentCredential"]

    page.get_by_role("button", name="Log out").click()
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Log in with a passkey").click()
    page.wait_for_url("**/create/")
    expect(page.get_by_test_id("credit-balance")).to_have_text("100 credits")
    (used,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert used["signCount"] > credential["signCount"]
